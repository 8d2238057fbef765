//! Splits a webhook delivery into one routable event per message, status, error or change,
//! parsing only ids. Each event keeps its JSON bytes exactly as Meta sent them.

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::value::RawValue;
use sha2::{Digest, Sha256};

use super::kind::EventKind;

const WHATSAPP_OBJECT: &str = "whatsapp_business_account";

#[derive(Debug, thiserror::Error)]
pub enum WebhookBodyError {
    #[error("the body is not valid JSON: {0}")]
    NotJson(#[source] serde_json::Error),
    #[error("the body is not a WhatsApp Business Account delivery (object is {0:?})")]
    WrongObject(String),
}

/// Where an event is routed: by the phone number it was sent to, or by its WABA for
/// management events, which have no `metadata`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route<'a> {
    PhoneNumber(Cow<'a, str>),
    Waba(Cow<'a, str>),
}

#[derive(Debug)]
pub struct RoutableEvent<'a> {
    pub waba_id: Cow<'a, str>,
    pub entry_time: Option<i64>,
    pub field: Cow<'a, str>,
    pub kind: EventKind,
    pub route: Route<'a>,
    pub display_phone_number: Option<Cow<'a, str>>,
    /// The user's phone number or BSUID; only ever hashed, into the queue's group id.
    pub contact_key: Option<Cow<'a, str>>,
    /// What makes this event itself; hashed into the queue's deduplication id.
    pub identity: String,
    pub contact: Option<&'a RawValue>,
    pub item: &'a RawValue,
}

#[derive(Deserialize)]
struct Delivery<'a> {
    #[serde(borrow, default)]
    object: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    entry: Vec<Entry<'a>>,
}

#[derive(Deserialize)]
struct Entry<'a> {
    #[serde(borrow, default)]
    id: Option<Cow<'a, str>>,
    #[serde(default)]
    time: Option<i64>,
    #[serde(borrow, default)]
    changes: Vec<Change<'a>>,
}

#[derive(Deserialize)]
struct Change<'a> {
    #[serde(borrow, default)]
    field: Option<Cow<'a, str>>,
    #[serde(borrow)]
    value: Option<&'a RawValue>,
}

/// A phone-number-scoped change value: the arrays we split, each item left raw.
#[derive(Deserialize)]
struct ScopedValue<'a> {
    #[serde(borrow)]
    metadata: Metadata<'a>,
    #[serde(borrow, default)]
    contacts: Vec<&'a RawValue>,
    #[serde(borrow, default)]
    messages: Vec<&'a RawValue>,
    #[serde(borrow, default)]
    statuses: Vec<&'a RawValue>,
    #[serde(borrow, default)]
    errors: Vec<&'a RawValue>,
    #[serde(borrow, default)]
    message_echoes: Vec<&'a RawValue>,
    #[serde(borrow, default)]
    calls: Vec<&'a RawValue>,
    #[serde(borrow, default)]
    user_preferences: Vec<&'a RawValue>,
}

#[derive(Deserialize)]
struct Metadata<'a> {
    #[serde(borrow)]
    phone_number_id: Cow<'a, str>,
    #[serde(borrow, default)]
    display_phone_number: Option<Cow<'a, str>>,
}

/// The ids of one item; every field is optional so that an odd item is still routed.
#[derive(Deserialize, Default)]
struct ItemKeys<'a> {
    #[serde(borrow, default)]
    id: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    status: Option<Cow<'a, str>>,
    #[serde(default)]
    timestamp: Option<&'a RawValue>,
    #[serde(borrow, default)]
    from: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    from_user_id: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    to: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    recipient_id: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    recipient_user_id: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    wa_id: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    user_id: Option<Cow<'a, str>>,
}

#[derive(Deserialize, Default)]
struct ContactKeys<'a> {
    #[serde(borrow, default)]
    wa_id: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    user_id: Option<Cow<'a, str>>,
}

/// Parses a delivery and lists its events. Only a body that is not JSON, or not a WhatsApp
/// Business Account delivery, is an error: an odd event is still routed, never dropped.
pub fn split_delivery(body: &[u8]) -> Result<Vec<RoutableEvent<'_>>, WebhookBodyError> {
    let delivery: Delivery<'_> = serde_json::from_slice(body).map_err(WebhookBodyError::NotJson)?;
    match delivery.object.as_deref() {
        Some(WHATSAPP_OBJECT) => {}
        other => {
            return Err(WebhookBodyError::WrongObject(
                other.unwrap_or("").to_owned(),
            ));
        }
    }
    let mut events = Vec::new();
    for entry in delivery.entry {
        let waba_id = entry.id.unwrap_or(Cow::Borrowed(""));
        for change in entry.changes {
            let Some(value) = change.value else { continue };
            let field = change.field.unwrap_or(Cow::Borrowed(""));
            split_change(waba_id.clone(), entry.time, field, value, &mut events);
        }
    }
    Ok(events)
}

