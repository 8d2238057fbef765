//! The normalised events a tenant's callback URLs receive: one JSON shape for every kind,
//! `{id, type, tenant_id, created_at, data}`. The id comes from the event's own bytes as
//! Meta sent them, so a Meta retry or a redelivery gives the same id: receivers get each
//! event at least once and drop repeats by `id`.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

pub use super::event_type::EventType;
use super::payload::CallbackData;

/// What a tenant's callback URL receives, signed: one shape for every event type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CallbackEvent {
    /// The same across Meta's retries, redeliveries and replays: receivers drop repeats
    /// by it.
    pub id: String,
    #[serde(rename = "type")]
    pub event_type: EventType,
    pub tenant_id: String,
    /// When the gateway received it from Meta, epoch seconds.
    pub created_at: i64,
    /// As `type` says: see `CallbackData`.
    #[schema(value_type = CallbackData)]
    pub data: Value,
}

impl CallbackEvent {
    /// The contact the event is about, if it is about one (messages, statuses, marketing
    /// preferences): its log entry is sealed under that contact's key.
    pub fn contact_id(&self) -> Option<&str> {
        self.data
            .get("contact_id")
            .and_then(serde_json::Value::as_str)
    }

    /// Whether the event carries what a person wrote (a received message), so that a
    /// tenant that stores no content keeps no copy of it in the delivery log.
    pub fn carries_content(&self) -> bool {
        self.event_type == EventType::MessageReceived
    }

    /// The tenant's number the event concerns, when it names one.
    pub fn phone_number_id(&self) -> Option<&str> {
        self.data
            .get("phone_number_id")
            .and_then(serde_json::Value::as_str)
    }

    /// The event of `data` made from `source`, the bytes Meta sent for it.
    pub fn of(tenant_id: &str, source: &str, created_at: i64, data: &CallbackData) -> Self {
        Self::new(
            tenant_id,
            data.event_type(),
            source,
            created_at,
            data.to_value(),
        )
    }

    /// An event of `event_type` made from `source`, the bytes Meta sent for it.
    pub fn new(
        tenant_id: &str,
        event_type: EventType,
        source: &str,
        created_at: i64,
        data: Value,
    ) -> Self {
        let mut hasher = Sha256::new();
        for part in [tenant_id, event_type.as_str(), source] {
            hasher.update(part.as_bytes());
            hasher.update([0]);
        }
        Self {
            id: format!("evt_{}", hex::encode(&hasher.finalize()[..16])),
            event_type,
            tenant_id: tenant_id.to_owned(),
            created_at,
            data,
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_same_source_gives_the_same_id_and_types_read_back() {
        let a = CallbackEvent::new("t1", EventType::MessageStatus, "{\"id\":1}", 5, json!({}));
        let b = CallbackEvent::new("t1", EventType::MessageStatus, "{\"id\":1}", 9, json!({}));
        let c = CallbackEvent::new("t2", EventType::MessageStatus, "{\"id\":1}", 5, json!({}));
        assert_eq!(a.id, b.id);
        assert_ne!(a.id, c.id);
        let json = serde_json::to_value(&a).unwrap();
        assert_eq!(json["type"], "message.status");
        for t in EventType::ALL {
            assert_eq!(EventType::parse(t.as_str()), Some(t));
        }
    }
}
