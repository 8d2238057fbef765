//! A tenant's contacts as the business API sees them: created, found, listed by name, read,
//! changed and imported, always under the caller's own tenant. Handlers call this, not the
//! table.

use crate::contact_import::rows::ReadRows;
use crate::contact_import::{ImportReport, import_contacts};
use crate::domain::consent::{ConsentEntry, PersonsOwnOptOut};
use crate::domain::contact::{ContactProfile, DetailsChange, Restriction};
use crate::domain::identity::UserIdentity;
use crate::domain::message_id::is_contact_id;
use crate::domain::retention::DataClass;
use crate::domain::tenant::{Tenant, TenantId};
use crate::store::ContactStore;
use crate::store::contact::ContactFacts;
use crate::store::contact::ContactRecords;
use crate::store::contact::consent::ConsentRecords;
use crate::store::contact::consent::{ConsentPage, Recorded};
use crate::store::contact::index::ContactPage;
use crate::store::contact::resolve::ContactResolution;
use crate::store::cursor::Cursor;
use crate::store::{Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum CreateContactError {
    /// Another contact already has the phone or BSUID (its id is public to the tenant).
    #[error("contact {0} already has this phone or BSUID")]
    Exists(String),
    /// The new contact expired before its details were written.
    #[error("the contact is gone")]
    Gone,
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Clone)]
pub struct Contacts {
    store: Store,
}

impl Contacts {
    pub fn new(store: Store) -> Self {
        Self { store }
    }

    /// A new contact for `identity`, with `details` (already checked) written at once.
    pub async fn create(
        &self,
        tenant: &Tenant,
        identity: &UserIdentity,
        details: &DetailsChange,
        now: i64,
    ) -> Result<ContactProfile, CreateContactError> {
        if let Some(existing) = self
            .store
            .repo::<ContactStore>()
            .find_contact(&tenant.id, identity, now)
            .await?
        {
            return Err(CreateContactError::Exists(existing.contact_id));
        }
        let facts = ContactFacts::default();
        let contact = self
            .store
            .repo::<ContactStore>()
            .resolve_contact(&tenant.id, identity, &facts, &tenant.retention, now)
            .await?
            .profile;
        if details.is_empty() {
            return Ok(contact);
        }
        self.store
            .repo::<ContactStore>()
            .update_contact_details(
                &tenant.id,
                &contact.contact_id,
                details,
                &tenant.retention,
                now,
            )
            .await?
            .ok_or(CreateContactError::Gone)
    }

    /// The contact with this phone or BSUID.
    pub async fn find(
        &self,
        tenant: &TenantId,
        identity: &UserIdentity,
        now: i64,
    ) -> Result<Option<ContactProfile>, StoreError> {
        self.store
            .repo::<ContactStore>()
            .find_contact(tenant, identity, now)
            .await
    }

    /// A page of contacts by name, those whose shown name starts with `name_prefix` (a
    /// searchable name) when given.
    pub async fn list(
        &self,
        tenant: &TenantId,
        name_prefix: Option<&str>,
        after: Option<&Cursor>,
        limit: i32,
        now: i64,
    ) -> Result<ContactPage, StoreError> {
        self.store
            .repo::<ContactStore>()
            .list_contacts(tenant, name_prefix, after, limit, now)
            .await
    }

    /// The live contact; `None` for an id of another shape, another tenant's or an
    /// expired one.
    pub async fn get(
        &self,
        tenant: &TenantId,
        contact_id: &str,
        now: i64,
    ) -> Result<Option<ContactProfile>, StoreError> {
        if !is_contact_id(contact_id) {
            return Ok(None);
        }
        self.store
            .repo::<ContactStore>()
            .get_contact(tenant, contact_id, now)
            .await
    }

    /// Applies `change` (already checked) to a live contact; `None` when there is none.
    pub async fn change(
        &self,
        tenant: &Tenant,
        contact_id: &str,
        change: &DetailsChange,
        now: i64,
    ) -> Result<Option<ContactProfile>, StoreError> {
        if change.is_empty() {
            return self.get(&tenant.id, contact_id, now).await;
        }
        if !is_contact_id(contact_id) {
            return Ok(None);
        }
        self.store
            .repo::<ContactStore>()
            .update_contact_details(&tenant.id, contact_id, change, &tenant.retention, now)
            .await
    }

    /// A live contact's consent as it stands and a page of its ledger, newest first.
    pub async fn consent(
        &self,
        tenant: &TenantId,
        contact_id: &str,
        limit: i32,
        after: Option<&Cursor>,
        now: i64,
    ) -> Result<Option<(ContactProfile, ConsentPage)>, StoreError> {
        let Some(contact) = self.get(tenant, contact_id, now).await? else {
            return Ok(None);
        };
        let page = self
            .store
            .repo::<ContactStore>()
            .consent_entries(tenant, contact_id, limit, after, now)
            .await?;
        Ok(Some((contact, page)))
    }

    /// Records a choice the business's systems report for a live contact (its ledger, its
    /// state, and its identifiers' opt-outs); `None` when there is no such contact, and
    /// `Some(Err(_))` for an opt-in over an opt-out the person gave themselves, which only
    /// a `business` entry (with a reference to their new consent) may lift.
    pub async fn record_consent(
        &self,
        tenant: &Tenant,
        contact_id: &str,
        entry: &ConsentEntry,
        now: i64,
    ) -> Result<Option<Result<Recorded, PersonsOwnOptOut>>, StoreError> {
        let Some(contact) = self.get(&tenant.id, contact_id, now).await? else {
            return Ok(None);
        };
        if let Err(refused) = contact.consent.business_may_record(entry) {
            return Ok(Some(Err(refused)));
        }
        let identity = UserIdentity::from_parts(contact.phone.as_deref(), contact.bsuid.as_deref());
        let identifiers = identity.map(|i| i.keys()).unwrap_or_default();
        let expires_at = tenant.retention.expires_at(DataClass::ContactProfile, now);
        self.store
            .repo::<ContactStore>()
            .record_consent(&tenant.id, contact_id, &identifiers, entry, expires_at)
            .await
            .map(|recorded| Some(Ok(recorded)))
    }

    /// Restricts the live contact's processing, or lifts the restriction (`None`); the
    /// contact as it is now, `None` when there is none.
    pub async fn set_restriction(
        &self,
        tenant: &TenantId,
        contact_id: &str,
        restriction: Option<&Restriction>,
        now: i64,
    ) -> Result<Option<ContactProfile>, StoreError> {
        if self.get(tenant, contact_id, now).await?.is_none() {
            return Ok(None);
        }
        let found = match restriction {
            Some(r) => {
                self.store
                    .repo::<ContactStore>()
                    .restrict_contact(tenant, contact_id, r)
                    .await?
            }
            None => {
                self.store
                    .repo::<ContactStore>()
                    .lift_restriction(tenant, contact_id)
                    .await?
            }
        };
        if !found {
            return Ok(None);
        }
        self.get(tenant, contact_id, now).await
    }

    /// Creates or updates a contact per row read from an import; `recorded_by` (the caller
    /// as records name it, `Actor::reference`: `key:<id>`) is the evidence of the consent
    /// the rows carry.
    pub async fn import(
        &self,
        tenant: &Tenant,
        read: ReadRows,
        recorded_by: &str,
        now: i64,
    ) -> Result<ImportReport, StoreError> {
        import_contacts(&self.store, tenant, read, recorded_by, now).await
    }
}
