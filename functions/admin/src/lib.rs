//! The admin function's configuration, read once at init from the environment.

use http_api::rate_limit::KeyRateLimit;
use wagate_shared::config::{ConfigError, Settings, environment};
use wagate_shared::token_bucket::Rate;

#[derive(Debug, Clone)]
pub struct AdminConfig {
    pub table_name: String,
    pub kms_key_id: String,
    /// The operator key as base64 KMS ciphertext (context: purpose = operator-key).
    pub operator_key_ciphertext: Vec<u8>,
    /// Each key's request rate.
    pub rate: Rate,
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
            rate: KeyRateLimit::rate_from(&settings)?,
        })
    }
}
