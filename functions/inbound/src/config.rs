//! The inbound worker's configuration, read once at init from the environment.

use wagate_shared::config::{ConfigError, Settings, environment};

#[derive(Debug, Clone)]
pub struct InboundConfig {
    pub table_name: String,
    /// Where applied events go for the tenants' callback endpoints.
    pub callback_queue_url: String,
}

impl InboundConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(environment)
    }

    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let settings = Settings::new(lookup);
        Ok(Self {
            table_name: settings.required("TABLE_NAME")?,
            callback_queue_url: settings.required("CALLBACK_QUEUE_URL")?,
        })
    }
}
