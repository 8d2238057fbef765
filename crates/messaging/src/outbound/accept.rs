//! Accepting a message for sending, as the business API does: everything that can be
//! refused is refused here, before anything is queued (an invalid message, a suspended
//! tenant, a number that is not the tenant's, a free-form message outside the 24-hour
//! window, a recipient who opted out of it, a job too large to queue); an accepted message is recorded as `queued` and its
//! job enqueued, and a call with an idempotency key finishes what an earlier call with the
//! key left half-done.

use crate::domain::consent::OptedOut;
use crate::domain::contact::ContactProfile;
use crate::domain::conversation::activity::Wrote;
use crate::domain::event::{ConversationOpened, DomainEvent, Published};
use crate::domain::identity::UserIdentity;
use crate::domain::message_id::MessageId;
use crate::domain::outbound::{OutboundMessage, Recipient, ValidationError};
use crate::domain::retention::DataClass;
use crate::domain::tenant::{MetaCallsBlocked, TenantId};
use crate::events::Subscribers;
use crate::outbound::accept_port::AcceptTables;
use crate::queue::QueueError;
use crate::store::StoreError;
use crate::store::contact::ContactFacts;
use crate::store::contact::ContactRecords;
use crate::store::contact::activity::ContactActivity;
use crate::store::contact::consent::ConsentRecords;
use crate::store::contact::resolve::ContactResolution;
use crate::store::conversation::ConversationStates;
use crate::store::idempotency::IdempotencyClaims;
use crate::store::idempotency::{BodyDigest, Claim, IdempotencyRecord};
use crate::store::message::outbound::OutboundMessages;
use crate::store::message::outbound::{OutboundKey, QueuedOutbound};
use crate::tenants::TenantDirectory;
use crate::tenants::Tenants;

use super::accept_port::{AcceptStore, JobSink};
use super::consent::{Outgoing, consent_allows};
use super::enqueue::OutboundQueue;
use super::job::OutboundJob;
use super::window::window_is_open_with;

/// A message to accept, from its number.
#[derive(Debug, Clone, Copy)]
pub struct SendCommand<'a> {
    pub tenant: &'a TenantId,
    pub message: &'a OutboundMessage,
    pub idempotency: Option<IdempotencyKey<'a>>,
    pub now: i64,
}

