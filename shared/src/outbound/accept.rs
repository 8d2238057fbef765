//! Accepting a message for sending, as the business API does: everything that can be
//! refused is refused here, before anything is queued (an invalid message, a suspended
//! tenant, a number that is not the tenant's, a free-form message outside the 24-hour
//! window); an accepted message is recorded as `queued` and its job enqueued.

use crate::cloud_api::request::{OutboundContent, OutboundMessage, Recipient, ValidationError};
use crate::domain::identity::UserIdentity;
use crate::domain::retention::DataClass;
use crate::domain::tenant::{TenantId, TenantStatus};
use crate::queue::QueueError;
use crate::store::StoreError;
use crate::store::contacts::{ContactFacts, ContactProfile};
use crate::store::idempotency::{Claim, IdempotencyRecord};
use crate::store::keys::outbound_sk;
use crate::store::message_ref::MessageRef;
use crate::store::outbound::{OutboundKey, QueuedOutbound};
use crate::tenants::TenantDirectory;

use super::enqueue::OutboundQueue;
use super::job::OutboundJob;
use super::window::window_is_open;

/// A message to accept.
#[derive(Debug, Clone, Copy)]
pub struct SendCommand<'a> {
    pub tenant: &'a TenantId,
    pub phone_number_id: &'a str,
    pub message: &'a OutboundMessage,
    pub idempotency: Option<IdempotencyKey<'a>>,
    pub now: i64,
}

/// The caller's idempotency key and the hash of the request that came with it.
#[derive(Debug, Clone, Copy)]
pub struct IdempotencyKey<'a> {
    pub key: &'a str,
    pub body_sha256: &'a str,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcceptedMessage {
    pub message: MessageRef,
    /// Made by an earlier call with the same idempotency key; nothing new was queued.
    pub replayed: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum AcceptError {
    #[error("the message is not valid: {0}")]
    Invalid(#[from] ValidationError),
    #[error("the tenant does not exist")]
    UnknownTenant,
    #[error("the tenant is suspended: it may not send messages")]
    TenantSuspended,
    #[error("sending is stopped for this tenant: {0}")]
    SendingStopped(String),
    #[error("the phone number is not one of the tenant's")]
    UnknownNumber,
    #[error(
        "the recipient's 24-hour customer service window is closed (they have not written in the last 24 hours): only a template message may be sent"
    )]
    WindowClosed,
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
pub struct Outbox {
    directory: TenantDirectory,
    queue: OutboundQueue,
}

impl Outbox {
    pub fn new(directory: TenantDirectory, queue: OutboundQueue) -> Self {
        Self { directory, queue }
    }

    pub fn directory(&self) -> &TenantDirectory {
        &self.directory
    }

    pub async fn accept(&self, command: SendCommand<'_>) -> Result<AcceptedMessage, AcceptError> {
        let SendCommand {
            tenant: tenant_id,
            phone_number_id,
            message,
            idempotency,
            now,
        } = command;
        message.validate()?;
        let store = self.directory.store();
        if let Some(idem) = idempotency
            && let Some(held) = store.idempotency_record(tenant_id, idem.key, now).await?
        {
            return replay(&held, idem);
        }
        let tenant = self
            .directory
            .tenant(tenant_id)
            .await?
            .ok_or(AcceptError::UnknownTenant)?;
        if tenant.status == TenantStatus::Suspended {
            return Err(AcceptError::TenantSuspended);
        }
        if let Some(reason) = &tenant.sending_stopped {
            return Err(AcceptError::SendingStopped(reason.clone()));
        }
        if self
            .directory
            .phone_number(tenant_id, phone_number_id)
            .await?
            .is_none()
        {
            return Err(AcceptError::UnknownNumber);
        }
        let identity = identity_of(&message.to);
        let contact = if matches!(message.content, OutboundContent::Template(_)) {
            let facts = ContactFacts::default();
            store
                .resolve_contact(tenant_id, &identity, &facts, &tenant.retention, now)
                .await?
                .profile
        } else {
            self.contact_in_window(tenant_id, &identity, now).await?
        };
        let job = OutboundJob::new(
            tenant_id,
            phone_number_id,
            message,
            idempotency.map(|i| i.key),
            now,
        )?;
        let key = OutboundKey {
            contact_id: &contact.contact_id,
            enqueued_at: job.enqueued_at,
            job_id: &job.job_id,
        };
        let message_ref = MessageRef::new(
            &contact.contact_id,
            &outbound_sk(key.enqueued_at, key.job_id),
        );
        if let Some(idem) = idempotency {
            let record = IdempotencyRecord {
                body_sha256: idem.body_sha256.to_owned(),
                resource_id: message_ref.encode(),
                created_at: now,
            };
            if let Claim::Taken(held) = store
                .claim_idempotency_key(tenant_id, idem.key, &record)
                .await?
            {
                return replay(&held, idem);
            }
        }
        let content = job.stored_content();
        let queued = QueuedOutbound {
            key,
            phone_number_id,
            message_type: &job.message_type,
            content: &content,
            expires_at: tenant.retention.expires_at(DataClass::Content, now),
        };
        let failure: Option<AcceptError> = match store.put_queued_outbound(tenant_id, &queued).await
        {
            Err(e) => Some(e.into()),
            Ok(_) => match self.queue.enqueue_jobs(std::slice::from_ref(&job)).await {
                Ok(()) => None,
                Err(QueueError::TooLarge(bytes)) => Some(AcceptError::TooLarge(bytes)),
                Err(e) => Some(e.into()),
            },
        };
        if failure.is_none()
            && let Err(e) = store
                .record_outbound_activity(tenant_id, &contact, phone_number_id, now)
                .await
        {
            // The message is queued: failing the call now would invite a second send.
            tracing::warn!(tenant = %tenant_id, error = %crate::telemetry::error_chain(&e), "the conversation's activity was not recorded");
        }
        if let Some(e) = failure {
            // Nothing half-made stays behind: the record goes, and the key is free again.
            store.delete_queued_outbound(tenant_id, key).await?;
            if let Some(idem) = idempotency {
                store
                    .release_idempotency_key(tenant_id, idem.key, &message_ref.encode())
                    .await?;
            }
            return Err(e);
        }
        Ok(AcceptedMessage {
            message: message_ref,
            replayed: false,
        })
    }

    async fn contact_in_window(
        &self,
        tenant: &TenantId,
        identity: &UserIdentity,
        now: i64,
    ) -> Result<ContactProfile, AcceptError> {
        let store = self.directory.store();
        let Some(contact) = store.find_contact(tenant, identity, now).await? else {
            return Err(AcceptError::WindowClosed);
        };
        if !window_is_open(store, tenant, &contact, now).await? {
            return Err(AcceptError::WindowClosed);
        }
        Ok(contact)
    }
}

fn replay(
    held: &IdempotencyRecord,
    idem: IdempotencyKey<'_>,
) -> Result<AcceptedMessage, AcceptError> {
    if held.body_sha256 != idem.body_sha256 {
        return Err(AcceptError::IdempotencyConflict);
    }
    let message = MessageRef::decode(&held.resource_id).ok_or_else(|| StoreError::Corrupt {
        key: "idempotency key".into(),
        problem: "holds no message id".into(),
    })?;
    Ok(AcceptedMessage {
        message,
        replayed: true,
    })
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
