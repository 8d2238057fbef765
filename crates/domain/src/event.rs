//! Domain events: what happened, told by the context where it happened to whoever
//! subscribed (the tenant's callbacks today; bot flows, assignment, billing and reports
//! next). Applying an inbound event ends by publishing them, and so do accepting a send
//! and sending it; a subscriber reads them and never the publisher's state, so adding
//! one touches no other.
//!
//! An event names contacts by id and carries Meta's objects as Meta sent them, as the
//! callbacks that tenants receive do: it lives in memory and on the tenant's own queues,
//! never in a log line.

use serde_json::Value;

use crate::consent::{Action, Scope, Source};
use crate::tenant::TenantId;

/// One event, with where it came from.
#[derive(Debug, Clone, Copy)]
pub struct Published<'a> {
    pub tenant: &'a TenantId,
    /// What makes an id that stays the same across retries and redeliveries, so a
    /// subscriber drops repeats by it: the bytes Meta sent for an inbound event (one
    /// message, one status, one change), the job's id for a send.
    pub source: &'a str,
    /// When the gateway received it from Meta, or accepted or settled the send, epoch
    /// seconds.
    pub received_at: i64,
    /// The person it is about restricted processing (GDPR art. 18): a subscriber that acts
    /// on people (a bot, an assignment) leaves them alone; the callbacks record what they
    /// withhold, to send once the restriction is lifted.
    pub person_restricted: bool,
    pub event: &'a DomainEvent,
}

#[derive(Debug, Clone, PartialEq)]
pub enum DomainEvent {
    /// A person wrote to one of the tenant's numbers and the message is stored (or was,
    /// by an earlier delivery of the same event).
    MessageReceived(MessageReceived),
    /// The first event about a person made their contact.
    ContactCreated { contact_id: String },
    /// A conversation began a cycle: its first, or the next after a resolve. Published
    /// again on a redelivery of what opened it, so a subscriber keyed by (contact,
    /// number, cycle) acts once.
    ConversationOpened(ConversationOpened),
    /// Meta reported on a message the tenant sent.
    StatusChanged(StatusChanged),
    /// A person's consent choice reached their ledger (or was already in it).
    ConsentChanged(ConsentChanged),
    /// Meta reported a change to one of the tenant's templates.
    TemplateChanged(AccountChange),
    /// Meta reported a change to the tenant's account or one of its numbers.
    AccountChanged(AccountChange),
    /// A message the tenant sends was recorded and queued for the sender.
    MessageQueued(OutboundRef),
    /// Meta accepted a message the tenant sent.
    MessageSent { message: OutboundRef, wamid: String },
    /// A message the tenant sent will not be sent: refused by the gateway's rules about
    /// the person, or failed for good.
    MessageFailed {
        message: OutboundRef,
        /// Meta's error code, when Meta refused it.
        code: Option<i64>,
        /// Refused by the rules about the person (consent, the window, a restriction),
        /// never sent to Meta. `false`: it failed, whether Meta refused it, it could not
        /// be sent in all its attempts, or its tenant or number may not send.
        refused: bool,
    },
}

/// An outbound message, as the send path names it.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboundRef {
    pub contact_id: String,
    pub job_id: String,
    pub phone_number_id: String,
    /// When the job was queued, epoch seconds: with the job id it names the message (a
    /// key reused after its idempotency window makes a new message under the same id).
    pub enqueued_at: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MessageReceived {
    pub contact_id: String,
    /// The stored message's public id (`GET /v1/conversations/{contact}/messages/{id}`):
    /// the same on every delivery of the message.
    pub message_id: String,
    /// The tenant's number the person wrote to.
    pub phone_number_id: Option<String>,
    /// The person's phone number as Meta gave it (digits), when it did.
    pub from: Option<String>,
    /// The person's business-scoped user id, when Meta gave one.
    pub from_user_id: Option<String>,
    /// The name on the person's WhatsApp profile.
    pub profile_name: Option<String>,
    /// Meta's message object, exactly as Meta sent it.
    pub message: Value,
    /// This delivery stored it; `false`: an earlier delivery of the same event did.
    pub first_delivery: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ConversationOpened {
    pub contact_id: String,
    pub phone_number_id: String,
    /// The cycle, from 1.
    pub cycle: u32,
    /// When it opened, epoch seconds: the send time of the person's message that opened
    /// it, or when the business wrote first.
    pub opened_at: i64,
    /// The person opened it by writing; `false`: the business wrote first.
    pub by_person: bool,
}

impl ConversationOpened {
    /// The opening of `conversation`'s current cycle.
    pub fn of(conversation: &crate::conversation::cycle::Conversation, by_person: bool) -> Self {
        Self {
            contact_id: conversation.contact_id.clone(),
            phone_number_id: conversation.phone_number_id.clone(),
            cycle: conversation.cycle,
            opened_at: conversation.opened_at,
            by_person,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct StatusChanged {
    pub contact_id: String,
    pub phone_number_id: Option<String>,
    /// Older than what the message had already reached: kept in its history only.
    pub late: bool,
    /// Meta's status object, exactly as Meta sent it.
    pub status: Value,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ConsentChanged {
    pub contact_id: String,
    pub scope: Scope,
    pub action: Action,
    pub source: Source,
    /// When the person chose, epoch seconds.
    pub at: i64,
    /// The ledger already held it (a redelivery): nothing changed this time.
    pub duplicate: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AccountChange {
    /// Meta's webhook field, such as `message_template_status_update`.
    pub field: String,
    pub waba_id: String,
    /// Meta's change value, exactly as Meta sent it.
    pub value: Value,
}

impl DomainEvent {
    /// The event's name, for logs and metrics.
    pub fn name(&self) -> &'static str {
        match self {
            Self::MessageReceived(_) => "message_received",
            Self::ContactCreated { .. } => "contact_created",
            Self::ConversationOpened(_) => "conversation_opened",
            Self::StatusChanged(_) => "status_changed",
            Self::ConsentChanged(_) => "consent_changed",
            Self::TemplateChanged(_) => "template_changed",
            Self::AccountChanged(_) => "account_changed",
            Self::MessageQueued(_) => "message_queued",
            Self::MessageSent { .. } => "message_sent",
            Self::MessageFailed { .. } => "message_failed",
        }
    }
}
