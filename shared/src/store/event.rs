//! Tenant events (template, account and number changes, and events we keep without acting
//! on) and the tenant state they update. The event item is its own dedup record.

use crate::domain::retention::{DataClass, Retention};
use crate::domain::tenant::TenantId;
use crate::store::ageing::Ageing;
use crate::store::keys::{event_sk, events_pk};
use crate::store::table::{Item, get_i64, get_s, item, n, s, sealed, unsealed};
use crate::store::{EXPIRES_AT, Expiry, PutOutcome, Store, StoreError, is_live};

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
    /// The event's JSON as Meta sent it.
    pub raw: &'a str,
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
}

impl Store {
    pub async fn put_tenant_event(
        &self,
        tenant: &TenantId,
        event: &TenantEvent<'_>,
        now: i64,
    ) -> Result<PutOutcome, StoreError> {
        // Meta's event may name a person: sealed under the tenant's data key.
        let key = self.sealing_key(tenant.as_str(), None).await?;
        let digest = self
            .keyring()?
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
        self.put_once("PutItem tenant event", it, event.expiry, now)
            .await
    }

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
        let keys = self.opening_keys(tenant.as_str(), &[]).await?;
        Ok(page
            .items
            .iter()
            .filter(|it| is_live(it, now))
            .map(|it| StoredEvent {
                field: get_s(it, "field").unwrap_or_default().to_owned(),
                kind: get_s(it, "kind").unwrap_or_default().to_owned(),
                unhandled_reason: get_s(it, "unhandled_reason").map(str::to_owned),
                raw: unsealed(keys.of(None), it, "raw").unwrap_or_default(),
            })
            .collect())
    }
}

impl Store {
    /// Seals an event stored before sealing under the tenant's data key; true when
    /// rewritten.
    pub(crate) async fn seal_event_written_before(
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
pub(crate) fn ageing(it: &Item, retention: &Retention) -> Option<Ageing> {
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
