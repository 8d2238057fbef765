//! The keys that open a tenant's items about people, asked by the tenant's id.

use std::collections::HashMap;
use std::sync::Arc;

use crate::domain::tenant::TenantId;
use crate::privacy::cipher::DataKey;
use crate::store::table::{Item, OpeningKeys, get_s};
use crate::store::{Store, StoreError};

impl Store {
    /// The contact's data key for reading their items; `None` when they have none (never
    /// sealed anything, or erased).
    pub async fn reading_key(
        &self,
        tenant: &TenantId,
        contact_id: &str,
    ) -> Result<Option<Arc<DataKey>>, StoreError> {
        self.keyring()?
            .existing_person(tenant.as_str(), contact_id)
            .await
    }

    /// The data keys of the contacts whose profiles are `profiles`, by contact id.
    pub async fn reading_keys<'i>(
        &self,
        tenant: &TenantId,
        profiles: impl IntoIterator<Item = &'i Item>,
    ) -> Result<HashMap<String, Arc<DataKey>>, StoreError> {
        let ids: Vec<&str> = profiles
            .into_iter()
            .filter_map(|it| get_s(it, "contact_id"))
            .collect();
        self.keyring()?.existing_people(tenant.as_str(), &ids).await
    }
    /// The key that seals data about `contact_id` (made on first use), or, about no one
    /// person, the tenant's data key.
    pub async fn sealing_key(
        &self,
        tenant: &str,
        contact_id: Option<&str>,
    ) -> Result<Arc<DataKey>, StoreError> {
        let keyring = self.keyring()?;
        match contact_id {
            Some(contact) => keyring.person(tenant, contact).await,
            None => Ok(keyring.tenant(tenant).await?.data().clone()),
        }
    }

    /// The keys that open items about `contact_ids` (those that have one) and the tenant's
    /// data key, for a page of a tenant's mixed items.
    pub async fn opening_keys(
        &self,
        tenant: &str,
        contact_ids: &[&str],
    ) -> Result<OpeningKeys, StoreError> {
        let keyring = self.keyring()?;
        Ok(OpeningKeys::new(
            keyring.existing_people(tenant, contact_ids).await?,
            keyring.tenant(tenant).await?.data().clone(),
        ))
    }
}
