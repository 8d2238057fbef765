//! Meta's pair rate: about one message every 6 seconds to the same user, with short bursts
//! allowed. A container-local token bucket per number and recipient keeps bursts within
//! it; a 131056 from Meta empties the bucket, so that recipient waits and others go on.

use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::token_bucket::{Rate, TokenBuckets};

#[derive(Debug, Clone, Copy)]
pub struct PairRate {
    /// Messages that may go in a burst.
    pub burst: u32,
    /// One message's worth of allowance comes back after this long.
    pub refill: Duration,
}

impl Default for PairRate {
    fn default() -> Self {
        Self {
            burst: 10,
            refill: Duration::from_secs(6),
        }
    }
}

pub struct PairLimiter {
    buckets: TokenBuckets<[u8; 16]>,
}

const MAX_TRACKED: usize = 100_000;

impl PairLimiter {
    pub fn new(rate: PairRate) -> Self {
        let rate = Rate {
            burst: rate.burst,
            refill: rate.refill,
        };
        Self {
            buckets: TokenBuckets::new(rate, MAX_TRACKED),
        }
    }

    /// Takes one send's allowance for the pair, or says how long until there is one.
    pub fn try_take(&self, phone_number_id: &str, recipient: &str) -> Result<(), Duration> {
        self.buckets.try_take(pair_key(phone_number_id, recipient))
    }

    /// Meta reported the pair rate reached: no more burst for this pair until it refills.
    pub fn exhausted(&self, phone_number_id: &str, recipient: &str) {
        self.buckets.empty(pair_key(phone_number_id, recipient));
    }
}

fn pair_key(phone_number_id: &str, recipient: &str) -> [u8; 16] {
    let digest = Sha256::digest(format!("{phone_number_id}\0{recipient}"));
    digest[..16].try_into().expect("16 bytes")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_passes_then_the_pair_waits_while_other_recipients_go_on() {
        let limiter = PairLimiter::new(PairRate {
            burst: 3,
            refill: Duration::from_secs(6),
        });
        for _ in 0..3 {
            assert!(limiter.try_take("1", "491").is_ok());
        }
        let wait = limiter.try_take("1", "491").unwrap_err();
        assert!(wait > Duration::from_secs(5) && wait <= Duration::from_secs(6));
        assert!(limiter.try_take("1", "492").is_ok());
        assert!(limiter.try_take("2", "491").is_ok());
    }

    #[test]
    fn a_pair_limit_from_meta_empties_the_bucket() {
        let limiter = PairLimiter::new(PairRate::default());
        limiter.exhausted("1", "491");
        assert!(limiter.try_take("1", "491").is_err());
    }
}
