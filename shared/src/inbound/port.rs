//! What processing an inbound event needs from the rest of the system, as two narrow
//! ports: the storage it reads and writes, and where applied events go for the tenant's
//! callbacks. The worker runs on the DynamoDB adapters; the unit tests on in-memory fakes.

use crate::store::ContactStore;
use crate::store::MessageStore;
use crate::store::NumberStore;
use crate::store::TemplateStore;
use crate::store::TenantEventStore;
use std::future::Future;

use crate::audit::AuditError;
use crate::callbacks::emitter::{CallbackEmitter, EmitError};
use crate::callbacks::event::CallbackEvent;
use crate::domain::audit::AuditFact;
use crate::domain::consent::ConsentEntry;
use crate::domain::contact::ContactProfile;
use crate::domain::identity::IdentityKey;
use crate::domain::management::TemplateRef;
use crate::domain::retention::Retention;
use crate::domain::status::StatusUpdate;
use crate::domain::tenant::{NumberQuality, PhoneNumber, TenantId};
use crate::ports::TenantContacts;
use crate::store::contact::consent::Recorded;
use crate::store::contact::{ContactFacts, NumberChange};
use crate::store::event::TenantEvent;
use crate::store::message::delivery::StatusOutcome;
use crate::store::message::inbound::{NewInbound, StoredInbound};
use crate::store::template::TemplateAttribute;
use crate::store::{Expiry, PutOutcome, StoreError};
use crate::tenants::TenantDirectory;

type Done<T> = Result<T, StoreError>;

/// The storage the inbound processor uses. Every write is idempotent: applying the same
/// event twice leaves what applying it once left.
pub trait InboundStore: TenantContacts {
    /// The live contact an event about `identity` sent at `at` belongs to, if any;
    /// nothing is made (a delivery status is about a message to a contact that exists).
    fn contact_for_event(
        &self,
        tenant: &TenantId,
        identity: &crate::domain::identity::UserIdentity,
        at: i64,
        now: i64,
    ) -> impl Future<Output = Done<Option<ContactProfile>>> + Send;

    /// Writes what `facts` change about a known contact (nothing when nothing changes).
    fn update_contact(
        &self,
        tenant: &TenantId,
        current: &ContactProfile,
        facts: &ContactFacts<'_>,
        retention: &Retention,
        now: i64,
    ) -> impl Future<Output = Done<()>> + Send;

    /// A user changed numbers: their contact moves to the new one with its history (safe
    /// to repeat).
    fn move_contact_number(
        &self,
        tenant: &TenantId,
        change: &NumberChange<'_>,
        retention: &Retention,
        now: i64,
    ) -> impl Future<Output = Done<()>> + Send;

    /// Stores an inbound message once (a redelivery is a duplicate); answers its public id.
    fn put_inbound_message(
        &self,
        tenant: &TenantId,
        inbound: &NewInbound<'_>,
        expiry: Expiry,
        now: i64,
    ) -> impl Future<Output = Done<StoredInbound>> + Send;

    /// Merges a delivery status into its message's state, monotonically.
    fn apply_status(
        &self,
        tenant: &TenantId,
        contact_id: &str,
        update: &StatusUpdate,
        expires_at: i64,
    ) -> impl Future<Output = Done<StatusOutcome>> + Send;

    /// Records a consent choice: its ledger line once, and the state of the contact and
    /// of its identifiers when the choice is newer and changes it.
    fn record_consent(
        &self,
        tenant: &TenantId,
        contact_id: &str,
        identifiers: &[IdentityKey],
        entry: &ConsentEntry,
        expires_at: i64,
    ) -> impl Future<Output = Done<Recorded>> + Send;

    /// Sets a template's status, quality or category unless a newer event set it.
    fn update_template(
        &self,
        tenant: &TenantId,
        template: &TemplateRef,
        attribute: TemplateAttribute,
        value: &str,
        event_time: i64,
    ) -> impl Future<Output = Done<()>> + Send;

    fn phone_numbers_of(
        &self,
        tenant: &TenantId,
    ) -> impl Future<Output = Done<Vec<PhoneNumber>>> + Send;

    /// Records a number's quality event unless a newer one is known.
    fn record_number_quality(
        &self,
        tenant: &TenantId,
        phone_number_id: &str,
        quality: &NumberQuality,
    ) -> impl Future<Output = Done<()>> + Send;

    fn set_throughput(
        &self,
        tenant: &TenantId,
        phone_number_id: &str,
        per_second: u32,
    ) -> impl Future<Output = Done<()>> + Send;

    /// Stores a tenant event once; the same event again is a duplicate.
    fn put_tenant_event(
        &self,
        tenant: &TenantId,
        event: &TenantEvent<'_>,
        now: i64,
    ) -> impl Future<Output = Done<PutOutcome>> + Send;

