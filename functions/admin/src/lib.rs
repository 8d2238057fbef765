//! The admin function's configuration, read once at init from the environment.

use wagate_shared::config::{ConfigError, Settings, environment};

#[derive(Debug, Clone)]
pub struct AdminConfig {
    pub table_name: String,
    pub kms_key_id: String,
    /// The operator key as base64 KMS ciphertext (context: purpose = operator-key).
    pub operator_key_ciphertext: Vec<u8>,
}

impl AdminConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(environment)
    }

    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let settings = Settings::new(lookup);
        Ok(Self {
            table_name: settings.required("TABLE_NAME")?,
            kms_key_id: settings.required("KMS_KEY_ID")?,
            operator_key_ciphertext: settings.base64("OPERATOR_KEY_CIPHERTEXT")?,
        })
    }
}
