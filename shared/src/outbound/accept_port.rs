//! What accepting a send needs, as two narrow ports: the storage it checks and records in,
//! and the queue its job goes to. The API runs on the DynamoDB and SQS adapters; the unit
//! tests on in-memory fakes.

use crate::store::ContactStore;
use crate::store::IdempotencyStore;
use crate::store::MessageStore;
use std::future::Future;

use super::consent::TemplateCategories;
use super::enqueue::OutboundQueue;
use super::job::OutboundJob;
use crate::domain::consent::ConsentState;
use crate::domain::contact::ContactProfile;
use crate::domain::conversation::OutboundRecord;
use crate::domain::identity::UserIdentity;
use crate::domain::tenant::{PhoneNumber, TenantId};
use crate::ports::TenantContacts;
use crate::queue::QueueError;
use crate::store::idempotency::{Claim, IdempotencyRecord};
use crate::store::message::outbound::{OutboundKey, QueuedOutbound};
use crate::store::{PutOutcome, StoreError};
use crate::tenants::TenantDirectory;

type Done<T> = Result<T, StoreError>;

/// The storage accepting a send uses.
pub trait AcceptStore: TenantContacts + TemplateCategories {
    fn phone_number(
        &self,
        tenant: &TenantId,
        phone_number_id: &str,
    ) -> impl Future<Output = Done<Option<PhoneNumber>>> + Send;

    /// The keyed digest of a call's body (canonical JSON), as its idempotency record keeps
    /// it.
    fn body_digest(
        &self,
        tenant: &TenantId,
        body: &[u8],
    ) -> impl Future<Output = Done<String>> + Send;

    /// The keyed digest that stands for an idempotency key (in its record's key, and in
    /// the id of the job it makes): the caller's text may name a person.
    fn idempotency_key_digest(
        &self,
        tenant: &TenantId,
        key: &str,
    ) -> impl Future<Output = Done<String>> + Send;

    /// The live claim on an idempotency key, read consistently.
    fn idempotency_record(
        &self,
        tenant: &TenantId,
        key: &str,
        now: i64,
    ) -> impl Future<Output = Done<Option<IdempotencyRecord>>> + Send;

    /// Claims a key unless a live claim holds it.
    fn claim_idempotency_key(
        &self,
        tenant: &TenantId,
        key: &str,
        record: &IdempotencyRecord,
    ) -> impl Future<Output = Done<Claim>> + Send;

    /// The outbound message of a job, read consistently.
    fn outbound_record(
        &self,
        tenant: &TenantId,
        key: OutboundKey<'_>,
    ) -> impl Future<Output = Done<Option<OutboundRecord>>> + Send;

    fn find_contact(
        &self,
        tenant: &TenantId,
        identity: &UserIdentity,
        now: i64,
    ) -> impl Future<Output = Done<Option<ContactProfile>>> + Send;

    /// The opt-outs kept for the person's identifiers beyond any contact: what a contact
    /// made for them would start with.
    fn identifier_opt_outs(
        &self,
        tenant: &TenantId,
        identity: &UserIdentity,
        now: i64,
    ) -> impl Future<Output = Done<ConsentState>> + Send;

    /// The exact time of the contact's newest inbound message since `since`.
    fn newest_inbound_since(
        &self,
        tenant: &TenantId,
        contact_id: &str,
        since: i64,
    ) -> impl Future<Output = Done<Option<i64>>> + Send;

    /// Records a message as `queued` unless its job's record exists.
    fn put_queued_outbound(
        &self,
        tenant: &TenantId,
        message: &QueuedOutbound<'_>,
    ) -> impl Future<Output = Done<PutOutcome>> + Send;

    /// Takes a `queued` record back; a decided one stays.
    fn delete_queued_outbound(
        &self,
        tenant: &TenantId,
        key: OutboundKey<'_>,
    ) -> impl Future<Output = Done<()>> + Send;

