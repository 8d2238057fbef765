//! The inbound worker's configuration, read once at init from the environment.

use wagate_shared::config::{ConfigError, FunctionConfig, Settings};

#[derive(Debug, Clone)]
pub struct InboundConfig {
    pub table_name: String,
    /// Where applied events go for the tenants' callback endpoints.
    pub callback_queue_url: String,
}

impl FunctionConfig for InboundConfig {
    fn read<F: Fn(&str) -> Option<String>>(settings: &Settings<F>) -> Result<Self, ConfigError> {
        Ok(Self {
            table_name: settings.required("TABLE_NAME")?,
            callback_queue_url: settings.required("CALLBACK_QUEUE_URL")?,
        })
    }
}
