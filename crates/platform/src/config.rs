//! Reading a function's configuration once, at init, from named values: the environment
//! in Lambda, a function's env file in tests. Every error names the value at fault.

use std::str::FromStr;

use base64::Engine;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration value {0} is not set")]
    Missing(&'static str),
    #[error("configuration value {name} is not valid: {problem}")]
    Invalid { name: &'static str, problem: String },
}

impl ConfigError {
    pub fn invalid(name: &'static str, problem: impl Into<String>) -> Self {
        Self::Invalid {
            name,
            problem: problem.into(),
        }
    }
}

/// Named values; an empty value counts as unset.
pub struct Settings<F> {
    lookup: F,
}

/// A function's configuration, read once at init: every function reads its own this way.
pub trait FunctionConfig: Sized {
    /// Reads every value; an error names the value at fault.
    fn read<F: Fn(&str) -> Option<String>>(settings: &Settings<F>) -> Result<Self, ConfigError>;

    /// From the process environment, as Lambda gives it.
    fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(environment)
    }

    /// From any source of named values (a function's env file in tests).
    fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        Self::read(&Settings::new(lookup))
    }
}

/// The process environment, as a lookup for [`Settings`].
pub fn environment(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

impl<F: Fn(&str) -> Option<String>> Settings<F> {
    pub fn new(lookup: F) -> Self {
        Self { lookup }
    }

    pub fn optional(&self, name: &str) -> Option<String> {
        (self.lookup)(name).filter(|v| !v.is_empty())
    }

    pub fn required(&self, name: &'static str) -> Result<String, ConfigError> {
        self.optional(name).ok_or(ConfigError::Missing(name))
    }

    /// A number, or `default` when unset.
    pub fn number_or<T: FromStr>(&self, name: &'static str, default: T) -> Result<T, ConfigError> {
        match self.optional(name) {
            None => Ok(default),
            Some(v) => v
                .trim()
                .parse()
                .map_err(|_| ConfigError::invalid(name, format!("{v:?} is not a number"))),
        }
    }

    /// Bytes given as standard base64, such as KMS ciphertext.
    pub fn base64(&self, name: &'static str) -> Result<Vec<u8>, ConfigError> {
        base64::engine::general_purpose::STANDARD
            .decode(self.required(name)?.trim())
            .map_err(|e| ConfigError::invalid(name, format!("not base64: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(
        pairs: &'static [(&'static str, &'static str)],
    ) -> Settings<impl Fn(&str) -> Option<String>> {
        Settings::new(move |name: &str| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        })
    }

    #[test]
    fn values_are_read_and_errors_name_them() {
        let s = settings(&[
            ("A", "x"),
            ("EMPTY", ""),
            ("N", "12"),
            ("BAD", "1x"),
            ("B64", "aGk="),
        ]);
        assert_eq!(s.required("A").unwrap(), "x");
        assert!(matches!(
            s.required("EMPTY"),
            Err(ConfigError::Missing("EMPTY"))
        ));
        assert!(matches!(
            s.required("NONE"),
            Err(ConfigError::Missing("NONE"))
        ));
        assert_eq!(s.number_or("N", 5u64).unwrap(), 12);
        assert_eq!(s.number_or("NONE", 5u64).unwrap(), 5);
        let bad = s.number_or("BAD", 5u64).unwrap_err().to_string();
        assert!(bad.contains("BAD"), "{bad}");
        assert_eq!(s.base64("B64").unwrap(), b"hi");
        assert!(s.base64("A").unwrap_err().to_string().contains('A'));
    }
}

/// Where a function's data lives: the table, the key table of personal data's keys and the
/// KMS key that protects tenants' key-encryption keys. Every function that opens the store
/// reads these, and how long it may keep a person's data key in memory.
#[derive(Debug, Clone)]
pub struct StorageConfig {
    pub table_name: String,
    pub key_table_name: String,
    pub personal_data_key_id: String,
    /// How long a container keeps a person's data key once read
    /// (`PERSON_KEY_CACHE_SECONDS`, 600 unless set): an erasure's final pass waits longer.
    pub person_key_cache: std::time::Duration,
}

/// How long a container keeps a person's data key when `PERSON_KEY_CACHE_SECONDS` is not
/// set: the keyring's default, and what an erasure's final pass waits past.
pub const PERSON_KEY_CACHE_DEFAULT: std::time::Duration = std::time::Duration::from_secs(600);

impl StorageConfig {
    pub fn read<F: Fn(&str) -> Option<String>>(
        settings: &Settings<F>,
    ) -> Result<Self, ConfigError> {
        let cache_secs = settings.number_or(
            "PERSON_KEY_CACHE_SECONDS",
            PERSON_KEY_CACHE_DEFAULT.as_secs(),
        )?;
        if cache_secs == 0 {
            return Err(ConfigError::invalid(
                "PERSON_KEY_CACHE_SECONDS",
                "must be at least 1",
            ));
        }
        Ok(Self {
            table_name: settings.required("TABLE_NAME")?,
            key_table_name: settings.required("KEY_TABLE_NAME")?,
            personal_data_key_id: settings.required("PERSONAL_DATA_KEY_ID")?,
            person_key_cache: std::time::Duration::from_secs(cache_secs),
        })
    }
}
