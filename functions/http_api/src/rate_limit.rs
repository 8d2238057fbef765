//! Request rates: each API key (and the operator key) gets a burst and a steady rate, and
//! so does each tenant over all its keys (a tenant that makes many keys does not get many
//! times the rate); past either a call answers 429 with `Retry-After`. The buckets live in
//! the container, so a key spread over several warm containers gets the rate on each: the
//! limit protects each container and the tables behind it from one noisy key or tenant,
//! it is not a billing meter.

use std::time::Duration;

use wagate_messaging::access::Principal;
use wagate_messaging::config::{ConfigError, Settings};
use wagate_messaging::domain::tenant::TenantId;
use wagate_messaging::token_bucket::{Rate, TokenBuckets};

use crate::error::ApiError;

/// Keys tracked at once per container; idle keys are forgotten first.
const MAX_TRACKED_KEYS: usize = 50_000;

/// The operator key serves every tenant's administration: it gets this many times a
/// tenant key's rate.
const OPERATOR_FACTOR: u32 = 5;

/// The rates of one API: per key, and per tenant over all its keys.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rates {
    pub key: Rate,
    pub tenant: Rate,
}

impl Rates {
    /// From `RATE_LIMIT_PER_SECOND` and `RATE_LIMIT_BURST` (per key, default 20 and 40)
    /// and `TENANT_RATE_LIMIT_PER_SECOND` and `TENANT_RATE_LIMIT_BURST` (per tenant,
    /// default 100 and 200).
    pub fn from_settings(
        settings: &Settings<impl Fn(&str) -> Option<String>>,
    ) -> Result<Self, ConfigError> {
        Ok(Self {
            key: Rate::per_second(
                settings.number_or("RATE_LIMIT_PER_SECOND", 20)?,
                settings.number_or("RATE_LIMIT_BURST", 40)?,
            ),
            tenant: Rate::per_second(
                settings.number_or("TENANT_RATE_LIMIT_PER_SECOND", 100)?,
                settings.number_or("TENANT_RATE_LIMIT_BURST", 200)?,
            ),
        })
    }
}

pub struct KeyRateLimit {
    keys: TokenBuckets<String>,
    tenants: TokenBuckets<TenantId>,
    operator: TokenBuckets<()>,
}

impl KeyRateLimit {
    pub fn new(rates: Rates) -> Self {
        let operator = Rate {
            burst: rates.key.burst.saturating_mul(OPERATOR_FACTOR),
            refill: rates.key.refill / OPERATOR_FACTOR,
        };
        Self {
            keys: TokenBuckets::new(rates.key, MAX_TRACKED_KEYS),
            tenants: TokenBuckets::new(rates.tenant, MAX_TRACKED_KEYS),
            operator: TokenBuckets::new(operator, 1),
        }
    }

    /// Takes a call from the caller's allowance (its key's) and from its tenant's.
    pub fn check_key(&self, principal: &Principal) -> Result<(), ApiError> {
        let key = format!("{}.{}", principal.tenant_id, principal.actor.reference());
        self.keys.try_take(key).map_err(limited)?;
        self.tenants
            .try_take(principal.tenant_id.clone())
            .map_err(limited)
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

#[cfg(test)]
mod tests {
    use wagate_messaging::access::{Actor, Role};

    use super::*;

    fn key(tenant: &str, id: usize) -> Principal {
        Principal {
            tenant_id: TenantId::parse(tenant).unwrap(),
            actor: Actor::ApiKey(format!("{id:032x}")),
            role: Role::Agent,
        }
    }

    #[test]
    fn many_keys_of_one_tenant_share_the_tenants_rate_and_other_tenants_go_on() {
        let limit = KeyRateLimit::new(Rates {
            key: Rate::per_second(1, 5),
            tenant: Rate::per_second(1, 30),
        });
        // 100 keys, each well within its own burst: the tenant's 30 calls pass, no more.
        let passed = (0..100)
            .filter(|i| limit.check_key(&key("acme", *i)).is_ok())
            .count();
        assert_eq!(passed, 30);
        let refused = limit.check_key(&key("acme", 200)).unwrap_err();
        assert!(matches!(refused, ApiError::RateLimited { retry_after } if retry_after >= 1));
        assert!(limit.check_key(&key("other", 0)).is_ok());
    }

    #[test]
    fn one_key_is_held_to_its_own_rate_within_its_tenants() {
        let limit = KeyRateLimit::new(Rates {
            key: Rate::per_second(1, 5),
            tenant: Rate::per_second(1, 30),
        });
        let passed = (0..10)
            .filter(|_| limit.check_key(&key("acme", 1)).is_ok())
            .count();
        assert_eq!(passed, 5);
    }
}
