//! The business API function's configuration, read once at init from the environment.

use wagate_shared::config::{ConfigError, Settings, environment};

#[derive(Debug, Clone)]
pub struct ApiConfig {
    pub table_name: String,
    pub outbound_queue_url: String,
}

impl ApiConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(environment)
    }

    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let settings = Settings::new(lookup);
        Ok(Self {
            table_name: settings.required("TABLE_NAME")?,
            outbound_queue_url: settings.required("OUTBOUND_QUEUE_URL")?,
        })
    }
}