fn split_change<'a>(
    waba_id: Cow<'a, str>,
    entry_time: Option<i64>,
    field: Cow<'a, str>,
    value: &'a RawValue,
    events: &mut Vec<RoutableEvent<'a>>,
) {
    let Ok(scoped) = serde_json::from_str::<ScopedValue<'a>>(value.get()) else {
        let route = Route::Waba(waba_id.clone());
        events.push(whole_change(waba_id, entry_time, field, route, None, value));
        return;
    };
    let arrays: [(EventKind, &Vec<&'a RawValue>); 6] = [
        (EventKind::Message, &scoped.messages),
        (EventKind::Status, &scoped.statuses),
        (EventKind::Error, &scoped.errors),
        (EventKind::Echo, &scoped.message_echoes),
        (EventKind::Call, &scoped.calls),
        (EventKind::UserPreference, &scoped.user_preferences),
    ];
    let before = events.len();
    let contacts: Vec<ContactKeys<'a>> = scoped
        .contacts
        .iter()
        .map(|raw| serde_json::from_str(raw.get()).unwrap_or_default())
        .collect();
    for (kind, items) in arrays {
        for item in items {
            let keys: ItemKeys<'a> = serde_json::from_str(item.get()).unwrap_or_default();
            let user = user_of(kind, &keys, scoped.metadata.display_phone_number.as_deref());
            let contact = matching_contact(&user, &contacts, &scoped.contacts);
            events.push(RoutableEvent {
                waba_id: waba_id.clone(),
                entry_time,
                field: field.clone(),
                kind,
                route: Route::PhoneNumber(scoped.metadata.phone_number_id.clone()),
                display_phone_number: scoped.metadata.display_phone_number.clone(),
                contact_key: user.phone.clone().or_else(|| user.bsuid.clone()),
                identity: identity_of(kind, &keys, item),
                contact,
                item,
            });
        }
    }
    if events.len() == before {
        // A phone-number-scoped change with none of the arrays we know: keep it whole.
        let route = Route::PhoneNumber(scoped.metadata.phone_number_id.clone());
        let display = scoped.metadata.display_phone_number.clone();
        events.push(whole_change(
            waba_id, entry_time, field, route, display, value,
        ));
    }
}

/// A change kept as one event: management changes, and values of a shape we do not split.
fn whole_change<'a>(
    waba_id: Cow<'a, str>,
    entry_time: Option<i64>,
    field: Cow<'a, str>,
    route: Route<'a>,
    display_phone_number: Option<Cow<'a, str>>,
    value: &'a RawValue,
) -> RoutableEvent<'a> {
    RoutableEvent {
        waba_id,
        entry_time,
        field,
        kind: EventKind::Change,
        route,
        display_phone_number,
        contact_key: None,
        identity: digest_identity(value.get()),
        contact: None,
        item: value,
    }
}

#[derive(Default)]
struct UserKeys<'a> {
    phone: Option<Cow<'a, str>>,
    bsuid: Option<Cow<'a, str>>,
}

/// The user an item is about: the sender of a message, the recipient of a status or echo.
fn user_of<'a>(kind: EventKind, keys: &ItemKeys<'a>, business_phone: Option<&str>) -> UserKeys<'a> {
    let (phone, bsuid) = match kind {
        EventKind::Message => (keys.from.clone(), keys.from_user_id.clone()),
        EventKind::Status => (keys.recipient_id.clone(), keys.recipient_user_id.clone()),
        EventKind::Echo => (keys.to.clone(), None),
        EventKind::Call if keys.from.as_deref() == business_phone => (keys.to.clone(), None),
        EventKind::Call => (keys.from.clone(), None),
        EventKind::UserPreference => (keys.wa_id.clone(), keys.user_id.clone()),
        EventKind::Error | EventKind::Change => (None, None),
    };
    UserKeys {
        phone: phone.filter(|p| !p.is_empty()),
        bsuid: bsuid.filter(|b| !b.is_empty()),
    }
}

/// The `contacts[]` entry of the item's user; with a single entry, that one.
fn matching_contact<'a>(
    user: &UserKeys<'_>,
    contacts: &[ContactKeys<'_>],
    raw: &[&'a RawValue],
) -> Option<&'a RawValue> {
    if user.phone.is_none() && user.bsuid.is_none() {
        return None;
    }
    let position = contacts.iter().position(|c| {
        (user.phone.is_some() && c.wa_id == user.phone)
            || (user.bsuid.is_some() && c.user_id == user.bsuid)
    });
    match position {
        Some(i) => Some(raw[i]),
        None if raw.len() == 1 => Some(raw[0]),
        None => None,
    }
}

