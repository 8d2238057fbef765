//! The erasure worker's configuration, read once at init from the environment.

use wagate_shared::config::{ConfigError, FunctionConfig, Settings};

#[derive(Debug, Clone)]
pub struct ErasureConfig {
    pub table_name: String,
    /// The erasure queue, which also takes each job's rest.
    pub queue_url: String,
}

impl FunctionConfig for ErasureConfig {
    fn read<F: Fn(&str) -> Option<String>>(settings: &Settings<F>) -> Result<Self, ConfigError> {
        Ok(Self {
            table_name: settings.required("TABLE_NAME")?,
            queue_url: settings.required("ERASURE_QUEUE_URL")?,
        })
    }
}
