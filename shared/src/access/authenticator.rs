//! Turns the `Authorization` header of a request into the key's tenant and role. A key's
//! record is cached for a few seconds only, so a revoked or expired key stops working
//! within seconds on every warm container.

use std::time::Duration;

use super::api_key::{ApiKeyRecord, BadApiKey, KeyUnusable, PresentedKey};
use super::role::Role;
use crate::cache::TtlCache;
use crate::domain::tenant::TenantId;
use crate::store::{Store, StoreError};

/// How long a key's record (or its absence) is trusted without reading it again.
pub const KEY_CACHE_TTL: Duration = Duration::from_secs(5);

/// The caller a valid key identifies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub tenant_id: TenantId,
    pub key_id: String,
    pub role: Role,
}

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
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub struct Authenticator {
    store: Store,
    records: TtlCache<(TenantId, String), Option<ApiKeyRecord>>,
}

impl Authenticator {
    pub fn new(store: Store) -> Self {
        Self {
            store,
            records: TtlCache::new(KEY_CACHE_TTL, 10_000),
        }
    }

    /// The principal of an `Authorization` header's value (`Bearer <key>`).
    pub async fn authenticate(
        &self,
        authorization: Option<&str>,
        now: i64,
    ) -> Result<Principal, AuthError> {
        let raw = authorization
            .and_then(|h| h.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|k| !k.is_empty())
            .ok_or(AuthError::Missing)?;
        let presented = PresentedKey::parse(raw)?;
        let record = self.record(&presented).await?.ok_or(AuthError::Unknown)?;
        if !presented.matches(&record) {
            return Err(AuthError::Unknown);
        }
        record.usable_at(now)?;
        Ok(Principal {
            tenant_id: record.tenant_id,
            key_id: record.key_id,
            role: record.role,
        })
    }

    /// Forgets a key at once on this container (after revoking it here).
    pub fn forget(&self, tenant: &TenantId, key_id: &str) {
        self.records.remove(&(tenant.clone(), key_id.to_owned()));
    }

    async fn record(&self, key: &PresentedKey) -> Result<Option<ApiKeyRecord>, StoreError> {
        let cache_key = (key.tenant_id.clone(), key.key_id.clone());
        if let Some(cached) = self.records.get(&cache_key) {
            return Ok(cached);
        }
        let found = self.store.get_api_key(&key.tenant_id, &key.key_id).await?;
        self.records.insert(cache_key, found.clone());
        Ok(found)
    }
}
