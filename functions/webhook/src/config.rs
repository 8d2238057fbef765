//! The webhook's configuration, read once at init from the environment.

use wagate_messaging::config::{ConfigError, FunctionConfig, Settings};
use wagate_messaging::secret::Secret;

/// Meta sends up to 3 MB in one delivery; anything larger is refused before any work.
pub const DEFAULT_MAX_BODY_BYTES: usize = 3 * 1024 * 1024;

#[derive(Debug, Clone)]
pub struct WebhookConfig {
    pub table_name: String,
    pub inbound_queue_url: String,
    /// The HMAC key that queue group and deduplication ids are keyed with.
    pub queue_id_key_id: String,
    pub kms_key_id: String,
    /// The platform Meta app's secret as base64 KMS ciphertext (context: platform-app-secret).
    pub platform_app_secret_ciphertext: Vec<u8>,
    /// The platform Meta app's verify token for the GET handshake: a secret, never printed.
    pub platform_verify_token: Secret,
    pub max_body_bytes: usize,
}

impl FunctionConfig for WebhookConfig {
    fn read<F: Fn(&str) -> Option<String>>(settings: &Settings<F>) -> Result<Self, ConfigError> {
        Ok(Self {
            table_name: settings.required("TABLE_NAME")?,
            inbound_queue_url: settings.required("INBOUND_QUEUE_URL")?,
            queue_id_key_id: settings.required("QUEUE_ID_KEY_ID")?,
            kms_key_id: settings.required("KMS_KEY_ID")?,
            platform_app_secret_ciphertext: settings.base64("PLATFORM_APP_SECRET_CIPHERTEXT")?,
            platform_verify_token: Secret::new(settings.required("PLATFORM_VERIFY_TOKEN")?),
            max_body_bytes: settings.number_or("MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES)?,
        })
    }
}
