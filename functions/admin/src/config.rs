//! The admin function's configuration, read once at init from the environment.

use std::time::Duration;

use http_api::rate_limit::Rates;
use wagate_messaging::cloud_api::CloudApiConfig;
use wagate_messaging::config::{ConfigError, FunctionConfig, Settings, StorageConfig};
use wagate_messaging::queue::jobs::MAX_DELAY;

#[derive(Debug, Clone)]
pub struct AdminConfig {
    /// The table, its key table and the personal-data KMS key.
    pub storage: StorageConfig,
    pub kms_key_id: String,
    /// The operator key as base64 KMS ciphertext (context: purpose = operator-key).
    pub operator_key_ciphertext: Vec<u8>,
    /// Each key's request rate.
    pub rates: Rates,
    /// Meta's Graph API, asked whether a token reaches a number before it is connected.
    pub cloud_api: CloudApiConfig,
    /// Where a deleted tenant's erasure jobs go.
    pub erasure_queue_url: String,
    /// The KMS HMAC key that signs erasure receipts (checked here, made in the erasure
    /// function).
    pub receipt_key_id: String,
    /// The KMS HMAC key that signs and checks the audit chains' checkpoints.
    pub audit_key_id: String,
    /// The bucket people's exports are in (for their download links).
    pub export_bucket: String,
    /// How long a deleted tenant's erasure waits: longer than any container caches the
    /// tenant (5 minutes), so that no worker writes behind the sweep. At most 15 minutes.
    pub erasure_delay: Duration,
}

impl FunctionConfig for AdminConfig {
    fn read<F: Fn(&str) -> Option<String>>(settings: &Settings<F>) -> Result<Self, ConfigError> {
        Ok(Self {
            storage: StorageConfig::read(settings)?,
            kms_key_id: settings.required("KMS_KEY_ID")?,
            operator_key_ciphertext: settings.base64("OPERATOR_KEY_CIPHERTEXT")?,
            rates: Rates::from_settings(settings)?,
            cloud_api: CloudApiConfig::from_settings(settings)?,
            erasure_queue_url: settings.required("ERASURE_QUEUE_URL")?,
            receipt_key_id: settings.required("RECEIPT_KEY_ID")?,
            audit_key_id: settings.required("AUDIT_KEY_ID")?,
            export_bucket: settings.required("EXPORT_BUCKET")?,
            erasure_delay: erasure_delay(settings)?,
        })
    }
}

fn erasure_delay<F: Fn(&str) -> Option<String>>(
    settings: &Settings<F>,
) -> Result<Duration, ConfigError> {
    const NAME: &str = "ERASURE_START_DELAY_SECONDS";
    let seconds: u64 = settings.number_or(NAME, 600)?;
    if Duration::from_secs(seconds) > MAX_DELAY {
        return Err(ConfigError::invalid(
            NAME,
            "must be at most 900 (SQS's longest delay)",
        ));
    }
    Ok(Duration::from_secs(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(extra: &[(&str, &str)]) -> Result<AdminConfig, ConfigError> {
        let mut vars = std::collections::HashMap::from([
            ("TABLE_NAME", "t"),
            ("KEY_TABLE_NAME", "kt"),
            ("PERSONAL_DATA_KEY_ID", "pk"),
            ("KMS_KEY_ID", "k"),
            ("OPERATOR_KEY_CIPHERTEXT", "AAAA"),
            ("ERASURE_QUEUE_URL", "http://127.0.0.1:1/q"),
            ("RECEIPT_KEY_ID", "rk"),
            ("AUDIT_KEY_ID", "ak"),
            ("EXPORT_BUCKET", "b"),
        ]);
        vars.extend(extra.iter().copied());
        AdminConfig::from_lookup(|name| vars.get(name).map(|v| v.to_string()))
    }

    #[test]
    fn the_erasure_waits_ten_minutes_unless_told_and_never_past_sqs_limit() {
        assert_eq!(config(&[]).unwrap().erasure_delay, Duration::from_secs(600));
        let told = config(&[("ERASURE_START_DELAY_SECONDS", "2")]).unwrap();
        assert_eq!(told.erasure_delay, Duration::from_secs(2));
        let too_long = config(&[("ERASURE_START_DELAY_SECONDS", "901")]).unwrap_err();
        assert!(
            too_long.to_string().contains("ERASURE_START_DELAY_SECONDS"),
            "{too_long}"
        );
    }
}
