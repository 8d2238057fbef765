//! How long a job waits before its next attempt, by what went wrong and how often.

use std::time::Duration;

use rand::Rng;

use crate::cloud_api::ErrorClass;

/// The delay before attempt `attempt + 1` after a failure of `class` (attempt counts from
/// 1), with ±20% jitter so that retries of a burst do not arrive together.
pub fn retry_delay(class: ErrorClass, attempt: u32) -> Duration {
    let n = attempt.clamp(1, 16);
    let secs: u64 = match class {
        // Throughput reached: soon, the pacing has already slowed down.
        ErrorClass::RetryThrottled => (1u64 << (n - 1)).min(60),
        // Pair rate: 4^n seconds, as Meta advises.
        ErrorClass::RetryRecipient => 4u64.saturating_pow(n).min(900),
        ErrorClass::RetryWaba => (120u64 << (n - 1).min(3)).min(900),
        ErrorClass::RetryAfterMaintenance => 60,
        _ => (2u64 << (n - 1)).min(300),
    };
    jitter(Duration::from_secs(secs))
}

fn jitter(base: Duration) -> Duration {
    let factor = rand::rng().random_range(0.8..1.2);
    base.mul_f64(factor).max(Duration::from_secs(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_with_attempts_and_stay_bounded() {
        let first = retry_delay(ErrorClass::RetryTransient, 1);
        let third = retry_delay(ErrorClass::RetryTransient, 3);
        assert!(first <= Duration::from_millis(2400) && first >= Duration::from_millis(1600));
        assert!(third >= Duration::from_millis(6400));
        assert!(retry_delay(ErrorClass::RetryTransient, 40) <= Duration::from_secs(360));
        let pair = retry_delay(ErrorClass::RetryRecipient, 2);
        assert!(pair >= Duration::from_millis(12_800) && pair <= Duration::from_millis(19_200));
    }
}
