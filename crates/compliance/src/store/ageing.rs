//! Ageing what is already stored: one page of one segment of a scan of the table at a
//! time (every tenant's items), or one tenant's partitions walked by query (its contacts by
//! the contact index, then its logs). Each item's own module says what its life becomes
//! under its tenant's retention (`ageing`); this writes it with a condition on the end it was read with, so a page run
//! twice (a redelivered job, a daily run after a change) writes nothing twice, and an item
//! a worker rewrote meanwhile keeps what the worker wrote.

use crate::store::ContactStore;
use crate::store::TenantStore;
use std::collections::HashMap;

use crate::domain::retention::{Aged, Retention};
use crate::domain::tenant::TenantId;
use crate::store::cursor::Cursor;
use crate::store::item_life::Ageing;
use crate::store::keys::{
    CONSENT_PREFIX, CONVERSATION_PREFIX, MESSAGE_PREFIX, PROFILE_SK, contact_of_pk, events_pk,
    events_tenant, wamid_sk,
};
use crate::store::table::{Item, get_i64, get_s, n, s};
use crate::store::tenant::erasure::ScanPosition;
use crate::store::{EXPIRES_AT, Store, StoreError, contact, conversation, event, message};
use wagate_integrations::store::callback;
use wagate_integrations::store::callback::{delivery_log_pk, delivery_log_tenant};

/// One page of an ageing sweep.
#[derive(Debug, Default)]
pub struct AgeingPage {
    pub aged: Aged,
    pub next: Option<ScanPosition>,
}

/// Each tenant's retention, read once per job (a tenant gone reads as `None`).
#[derive(Debug, Default)]
pub struct RetentionCache(HashMap<String, Option<Retention>>);

impl RetentionCache {
    async fn of(&mut self, store: &Store, tenant: &str) -> Result<Option<Retention>, StoreError> {
        if let Some(found) = self.0.get(tenant) {
            return Ok(*found);
        }
        let found = match TenantId::parse(tenant) {
            Ok(id) => store
                .repo::<TenantStore>()
                .retention_settings(&id)
                .await?
                .map(|s| s.retention),
            Err(_) => None,
        };
        self.0.insert(tenant.to_owned(), found);
        Ok(found)
    }
}

/// Items one query page of a partition reads.
const PARTITION_PAGE_ITEMS: i32 = 500;

/// The tenant's partitions outside its contacts whose items a shorter retention reaches:
/// its events and its callback delivery log (not its audit log: see [`owner`]).
pub fn tenant_logs(tenant: &TenantId) -> [String; 2] {
    [events_pk(tenant.as_str()), delivery_log_pk(tenant.as_str())]
}

crate::store::repository! {
    /// Ageing what is already stored under a tenant's retention, page by page.
    AgeingStore
}

impl AgeingStore {
    /// Ages every item of up to `contacts` of the tenant's contacts, from after `after`
    /// in the contact index; where the next page starts, if there is one.
    pub async fn age_contacts_page(
        &self,
        tenant: &TenantId,
        after: Option<&Cursor>,
        contacts: i32,
        retention: &mut RetentionCache,
        now: i64,
    ) -> Result<(Aged, Option<Cursor>), StoreError> {
        let (partitions, next) = self
            .repo::<ContactStore>()
            .contact_partitions_page(tenant, after, contacts)
            .await?;
        let mut aged = Aged::default();
        for pk in &partitions {
            let mut start = None;
            loop {
                let (page, next) = self
                    .age_partition_page(pk, start.as_ref(), retention, now)
                    .await?;
                aged.add(page);
                match next {
                    Some(next) => start = Some(next),
                    None => break,
                }
            }
        }
        Ok((aged, next))
    }

    /// Ages one query page of partition `pk`, from after `after`.
    pub async fn age_partition_page(
        &self,
        pk: &str,
        after: Option<&Cursor>,
        retention: &mut RetentionCache,
        now: i64,
    ) -> Result<(Aged, Option<Cursor>), StoreError> {
        let page = self
            .query("Query partition to age", "pk = :pk")
            .value(":pk", s(pk))
            .after(after)
            .limit(PARTITION_PAGE_ITEMS)
            .page()
            .await?;
        let mut aged = Aged::default();
        for it in &page.items {
            aged.add(self.age_item(it, retention, now).await?);
        }
        Ok((aged, page.next))
    }

