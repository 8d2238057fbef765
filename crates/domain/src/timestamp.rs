//! Meta's timestamps: Unix seconds, usually as a string, sometimes as a number.

use serde::{Deserialize, Deserializer};

/// Unix seconds from `"1700000000"` or `1700000000`; anything else is `None`.
pub fn parse_seconds(value: &serde_json::Value) -> Option<i64> {
    match value {
        serde_json::Value::String(s) => s.trim().parse().ok(),
        serde_json::Value::Number(n) => n.as_i64(),
        _ => None,
    }
}

/// Serde helper for an optional timestamp field in either form.
pub fn deserialize_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    let value = Option::<serde_json::Value>::deserialize(d)?;
    Ok(value.as_ref().and_then(parse_seconds))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn timestamps_are_read_from_strings_and_numbers_alike() {
        assert_eq!(parse_seconds(&json!("1697043223")), Some(1697043223));
        assert_eq!(parse_seconds(&json!(1731705721)), Some(1731705721));
        assert_eq!(parse_seconds(&json!("soon")), None);
        assert_eq!(parse_seconds(&json!(null)), None);
    }
}
