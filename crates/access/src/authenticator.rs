//! Turns the `Authorization` header of a request into the key's tenant and role. A key's
//! record is cached for a few seconds only, so a revoked or expired key stops working
//! within seconds on every warm container.
//!
//! Unknown keys cost a consistent read each, so they are kept from costing more: a key
//! found missing is remembered briefly in a cache of its own (a flood of made-up keys
//! cannot push real keys out of theirs; both caches let their least recently used entry
//! go, one at a time), and a source address whose keys keep failing is refused for a while
//! before any read (per container; a key already cached still works from there).

use crate::store::ApiKeyStore;
use std::net::IpAddr;
use std::time::Duration;

use crate::api_key::{ApiKeyRecord, BadApiKey, KeyUnusable, PresentedKey};
use crate::cache::TtlCache;
use crate::domain::tenant::TenantId;
use crate::principal::{Actor, Principal};
use crate::store::{Store, StoreError};
use crate::token_bucket::{Rate, TokenBuckets};

/// How long a key's record (or its absence) is trusted without reading it again.
pub const KEY_CACHE_TTL: Duration = Duration::from_secs(5);
/// Keys, and missing keys, a container remembers.
const KEY_CACHE_ENTRIES: usize = 10_000;
/// Failed authentications a source address may make at once, and how often one more.
pub const FAILURES_BURST: u32 = 20;
const FAILURE_REFILL: Duration = Duration::from_secs(3);
/// Source addresses whose failures are counted at once.
const TRACKED_SOURCES: usize = 10_000;

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("an API key is required: send it as 'Authorization: Bearer <key>'")]
    Missing,
    #[error(transparent)]
    Malformed(#[from] BadApiKey),
    #[error("the API key is not valid")]
    Unknown,
    #[error(transparent)]
    Unusable(#[from] KeyUnusable),
    /// The caller's address made too many failed attempts; try again after this many
    /// seconds.
    #[error("too many failed authentications from this address: try again in {0} s")]
    TooManyFailures(u64),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Where failures are counted: an IPv4 address, or an IPv6 address's /64 (one host's
/// share of a network), or "unknown" when the platform did not say.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Source(Option<IpAddr>);

impl Source {
    fn of(address: Option<IpAddr>) -> Self {
        Self(address.map(|ip| match ip {
            IpAddr::V6(v6) => {
                let s = v6.segments();
                IpAddr::V6(std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
            v4 => v4,
        }))
    }
}

pub struct Authenticator {
    store: Store,
    records: TtlCache<(TenantId, String), ApiKeyRecord>,
    misses: TtlCache<(TenantId, String), ()>,
    failures: TokenBuckets<Source>,
}

impl Authenticator {
    pub fn new(store: Store) -> Self {
        Self::with_capacity(store, KEY_CACHE_ENTRIES)
    }

    /// An authenticator that remembers `entries` keys (and as many missing ones).
    pub fn with_capacity(store: Store, entries: usize) -> Self {
        Self {
            store,
            records: TtlCache::new(KEY_CACHE_TTL, entries),
            misses: TtlCache::new(KEY_CACHE_TTL, entries),
            failures: TokenBuckets::new(
                Rate {
                    burst: FAILURES_BURST,
                    refill: FAILURE_REFILL,
                },
                TRACKED_SOURCES,
            ),
        }
    }

    /// The principal of an `Authorization` header's value (`Bearer <key>`), for a request
    /// from `source` (the caller's address, when the platform tells it).
    pub async fn authenticate(
        &self,
        authorization: Option<&str>,
        now: i64,
        source: Option<IpAddr>,
    ) -> Result<Principal, AuthError> {
        let raw = authorization
            .and_then(|h| h.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|k| !k.is_empty())
            .ok_or(AuthError::Missing)?;
        let presented = match PresentedKey::parse(raw) {
            Ok(key) => key,
            Err(e) => return Err(self.failed(source, e.into())),
        };
        let Some(record) = self.record(&presented, source).await? else {
            return Err(self.failed(source, AuthError::Unknown));
        };
        if !presented.matches(&record) {
            return Err(self.failed(source, AuthError::Unknown));
        }
        record.usable_at(now)?;
        Ok(Principal {
            tenant_id: record.tenant_id,
            actor: Actor::ApiKey(record.key_id),
            role: record.role,
        })
    }

    /// Counts a failed authentication from `source` made elsewhere (a wrong operator key),
    /// after refusing it when the address is already refused.
    pub fn refuse_failure(&self, source: Option<IpAddr>, error: AuthError) -> AuthError {
        if let Err(limited) = self.check_source(source) {
            return limited;
        }
        self.failed(source, error)
    }

    /// Forgets a key at once on this container (after revoking it here).
    pub fn forget(&self, tenant: &TenantId, key_id: &str) {
        self.records.remove(&(tenant.clone(), key_id.to_owned()));
    }

    /// The key's record: cached, known missing, or read, unless its source is refused.
    async fn record(
        &self,
        key: &PresentedKey,
        source: Option<IpAddr>,
    ) -> Result<Option<ApiKeyRecord>, AuthError> {
        let cache_key = (key.tenant_id.clone(), key.key_id.clone());
        if let Some(cached) = self.records.get(&cache_key) {
            return Ok(Some(cached));
        }
        if self.misses.get(&cache_key).is_some() {
            return Ok(None);
        }
        self.check_source(source)?;
        let found = self
            .store
            .repo::<ApiKeyStore>()
            .get_api_key(&key.tenant_id, &key.key_id)
            .await?;
        match &found {
            Some(record) => self.records.insert(cache_key, record.clone()),
            None => self.misses.insert(cache_key, ()),
        }
        Ok(found)
    }

    fn check_source(&self, source: Option<IpAddr>) -> Result<(), AuthError> {
        self.failures
            .check(Source::of(source))
            .map_err(|wait| AuthError::TooManyFailures(whole_seconds(wait)))
    }

    fn failed(&self, source: Option<IpAddr>, error: AuthError) -> AuthError {
        // Taken even when empty: the bucket says how long the address waits.
        let _ = self.failures.try_take(Source::of(source));
        error
    }
}

fn whole_seconds(wait: Duration) -> u64 {
    (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ipv6_source_counts_by_its_64_and_an_ipv4_one_by_itself() {
        let a = Source::of(Some("2001:db8:1:2:aaaa::1".parse().unwrap()));
        let b = Source::of(Some("2001:db8:1:2:bbbb::9".parse().unwrap()));
        let c = Source::of(Some("2001:db8:1:3::1".parse().unwrap()));
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_ne!(
            Source::of(Some("192.0.2.1".parse().unwrap())),
            Source::of(Some("192.0.2.2".parse().unwrap()))
        );
    }
}
