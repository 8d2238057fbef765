//! Per-key request rates: each API key (and the operator key) gets a burst and a steady
//! rate; past them a call answers 429 with `Retry-After`. The buckets live in the
//! container, so a key spread over several warm containers gets the rate on each: the
//! limit protects each container and the tables behind it from one noisy key, it is not
//! a billing meter.

use std::time::Duration;

use wagate_shared::access::Principal;
use wagate_shared::config::{ConfigError, Settings};
use wagate_shared::token_bucket::{Rate, TokenBuckets};

use crate::error::ApiError;

/// Keys tracked at once per container; idle keys are forgotten first.
const MAX_TRACKED_KEYS: usize = 50_000;

/// The operator key serves every tenant's administration: it gets this many times a
/// tenant key's rate.
const OPERATOR_FACTOR: u32 = 5;

pub struct KeyRateLimit {
    keys: TokenBuckets<String>,
    operator: TokenBuckets<()>,
}

impl KeyRateLimit {
    pub fn new(rate: Rate) -> Self {
        let operator = Rate {
            burst: rate.burst.saturating_mul(OPERATOR_FACTOR),
            refill: rate.refill / OPERATOR_FACTOR,
        };
        Self {
            keys: TokenBuckets::new(rate, MAX_TRACKED_KEYS),
            operator: TokenBuckets::new(operator, 1),
        }
    }

    /// The rate from `RATE_LIMIT_PER_SECOND` (default 20) and `RATE_LIMIT_BURST` (default
    /// 40).
    pub fn rate_from(
        settings: &Settings<impl Fn(&str) -> Option<String>>,
    ) -> Result<Rate, ConfigError> {
        Ok(Rate::per_second(
            settings.number_or("RATE_LIMIT_PER_SECOND", 20)?,
            settings.number_or("RATE_LIMIT_BURST", 40)?,
        ))
    }

    pub fn check_key(&self, principal: &Principal) -> Result<(), ApiError> {
        let key = format!("{}.{}", principal.tenant_id, principal.key_id);
        self.keys.try_take(key).map_err(limited)
    }

    pub fn check_operator(&self) -> Result<(), ApiError> {
        self.operator.try_take(()).map_err(limited)
    }
}

fn limited(wait: Duration) -> ApiError {
    ApiError::RateLimited {
        retry_after: whole_seconds(wait),
    }
}

fn whole_seconds(wait: Duration) -> u64 {
    wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
}