    /// Ages what one page of segment `segment` of `segments` holds, from after `start`:
    /// every tenant's items with an end.
    pub async fn age_page(
        &self,
        (segment, segments): (u32, u32),
        start: Option<&ScanPosition>,
        limit: i32,
        retention: &mut RetentionCache,
        now: i64,
    ) -> Result<AgeingPage, StoreError> {
        let values = [(":prefix", s("T#"))];
        let page = self
            .scan_page(
                "Scan items to age",
                "attribute_exists(expires_at) AND begins_with(pk, :prefix)",
                (&[], &values),
                (segment, segments),
                start.map(|p| (p.pk.as_str(), p.sk.as_str())),
                limit,
            )
            .await?;
        let mut aged = Aged::default();
        for it in &page.items {
            aged.add(self.age_item(it, retention, now).await?);
        }
        Ok(AgeingPage {
            aged,
            next: page.next.as_ref().and_then(|at| {
                Some(ScanPosition {
                    pk: at.get("pk")?.to_owned(),
                    sk: at.get("sk")?.to_owned(),
                })
            }),
        })
    }

    async fn age_item(
        &self,
        it: &Item,
        retention: &mut RetentionCache,
        now: i64,
    ) -> Result<Aged, StoreError> {
        let (Some(pk), Some(sk), Some(seen)) =
            (get_s(it, "pk"), get_s(it, "sk"), get_i64(it, EXPIRES_AT))
        else {
            return Ok(Aged::default());
        };
        let Some(tenant) = owner(pk) else {
            return Ok(Aged::default());
        };
        let Some(settings) = retention.of(self, tenant).await? else {
            return Ok(Aged::default());
        };
        let Some(ageing) = ageing_of(pk, sk, it, &settings, now) else {
            return Ok(Aged::default());
        };
        let mut update = self
            .update("UpdateItem ageing", pk.to_owned(), sk.to_owned())
            .condition("expires_at = :seen")
            .value(":seen", n(seen));
        if let Some(at) = ageing.expires_at {
            update = update.set(EXPIRES_AT, n(at));
        }
        if let Some(at) = ageing.content_expires_at {
            update = update.set(message::CONTENT_EXPIRES_AT, n(at));
        }
        for attribute in ageing.remove {
            update = update.remove(attribute);
        }
        if !update.send().await? {
            return Ok(Aged::default());
        }
        Ok(Aged {
            shortened: u64::from(ageing.expires_at.is_some()),
            contents_removed: u64::from(!ageing.remove.is_empty()),
        })
    }
}

/// The tenant whose retention an item follows; `None` for what follows none: items outside
/// tenants, and the audit chains, whose entries keep the end they were written with (a
/// shorter audit retention would otherwise let a tenant's admin cut its own record short).
fn owner(pk: &str) -> Option<&str> {
    contact_of_pk(pk)
        .map(|(tenant, _)| tenant)
        .or_else(|| events_tenant(pk))
        .or_else(|| delivery_log_tenant(pk))
}

/// The item's module's answer, by the item's key.
fn ageing_of(pk: &str, sk: &str, it: &Item, r: &Retention, now: i64) -> Option<Ageing> {
    if contact_of_pk(pk).is_some() {
        if sk == PROFILE_SK {
            contact::ageing(it, r)
        } else if sk.starts_with(MESSAGE_PREFIX) {
            message::ageing(it, r, now)
        } else if sk.starts_with(&wamid_sk("")) {
            message::delivery::ageing(it, r)
        } else if sk.starts_with(CONSENT_PREFIX) {
            contact::consent::ageing(it, r)
        } else if sk.starts_with(CONVERSATION_PREFIX) {
            conversation::item::ageing(it, r)
        } else {
            None
        }
    } else if events_tenant(pk).is_some() {
        event::ageing(it, r)
    } else if delivery_log_tenant(pk).is_some() {
        callback::ageing(it, r)
    } else {
        None
    }
}
