//! What the use cases' narrow ports have in common: the tenant, and the contact of a
//! person the event or the send is about. `inbound::port` and `outbound::accept_port`
//! build on it; the table adapter is the tenant directory, the test adapter
//! `fakes::FakeStore`.

use crate::store::ContactStore;
use std::future::Future;

use crate::domain::identity::UserIdentity;
use crate::domain::retention::Retention;
use crate::domain::tenant::{Tenant, TenantId};
use crate::store::StoreError;
use crate::store::contact::{ContactFacts, ResolvedContact};
use crate::tenants::TenantDirectory;

pub trait TenantContacts: Send + Sync {
    /// The tenant, `None` when it does not exist or is being deleted.
    fn tenant(
        &self,
        id: &TenantId,
    ) -> impl Future<Output = Result<Option<Tenant>, StoreError>> + Send;

    /// The contact of `identity`, created on first sight with `facts` in it.
    fn resolve_contact(
        &self,
        tenant: &TenantId,
        identity: &UserIdentity,
        facts: &ContactFacts<'_>,
        retention: &Retention,
        now: i64,
    ) -> impl Future<Output = Result<ResolvedContact, StoreError>> + Send;
}

/// Tenants through the directory's cache, contacts from the table.
impl TenantContacts for TenantDirectory {
    async fn tenant(&self, id: &TenantId) -> Result<Option<Tenant>, StoreError> {
        TenantDirectory::tenant(self, id).await
    }

    async fn resolve_contact(
        &self,
        tenant: &TenantId,
        identity: &UserIdentity,
        facts: &ContactFacts<'_>,
        retention: &Retention,
        now: i64,
    ) -> Result<ResolvedContact, StoreError> {
        self.store()
            .repo::<ContactStore>()
            .resolve_contact(tenant, identity, facts, retention, now)
            .await
    }
}
