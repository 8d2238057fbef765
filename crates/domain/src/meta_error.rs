//! An error object as Meta reports it in webhooks (`errors[]`).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MetaError {
    pub code: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<String>,
}

#[derive(Deserialize)]
struct Wire {
    #[serde(default)]
    code: Option<i64>,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    error_data: Option<ErrorData>,
}

#[derive(Deserialize)]
struct ErrorData {
    #[serde(default)]
    details: Option<String>,
}

/// Reads an `errors` array, skipping entries without a numeric code.
pub fn parse_errors(value: Option<&serde_json::Value>) -> Vec<MetaError> {
    let Some(serde_json::Value::Array(items)) = value else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(|item| serde_json::from_value::<Wire>(item.clone()).ok())
        .filter_map(|w| {
            Some(MetaError {
                code: w.code?,
                title: w.title,
                message: w.message,
                details: w.error_data.and_then(|d| d.details),
            })
        })
        .collect()
}
