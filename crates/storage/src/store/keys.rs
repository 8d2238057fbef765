//! Key layout of the single table. Every partition key of a tenant's data starts with
//! `T#<tenant>`, so tenant isolation shows in every key and IAM `dynamodb:LeadingKeys` can
//! enforce it. The routes are the exception by nature: they are found from Meta's ids
//! before the tenant is known, and hold nothing but the owner.
//!
//! | item | pk | sk |
//! |---|---|---|
//! | tenant | `T#<t>` | `TENANT` |
//! | phone number | `T#<t>` | `PN#<phone number id>` |
//! | phone number id → tenant | `ROUTE#PN#<phone number id>` | `ROUTE` |
//! | WABA id → owner, sharing, connected numbers | `ROUTE#WABA#<waba id>` | `ROUTE` |
//! | template | `T#<t>` | `TPL#<template id>` |
//! | identity → contact | `T#<t>#ID#<blind index of phone:…/bsuid:…>` | `ID` |
//! | contact profile | `T#<t>#C#<contact id>` | `PROFILE` |
//! | inbound message | `T#<t>#C#<contact id>` | `MSG#<sent at, 10 digits>#<blind index of the wamid>` |
//! | outbound message (by job) | `T#<t>#C#<contact id>` | `MSG#<enqueued at, 10 digits>#job.<job id>` |
//! | send pacing of a number | `T#<t>` | `PACE#<phone number id>` |
//! | API key (hash of its secret) | `T#<t>` | `KEY#<key id>` |
//! | delivery state of a wamid | `T#<t>#C#<contact id>` | `WAMID#<blind index of the wamid>` |
//! | tenant event | `T#<t>#EV` | `EV#<event time, 10 digits>#<keyed digest of the event>` |
//! | idempotency key of an API call | `T#<t>#IDEM#<keyed digest of the key>` | `IDEM` |
//! | callback endpoint | `T#<t>` | `CB#<endpoint id>` |
//! | callback delivery (log) | `T#<t>#CBLOG` | `<event time, 10 digits>#<event id>#<endpoint id>` |
//! | erasure of a person (its record) | `T#<t>` | `ERASURE#<erasure id>` |
//! | export of a person (its record) | `T#<t>` | `EXPORT#<export id>` |
//! | erased identifier (tombstone) | `T#<t>#ERASED#<blind index>` | `ERASED` |
//! | audit log entry (a tenant's, or the operator's chain `_operator`) | `T#<chain>#AUDIT` | `SEQ#<seq, 12 digits>` |
//! | signed checkpoint of an audit chain | `T#<chain>#AUDITCP` | `CP#<seq of the head it signs, 12 digits>` |
//! | conversation with the contact on a number (its cycle and activity) | `T#<t>#C#<contact id>` | `CONV#<phone number id>` |
//! | consent ledger entry | `T#<t>#C#<contact id>` | `CONSENT#<at, 10 digits>#<entry id>` |
//! | opt-out of an identifier (outlives contact and erasure) | `T#<t>#OPTOUT#<blind index>` | `OPTOUT` |
//!
//! A wamid counts as a phone number (Meta's embed the person's, base64-encoded), so no key
//! holds one: messages and delivery states are keyed by its blind index (the tenant's
//! index key, as for identifiers), and the wamid itself is sealed under the person's key.
//!
//! GSIs: `route-index` (`route_pk`: phone number or WABA id → tenant, on numbers and WABAs
//! connected before route items existed; read only when a route item is missing),
//! `conversations-by-activity` (`activity_pk` = `T#<t>`, `activity_sk` = `<activity, 10
//! digits>#<contact id>`, on conversation items), `conversation-index` (the same on contact
//! profiles, as written before conversations were items: dropped once the migration moved
//! them) and `contact-index` (`cname_pk` = `T#<t>`, `cname_sk` =
//! `<name as searched>#<contact id>`, on contact profiles) and `tenant-index` (`tlist_pk` =
//! `TENANTS`, `tlist_sk` = tenant id, on tenant items: the operator's listing).

use sha2::{Digest, Sha256};

use crate::domain::identity::IdentityKey;
use crate::domain::message_id::{MessageId, inbound_place, outbound_place};

pub fn tenant_pk(tenant: &str) -> String {
    format!("T#{tenant}")
}

pub const TENANT_SK: &str = "TENANT";

pub const NUMBER_PREFIX: &str = "PN#";

pub fn number_sk(phone_number_id: &str) -> String {
    format!("{NUMBER_PREFIX}{phone_number_id}")
}

/// A tenant's WABA item, as numbers connected before route items existed left it.
pub fn waba_sk(waba_id: &str) -> String {
    format!("WABA#{waba_id}")
}

