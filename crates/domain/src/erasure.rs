//! Erasing one person at their request: whom (a phone number or a BSUID), how far the
//! erasure got, and the receipt that proves it. Nothing here holds personal data once the
//! request is parsed: a job knows its person by keyed hashes and contact ids only.

use serde::{Deserialize, Serialize};

use crate::identity::{Bsuid, IdentityError, IdentityKey, Phone};

/// How long after an erasure events about the person sent before it are still dropped:
/// longer than any copy of them can live in a queue. A queue keeps a message 14 days at
/// most; one redriven from a dead-letter queue can spend up to 14 more in its source queue;
/// Meta retries a webhook for 7 days.
pub const TOMBSTONE_SECS: i64 = 30 * 24 * 3600;

/// How long the erasure's record (its state, counts and receipt) can be read back.
pub const ERASURE_RECORD_SECS: i64 = 400 * 24 * 3600;

/// The receipt's format; bumped when its fields change. Version 2 names whom it covers
/// (`subject`) and when backups stop holding anything readable of them.
pub const RECEIPT_VERSION: u32 = 2;

/// The body of an erasure request: exactly one of the two.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PersonRequest {
    /// The person's phone number in international form (`+4915112345678`).
    #[serde(default)]
    pub phone: Option<String>,
    /// Or their business-scoped user id (`DE.1349120865530274`).
    #[serde(default)]
    pub bsuid: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PersonRequestError {
    #[error("give either `phone` or `bsuid`, not both")]
    Both,
    #[error("give the person's `phone` or `bsuid`")]
    Neither,
    #[error(transparent)]
    Identity(#[from] IdentityError),
}

impl PersonRequestError {
    /// The request field at fault.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            Self::Identity(IdentityError::BadPhone) => Some("phone"),
            Self::Identity(IdentityError::BadBsuid) => Some("bsuid"),
            _ => None,
        }
    }
}

impl PersonRequest {
    /// The one identifier the request names.
    pub fn person(&self) -> Result<IdentityKey, PersonRequestError> {
        match (self.phone.as_deref(), self.bsuid.as_deref()) {
            (Some(_), Some(_)) => Err(PersonRequestError::Both),
            (None, None) => Err(PersonRequestError::Neither),
            (Some(phone), None) => Ok(IdentityKey::Phone(Phone::parse(phone)?)),
            (None, Some(bsuid)) => Ok(IdentityKey::Bsuid(Bsuid::parse(bsuid)?)),
        }
    }
}

/// Where a person's request (an erasure, an export) stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RequestState {
    Running,
    Done,
    Failed,
}

impl RequestState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Done => "done",
            Self::Failed => "failed",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "running" => Some(Self::Running),
            "done" => Some(Self::Done),
            "failed" => Some(Self::Failed),
            _ => None,
        }
    }
}

/// What an erasure deleted, by class of data.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ErasedCounts {
    /// Contact profiles (a person may have had more than one: a number they moved from).
    pub contacts: u64,
    /// Phone numbers and BSUIDs that led to them.
    pub identities: u64,
    /// Their data keys, destroyed: whatever was sealed under them no longer opens.
    pub data_keys: u64,
    pub messages: u64,
    pub delivery_states: u64,
    pub idempotency_records: u64,
    pub callback_deliveries: u64,
    pub tenant_events: u64,
    /// Exports of their data (files and records).
    pub exports: u64,
    /// Lines of their consent ledger. What survives of an opt-out is a keyed hash of each
    /// identifier with the scope and time, so that they are not messaged again. Left out
    /// of a receipt when none, so receipts made before the ledger verify as they were.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub consent_entries: u64,
    /// Their conversations, one per number. Left out of a receipt when none, so receipts
    /// made before conversations were items verify as they were.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub conversations: u64,
}

fn is_zero(count: &u64) -> bool {
    *count == 0
}

/// The classes, in the order the record and the receipt name them.
pub const ERASED_CLASSES: [&str; 11] = [
    "contacts",
    "identities",
    "data_keys",
    "messages",
    "delivery_states",
    "idempotency_records",
    "callback_deliveries",
    "tenant_events",
    "exports",
    "consent_entries",
    "conversations",
];