    /// Moves the conversation: the business answered.
    fn record_outbound_activity(
        &self,
        tenant: &TenantId,
        contact: &ContactProfile,
        number: &str,
        now: i64,
    ) -> impl Future<Output = Done<()>> + Send;
}

/// Where accepted jobs go.
pub trait JobSink: Send + Sync {
    fn enqueue(&self, job: &OutboundJob) -> impl Future<Output = Result<(), QueueError>> + Send;
}

impl JobSink for OutboundQueue {
    async fn enqueue(&self, job: &OutboundJob) -> Result<(), QueueError> {
        self.enqueue_jobs(std::slice::from_ref(job)).await
    }
}

/// The DynamoDB adapter: tenants and numbers through the directory's caches.
impl AcceptStore for TenantDirectory {
    async fn phone_number(
        &self,
        tenant: &TenantId,
        phone_number_id: &str,
    ) -> Done<Option<PhoneNumber>> {
        TenantDirectory::phone_number(self, tenant, phone_number_id).await
    }

    async fn body_digest(&self, tenant: &TenantId, body: &[u8]) -> Done<String> {
        self.store()
            .repo::<IdempotencyStore>()
            .body_digest(tenant, body)
            .await
    }

    async fn idempotency_key_digest(&self, tenant: &TenantId, key: &str) -> Done<String> {
        self.store()
            .repo::<IdempotencyStore>()
            .idempotency_key_digest(tenant, key)
            .await
    }

    async fn idempotency_record(
        &self,
        tenant: &TenantId,
        key: &str,
        now: i64,
    ) -> Done<Option<IdempotencyRecord>> {
        self.store()
            .repo::<IdempotencyStore>()
            .idempotency_record(tenant, key, now)
            .await
    }

    async fn claim_idempotency_key(
        &self,
        tenant: &TenantId,
        key: &str,
        record: &IdempotencyRecord,
    ) -> Done<Claim> {
        self.store()
            .repo::<IdempotencyStore>()
            .claim_idempotency_key(tenant, key, record)
            .await
    }

    async fn outbound_record(
        &self,
        tenant: &TenantId,
        key: OutboundKey<'_>,
    ) -> Done<Option<OutboundRecord>> {
        self.store()
            .repo::<MessageStore>()
            .outbound_record(tenant, key)
            .await
    }

    async fn find_contact(
        &self,
        tenant: &TenantId,
        identity: &UserIdentity,
        now: i64,
    ) -> Done<Option<ContactProfile>> {
        self.store()
            .repo::<ContactStore>()
            .find_contact(tenant, identity, now)
            .await
    }

    async fn identifier_opt_outs(
        &self,
        tenant: &TenantId,
        identity: &UserIdentity,
        now: i64,
    ) -> Done<ConsentState> {
        self.store()
            .repo::<ContactStore>()
            .identifier_opt_outs(tenant, identity, now)
            .await
    }

    async fn newest_inbound_since(
        &self,
        tenant: &TenantId,
        contact_id: &str,
        since: i64,
    ) -> Done<Option<i64>> {
        self.store()
            .repo::<MessageStore>()
            .newest_inbound_since(tenant, contact_id, since)
            .await
    }

    async fn put_queued_outbound(
        &self,
        tenant: &TenantId,
        message: &QueuedOutbound<'_>,
    ) -> Done<PutOutcome> {
        self.store()
            .repo::<MessageStore>()
            .put_queued_outbound(tenant, message)
            .await
    }

    async fn delete_queued_outbound(&self, tenant: &TenantId, key: OutboundKey<'_>) -> Done<()> {
        self.store()
            .repo::<MessageStore>()
            .delete_queued_outbound(tenant, key)
            .await
    }

    async fn record_outbound_activity(
        &self,
        tenant: &TenantId,
        contact: &ContactProfile,
        number: &str,
        now: i64,
    ) -> Done<()> {
        self.store()
            .repo::<ContactStore>()
            .record_outbound_activity(tenant, contact, number, now)
            .await
    }
}