pub const ROUTE_SK: &str = "ROUTE";

pub fn number_route_pk(phone_number_id: &str) -> String {
    format!("ROUTE#PN#{phone_number_id}")
}

pub fn waba_route_pk(waba_id: &str) -> String {
    format!("ROUTE#WABA#{waba_id}")
}

pub fn template_sk(template_id: &str) -> String {
    format!("TPL#{template_id}")
}

/// An identity's key: the blind index of the phone or BSUID, never the identifier itself.
pub fn identity_pk(tenant: &str, blinded: &str) -> String {
    format!("T#{tenant}#ID#{blinded}")
}

/// An identity's key as written before blind indexes: read only to find, move and delete
/// such items.
pub fn legacy_identity_pk(tenant: &str, key: &IdentityKey) -> String {
    format!("T#{tenant}#ID#{key}")
}

pub const IDENTITY_SK: &str = "ID";

/// The tombstone of an erased identifier: its blind index, as its identity item had.
pub fn tombstone_pk(tenant: &str, blinded: &str) -> String {
    format!("T#{tenant}#ERASED#{blinded}")
}

pub const TOMBSTONE_SK: &str = "ERASED";

pub fn audit_pk(chain: &str) -> String {
    format!("T#{chain}#AUDIT")
}

pub const AUDIT_PREFIX: &str = "SEQ#";

pub fn audit_sk(seq: u64) -> String {
    format!("{AUDIT_PREFIX}{seq:012}")
}

pub fn audit_checkpoint_pk(chain: &str) -> String {
    format!("T#{chain}#AUDITCP")
}

pub fn audit_checkpoint_sk(seq: u64) -> String {
    format!("CP#{seq:012}")
}

pub fn opt_out_pk(tenant: &str, blinded: &str) -> String {
    format!("T#{tenant}#OPTOUT#{blinded}")
}

pub const OPT_OUT_SK: &str = "OPTOUT";

/// The tenant of an identifier's opt-out item's key.
pub fn opt_out_tenant(pk: &str) -> Option<&str> {
    let (tenant, _) = pk.strip_prefix("T#")?.split_once("#OPTOUT#")?;
    (!tenant.contains('#')).then_some(tenant)
}
pub const CONVERSATION_PREFIX: &str = "CONV#";

/// The conversation with a contact on one of the tenant's numbers (Meta's id of the
/// business's number: not the person's).
pub fn conversation_sk(phone_number_id: &str) -> String {
    format!("{CONVERSATION_PREFIX}{phone_number_id}")
}

/// The conversation index's partition and sort keys: the tenant, and the conversation's
/// latest activity with its contact.
pub fn conversation_activity_keys(tenant: &str, contact_id: &str, at: i64) -> (String, String) {
    (tenant_pk(tenant), format!("{at:010}#{contact_id}"))
}

pub const CONSENT_PREFIX: &str = "CONSENT#";

pub fn consent_sk(at: i64, entry_id: &str) -> String {
    format!("{CONSENT_PREFIX}{at:010}#{entry_id}")
}

pub fn erasure_sk(erasure_id: &str) -> String {
    format!("ERASURE#{erasure_id}")
}

pub fn export_sk(export_id: &str) -> String {
    format!("EXPORT#{export_id}")
}

/// The tenant and contact of a contact partition's key.
pub fn contact_of_pk(pk: &str) -> Option<(&str, &str)> {
    let (tenant, contact) = pk.strip_prefix("T#")?.split_once("#C#")?;
    (!tenant.contains('#') && !contact.contains('#')).then_some((tenant, contact))
}

/// The tenant and identifier (`phone:…`, `bsuid:…`) of an identity item's key as written
/// before blind indexes.
pub fn legacy_identity_of_pk(pk: &str) -> Option<(&str, &str)> {
    let (tenant, key) = pk.strip_prefix("T#")?.split_once("#ID#")?;
    let legacy = key.starts_with("phone:") || key.starts_with("bsuid:");
    (legacy && !tenant.contains('#')).then_some((tenant, key))
}

pub fn contact_pk(tenant: &str, contact_id: &str) -> String {
    format!("T#{tenant}#C#{contact_id}")
}

pub const PROFILE_SK: &str = "PROFILE";

/// An inbound message's key: its time and the blind index of its wamid.
pub fn message_sk(sent_at: i64, blinded_wamid: &str) -> String {
    format!("{MESSAGE_PREFIX}{}", inbound_place(sent_at, blinded_wamid))
}

pub const MESSAGE_PREFIX: &str = "MSG#";