/// The caller's idempotency key and the request that came with it (canonical JSON: keys
/// sorted), which its record keeps as a keyed digest.
#[derive(Debug, Clone, Copy)]
pub struct IdempotencyKey<'a> {
    pub key: &'a str,
    pub body: &'a [u8],
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcceptedMessage {
    pub message: MessageId,
    /// Made by an earlier call with the same idempotency key; nothing new was queued.
    pub replayed: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum AcceptError {
    #[error("the message is not valid: {0}")]
    Invalid(#[from] ValidationError),
    #[error("the tenant does not exist")]
    UnknownTenant,
    /// Suspended, or its sending stopped: it may not call Meta.
    #[error(transparent)]
    Blocked(#[from] MetaCallsBlocked),
    #[error("the phone number is not one of the tenant's")]
    UnknownNumber,
    #[error(
        "the recipient's 24-hour customer service window is closed (they have not written in the last 24 hours): only a template message may be sent"
    )]
    WindowClosed,
    /// The recipient asked that their data not be processed: nothing was queued.
    #[error("the recipient's processing is restricted (since {0}): nothing is sent to them")]
    Restricted(i64),
    /// The recipient opted out of what the message is: nothing was queued.
    #[error(transparent)]
    OptedOut(#[from] OptedOut),
    #[error("the idempotency key was used with a different request in the last 24 hours")]
    IdempotencyConflict,
    #[error("the message is too large to queue ({0} bytes as a job; SQS takes 256 KiB)")]
    TooLarge(usize),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the message could not be queued")]
    Queue(#[from] QueueError),
}

/// Accepts messages for the outbound queue.
///
/// With an idempotency key, the key is claimed first and names the message it will make
/// (its contact, time and job id); then the message is recorded as `queued`, then its job
/// is queued. A failure or a crash between these steps leaves them as they are, and the
/// next call with the same key finishes the work instead of replaying nothing: a key that
/// names no message takes it over and makes it under the same id; a message still
/// `queued` has its job queued again. This is safe however the steps interleave: the
/// record is written only if absent, and a job queued twice is the same job (same id,
/// same FIFO group), which SQS drops within five minutes and the sender finds decided
/// after that, so it is sent at most once; and it is sent at least once, since every path
/// that answers with an id has its record written and its job queued.
pub struct Outbox<S = AcceptTables, Q = OutboundQueue> {
    pub(super) store: S,
    pub(super) queue: Q,
    pub(super) subscribers: Subscribers,
}

/// What the checks before queueing found.
struct Checked {
    retention: crate::domain::retention::Retention,
    /// Whether the tenant keeps the content of its number's messages.
    stores_content: bool,
    contact: ContactProfile,
}

impl Outbox {
    pub fn new(directory: TenantDirectory, queue: OutboundQueue) -> Self {
        Self::with_ports(AcceptTables::new(directory), queue)
    }
}

impl<S: AcceptStore, Q: JobSink> Outbox<S, Q> {
    pub fn with_ports(store: S, queue: Q) -> Self {
        Self {
            store,
            queue,
            subscribers: Subscribers::new(),
        }
    }

    /// Publishes each message it queues to `subscribers`.
    pub fn with_subscribers(mut self, subscribers: Subscribers) -> Self {
        self.subscribers = subscribers;
        self
    }

    pub async fn accept(&self, command: SendCommand<'_>) -> Result<AcceptedMessage, AcceptError> {
        command.message.validate()?;
        let store = &self.store;
        // The body and the key, as the record keeps them and the job's id is derived.
        let (digest, job_key) = match command.idempotency {
            Some(idem) => (
                Some(
                    store
                        .idempotency()
                        .body_digest(command.tenant, idem.body)
                        .await?,
                ),
                Some(
                    store
                        .idempotency()
                        .idempotency_key_digest(command.tenant, idem.key)
                        .await?,
                ),
            ),
            None => (None, None),
        };
        let keys = (digest.as_deref(), job_key.as_deref());
        if let (Some(idem), (Some(_), Some(_))) = (command.idempotency, keys)
            && let Some(held) = store
                .idempotency()
                .idempotency_record(command.tenant, idem.key, command.now)
                .await?
        {
            return self.resume(command, idem, keys, &held).await;
        }
        let checked = self.checked(command, None).await?;
        let job = self.job(command, command.now, job_key.as_deref())?;
        let message_ref =
            MessageId::outbound(&checked.contact.contact_id, job.enqueued_at, &job.job_id);
        if let (Some(idem), Some(digest)) = (command.idempotency, &digest) {
            let record = IdempotencyRecord {
                body: BodyDigest::Keyed(digest.clone()),
                resource_id: message_ref.encode(),
                created_at: command.now,
            };
            if let Claim::Taken(held) = store
                .idempotency()
                .claim_idempotency_key(command.tenant, idem.key, &record)
                .await?
            {
                return self.resume(command, idem, keys, &held).await;
            }
        }
        self.record_and_queue(command, &checked, &job).await?;
        Ok(AcceptedMessage {
            message: message_ref,
            replayed: false,
        })
    }

    /// A call with a key an earlier call claimed: the earlier call's message, finished if
    /// that call stopped half-way.
    /// `keys`: the body's and the key's keyed digests.
    async fn resume(
        &self,
        command: SendCommand<'_>,
        idem: IdempotencyKey<'_>,
        (digest, job_key): (Option<&str>, Option<&str>),
        held: &IdempotencyRecord,
    ) -> Result<AcceptedMessage, AcceptError> {
        if !held.body.matches(digest.unwrap_or_default(), idem.body) {
            return Err(AcceptError::IdempotencyConflict);
        }
        let corrupt = |problem: &str| StoreError::Corrupt {
            key: "idempotency key".into(),
            problem: problem.into(),
        };
        let message_ref =
            MessageId::decode(&held.resource_id).ok_or_else(|| corrupt("holds no message id"))?;
        let enqueued_at = message_ref
            .outbound_time()
            .ok_or_else(|| corrupt("names no outbound message"))?;
        // The same key and body make the same job: its id, its time, its group. A claim
        // made before keyed digests derived its job's id from the key itself.
        let job_key = match held.body {
            BodyDigest::Keyed(_) => job_key,
            BodyDigest::Sha256(_) => Some(idem.key),
        };
        let job = self.job(command, enqueued_at, job_key)?;
        if message_ref != MessageId::outbound(&message_ref.contact_id, enqueued_at, &job.job_id) {
            return Err(corrupt("names another job").into());
        }
        let key = OutboundKey {
            contact_id: &message_ref.contact_id,
            enqueued_at,
            job_id: &job.job_id,
        };
        let store = &self.store;
        match store
            .messages()
            .outbound_record(command.tenant, key)
            .await?
        {
            // Decided: the sender took it; there is nothing to finish.
            Some(record) if record.outcome.is_some() => {}
            // Recorded but perhaps never queued: queue it (again), and say so again
            // (subscribers drop repeats by the job's id).
            Some(_) => {
                // Whether the earlier call recorded the business's activity is not known:
                // the sender records it (a time that only moves forward).
                let job = OutboundJob {
                    activity_recorded: false,
                    ..job
                };
                self.queue_job(&job).await?;
                self.publish_queued(command, &message_ref.contact_id, &job, false)
                    .await;
            }
            // The earlier call stopped before recording it: this call makes it, under the
            // id the key names, after the same checks.
            None => {
                let checked = self.checked(command, Some(&message_ref.contact_id)).await?;
                self.record_and_queue(command, &checked, &job).await?;
                tracing::info!(tenant = %command.tenant, job_id = %job.job_id, "an idempotency key that named no message was taken over");
                return Ok(AcceptedMessage {
                    message: message_ref,
                    replayed: false,
                });
            }
        }
        Ok(AcceptedMessage {
            message: message_ref,
            replayed: true,
        })
    }

    /// Everything that refuses a message before anything is written for it: the tenant,
    /// the number, the recipient's window (or, for a template, their contact, made if
    /// new). `contact_id`: the contact an earlier call chose, for a key taken over.
    async fn checked(
        &self,
        command: SendCommand<'_>,
        contact_id: Option<&str>,
    ) -> Result<Checked, AcceptError> {
        let SendCommand {
            tenant: tenant_id,
            message,
            now,
            ..
        } = command;
        let tenant = self
            .store
            .tenants()
            .tenant(tenant_id)
            .await?
            .ok_or(AcceptError::UnknownTenant)?;
        tenant.may_call_meta()?;
        let number = self
            .store
            .tenants()
            .phone_number(tenant_id, &message.from)
            .await?
            .ok_or(AcceptError::UnknownNumber)?;
        let store = &self.store;
        let identity = identity_of(&message.to);
        let contact = if message.content.is_template() {
            match store
                .contacts()
                .find_contact(tenant_id, &identity, now)
                .await?
            {
                Some(known) => known,
                None => {
                    // Someone new: what their identifiers opted out of decides before a
                    // contact is made for them, so a refusal stores nothing about them.
                    let would_start = ContactProfile {
                        consent: store
                            .contacts()
                            .identifier_opt_outs(tenant_id, &identity, now)
                            .await?,
                        ..ContactProfile::default()
                    };
                    consent_allows(
                        self.store.tenants(),
                        &tenant,
                        (&number, &would_start),
                        Outgoing::of(message),
                    )
                    .await??;
                    let facts = ContactFacts::default();
                    store
                        .contacts()
                        .resolve_contact(tenant_id, &identity, &facts, &tenant.retention, now)
                        .await?
                        .profile
                }
            }
        } else {
            self.contact_in_window(tenant_id, &identity, now).await?
        };
        if let Some(restriction) = contact.restriction {
            return Err(AcceptError::Restricted(restriction.since));
        }
        consent_allows(
            self.store.tenants(),
            &tenant,
            (&number, &contact),
            Outgoing::of(message),
        )
        .await??;
        if contact_id.is_some_and(|id| id != contact.contact_id) {
            // The recipient's contact was erased and made anew since the key was claimed.
            return Err(StoreError::Corrupt {
                key: "idempotency key".into(),
                problem: "names a contact the recipient no longer has".into(),
            }
            .into());
        }
        Ok(Checked {
            retention: tenant.retention,
            stores_content: tenant.content.stores(Some(&message.from)),
            contact,
        })
    }

    /// The job of the command, enqueued at `enqueued_at`; refused when it cannot be
    /// queued at all (too large), before anything is written.
    /// The job of the command, its id derived from `job_key` (what stands for the
    /// idempotency key) when there is one.
    fn job(
        &self,
        command: SendCommand<'_>,
        enqueued_at: i64,
        job_key: Option<&str>,
    ) -> Result<OutboundJob, AcceptError> {
        // `accept` validated the message first.
        let mut job = OutboundJob::of_valid(command.tenant, command.message, job_key, enqueued_at);
        // Recorded once the job is queued (`record_activity`), so the sender need not.
        job.activity_recorded = true;
        OutboundQueue::check_size(&job).map_err(AcceptError::TooLarge)?;
        Ok(job)
    }

    /// Records the job's message as `queued` (unless it is recorded already) and queues the
    /// job. Without an idempotency key a failure takes the record back, since nothing can
    /// resume it; with one, record and key stay for the next call with the key to finish.
    async fn record_and_queue(
        &self,
        command: SendCommand<'_>,
        checked: &Checked,
        job: &OutboundJob,
    ) -> Result<(), AcceptError> {
        let store = &self.store;
        let key = OutboundKey {
            contact_id: &checked.contact.contact_id,
            enqueued_at: job.enqueued_at,
            job_id: &job.job_id,
        };
        let stored = job.stored_form();
        let queued = QueuedOutbound {
            key,
            phone_number_id: &command.message.from,
            message_type: &stored.message_type,
            content: &stored.content,
            content_life: checked
                .retention
                .content_life(checked.stores_content, command.now),
            expires_at: checked.retention.message_expires_at(command.now),
            idempotency_key: command.idempotency.map(|i| i.key),
        };
        // Already recorded (a call taking over a key while the first one finishes): the
        // same message; its job is queued again below, which sends nothing twice.
        store
            .messages()
            .put_queued_outbound(command.tenant, &queued)
            .await?;
        if let Err(e) = self.queue_job(job).await {
            if command.idempotency.is_none() {
                // Only while still queued: a job that reached the queue after all and was
                // sent keeps its record.
                store
                    .messages()
                    .delete_queued_outbound(command.tenant, key)
                    .await?;
            }
            return Err(e);
        }
        let restricted = checked.contact.restriction.is_some();
        self.record_activity(command, checked, job, restricted)
            .await;
        self.publish_queued(command, &checked.contact.contact_id, job, restricted)
            .await;
        Ok(())
    }

    /// The business wrote: the contact's and the conversation's activity, and the
    /// conversation opened when this is its first message. The message is queued: a
    /// failure here is logged, since failing the call would invite a second send.
    async fn record_activity(
        &self,
        command: SendCommand<'_>,
        checked: &Checked,
        job: &OutboundJob,
        restricted: bool,
    ) {
        let store = &self.store;
        let contact = &checked.contact;
        if let Err(e) = store
            .contacts()
            .record_outbound_at(command.tenant, contact, command.now)
            .await
        {
            tracing::warn!(tenant = %command.tenant, error = %crate::telemetry::error_chain(&e), "the contact's activity was not recorded");
        }
        let expires_at = contact.life_within(
            checked
                .retention
                .expires_at(DataClass::ContactProfile, command.now),
        );
        let who = (contact, command.message.from.as_str());
        let wrote = Wrote::Business { at: command.now };
        match store
            .conversations()
            .wrote(command.tenant, who, wrote, expires_at)
            .await
        {
            Ok(Some(opened)) => {
                let event = DomainEvent::ConversationOpened(ConversationOpened::of(&opened, false));
                self.publish(command, job, restricted, &event).await;
            }
            Ok(None) => {}
            Err(e) => {
                tracing::warn!(tenant = %command.tenant, error = %crate::telemetry::error_chain(&e), "the conversation's activity was not recorded");
            }
        }
    }

    /// Tells the subscribers the job is queued.
    async fn publish_queued(
        &self,
        command: SendCommand<'_>,
        contact_id: &str,
        job: &OutboundJob,
        person_restricted: bool,
    ) {
        let queued = DomainEvent::MessageQueued(job.reference(contact_id));
        self.publish(command, job, person_restricted, &queued).await;
    }

    /// Tells the subscribers what accepting the job did. The message is queued: a
    /// subscriber's failure is logged, not the call's, which would invite a second send.
    async fn publish(
        &self,
        command: SendCommand<'_>,
        job: &OutboundJob,
        person_restricted: bool,
        event: &DomainEvent,
    ) {
        let published = Published {
            tenant: command.tenant,
            source: &job.job_id,
            received_at: command.now,
            person_restricted,
            event,
        };
        if let Err(e) = self.subscribers.publish(published).await {
            tracing::warn!(tenant = %command.tenant, event = event.name(), error = %crate::telemetry::error_chain(&e), "a subscriber failed on an accepted send");
        }
    }

    async fn queue_job(&self, job: &OutboundJob) -> Result<(), AcceptError> {
        self.queue.enqueue(job).await.map_err(|e| match e {
            QueueError::TooLarge(bytes) => AcceptError::TooLarge(bytes),
            other => other.into(),
        })
    }

    async fn contact_in_window(
        &self,
        tenant: &TenantId,
        identity: &UserIdentity,
        now: i64,
    ) -> Result<ContactProfile, AcceptError> {
        let store = &self.store;
        let Some(contact) = store.contacts().find_contact(tenant, identity, now).await? else {
            return Err(AcceptError::WindowClosed);
        };
        let open = window_is_open_with(&contact, now, |since| {
            store
                .messages()
                .newest_inbound_since(tenant, &contact.contact_id, since)
        })
        .await?;
        if !open {
            return Err(AcceptError::WindowClosed);
        }
        Ok(contact)
    }
}

fn identity_of(to: &Recipient) -> UserIdentity {
    match to {
        Recipient::Phone(p) => UserIdentity {
            phone: Some(p.clone()),
            bsuid: None,
        },
        Recipient::Bsuid(b) => UserIdentity {
            phone: None,
            bsuid: Some(b.clone()),
        },
    }
}
