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

use std::sync::atomic::{AtomicI64, Ordering};

/// How far this process's clock runs ahead of the system's: zero, except in a test that
/// moves it to see what time hides.
static AHEAD_MS: AtomicI64 = AtomicI64::new(0);

/// The time every rule of retention, windows and expiry reads (Unix seconds).
pub fn now_seconds() -> i64 {
    now_millis() / 1000
}

pub fn now_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
        + AHEAD_MS.load(Ordering::Relaxed)
}

/// Moves this process's clock `seconds` further ahead, for a test that runs the API and
/// the export in its own process and checks what they hide as time passes. Nothing in the
/// functions calls it; AWS request signing keeps the system's time.
#[doc(hidden)]
pub fn move_clock_forward(seconds: i64) {
    AHEAD_MS.fetch_add(seconds * 1000, Ordering::Relaxed);
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
