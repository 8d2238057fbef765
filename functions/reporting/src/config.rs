//! The reporting worker's settings, read once at start.

use wagate_platform::config::{ConfigError, FunctionConfig, Settings};

#[derive(Debug, Clone)]
pub struct ReportingConfig {
    /// The table its counts live in (no personal data: no key table, no keys).
    pub table_name: String,
}

impl FunctionConfig for ReportingConfig {
    fn read<F: Fn(&str) -> Option<String>>(settings: &Settings<F>) -> Result<Self, ConfigError> {
        Ok(Self {
            table_name: settings.required("TABLE_NAME")?,
        })
    }
}
