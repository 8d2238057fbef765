//! A domain event as the durable path carries it (an SQS queue) to the subscribers that
//! may lag behind the worker: reports and billing projections. It holds what they count
//! and nothing about the person: no contact, no number of theirs, no content. Its id is
//! the same for every delivery of the same event (a redelivered webhook, a retried job),
//! so a projection that records the ids it applied counts each event once. The id is a
//! digest of what names the event (the stored message's id, the job's, the conversation's
//! cycle), which hold random ids of the contact and the message: the digest keeps the
//! contact's id off the queue, and none of them can be guessed to find it.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::event::{DomainEvent, Published};

/// One event for the lagging subscribers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventRecord {
    /// The same for every delivery of the event.
    pub id: String,
    pub tenant_id: String,
    /// The tenant's number the event happened on.
    pub phone_number_id: String,
    /// When the gateway received or settled it, epoch seconds.
    pub at: i64,
    #[serde(flatten)]
    pub what: Tally,
}

/// What happened, as projections count it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Tally {
    MessageReceived,
    MessageSent,
    /// `refused`: by the gateway's rules about the person, never sent to Meta.
    MessageFailed {
        refused: bool,
    },
    ConversationOpened {
        by_person: bool,
    },
}

impl EventRecord {
    /// The record of `published`, when lagging subscribers count what it tells.
    pub fn of(published: &Published<'_>) -> Option<Self> {
        let (id, number, what) = match published.event {
            DomainEvent::MessageReceived(m) => (
                digest(&["in", &m.message_id]),
                m.phone_number_id.clone()?,
                Tally::MessageReceived,
            ),
            DomainEvent::MessageSent { message, .. } => (
                outbound_id(message),
                message.phone_number_id.clone(),
                Tally::MessageSent,
            ),
            DomainEvent::MessageFailed {
                message, refused, ..
            } => (
                outbound_id(message),
                message.phone_number_id.clone(),
                Tally::MessageFailed { refused: *refused },
            ),
            DomainEvent::ConversationOpened(o) => (
                digest(&[
                    "open",
                    &o.contact_id,
                    &o.phone_number_id,
                    &o.cycle.to_string(),
                ]),
                o.phone_number_id.clone(),
                Tally::ConversationOpened {
                    by_person: o.by_person,
                },
            ),
            _ => return None,
        };
        Some(Self {
            id,
            tenant_id: published.tenant.as_str().to_owned(),
            phone_number_id: number,
            at: published.received_at,
            what,
        })
    }
}

/// One job has one fate (sent, or failed), so both share the message's id.
fn outbound_id(message: &crate::event::OutboundRef) -> String {
    digest(&["out", &message.job_id, &message.enqueued_at.to_string()])
}

/// 128 bits of the SHA-256 of `parts`, each ended by a zero byte.
fn digest(parts: &[&str]) -> String {
    let mut hash = Sha256::new();
    for part in parts {
        hash.update(part.as_bytes());
        hash.update([0]);
    }
    hex::encode(&hash.finalize()[..16])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{ConversationOpened, MessageReceived, OutboundRef};
    use crate::tenant::TenantId;

    fn published<'a>(
        tenant: &'a TenantId,
        event: &'a DomainEvent,
        source: &'a str,
    ) -> Published<'a> {
        Published {
            tenant,
            source,
            received_at: 1_767_000_000,
            person_restricted: false,
            event,
        }
    }

    fn received(first_delivery: bool) -> DomainEvent {
        DomainEvent::MessageReceived(MessageReceived {
            contact_id: "c_48213379051162738841".into(),
            message_id: crate::message_id::MessageId::inbound(
                "c_48213379051162738841",
                1_767_000_000,
                "9f86d081884c7d659a2feaa0c55ad015",
            )
            .encode(),
            phone_number_id: Some("106540352242922".into()),
            from: Some("4915112345678".into()),
            from_user_id: None,
            profile_name: Some("Ana".into()),
            message: serde_json::json!({"text": {"body": "secret words"}}),
            first_delivery,
        })
    }

    #[test]
    fn a_redelivery_has_the_same_id_and_the_record_holds_nothing_about_the_person() {
        let tenant = TenantId::parse("acme").unwrap();
        let (first, again) = (received(true), received(false));
        let a = EventRecord::of(&published(&tenant, &first, "bytes of Meta's")).unwrap();
        let b = EventRecord::of(&published(&tenant, &again, "bytes of Meta's")).unwrap();
        assert_eq!(a, b);
        let wire = serde_json::to_string(&a).unwrap();
        for personal in ["4915112345678", "Ana", "secret", "48213379051162738841"] {
            assert!(!wire.contains(personal), "{personal} in {wire}");
        }
        assert_eq!(serde_json::from_str::<EventRecord>(&wire).unwrap(), a);
    }

    #[test]
    fn counted_events_each_have_their_own_id_and_the_rest_are_not_carried() {
        let tenant = TenantId::parse("acme").unwrap();
        let job = OutboundRef {
            contact_id: "c1".into(),
            job_id: "j1".into(),
            phone_number_id: "106540352242922".into(),
            enqueued_at: 1_767_000_000,
        };
        let later = OutboundRef {
            enqueued_at: 1_767_200_000,
            ..job.clone()
        };
        let reused = DomainEvent::MessageSent {
            message: later,
            wamid: "wamid.Y".into(),
        };
        let sent = DomainEvent::MessageSent {
            message: job.clone(),
            wamid: "wamid.X".into(),
        };
        let opened = DomainEvent::ConversationOpened(ConversationOpened {
            contact_id: "c1".into(),
            phone_number_id: "106540352242922".into(),
            cycle: 2,
            opened_at: 1_767_000_000,
            by_person: true,
        });
        let queued = DomainEvent::MessageQueued(job);
        let sent = EventRecord::of(&published(&tenant, &sent, "j1")).unwrap();
        let opened = EventRecord::of(&published(&tenant, &opened, "x")).unwrap();
        assert_eq!(sent.what, Tally::MessageSent);
        assert_eq!(opened.what, Tally::ConversationOpened { by_person: true });
        assert_ne!(sent.id, opened.id);
        let reused = EventRecord::of(&published(&tenant, &reused, "j1")).unwrap();
        assert_ne!(sent.id, reused.id, "a key reused later is another message");
        assert_eq!(EventRecord::of(&published(&tenant, &queued, "j1")), None);
    }
}
