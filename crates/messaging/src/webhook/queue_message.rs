//! Turns a routed event into the FIFO queue message that carries it to the worker.

use serde_json::value::RawValue;

pub use crate::queue::QueueMessage;
use crate::queue::event::{Door, QUEUED_EVENT_VERSION, QueuedEvent};
use crate::queue::ids::QueueIdKey;
use wagate_meta::webhook::{RoutableEvent, Route};

/// How a delivery arrived: for which tenant, through which door, when (epoch ms).
#[derive(Debug, Clone, Copy)]
pub struct Arrival<'a> {
    pub tenant_id: &'a str,
    pub door: Door,
    pub received_at_ms: i64,
}

impl<'a> Arrival<'a> {
    /// Through the platform's door.
    pub fn platform(tenant_id: &'a str, received_at_ms: i64) -> Self {
        Self {
            tenant_id,
            door: Door::Platform,
            received_at_ms,
        }
    }
}

/// Builds the queue message for `event`, which belongs to `tenant_id`.
///
/// The group keeps one conversation in order: tenant + user, a keyed digest so that no
/// phone number or BSUID appears in queue metadata, not even one a list of numbers would
/// find; events about no user group by tenant + WABA (or phone number). The deduplication
/// id is a keyed digest of the event's identity (which holds the wamid), so a Meta retry
/// within SQS's five minutes is dropped by SQS itself.
pub fn to_queue_message(
    event: &RoutableEvent<'_>,
    arrival: &Arrival<'_>,
    ids: &QueueIdKey,
) -> QueueMessage {
    let Arrival {
        tenant_id,
        door,
        received_at_ms,
    } = *arrival;
    let short = |kind: &str, value: &str| ids.digest(&["inbound-group", kind, value], 12);
    let group_id = match (&event.contact_key, &event.route) {
        (Some(user), _) => format!("{tenant_id}:u:{}", short("user", user)),
        (None, Route::PhoneNumber(id)) => format!("{tenant_id}:pn:{}", short("number", id)),
        (None, Route::Waba(id)) => format!("{tenant_id}:waba:{}", short("waba", id)),
    };
    let deduplication_id = ids.digest(
        &[
            "inbound-dedup",
            tenant_id,
            &event.field,
            event.kind.as_str(),
            &event.identity,
        ],
        32,
    );
    let phone_number_id = match &event.route {
        Route::PhoneNumber(id) => Some(id.to_string()),
        Route::Waba(_) => None,
    };
    let queued = QueuedEvent {
        v: QUEUED_EVENT_VERSION,
        tenant_id: tenant_id.to_owned(),
        waba_id: event.waba_id.to_string(),
        entry_time: event.entry_time,
        field: event.field.to_string(),
        kind: event.kind,
        phone_number_id,
        display_phone_number: event.display_phone_number.as_ref().map(|d| d.to_string()),
        received_at_ms,
        door,
        contact: event.contact.map(to_owned_raw),
        item: to_owned_raw(event.item),
    };
    let body = serde_json::to_string(&queued).expect("a QueuedEvent always serialises");
    QueueMessage {
        group_id,
        deduplication_id,
        body,
    }
}

fn to_owned_raw(raw: &RawValue) -> Box<RawValue> {
    raw.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::privacy::cipher::DataKey;
    use crate::webhook::split_delivery;

    fn ids() -> QueueIdKey {
        QueueIdKey::of(DataKey::from_slice(&[3; 32]).unwrap())
    }

    const BODY: &str = r#"{"object":"whatsapp_business_account","entry":[{"id":"W1","changes":[{"field":"messages","value":{
        "metadata":{"phone_number_id":"PN1"},"contacts":[{"wa_id":"4915112345678"}],
        "messages":[{"from":"4915112345678","id":"wamid.A","timestamp":"1","type":"text","text":{"body":"\u00e4"}}],
        "statuses":[{"id":"wamid.B","status":"sent","recipient_id":"4915112345678"}],
        "errors":[{"code":131000}]}}]}]}"#;

    #[test]
    fn a_message_and_a_status_of_one_user_share_a_group_that_hides_the_phone_number() {
        let events = split_delivery(BODY.as_bytes()).unwrap();
        let m = to_queue_message(&events[0], &Arrival::platform("t1", 5), &ids());
        let s = to_queue_message(&events[1], &Arrival::platform("t1", 5), &ids());
        assert_eq!(m.group_id, s.group_id);
        assert!(m.group_id.starts_with("t1:u:"));
        assert!(!m.group_id.contains("4915112345678"));
        // Not the unkeyed hash a list of numbers would find either.
        use sha2::{Digest, Sha256};
        let unkeyed = hex::encode(&Sha256::digest(b"4915112345678")[..12]);
        assert!(!m.group_id.contains(&unkeyed));
        let other_key = QueueIdKey::of(DataKey::from_slice(&[4; 32]).unwrap());
        assert_ne!(
            m.group_id,
            to_queue_message(&events[0], &Arrival::platform("t1", 5), &other_key).group_id
        );
        assert_ne!(m.deduplication_id, s.deduplication_id);
        assert!(m.group_id.len() <= 128 && m.deduplication_id.len() <= 128);
    }

    #[test]
    fn the_same_event_for_another_tenant_gets_another_deduplication_id() {
        let events = split_delivery(BODY.as_bytes()).unwrap();
        let a = to_queue_message(&events[0], &Arrival::platform("t1", 5), &ids());
        let b = to_queue_message(&events[0], &Arrival::platform("t2", 5), &ids());
        assert_ne!(a.deduplication_id, b.deduplication_id);
        assert_eq!(
            a.deduplication_id,
            to_queue_message(&events[0], &Arrival::platform("t1", 99), &ids()).deduplication_id
        );
    }

    #[test]
    fn the_body_carries_the_item_bytes_unchanged() {
        let events = split_delivery(BODY.as_bytes()).unwrap();
        let m = to_queue_message(&events[0], &Arrival::platform("t1", 5), &ids());
        let back: QueuedEvent = serde_json::from_str(&m.body).unwrap();
        assert!(back.item.get().contains(r#""\u00e4""#));
        assert_eq!(back.phone_number_id.as_deref(), Some("PN1"));
        let e = to_queue_message(&events[2], &Arrival::platform("t1", 5), &ids());
        assert!(e.group_id.starts_with("t1:pn:"));
    }
}
