//! Container-local token buckets, one per key: a burst is allowed, then one unit comes back
//! every `refill`. Used for Meta's pair rate and for API keys' request rate.

use std::hash::Hash;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::cache::Lru;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    /// Units that may go in a burst.
    pub burst: u32,
    /// One unit's worth of allowance comes back after this long.
    pub refill: Duration,
}

impl Rate {
    /// `per_second` units a second on average, `burst` at once.
    pub fn per_second(per_second: u32, burst: u32) -> Self {
        Self {
            burst: burst.max(1),
            refill: Duration::from_secs_f64(1.0 / f64::from(per_second.max(1))),
        }
    }
}

struct Bucket {
    tokens: f64,
    at: Instant,
}

/// Buckets of many keys; at most `max_tracked` at once, the least recently used forgotten
/// first (a forgotten bucket comes back full, as a bucket left alone long enough would).
pub struct TokenBuckets<K> {
    rate: Rate,
    buckets: Mutex<Lru<K, Bucket>>,
}

impl<K: Eq + Hash + Clone> TokenBuckets<K> {
    pub fn new(rate: Rate, max_tracked: usize) -> Self {
        Self {
            rate,
            buckets: Mutex::new(Lru::new(max_tracked)),
        }
    }

    /// Takes one unit of `key`'s allowance, or says how long until there is one.
    pub fn try_take(&self, key: K) -> Result<(), Duration> {
        self.with_bucket(key, |bucket| {
            if bucket.tokens >= 1.0 {
                bucket.tokens -= 1.0;
                true
            } else {
                false
            }
        })
    }

    /// Whether `key` has a unit of allowance now, without taking it; how long until it
    /// has one otherwise.
    pub fn check(&self, key: K) -> Result<(), Duration> {
        self.with_bucket(key, |bucket| bucket.tokens >= 1.0)
    }

    /// Brings `key`'s bucket up to now and lets `take` decide on it; when it declines, how
    /// long until a unit is there.
    fn with_bucket(&self, key: K, take: impl FnOnce(&mut Bucket) -> bool) -> Result<(), Duration> {
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        let burst = f64::from(self.rate.burst);
        if buckets.get_mut(&key).is_none() {
            buckets.insert(
                key.clone(),
                Bucket {
                    tokens: burst,
                    at: now,
                },
            );
        }
        let bucket = buckets.get_mut(&key).expect("just inserted");
        let earned = now.duration_since(bucket.at).as_secs_f64() / self.rate.refill.as_secs_f64();
        bucket.tokens = (bucket.tokens + earned).min(burst);
        bucket.at = now;
        if take(bucket) {
            Ok(())
        } else {
            Err(self.rate.refill.mul_f64(1.0 - bucket.tokens))
        }
    }

    /// No allowance left for `key` until it refills (the other side said so).
    pub fn empty(&self, key: K) {
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        buckets.insert(
            key,
            Bucket {
                tokens: 0.0,
                at: Instant::now(),
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_passes_then_the_key_waits_while_others_go_on() {
        let buckets = TokenBuckets::new(Rate::per_second(10, 3), 100);
        for _ in 0..3 {
            assert!(buckets.try_take("a").is_ok());
        }
        let wait = buckets.try_take("a").unwrap_err();
        assert!(wait > Duration::from_millis(50) && wait <= Duration::from_millis(100));
        assert!(buckets.try_take("b").is_ok());
        std::thread::sleep(wait + Duration::from_millis(5));
        assert!(buckets.try_take("a").is_ok());
    }
}
