//! What the admin API does with tenants once they are set up (`tenant_setup` makes them):
//! list, read, rename or suspend them; list and revoke their keys; read and set retention;
//! rotate a number's token or disconnect it; disconnect the Meta app; say who holds a WABA.
//! Handlers call this, not the table.

use crate::access::api_key::ApiKeyRecord;
use crate::domain::retention::RetentionSettings;
use crate::domain::tenant::WabaRoute;
use crate::domain::tenant::{PhoneNumber, Tenant, TenantId, TenantStatus, token_fingerprint};
use crate::secret_store::{SecretContext, SecretError, SecretStore};
use crate::store::NumberStore;
use crate::store::TenantStore;
use crate::store::cursor::Cursor;
use crate::store::number::NumberRecords;
use crate::store::tenant::listing::TenantPage;
use crate::store::{Store, StoreError};
use crate::tenants::hold_removed_number;
use wagate_access::store::ApiKeyStore;

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// A tenant named in the request does not exist (or is being deleted).
    #[error("there is no tenant '{0}'")]
    UnknownTenant(TenantId),
    /// A tenant a WABA would be taken from still holds numbers of it.
    #[error("tenant '{0}' still holds numbers of this account: disconnect them first")]
    WabaInUse(TenantId),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the token could not be encrypted")]
    Secret(#[from] SecretError),
}

pub struct TenantAdmin {
    store: Store,
    secrets: SecretStore,
}

impl TenantAdmin {
    pub fn new(store: Store, secrets: SecretStore) -> Self {
        Self { store, secrets }
    }

    /// Up to `limit` tenants by id, after `after`.
    pub async fn list(&self, after: Option<&Cursor>, limit: i32) -> Result<TenantPage, StoreError> {
        self.store
            .repo::<TenantStore>()
            .list_tenants(after, limit)
            .await
    }

    /// The tenant, in whatever state (a tenant being deleted reads as `deleting`).
    pub async fn tenant(&self, id: &TenantId) -> Result<Option<Tenant>, StoreError> {
        self.store.repo::<TenantStore>().get_tenant(id).await
    }

    /// The tenant, unless it is being deleted: what the admin routes below a tenant act on.
    pub async fn live_tenant(&self, id: &TenantId) -> Result<Option<Tenant>, StoreError> {
        Ok(self
            .tenant(id)
            .await?
            .filter(|t| t.status != TenantStatus::Deleting))
    }

    /// Renames and/or suspends or resumes a tenant; `None` when there is none to change.
    pub async fn update(
        &self,
        id: &TenantId,
        name: Option<&str>,
        status: Option<TenantStatus>,
    ) -> Result<Option<Tenant>, StoreError> {
        self.store
            .repo::<TenantStore>()
            .update_tenant(id, name, status)
            .await
    }

    /// Stops accepting the tenant's webhooks; false when there is no such tenant.
    pub async fn disconnect_meta_app(&self, tenant: &TenantId) -> Result<bool, StoreError> {
        self.store
            .repo::<TenantStore>()
            .set_meta_app(tenant, None)
            .await
    }

    pub async fn api_keys(&self, tenant: &TenantId) -> Result<Vec<ApiKeyRecord>, StoreError> {
        self.store.repo::<ApiKeyStore>().api_keys_of(tenant).await
    }

    /// The keys that still open the API (revoked and expired ones leave the listing only
    /// some time later).
    pub async fn usable_keys(&self, tenant: &TenantId, now: i64) -> Result<usize, StoreError> {
        Ok(self
            .api_keys(tenant)
            .await?
            .iter()
            .filter(|key| key.usable_at(now).is_ok())
            .count())
    }

    /// False when the tenant has no key of this id (an id of another shape is none).
    pub async fn revoke_key(
        &self,
        tenant: &TenantId,
        key_id: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        let well_formed = key_id.len() <= 64 && key_id.bytes().all(|b| b.is_ascii_alphanumeric());
        if !well_formed {
            return Ok(false);
        }
        self.store
            .repo::<ApiKeyStore>()
            .revoke_api_key(tenant, key_id, now)
            .await
    }

    pub async fn retention(
        &self,
        tenant: &TenantId,
    ) -> Result<Option<RetentionSettings>, StoreError> {
        self.store
            .repo::<TenantStore>()
            .retention_settings(tenant)
            .await
    }

