//! API keys of a tenant: stored by key id under the tenant, holding the secret's hash only.
//! A revoked or expired key stays listed for [`UNUSABLE_KEY_KEPT_SECS`], then TTL deletes
//! it, so a tenant's keys cannot pile up however many it makes and revokes.

use crate::domain::tenant::TenantId;
use crate::store::keys::{API_KEY_PREFIX, api_key_sk, tenant_pk};
use crate::store::table::{Item, b, get_b, get_i64, get_s, item, n, s};
use crate::store::{EXPIRES_AT, StoreError};
use crate::{ApiKeyRecord, Role};

/// How long a revoked or expired key is kept, for the listing: 90 days.
pub const UNUSABLE_KEY_KEPT_SECS: i64 = 90 * 24 * 3600;

crate::store::repository! {
    /// The tenant's API keys, stored by the hash of their secret.
    ApiKeyStore
}

impl ApiKeyStore {
    pub async fn put_api_key(&self, key: &ApiKeyRecord) -> Result<(), StoreError> {
        let mut it = item([
            ("pk", s(tenant_pk(key.tenant_id.as_str()))),
            ("sk", s(api_key_sk(&key.key_id))),
            ("key_id", s(&key.key_id)),
            ("name", s(&key.name)),
            ("role", s(key.role.as_str())),
            ("secret_sha256", b(key.secret_hash.clone())),
            ("created_at", n(key.created_at)),
        ]);
        if let Some(at) = key.expires_at {
            it.insert("key_expires_at".into(), n(at));
            it.insert(EXPIRES_AT.into(), n(at + UNUSABLE_KEY_KEPT_SECS));
        }
        self.put_new("PutItem API key", it).await.map(|_| ())
    }

    /// A key by its id, read consistently: a revocation must count from the moment it is
    /// written.
    pub async fn get_api_key(
        &self,
        tenant: &TenantId,
        key_id: &str,
    ) -> Result<Option<ApiKeyRecord>, StoreError> {
        self.get_consistent(tenant_pk(tenant.as_str()), api_key_sk(key_id))
            .await?
            .map(|it| api_key_from_item(tenant, &it))
            .transpose()
    }

    pub async fn api_keys_of(&self, tenant: &TenantId) -> Result<Vec<ApiKeyRecord>, StoreError> {
        self.query_prefix("Query API keys", tenant_pk(tenant.as_str()), API_KEY_PREFIX)
            .await?
            .iter()
            .map(|it| api_key_from_item(tenant, it))
            .collect()
    }

    /// Marks the key revoked at `now`; false when the tenant has no such key. Revoking a
    /// revoked key keeps its first revocation time.
    pub async fn revoke_api_key(
        &self,
        tenant: &TenantId,
        key_id: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        self.update_if_exists(
            "UpdateItem revoke API key",
            tenant_pk(tenant.as_str()),
            api_key_sk(key_id),
            "SET revoked_at = if_not_exists(revoked_at, :now), expires_at = :gone",
            [(":now", n(now)), (":gone", n(now + UNUSABLE_KEY_KEPT_SECS))],
        )
        .await
    }
}

fn api_key_from_item(tenant: &TenantId, it: &Item) -> Result<ApiKeyRecord, StoreError> {
    let corrupt = |problem: &str| StoreError::Corrupt {
        key: format!(
            "{}/{}",
            tenant_pk(tenant.as_str()),
            get_s(it, "sk").unwrap_or_default()
        ),
        problem: problem.to_owned(),
    };
    Ok(ApiKeyRecord {
        tenant_id: tenant.clone(),
        key_id: get_s(it, "key_id")
            .ok_or_else(|| corrupt("no key_id"))?
            .to_owned(),
        name: get_s(it, "name").unwrap_or_default().to_owned(),
        role: get_s(it, "role")
            .and_then(Role::parse)
            .ok_or_else(|| corrupt("no valid role"))?,
        secret_hash: get_b(it, "secret_sha256")
            .ok_or_else(|| corrupt("no secret hash"))?
            .to_vec(),
        created_at: get_i64(it, "created_at").unwrap_or_default(),
        expires_at: get_i64(it, "key_expires_at"),
        revoked_at: get_i64(it, "revoked_at"),
    })
}
