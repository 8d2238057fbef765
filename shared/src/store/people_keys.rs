//! The keys that open a tenant's items about people, asked by the tenant's id.

use std::collections::HashMap;
use std::sync::Arc;

use crate::domain::tenant::TenantId;
use crate::privacy::cipher::DataKey;
use crate::store::table::{Item, get_s};
use crate::store::{Store, StoreError};

impl Store {
    /// The contact's data key for reading their items; `None` when they have none (never
    /// sealed anything, or erased).
    pub(crate) async fn reading_key(
        &self,
        tenant: &TenantId,
        contact_id: &str,
    ) -> Result<Option<Arc<DataKey>>, StoreError> {
        self.keyring()?
            .existing_person(tenant.as_str(), contact_id)
            .await
    }

    /// The data keys of the contacts whose profiles are `profiles`, by contact id.
    pub(crate) async fn reading_keys<'i>(
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
}
