//! The inbound worker's configuration, read once at init from the environment.

use wagate_messaging::config::{ConfigError, FunctionConfig, Settings, StorageConfig};

#[derive(Debug, Clone)]
pub struct InboundConfig {
    /// The table, its key table and the personal-data KMS key.
    pub storage: StorageConfig,
    /// Where applied events go for the tenants' callback endpoints.
    pub callback_queue_url: String,
    /// Where the confirmation of an opt-out goes to be sent.
    pub outbound_queue_url: String,
    /// The HMAC key the outbound queue's group ids are keyed with.
    pub queue_id_key_id: String,
    /// Where an audit append that failed waits to be retried, and where a checkpoint that
    /// falls due is queued to be signed.
    pub erasure_queue_url: String,
    /// The durable path: what reports count, for the reporting worker.
    pub reporting_queue_url: String,
}

impl FunctionConfig for InboundConfig {
    fn read<F: Fn(&str) -> Option<String>>(settings: &Settings<F>) -> Result<Self, ConfigError> {
        Ok(Self {
            storage: StorageConfig::read(settings)?,
            callback_queue_url: settings.required("CALLBACK_QUEUE_URL")?,
            outbound_queue_url: settings.required("OUTBOUND_QUEUE_URL")?,
            queue_id_key_id: settings.required("QUEUE_ID_KEY_ID")?,
            erasure_queue_url: settings.required("ERASURE_QUEUE_URL")?,
            reporting_queue_url: settings.required("REPORTING_QUEUE_URL")?,
        })
    }
}
