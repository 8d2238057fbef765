//! Tenant events (template, account and number changes, and events we keep without acting
//! on) and the tenant state they update. The event item is its own dedup record.
//!
//! An event may name people (an echo's recipient, a call's caller, a coexistence history
//! thread). It lists the blind indexes of the identifiers it names (`id_hashes`), so that
//! erasing or exporting a person finds it without opening anything, and one about a
//! single person who is a contact is sealed under that person's key (`contact_id`): once
//! they are erased it opens nowhere, backups included. Others are sealed under the
//! tenant's data key.

use crate::store::ContactStore;
use std::collections::BTreeSet;
use std::future::Future;

use aws_sdk_dynamodb::types::AttributeValue;

use crate::domain::identity::IdentityKey;
use crate::domain::retention::{DataClass, Retention};
use crate::domain::tenant::TenantId;
use crate::store::cursor::Cursor;
use crate::store::item_life::Ageing;
use crate::store::keys::{event_sk, events_pk};
use crate::store::table::{Item, get_i64, get_s, item, n, s, sealed, unsealed};
use crate::store::{EXPIRES_AT, Expiry, PutOutcome, StoreError, is_live};

/// The attribute that lists the blind indexes of the identifiers an event names.
pub const EVENT_ID_HASHES: &str = "id_hashes";
/// The attribute that names the contact whose key seals an event about them alone.
pub const EVENT_CONTACT: &str = "contact_id";

/// One stored tenant event.
#[derive(Debug, Clone)]
pub struct TenantEvent<'a> {
    pub event_time: i64,
    /// What makes the event itself (its field, kind and JSON as Meta sent it): with the
    /// time, a keyed digest of it is the item's key, since it may name a person.
    pub identity: &'a str,
    pub field: &'a str,
    pub kind: &'a str,
    /// Why it was kept without being acted on, when that is the case.
    pub unhandled_reason: Option<&'a str>,
    /// The event's JSON as Meta sent it (or a mark that its content is not stored).
    pub raw: &'a str,
    /// The people it names (what Meta sent names them even when the raw is not stored).
    pub named: &'a [IdentityKey],
    /// Whose retention it follows: what Meta's event may hold of what people wrote, or
    /// facts only.
    pub class: DataClass,
    pub expiry: Expiry,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEvent {
    pub field: String,
    pub kind: String,
    pub unhandled_reason: Option<String>,
    pub raw: String,
    /// When it happened by Meta's clock.
    pub event_time: i64,
}

crate::store::repository! {
    /// The tenant's account events (Meta's management webhooks), kept for the tenant to read.
    TenantEventStore
}

impl TenantEventStore {
    /// The tenant's events, newest first, without expired ones.
    pub async fn tenant_events(
        &self,
        tenant: &TenantId,
        now: i64,
        limit: i32,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        let page = self
            .query(
                "Query tenant events",
                "pk = :pk AND begins_with(sk, :prefix)",
            )
            .value(":pk", s(events_pk(tenant.as_str())))
            .value(":prefix", s("EV#"))
            .backwards()
            .limit(limit)
            .page()
            .await?;
        self.open_events(tenant, &page.items, now).await
    }

    /// A page of the tenant's events, from `start`, that name one of the blinded
    /// identifiers or are about one of `contacts`: what a person's export holds.
    pub async fn events_about(
        &self,
        tenant: &TenantId,
        (blinded, contacts): (&[String], &[String]),
        start: Option<&Cursor>,
        limit: i32,
        now: i64,
    ) -> Result<(Vec<StoredEvent>, Option<Cursor>), StoreError> {
        let page = self
            .query(
                "Query tenant events about a person",
                "pk = :pk AND begins_with(sk, :prefix)",
            )
            .value(":pk", s(events_pk(tenant.as_str())))
            .value(":prefix", s("EV#"))
            .limit(limit)
            .after(start)
            .page()
            .await?;
        let about: Vec<Item> = page
            .items
            .into_iter()
            .filter(|it| names_any(it, blinded, contacts))
            .collect();
        Ok((self.open_events(tenant, &about, now).await?, page.next))
    }

    /// Live events of `items`, each opened with its own key.
    async fn open_events(
        &self,
        tenant: &TenantId,
        items: &[Item],
        now: i64,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        let people: Vec<&str> = items
            .iter()
            .filter_map(|it| get_s(it, EVENT_CONTACT))
            .collect();
        let keys = self.opening_keys(tenant.as_str(), &people).await?;
        Ok(items
            .iter()
            .filter(|it| is_live(it, now))
            .map(|it| StoredEvent {
                field: get_s(it, "field").unwrap_or_default().to_owned(),
                kind: get_s(it, "kind").unwrap_or_default().to_owned(),
                unhandled_reason: get_s(it, "unhandled_reason").map(str::to_owned),
                raw: unsealed(keys.of(get_s(it, EVENT_CONTACT)), it, "raw").unwrap_or_default(),
                event_time: get_i64(it, "event_time").unwrap_or(0),
            })
            .collect())
    }
}