impl ErasedCounts {
    /// The count of a class named in [`ERASED_CLASSES`].
    pub fn get_mut(&mut self, class: &str) -> Option<&mut u64> {
        Some(match class {
            "contacts" => &mut self.contacts,
            "identities" => &mut self.identities,
            "data_keys" => &mut self.data_keys,
            "messages" => &mut self.messages,
            "delivery_states" => &mut self.delivery_states,
            "idempotency_records" => &mut self.idempotency_records,
            "callback_deliveries" => &mut self.callback_deliveries,
            "tenant_events" => &mut self.tenant_events,
            "exports" => &mut self.exports,
            "consent_entries" => &mut self.consent_entries,
            "conversations" => &mut self.conversations,
            _ => return None,
        })
    }

    pub fn get(&self, class: &str) -> u64 {
        let mut copy = *self;
        copy.get_mut(class).map(|c| *c).unwrap_or(0)
    }

    pub fn add(&mut self, other: &ErasedCounts) {
        for class in ERASED_CLASSES {
            if let Some(count) = self.get_mut(class) {
                *count += other.get(class);
            }
        }
    }

    pub fn total(&self) -> u64 {
        ERASED_CLASSES.iter().map(|c| self.get(c)).sum()
    }
}

/// What a finished erasure proves, signed. It names the tenant, the erasure and the key
/// that asked for it, never the person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ErasureReceipt {
    pub version: u32,
    pub erasure_id: String,
    pub tenant_id: String,
    /// The API key id that asked, or `operator`.
    pub requested_by: String,
    pub requested_at: i64,
    pub completed_at: i64,
    pub erased: ErasedCounts,
    /// Until then, events about the person sent before the erasure are dropped on arrival.
    pub tombstone_expires_at: i64,
    /// Whom it covers: a keyed digest (HMAC-SHA256 under the tenant's index key) of the
    /// identifier the erasure named, so that the business can show the person that the
    /// receipt is theirs (`POST /admin/v1/erasure-receipts/verify` with their number)
    /// while the receipt itself names no one. Absent from version 1 receipts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// From then on no backup holds anything readable of the person: the key table's
    /// point-in-time recovery window, the only copy of their data key, has passed (the
    /// data table's backups hold only what their destroyed key sealed). Absent from
    /// version 1 receipts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backups_unreadable_after: Option<i64>,
}

impl ErasureReceipt {
    /// The bytes the signature covers: the receipt's JSON, fields in their declared order.
    pub fn signed_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("a receipt always serialises")
    }
}

/// A receipt with its signature: an HMAC whose key never leaves KMS.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SignedReceipt {
    pub receipt: ErasureReceipt,
    /// Base64 of the MAC over [`ErasureReceipt::signed_bytes`].
    pub signature: String,
    /// KMS's MAC algorithm, `HMAC_SHA_256`.
    pub algorithm: String,
    /// The KMS key that made it (its id, not the key).
    pub key_id: String,
}

/// One erasure as its record holds it, and as the admin API shows it: it never names the
/// person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PersonErasure {
    pub id: String,
    #[serde(skip)]
    pub tenant_id: String,
    pub state: RequestState,
    /// The API key id that asked for it, or `operator`.
    pub requested_by: String,
    pub requested_at: i64,
    pub finished_at: Option<i64>,
    /// What was deleted so far, by class; final once `done`.
    pub erased: ErasedCounts,
    /// Until then, events about the person sent before the erasure are dropped on arrival.
    pub tombstone_expires_at: i64,
    /// Why it failed, when it did (no personal data).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
    /// Whom it covers, as a keyed digest of the identifier it named (see the receipt).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// While `running` after its first pass: when its final pass runs, once every writer
    /// that read the person before the erasure has stopped. The receipt follows it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub final_pass_due_at: Option<i64>,
    /// The signed receipt, once `done`; check it with `POST /admin/v1/erasure-receipts/verify`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub receipt: Option<SignedReceipt>,
}

/// The fields of Meta's payloads that name a user: a phone number (`wa_id`, `from`, ...)
/// or a BSUID (`user_id`, ...).
const IDENTIFIER_FIELDS: [&str; 8] = [
    "from",
    "wa_id",
    "recipient_id",
    "new_wa_id",
    "to",
    "user_id",
    "from_user_id",
    "recipient_user_id",
];

