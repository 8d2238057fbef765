//! The process's clock: the time every rule of retention, windows and expiry reads.

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
