//! The webhook's configuration, read once at init from the environment.

use wagate_shared::aws::{MissingConfig, required_env};

/// Meta sends up to 3 MB in one delivery; anything larger is refused before any work.
pub const DEFAULT_MAX_BODY_BYTES: usize = 3 * 1024 * 1024;

#[derive(Debug, Clone)]
pub struct WebhookConfig {
    pub table_name: String,
    pub inbound_queue_url: String,
    pub kms_key_id: String,
    /// The platform Meta app's secret as base64 KMS ciphertext (context: platform-app-secret).
    pub platform_app_secret_ciphertext: Vec<u8>,
    /// The platform Meta app's verify token for the GET handshake.
    pub platform_verify_token: String,
    pub max_body_bytes: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(transparent)]
    Missing(#[from] MissingConfig),
    #[error("configuration value {0} is not valid: {1}")]
    Invalid(&'static str, String),
}

impl WebhookConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        use base64::Engine;
        let ciphertext = required_env("PLATFORM_APP_SECRET_CIPHERTEXT")?;
        let platform_app_secret_ciphertext = base64::engine::general_purpose::STANDARD
            .decode(ciphertext.trim())
            .map_err(|e| ConfigError::Invalid("PLATFORM_APP_SECRET_CIPHERTEXT", e.to_string()))?;
        let max_body_bytes = match std::env::var("MAX_BODY_BYTES") {
            Ok(v) => v
                .parse()
                .map_err(|_| ConfigError::Invalid("MAX_BODY_BYTES", v))?,
            Err(_) => DEFAULT_MAX_BODY_BYTES,
        };
        Ok(Self {
            table_name: required_env("TABLE_NAME")?,
            inbound_queue_url: required_env("INBOUND_QUEUE_URL")?,
            kms_key_id: required_env("KMS_KEY_ID")?,
            platform_app_secret_ciphertext,
            platform_verify_token: required_env("PLATFORM_VERIFY_TOKEN")?,
            max_body_bytes,
        })
    }
}
