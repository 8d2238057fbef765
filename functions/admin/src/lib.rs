//! The admin function's configuration, read once at init from the environment.

use base64::Engine;
use wagate_shared::aws::MissingConfig;

#[derive(Debug, Clone)]
pub struct AdminConfig {
    pub table_name: String,
    pub kms_key_id: String,
    /// The operator key as base64 KMS ciphertext (context: purpose = operator-key).
    pub operator_key_ciphertext: Vec<u8>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(transparent)]
    Missing(#[from] MissingConfig),
    #[error("configuration value {0} is not valid: {1}")]
    Invalid(&'static str, String),
}

impl AdminConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let required = |name: &'static str| {
            lookup(name)
                .filter(|v| !v.is_empty())
                .ok_or(MissingConfig(name))
        };
        let ciphertext = required("OPERATOR_KEY_CIPHERTEXT")?;
        let operator_key_ciphertext = base64::engine::general_purpose::STANDARD
            .decode(ciphertext.trim())
            .map_err(|e| ConfigError::Invalid("OPERATOR_KEY_CIPHERTEXT", e.to_string()))?;
        Ok(Self {
            table_name: required("TABLE_NAME")?,
            kms_key_id: required("KMS_KEY_ID")?,
            operator_key_ciphertext,
        })
    }
}
