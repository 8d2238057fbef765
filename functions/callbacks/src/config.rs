//! The callbacks worker's settings, read once at start.

use std::time::Duration;

use wagate_integrations::callbacks::delivery::RetrySchedule;
use wagate_messaging::config::{ConfigError, FunctionConfig, Settings, StorageConfig};

#[derive(Debug, Clone)]
pub struct CallbacksConfig {
    /// The table, its key table and the personal-data KMS key.
    pub storage: StorageConfig,
    pub kms_key_id: String,
    pub queue_url: String,
    pub dead_letter_queue_url: String,
    pub schedule: RetrySchedule,
    /// Local stacks only: deliveries may reach loopback and private addresses.
    pub allow_internal_urls: bool,
}

impl FunctionConfig for CallbacksConfig {
    fn read<F: Fn(&str) -> Option<String>>(settings: &Settings<F>) -> Result<Self, ConfigError> {
        let defaults = RetrySchedule::default();
        let seconds = |name: &'static str, default: Duration| -> Result<Duration, ConfigError> {
            let value: u64 = settings.number_or(name, default.as_secs())?;
            if value == 0 {
                return Err(ConfigError::invalid(name, "must be at least 1"));
            }
            Ok(Duration::from_secs(value))
        };
        Ok(Self {
            storage: StorageConfig::read(settings)?,
            kms_key_id: settings.required("KMS_KEY_ID")?,
            queue_url: settings.required("CALLBACK_QUEUE_URL")?,
            dead_letter_queue_url: settings.required("CALLBACK_DLQ_URL")?,
            schedule: RetrySchedule {
                first_retry: seconds("CALLBACK_FIRST_RETRY_SECONDS", defaults.first_retry)?,
                max_delay: seconds("CALLBACK_MAX_DELAY_SECONDS", defaults.max_delay)?,
                give_up_after: seconds("CALLBACK_RETRY_PERIOD_SECONDS", defaults.give_up_after)?,
            },
            allow_internal_urls: settings
                .optional("CALLBACKS_ALLOW_INSECURE_URLS")
                .is_some_and(|v| v == "true"),
        })
    }
}
