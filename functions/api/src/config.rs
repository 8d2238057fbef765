//! The business API function's configuration, read once at init from the environment.

use http_api::rate_limit::Rates;
use wagate_messaging::cloud_api::CloudApiConfig;
use wagate_messaging::config::{ConfigError, FunctionConfig, Settings, StorageConfig};

#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// The table, its key table and the personal-data KMS key.
    pub storage: StorageConfig,
    pub outbound_queue_url: String,
    /// The HMAC key the outbound queue's group ids are keyed with.
    pub queue_id_key_id: String,
    /// To decrypt access tokens for read receipts.
    pub kms_key_id: String,
    pub cloud_api: CloudApiConfig,
    /// Each key's request rate.
    pub rates: Rates,
    /// Where replayed callback events are queued.
    pub callback_queue_url: String,
    /// Where an audit append that failed waits to be retried, and where a checkpoint that
    /// falls due is queued to be signed.
    pub erasure_queue_url: String,
    /// The durable path: the conversations the business opens, for the reports.
    pub reporting_queue_url: String,
    /// Local stacks only: callback URLs may be http or internal addresses.
    pub allow_insecure_callback_urls: bool,
}

impl FunctionConfig for ApiConfig {
    fn read<F: Fn(&str) -> Option<String>>(settings: &Settings<F>) -> Result<Self, ConfigError> {
        Ok(Self {
            storage: StorageConfig::read(settings)?,
            outbound_queue_url: settings.required("OUTBOUND_QUEUE_URL")?,
            queue_id_key_id: settings.required("QUEUE_ID_KEY_ID")?,
            kms_key_id: settings.required("KMS_KEY_ID")?,
            cloud_api: CloudApiConfig::from_settings(settings)?,
            rates: Rates::from_settings(settings)?,
            callback_queue_url: settings.required("CALLBACK_QUEUE_URL")?,
            erasure_queue_url: settings.required("ERASURE_QUEUE_URL")?,
            reporting_queue_url: settings.required("REPORTING_QUEUE_URL")?,
            allow_insecure_callback_urls: settings
                .optional("CALLBACKS_ALLOW_INSECURE_URLS")
                .is_some_and(|v| v == "true"),
        })
    }
}