    /// Appends `fact` to the tenant's audit log, kept until `expires_at`: a consent change
    /// made by the person or by Meta, not through an API.
    fn audit(
        &self,
        tenant: &TenantId,
        fact: AuditFact,
        expires_at: i64,
    ) -> impl Future<Output = Result<(), AuditError>> + Send;
}

/// Where the processor hands each event it applied, for the tenant's callback endpoints.
pub trait CallbackSink: Send + Sync {
    fn emit(
        &self,
        tenant: &TenantId,
        event: &CallbackEvent,
    ) -> impl Future<Output = Result<(), EmitError>> + Send;
}

impl CallbackSink for CallbackEmitter {
    async fn emit(&self, tenant: &TenantId, event: &CallbackEvent) -> Result<(), EmitError> {
        CallbackEmitter::emit(self, tenant, event).await.map(|_| ())
    }
}

/// The DynamoDB adapter: tenants through the directory's cache, the rest from the table.
impl InboundStore for TenantDirectory {
    async fn contact_for_event(
        &self,
        tenant: &TenantId,
        identity: &crate::domain::identity::UserIdentity,
        at: i64,
        now: i64,
    ) -> Done<Option<ContactProfile>> {
        self.store()
            .repo::<ContactStore>()
            .contact_for_event(tenant, identity, at, now)
            .await
    }

    async fn update_contact(
        &self,
        tenant: &TenantId,
        current: &ContactProfile,
        facts: &ContactFacts<'_>,
        retention: &Retention,
        now: i64,
    ) -> Done<()> {
        self.store()
            .repo::<ContactStore>()
            .update_contact(tenant, current, facts, retention, now)
            .await
    }

    async fn put_inbound_message(
        &self,
        tenant: &TenantId,
        inbound: &NewInbound<'_>,
        expiry: Expiry,
        now: i64,
    ) -> Done<StoredInbound> {
        self.store()
            .repo::<MessageStore>()
            .put_inbound_message(tenant, inbound, expiry, now)
            .await
    }

    async fn move_contact_number(
        &self,
        tenant: &TenantId,
        change: &NumberChange<'_>,
        retention: &Retention,
        now: i64,
    ) -> Done<()> {
        self.store()
            .repo::<ContactStore>()
            .move_contact_number(tenant, change, retention, now)
            .await
    }

    async fn apply_status(
        &self,
        tenant: &TenantId,
        contact_id: &str,
        update: &StatusUpdate,
        expires_at: i64,
    ) -> Done<StatusOutcome> {
        self.store()
            .repo::<MessageStore>()
            .apply_status(tenant, contact_id, update, expires_at)
            .await
    }

    async fn record_consent(
        &self,
        tenant: &TenantId,
        contact_id: &str,
        identifiers: &[IdentityKey],
        entry: &ConsentEntry,
        expires_at: i64,
    ) -> Done<Recorded> {
        self.store()
            .repo::<ContactStore>()
            .record_consent(tenant, contact_id, identifiers, entry, expires_at)
            .await
    }

    async fn update_template(
        &self,
        tenant: &TenantId,
        template: &TemplateRef,
        attribute: TemplateAttribute,
        value: &str,
        event_time: i64,
    ) -> Done<()> {
        self.store()
            .repo::<TemplateStore>()
            .update_template(tenant, template, attribute, value, event_time)
            .await
    }

    async fn phone_numbers_of(&self, tenant: &TenantId) -> Done<Vec<PhoneNumber>> {
        self.store()
            .repo::<NumberStore>()
            .phone_numbers_of(tenant)
            .await
    }

    async fn record_number_quality(
        &self,
        tenant: &TenantId,
        phone_number_id: &str,
        quality: &NumberQuality,
    ) -> Done<()> {
        self.store()
            .repo::<NumberStore>()
            .record_number_quality(tenant, phone_number_id, quality)
            .await
    }

    async fn set_throughput(
        &self,
        tenant: &TenantId,
        phone_number_id: &str,
        per_second: u32,
    ) -> Done<()> {
        self.store()
            .repo::<NumberStore>()
            .set_throughput(tenant, phone_number_id, per_second)
            .await
    }

    async fn put_tenant_event(
        &self,
        tenant: &TenantId,
        event: &TenantEvent<'_>,
        now: i64,
    ) -> Done<PutOutcome> {
        self.store()
            .repo::<TenantEventStore>()
            .put_tenant_event(tenant, event, now)
            .await
    }

    /// Appended, or queued to be when appending fails.
    async fn audit(
        &self,
        tenant: &TenantId,
        fact: AuditFact,
        expires_at: i64,
    ) -> Result<(), AuditError> {
        let log = self.audit_log().ok_or(AuditError::NoLog)?;
        log.record(tenant.as_str(), fact, Some(expires_at))
            .await
            .map(|_| ())
    }
}