/// Every user identifier a stored event's JSON names, at any depth: what tells whether
/// it is about an erased person, and whose it is. Besides the fields that name a user
/// everywhere, coexistence's payloads name them in two places of their own: a `history`
/// thread's `id` (the user's number) and a `smb_app_state_sync` contact's `phone_number`.
pub fn identifiers_in(raw: &str) -> Vec<IdentityKey> {
    let mut found = Vec::new();
    if let Ok(value) = serde_json::from_str::<serde_json::Value>(raw) {
        identifiers_in_value(&value, &mut found);
    }
    found
}

/// [`identifiers_in`] of a parsed value, added to `found`.
pub fn identifiers_in_value(value: &serde_json::Value, found: &mut Vec<IdentityKey>) {
    let mut add = |text: &str| {
        let key = Phone::parse(text)
            .map(IdentityKey::Phone)
            .or_else(|_| Bsuid::parse(text).map(IdentityKey::Bsuid));
        if let Ok(key) = key
            && !found.contains(&key)
        {
            found.push(key);
        }
    };
    match value {
        serde_json::Value::Object(map) => {
            for (name, inner) in map {
                if let (true, Some(text)) =
                    (IDENTIFIER_FIELDS.contains(&name.as_str()), inner.as_str())
                {
                    add(text);
                }
                match (name.as_str(), inner) {
                    ("threads", serde_json::Value::Array(threads)) => {
                        for id in threads.iter().filter_map(|t| t.get("id")?.as_str()) {
                            add(id);
                        }
                    }
                    ("contact", serde_json::Value::Object(contact)) => {
                        if let Some(phone) = contact.get("phone_number").and_then(|p| p.as_str()) {
                            add(phone);
                        }
                    }
                    _ => {}
                }
            }
            for inner in map.values() {
                identifiers_in_value(inner, found);
            }
        }
        serde_json::Value::Array(items) => {
            items.iter().for_each(|v| identifiers_in_value(v, found))
        }
        _ => {}
    }
}

/// A new erasure's id: `er_` and 24 hex digits, the first 8 its time, so that a tenant's
/// erasures list newest first by their keys.
pub fn new_erasure_id(now: i64) -> String {
    format!("er_{}", time_ordered_hex(now))
}

/// 24 hex digits: the time (8, seconds, big-endian) then 16 random ones.
pub fn time_ordered_hex(now: i64) -> String {
    use rand::Rng;
    let time = u32::try_from(now.max(0)).unwrap_or(u32::MAX);
    format!(
        "{}{}",
        hex::encode(time.to_be_bytes()),
        hex::encode(rand::rng().random::<[u8; 8]>())
    )
}

