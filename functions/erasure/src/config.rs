//! The erasure worker's configuration, read once at init from the environment.

use wagate_shared::config::{ConfigError, FunctionConfig, Settings, StorageConfig};

#[derive(Debug, Clone)]
pub struct ErasureConfig {
    /// The table, its key table and the personal-data KMS key.
    pub storage: StorageConfig,
    /// The erasure queue, which also takes each job's rest.
    pub queue_url: String,
    /// The KMS HMAC key that signs erasure receipts.
    pub receipt_key_id: String,
    /// The bucket people's exports are written to.
    pub export_bucket: String,
}

impl FunctionConfig for ErasureConfig {
    fn read<F: Fn(&str) -> Option<String>>(settings: &Settings<F>) -> Result<Self, ConfigError> {
        Ok(Self {
            storage: StorageConfig::read(settings)?,
            queue_url: settings.required("ERASURE_QUEUE_URL")?,
            receipt_key_id: settings.required("RECEIPT_KEY_ID")?,
            export_bucket: settings.required("EXPORT_BUCKET")?,
        })
    }
}