/// An outbound message's key comes from its job, so a redelivered job finds it before
/// sending; it sorts with the inbound messages of the conversation.
pub fn outbound_sk(enqueued_at: i64, job_id: &str) -> String {
    format!("{MESSAGE_PREFIX}{}", outbound_place(enqueued_at, job_id))
}

/// The key of the message a public id names.
pub fn message_id_sk(id: &MessageId) -> String {
    format!("{MESSAGE_PREFIX}{}", id.place())
}

/// The public id of the message stored under `sk` in `contact_id`'s partition.
pub fn message_id_of(contact_id: &str, sk: &str) -> MessageId {
    MessageId::at(
        contact_id,
        sk.strip_prefix(MESSAGE_PREFIX).unwrap_or(sk).to_owned(),
    )
}

pub const PACE_PREFIX: &str = "PACE#";

pub fn pace_sk(phone_number_id: &str) -> String {
    format!("{PACE_PREFIX}{phone_number_id}")
}

pub fn api_key_sk(key_id: &str) -> String {
    format!("KEY#{key_id}")
}

pub const API_KEY_PREFIX: &str = "KEY#";

pub const WAMID_PREFIX: &str = "WAMID#";

/// A delivery state's key: the blind index of its wamid.
pub fn wamid_sk(blinded_wamid: &str) -> String {
    format!("{WAMID_PREFIX}{blinded_wamid}")
}

/// What a key written before wamids were blinded holds after its prefix: every wamid of
/// Meta's starts so. The sealing pass moves such items under the blind index.
pub const RAW_WAMID_MARK: &str = "wamid.";

/// The time and wamid of an inbound message's key written before wamids were blinded.
pub fn raw_wamid_of_message_sk(sk: &str) -> Option<(i64, &str)> {
    let (time, wamid) = sk.strip_prefix(MESSAGE_PREFIX)?.split_once('#')?;
    wamid
        .starts_with(RAW_WAMID_MARK)
        .then(|| Some((time.parse().ok()?, wamid)))
        .flatten()
}

/// The wamid of a delivery state's key written before wamids were blinded.
pub fn raw_wamid_of_status_sk(sk: &str) -> Option<&str> {
    sk.strip_prefix(WAMID_PREFIX)
        .filter(|w| w.starts_with(RAW_WAMID_MARK))
}

/// What a separate dedup record's key holds before the key of the item it stands for.
pub use wagate_platform::table::DEDUP_PREFIX;

pub fn events_pk(tenant: &str) -> String {
    format!("T#{tenant}#EV")
}

/// The tenant of a tenant events partition's key.
pub fn events_tenant(pk: &str) -> Option<&str> {
    pk.strip_prefix("T#")?.strip_suffix("#EV")
}

pub fn event_sk(event_time: i64, digest: &str) -> String {
    format!("EV#{event_time:010}#{digest}")
}

/// The unkeyed hash an idempotency key's item was keyed by before keyed digests: read
/// only to honour a claim made before (it lives a day).
pub fn legacy_idempotency_hash(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

pub fn idempotency_pk_of_hash(tenant: &str, hash: &str) -> String {
    format!("T#{tenant}#IDEM#{hash}")
}

pub const IDEMPOTENCY_SK: &str = "IDEM";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_written_before_wamids_were_blinded_are_told_apart() {
        assert_eq!(
            raw_wamid_of_message_sk("MSG#1700000000#wamid.HBgL+/="),
            Some((1_700_000_000, "wamid.HBgL+/="))
        );
        assert_eq!(raw_wamid_of_message_sk("MSG#1700000000#0123abcd"), None);
        assert_eq!(raw_wamid_of_message_sk("MSG#1700000000#job.x"), None);
        assert_eq!(raw_wamid_of_status_sk("WAMID#wamid.X"), Some("wamid.X"));
        assert_eq!(raw_wamid_of_status_sk("WAMID#0123abcd"), None);
    }

    #[test]
    fn contact_and_legacy_identity_keys_are_read_back() {
        assert_eq!(contact_of_pk("T#acme#C#c_1"), Some(("acme", "c_1")));
        assert_eq!(contact_of_pk("T#acme#CBLOG"), None);
        assert_eq!(contact_of_pk("T#acme#C#c_1#x"), None);
        assert_eq!(
            legacy_identity_of_pk("T#acme#ID#phone:4915112345678"),
            Some(("acme", "phone:4915112345678"))
        );
        assert_eq!(
            legacy_identity_of_pk("T#acme#ID#bsuid:DE.abc"),
            Some(("acme", "bsuid:DE.abc"))
        );
        assert_eq!(legacy_identity_of_pk("T#acme#ID#0123456789abcdef"), None);
    }
}
