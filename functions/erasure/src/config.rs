//! The erasure worker's configuration, read once at init from the environment.

use std::time::Duration;

use wagate_compliance::erasure::person::ErasureTiming;
use wagate_messaging::config::{ConfigError, FunctionConfig, Settings, StorageConfig};

#[derive(Debug, Clone)]
pub struct ErasureConfig {
    /// The table, its key table and the personal-data KMS key.
    pub storage: StorageConfig,
    /// The erasure queue, which also takes each job's rest.
    pub queue_url: String,
    /// The KMS HMAC key that signs erasure receipts.
    pub receipt_key_id: String,
    /// The KMS HMAC key that signs the audit chains' checkpoints.
    pub audit_key_id: String,
    /// The bucket people's exports are written to.
    pub export_bucket: String,
    /// When an erasure's final pass runs, and what its receipt promises of backups.
    pub timing: ErasureTiming,
}

impl FunctionConfig for ErasureConfig {
    fn read<F: Fn(&str) -> Option<String>>(settings: &Settings<F>) -> Result<Self, ConfigError> {
        Ok(Self {
            storage: StorageConfig::read(settings)?,
            queue_url: settings.required("ERASURE_QUEUE_URL")?,
            receipt_key_id: settings.required("RECEIPT_KEY_ID")?,
            audit_key_id: settings.required("AUDIT_KEY_ID")?,
            export_bucket: settings.required("EXPORT_BUCKET")?,
            timing: timing(settings)?,
        })
    }
}

/// The final pass runs after every container's cached key has expired: a delay no longer
/// than the cache would let a late writer outlive the erasure.
fn timing<F: Fn(&str) -> Option<String>>(
    settings: &Settings<F>,
) -> Result<ErasureTiming, ConfigError> {
    let defaults = ErasureTiming::default();
    let storage = StorageConfig::read(settings)?;
    let delay = settings.number_or(
        "ERASURE_FINAL_PASS_DELAY_SECONDS",
        defaults.final_pass_delay.as_secs(),
    )?;
    if delay <= storage.person_key_cache.as_secs() || delay > 900 {
        return Err(ConfigError::invalid(
            "ERASURE_FINAL_PASS_DELAY_SECONDS",
            "must be longer than PERSON_KEY_CACHE_SECONDS and at most 900 (SQS's longest delay)",
        ));
    }
    Ok(ErasureTiming {
        final_pass_delay: Duration::from_secs(delay),
        key_recovery_days: settings
            .number_or("KEY_TABLE_RECOVERY_DAYS", defaults.key_recovery_days)?,
    })
}