/// Whether `raw` is shaped like an erasure id (anything else is not looked up).
pub fn is_erasure_id(raw: &str) -> bool {
    raw.strip_prefix("er_")
        .is_some_and(|hex| hex.len() == 24 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(phone: Option<&str>, bsuid: Option<&str>) -> PersonRequest {
        PersonRequest {
            phone: phone.map(str::to_owned),
            bsuid: bsuid.map(str::to_owned),
        }
    }

    #[test]
    fn a_request_names_exactly_one_valid_identifier() {
        assert_eq!(
            request(Some("+49 151 12345678"), None)
                .person()
                .unwrap()
                .to_string(),
            "phone:4915112345678"
        );
        assert_eq!(
            request(None, Some("DE.1349120865530274"))
                .person()
                .unwrap()
                .to_string(),
            "bsuid:DE.1349120865530274"
        );
        assert_eq!(
            request(Some("4915112345678"), Some("DE.1")).person(),
            Err(PersonRequestError::Both)
        );
        assert_eq!(
            request(None, None).person(),
            Err(PersonRequestError::Neither)
        );
        let bad_phone = request(Some("12ab"), None).person().unwrap_err();
        assert_eq!(bad_phone.field(), Some("phone"));
        let bad_bsuid = request(None, Some("nope")).person().unwrap_err();
        assert_eq!(bad_bsuid.field(), Some("bsuid"));
    }

    #[test]
    fn an_unknown_field_is_refused() {
        let parsed =
            serde_json::from_str::<PersonRequest>(r#"{"phone":"4915112345678","name":"x"}"#);
        assert!(parsed.is_err());
    }

    #[test]
    fn an_events_identifiers_are_found_at_any_depth() {
        let raw = r#"{"from":"4915112345678","context":{"from":"15550001111"},"statuses":[{"recipient_id":"4915112345678","recipient_user_id":"DE.77"}],"text":{"body":"from 4915199999999"},"id":"wamid.X"}"#;
        let mut found: Vec<String> = identifiers_in(raw)
            .iter()
            .map(ToString::to_string)
            .collect();
        found.sort();
        assert_eq!(
            found,
            ["bsuid:DE.77", "phone:15550001111", "phone:4915112345678"]
        );
        assert!(identifiers_in("not json").is_empty());
    }

    #[test]
    fn coexistence_payloads_name_their_people_where_they_do() {
        let history = r#"{"history":[{"metadata":{"phase":0},"threads":[{"id":"4915112345678","messages":[{"id":"wamid.A","timestamp":"1"}]},{"id":"4915199999999","messages":[]}]}]}"#;
        let found: Vec<String> = identifiers_in(history)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(found, ["phone:4915112345678", "phone:4915199999999"]);
        let sync = r#"{"state_sync":[{"type":"contact","contact":{"full_name":"Ana","phone_number":"4915112345678"},"action":"add"}]}"#;
        assert_eq!(identifiers_in(sync)[0].to_string(), "phone:4915112345678");
        // Elsewhere an `id` is a wamid or another id, not a person.
        assert!(identifiers_in(r#"{"id":"4915112345678"}"#).is_empty());
    }

    #[test]
    fn counts_add_up_by_class() {
        let mut total = ErasedCounts {
            messages: 3,
            ..Default::default()
        };
        total.add(&ErasedCounts {
            messages: 2,
            contacts: 1,
            ..Default::default()
        });
        assert_eq!((total.messages, total.contacts, total.total()), (5, 1, 6));
        assert_eq!(total.get("nothing"), 0);
    }

    #[test]
    fn the_signed_bytes_do_not_depend_on_how_the_receipt_arrived() {
        // A version 1 receipt, without the fields version 2 added, signs as it did.
        let mut receipt = ErasureReceipt {
            version: 1,
            erasure_id: "er_0123456789abcdef01234567".into(),
            tenant_id: "acme".into(),
            requested_by: "operator".into(),
            requested_at: 1,
            completed_at: 2,
            erased: ErasedCounts::default(),
            tombstone_expires_at: 3,
            subject: None,
            backups_unreadable_after: None,
        };
        let reordered = r#"{"tenant_id":"acme","version":1,"erasure_id":"er_0123456789abcdef01234567","requested_by":"operator","requested_at":1,"completed_at":2,"tombstone_expires_at":3,"erased":{"tenant_events":0,"contacts":0,"identities":0,"data_keys":0,"messages":0,"delivery_states":0,"idempotency_records":0,"callback_deliveries":0,"exports":0}}"#;
        let parsed: ErasureReceipt = serde_json::from_str(reordered).unwrap();
        assert_eq!(parsed.signed_bytes(), receipt.signed_bytes());
        // Version 2 covers its subject and its promise about backups.
        receipt.version = RECEIPT_VERSION;
        receipt.subject = Some("0123abcd".into());
        receipt.backups_unreadable_after = Some(4);
        let reordered = r#"{"backups_unreadable_after":4,"subject":"0123abcd","tenant_id":"acme","version":2,"erasure_id":"er_0123456789abcdef01234567","requested_by":"operator","requested_at":1,"completed_at":2,"tombstone_expires_at":3,"erased":{"tenant_events":0,"contacts":0,"identities":0,"data_keys":0,"messages":0,"delivery_states":0,"idempotency_records":0,"callback_deliveries":0,"exports":0}}"#;
        let parsed: ErasureReceipt = serde_json::from_str(reordered).unwrap();
        assert_eq!(parsed.signed_bytes(), receipt.signed_bytes());
        assert!(is_erasure_id(&receipt.erasure_id));
        assert!(!is_erasure_id("er_xyz"));
    }

    #[test]
    fn new_ids_sort_by_their_time() {
        let early = new_erasure_id(1_700_000_000);
        let later = new_erasure_id(1_700_000_001);
        assert!(is_erasure_id(&early) && is_erasure_id(&later));
        assert!(early < later);
        assert!(new_erasure_id(1_800_000_000) > later);
    }
}