    /// Stores settings the caller checked; false when there is no such tenant.
    pub async fn set_retention(
        &self,
        tenant: &TenantId,
        settings: &RetentionSettings,
    ) -> Result<bool, StoreError> {
        self.store
            .repo::<TenantStore>()
            .set_retention_settings(tenant, settings)
            .await
    }

    /// Stores settings the caller checked; false when there is no such tenant.
    pub async fn set_consent_settings(
        &self,
        tenant: &TenantId,
        settings: &crate::domain::consent::ConsentSettings,
    ) -> Result<bool, StoreError> {
        self.store
            .repo::<TenantStore>()
            .set_consent_settings(tenant, settings)
            .await
    }

    /// Stores a policy the caller checked; false when there is no such tenant.
    pub async fn set_content_policy(
        &self,
        tenant: &TenantId,
        policy: &crate::domain::retention::ContentPolicy,
    ) -> Result<bool, StoreError> {
        self.store
            .repo::<TenantStore>()
            .set_content_policy(tenant, policy)
            .await
    }

    pub async fn numbers(&self, tenant: &TenantId) -> Result<Vec<PhoneNumber>, StoreError> {
        self.store
            .repo::<NumberStore>()
            .phone_numbers_of(tenant)
            .await
    }

    /// Replaces a connected number's token (encrypted under the tenant and number, as the
    /// sender decrypts it); `None` when the tenant has no such number.
    pub async fn rotate_token(
        &self,
        tenant: &TenantId,
        phone_number_id: &str,
        token: &str,
        now: i64,
    ) -> Result<Option<PhoneNumber>, AdminError> {
        if phone_number_id.len() > 20 {
            return Ok(None);
        }
        let context = SecretContext::phone_number(tenant.as_str(), phone_number_id);
        let ciphertext = self.secrets.encrypt(token, &context).await?;
        let fingerprint = token_fingerprint(token);
        if !self
            .store
            .repo::<NumberStore>()
            .rotate_access_token(tenant, phone_number_id, ciphertext, &fingerprint, now)
            .await?
        {
            return Ok(None);
        }
        Ok(self
            .store
            .repo::<NumberStore>()
            .get_phone_number(tenant, phone_number_id)
            .await?)
    }

    /// Deletes the number's connection and token, and holds its sends until every cached
    /// copy has expired; false when the tenant has no such number.
    pub async fn disconnect_number(
        &self,
        tenant: &TenantId,
        phone_number_id: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        if phone_number_id.len() > 20
            || !self
                .store
                .repo::<NumberStore>()
                .disconnect_phone_number(tenant, phone_number_id)
                .await?
        {
            return Ok(false);
        }
        hold_removed_number(&self.store, tenant, phone_number_id, now).await?;
        Ok(true)
    }

    pub async fn waba(&self, waba_id: &str) -> Result<Option<WabaRoute>, StoreError> {
        self.store.repo::<NumberStore>().waba_route(waba_id).await
    }

    /// Names a WABA's owner and the tenants it is shared with. Every tenant named must
    /// exist, and a tenant left out may not still hold numbers of the account.
    pub async fn share_waba(
        &self,
        waba_id: &str,
        owner: &TenantId,
        shared_with: &[TenantId],
    ) -> Result<WabaRoute, AdminError> {
        for tenant in std::iter::once(owner).chain(shared_with) {
            if self.live_tenant(tenant).await?.is_none() {
                return Err(AdminError::UnknownTenant(tenant.clone()));
            }
        }
        let current = self.waba(waba_id).await?;
        if let Some(current) = &current {
            let keeps = |t: &TenantId| t == owner || shared_with.contains(t);
            for left_out in std::iter::once(&current.owner)
                .chain(&current.shared_with)
                .filter(|t| !keeps(t))
            {
                let holds = self
                    .numbers(left_out)
                    .await?
                    .iter()
                    .any(|n| n.waba_id == waba_id);
                if holds {
                    return Err(AdminError::WabaInUse(left_out.clone()));
                }
            }
        }
        self.store
            .repo::<NumberStore>()
            .share_waba(waba_id, owner, shared_with)
            .await?;
        Ok(WabaRoute {
            waba_id: waba_id.to_owned(),
            owner: owner.clone(),
            shared_with: shared_with.to_vec(),
            connected_numbers: current.map_or(0, |c| c.connected_numbers),
        })
    }
}