/// Whether an event names one of the blinded identifiers or is about one of `contacts`,
/// as its own attributes say (events stored before they said are not found this way).
pub fn names_any(it: &Item, blinded: &[String], contacts: &[String]) -> bool {
    let hashes = match it.get(EVENT_ID_HASHES) {
        Some(AttributeValue::Ss(hashes)) => hashes.as_slice(),
        _ => &[],
    };
    hashes.iter().any(|h| blinded.contains(h))
        || get_s(it, EVENT_CONTACT).is_some_and(|c| contacts.iter().any(|x| x == c))
}

impl TenantEventStore {
    /// Seals an event stored before sealing under the tenant's data key; true when
    /// rewritten.
    pub async fn seal_event_written_before(
        &self,
        tenant: &TenantId,
        it: &crate::store::table::Item,
    ) -> Result<bool, StoreError> {
        let key = self.sealing_key(tenant.as_str(), None).await?;
        self.seal_written_before("UpdateItem seal tenant event", it, &["raw"], &key)
            .await
    }
}

/// The retention class an event was stored under.
const CLASS: &str = "retention_class";

fn class_name(class: DataClass) -> &'static str {
    match class {
        DataClass::Content => "content",
        _ => "metadata",
    }
}

/// An event's sooner end under `retention`, counted from its time, by the class it was
/// stored under; one stored before classes were written takes the sooner of the two.
pub fn ageing(it: &Item, retention: &Retention) -> Option<Ageing> {
    let base = get_i64(it, "event_time")?;
    let stored = get_i64(it, EXPIRES_AT)?;
    let end = |class| retention.shortened_end(class, base, stored);
    let shortened = match get_s(it, CLASS) {
        Some("content") => end(DataClass::Content),
        Some(_) => end(DataClass::Metadata),
        None => end(DataClass::Content)
            .into_iter()
            .chain(end(DataClass::Metadata))
            .min(),
    };
    Ageing::end(shortened)
}

/// The tenant's account events, each stored once.
pub trait TenantEventLog: Send + Sync {
    /// Keeps the event once (a redelivery is a `Duplicate`). An event from before the
    /// erasure of anyone it names (Meta's retry, a redriven dead letter) is not kept
    /// either, and answers `Duplicate`: nothing was written.
    fn put_tenant_event(
        &self,
        tenant: &TenantId,
        event: &TenantEvent<'_>,
        now: i64,
    ) -> impl Future<Output = Result<PutOutcome, StoreError>> + Send;
}

impl TenantEventLog for TenantEventStore {
    async fn put_tenant_event(
        &self,
        tenant: &TenantId,
        event: &TenantEvent<'_>,
        now: i64,
    ) -> Result<PutOutcome, StoreError> {
        let keyring = self.keyring()?;
        let mut hashes = Vec::with_capacity(event.named.len());
        for person in event.named {
            hashes.push(keyring.blind(tenant.as_str(), &person.to_string()).await?);
        }
        if !hashes.is_empty()
            && self
                .repo::<ContactStore>()
                .tombstones_of(tenant, &hashes, now)
                .await?
                .values()
                .any(|erased_at| *erased_at >= event.event_time)
        {
            return Ok(PutOutcome::Duplicate);
        }
        let mut contacts = BTreeSet::new();
        for person in event.named {
            if let Some(found) = self
                .repo::<ContactStore>()
                .find_identity(tenant, person, now)
                .await?
            {
                contacts.insert(found.contact_id);
            }
        }
        // About one known person: their key (an erased one's makes the event dropped).
        // About several, or someone who is no contact: the tenant's data key.
        let person = match contacts.len() {
            1 => contacts.pop_first(),
            _ => None,
        };
        let key = self.sealing_key(tenant.as_str(), person.as_deref()).await?;
        let digest = keyring
            .keyed_digest(tenant.as_str(), "tenant-event", event.identity.as_bytes())
            .await?;
        let (pk, sk) = (
            events_pk(tenant.as_str()),
            event_sk(event.event_time, &digest),
        );
        let raw = sealed(&key, &pk, &sk, "raw", event.raw);
        let mut it = item([
            ("pk", s(pk)),
            ("sk", s(sk)),
            ("field", s(event.field)),
            ("kind", s(event.kind)),
            ("raw", raw),
            ("event_time", n(event.event_time)),
            (CLASS, s(class_name(event.class))),
            (EXPIRES_AT, n(event.expiry.at)),
        ]);
        if let Some(reason) = event.unhandled_reason {
            it.insert("unhandled_reason".into(), s(reason));
        }
        if !hashes.is_empty() {
            hashes.sort();
            hashes.dedup();
            it.insert(EVENT_ID_HASHES.into(), AttributeValue::Ss(hashes));
        }
        if let Some(contact) = person {
            it.insert(EVENT_CONTACT.into(), s(contact));
        }
        self.put_once("PutItem tenant event", it, event.expiry, now)
            .await
    }
}
