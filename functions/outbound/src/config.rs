//! The outbound worker's settings, read once at start.

use std::time::Duration;

use wagate_shared::cloud_api::CloudApiConfig;
use wagate_shared::cloud_api::client::{DEFAULT_BASE_URL, DEFAULT_GRAPH_VERSION};
use wagate_shared::outbound::SenderSettings;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{0} is not set")]
    Missing(&'static str),
    #[error("{name} is not valid: {problem}")]
    Invalid { name: &'static str, problem: String },
}

#[derive(Debug, Clone)]
pub struct OutboundConfig {
    pub table_name: String,
    pub queue_url: String,
    pub cloud_api: CloudApiConfig,
    pub sender: SenderSettings,
    /// The function's timeout: bounds an invocation when the runtime gives no deadline
    /// (local emulators do not).
    pub worker_timeout: Duration,
}

impl OutboundConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok().filter(|v| !v.is_empty()))
    }

    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let required = |name: &'static str| get(name).ok_or(ConfigError::Missing(name));
        let number = |name: &'static str, default: u64| -> Result<u64, ConfigError> {
            get(name).map_or(Ok(default), |v| {
                v.parse().map_err(|_| ConfigError::Invalid {
                    name,
                    problem: format!("{v:?} is not a whole number"),
                })
            })
        };
        let base_url = get("CLOUD_API_BASE_URL").unwrap_or_else(|| DEFAULT_BASE_URL.into());
        if !(base_url.starts_with("https://") || base_url.starts_with("http://127.0.0.1")) {
            return Err(ConfigError::Invalid {
                name: "CLOUD_API_BASE_URL",
                problem: "must be https (plain http only to 127.0.0.1)".into(),
            });
        }
        let max_attempts = number("SEND_MAX_ATTEMPTS", 8)?;
        if max_attempts == 0 {
            return Err(ConfigError::Invalid {
                name: "SEND_MAX_ATTEMPTS",
                problem: "must be at least 1".into(),
            });
        }
        Ok(Self {
            table_name: required("TABLE_NAME")?,
            queue_url: required("OUTBOUND_QUEUE_URL")?,
            cloud_api: CloudApiConfig {
                base_url,
                graph_version: get("GRAPH_API_VERSION")
                    .unwrap_or_else(|| DEFAULT_GRAPH_VERSION.into()),
                timeout: Duration::from_secs(number("CLOUD_API_TIMEOUT_SECONDS", 10)?),
            },
            sender: SenderSettings {
                max_attempts: max_attempts as u32,
                ..SenderSettings::default()
            },
            worker_timeout: Duration::from_secs(number("WORKER_TIMEOUT_SECONDS", 30)?),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let base = [("TABLE_NAME", "t"), ("OUTBOUND_QUEUE_URL", "q")];
        let config = OutboundConfig::from_lookup(lookup(&base)).unwrap();
        assert_eq!(config.cloud_api.base_url, DEFAULT_BASE_URL);
        assert_eq!(config.cloud_api.graph_version, "v25.0");
        assert_eq!(config.sender.max_attempts, 8);
        let local = [
            ("TABLE_NAME", "t"),
            ("OUTBOUND_QUEUE_URL", "q"),
            ("CLOUD_API_BASE_URL", "http://127.0.0.1:4703"),
        ];
        assert!(OutboundConfig::from_lookup(lookup(&local)).is_ok());
        let plain = [
            ("TABLE_NAME", "t"),
            ("OUTBOUND_QUEUE_URL", "q"),
            ("CLOUD_API_BASE_URL", "http://example.test"),
        ];
        assert!(OutboundConfig::from_lookup(lookup(&plain)).is_err());
        assert!(matches!(
            OutboundConfig::from_lookup(lookup(&[("TABLE_NAME", "t")])),
            Err(ConfigError::Missing("OUTBOUND_QUEUE_URL"))
        ));
    }
}
