//! The webhook's configuration, read once at init from the environment.

use wagate_shared::aws::MissingConfig;

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
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the configuration from any source of named values (the environment in Lambda,
    /// a function's env file in tests).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        use base64::Engine;
        let required = |name: &'static str| {
            lookup(name)
                .filter(|v| !v.is_empty())
                .ok_or(MissingConfig(name))
        };
        let ciphertext = required("PLATFORM_APP_SECRET_CIPHERTEXT")?;
        let platform_app_secret_ciphertext = base64::engine::general_purpose::STANDARD
            .decode(ciphertext.trim())
            .map_err(|e| ConfigError::Invalid("PLATFORM_APP_SECRET_CIPHERTEXT", e.to_string()))?;
        let max_body_bytes = match lookup("MAX_BODY_BYTES") {
            Some(v) => v
                .parse()
                .map_err(|_| ConfigError::Invalid("MAX_BODY_BYTES", v))?,
            None => DEFAULT_MAX_BODY_BYTES,
        };
        Ok(Self {
            table_name: required("TABLE_NAME")?,
            inbound_queue_url: required("INBOUND_QUEUE_URL")?,
            kms_key_id: required("KMS_KEY_ID")?,
            platform_app_secret_ciphertext,
            platform_verify_token: required("PLATFORM_VERIFY_TOKEN")?,
            max_body_bytes,
        })
    }
}
