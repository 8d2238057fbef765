//! The erasure worker's configuration, read once at init from the environment.

use wagate_shared::config::{ConfigError, Settings, environment};

#[derive(Debug, Clone)]
pub struct ErasureConfig {
    pub table_name: String,
    /// The erasure queue, which also takes each job's rest.
    pub queue_url: String,
}

impl ErasureConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(environment)
    }

    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let settings = Settings::new(lookup);
        Ok(Self {
            table_name: settings.required("TABLE_NAME")?,
            queue_url: settings.required("ERASURE_QUEUE_URL")?,
        })
    }
}