fn identity_of(kind: EventKind, keys: &ItemKeys<'_>, item: &RawValue) -> String {
    match (kind, keys.id.as_deref()) {
        // A Meta retry repeats the message's id and timestamp; the timestamp keeps apart
        // the rare different messages that share an id (anonymised test payloads do).
        (EventKind::Message, Some(id)) => {
            let ts = keys
                .timestamp
                .map(|t| t.get().trim_matches('"'))
                .unwrap_or("");
            format!("{id}@{ts}")
        }
        (EventKind::Status, Some(id)) => {
            format!("{id}/{}", keys.status.as_deref().unwrap_or(""))
        }
        // Events kept without action (echoes, calls, errors, preferences, changes): one
        // call id spans several call events, so only the exact bytes identify them.
        _ => digest_identity(item.get()),
    }
}

fn digest_identity(raw: &str) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(raw.as_bytes())))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text_delivery() -> String {
        r#"{"object":"whatsapp_business_account","entry":[{"id":"WABA1","changes":[{"field":"messages","value":{
          "messaging_product":"whatsapp","metadata":{"display_phone_number":"15550001111","phone_number_id":"PN1"},
          "contacts":[{"profile":{"name":"A"},"wa_id":"4915112345678"},{"profile":{"name":"B"},"user_id":"US.42"}],
          "messages":[
            {"from":"4915112345678","id":"wamid.1","timestamp":"1700000000","type":"text","text":{"body":"Gr\u00fc\u00dfe \/ hi"}},
            {"from_user_id":"US.42","id":"wamid.2","timestamp":"1700000001","type":"text","text":{"body":"x"}}],
          "statuses":[{"id":"wamid.0","status":"read","timestamp":"1700000002","recipient_id":"4915112345678"}]}}]}]}"#
            .to_owned()
    }

    #[test]
    fn a_delivery_is_split_into_one_event_per_message_and_status() {
        let body = text_delivery();
        let events = split_delivery(body.as_bytes()).unwrap();
        let kinds: Vec<_> = events.iter().map(|e| e.kind).collect();
        assert_eq!(
            kinds,
            [EventKind::Message, EventKind::Message, EventKind::Status]
        );
        assert!(
            events
                .iter()
                .all(|e| e.route == Route::PhoneNumber("PN1".into()))
        );
        assert_eq!(events[0].identity, "wamid.1@1700000000");
        assert_eq!(events[2].identity, "wamid.0/read");
    }

    #[test]
    fn each_event_keeps_its_bytes_and_its_users_contact_entry() {
        let body = text_delivery();
        let events = split_delivery(body.as_bytes()).unwrap();
        assert!(events[0].item.get().contains(r#"Gr\u00fc\u00dfe \/ hi"#));
        assert!(events[0].contact.unwrap().get().contains("4915112345678"));
        assert_eq!(events[1].contact_key.as_deref(), Some("US.42"));
        assert!(events[1].contact.unwrap().get().contains("US.42"));
    }

    #[test]
    fn management_changes_are_routed_by_waba_and_kept_whole() {
        let body = r#"{"object":"whatsapp_business_account","entry":[{"id":"WABA9","time":1700000000,"changes":[
            {"field":"message_template_status_update","value":{"event":"APPROVED","message_template_id":1}}]}]}"#;
        let events = split_delivery(body.as_bytes()).unwrap();
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].kind, EventKind::Change);
        assert_eq!(events[0].route, Route::Waba("WABA9".into()));
        assert_eq!(events[0].entry_time, Some(1700000000));
    }

    #[test]
    fn odd_items_are_still_routed_instead_of_failing_the_delivery() {
        let body = r#"{"object":"whatsapp_business_account","entry":[{"id":"W","changes":[
            {"field":"messages","value":{"metadata":{"phone_number_id":"PN"},"messages":[42,{"type":"new_kind"}]}},
            {"field":"future_field","value":[1,2,3]}]}]}"#;
        let events = split_delivery(body.as_bytes()).unwrap();
        assert_eq!(events.len(), 3);
        assert!(events[0].identity.starts_with("sha256:"));
        assert_eq!(events[2].kind, EventKind::Change);
    }

    #[test]
    fn bodies_that_are_not_whatsapp_deliveries_are_refused() {
        assert!(matches!(
            split_delivery(b"not json"),
            Err(WebhookBodyError::NotJson(_))
        ));
        assert!(split_delivery(b"[]").is_err());
        assert!(matches!(
            split_delivery(br#"{"object":"page","entry":[]}"#),
            Err(WebhookBodyError::WrongObject(o)) if o == "page"
        ));
    }
}
