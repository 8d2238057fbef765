//! The outbound worker's settings, read once at start.

use std::time::Duration;

use wagate_messaging::cloud_api::CloudApiConfig;
use wagate_messaging::config::{ConfigError, FunctionConfig, Settings, StorageConfig};
use wagate_messaging::outbound::SenderSettings;

#[derive(Debug, Clone)]
pub struct OutboundConfig {
    /// The table, its key table and the personal-data KMS key.
    pub storage: StorageConfig,
    pub queue_url: String,
    /// The durable path: what the sender sends and fails, for the reports.
    pub reporting_queue_url: String,
    pub cloud_api: CloudApiConfig,
    pub sender: SenderSettings,
    /// The function's timeout: bounds an invocation when the runtime gives no deadline
    /// (local emulators do not).
    pub worker_timeout: Duration,
}

impl FunctionConfig for OutboundConfig {
    fn read<F: Fn(&str) -> Option<String>>(settings: &Settings<F>) -> Result<Self, ConfigError> {
        let max_attempts: u32 = settings.number_or("SEND_MAX_ATTEMPTS", 8)?;
        if max_attempts == 0 {
            return Err(ConfigError::invalid(
                "SEND_MAX_ATTEMPTS",
                "must be at least 1",
            ));
        }
        Ok(Self {
            storage: StorageConfig::read(settings)?,
            queue_url: settings.required("OUTBOUND_QUEUE_URL")?,
            reporting_queue_url: settings.required("REPORTING_QUEUE_URL")?,
            cloud_api: CloudApiConfig::from_settings(settings)?,
            sender: SenderSettings {
                max_attempts,
                ..SenderSettings::default()
            },
            worker_timeout: Duration::from_secs(settings.number_or("WORKER_TIMEOUT_SECONDS", 30)?),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wagate_messaging::cloud_api::client::DEFAULT_BASE_URL;

    fn lookup<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn defaults_point_at_meta_and_local_http_is_allowed_only_on_loopback() {
        let base = [
            ("TABLE_NAME", "t"),
            ("KEY_TABLE_NAME", "kt"),
            ("PERSONAL_DATA_KEY_ID", "pk"),
            ("OUTBOUND_QUEUE_URL", "q"),
            ("REPORTING_QUEUE_URL", "r"),
        ];
        let config = OutboundConfig::from_lookup(lookup(&base)).unwrap();
        assert_eq!(config.cloud_api.base_url, DEFAULT_BASE_URL);
        assert_eq!(config.cloud_api.graph_version, "v25.0");
        assert_eq!(config.sender.max_attempts, 8);
        let local = [
            ("TABLE_NAME", "t"),
            ("KEY_TABLE_NAME", "kt"),
            ("PERSONAL_DATA_KEY_ID", "pk"),
            ("OUTBOUND_QUEUE_URL", "q"),
            ("REPORTING_QUEUE_URL", "r"),
            ("CLOUD_API_BASE_URL", "http://127.0.0.1:4703"),
        ];
        assert!(OutboundConfig::from_lookup(lookup(&local)).is_ok());
        let plain = [
            ("TABLE_NAME", "t"),
            ("KEY_TABLE_NAME", "kt"),
            ("PERSONAL_DATA_KEY_ID", "pk"),
            ("OUTBOUND_QUEUE_URL", "q"),
            ("REPORTING_QUEUE_URL", "r"),
            ("CLOUD_API_BASE_URL", "http://example.test"),
        ];
        assert!(OutboundConfig::from_lookup(lookup(&plain)).is_err());
        assert!(matches!(
            OutboundConfig::from_lookup(lookup(&[
                ("TABLE_NAME", "t"),
                ("KEY_TABLE_NAME", "kt"),
                ("PERSONAL_DATA_KEY_ID", "pk"),
            ])),
            Err(ConfigError::Missing("OUTBOUND_QUEUE_URL"))
        ));
    }
}
