//! What erasing a whole tenant takes from the table: its deletion state on the tenant item,
//! the items of its own partition (numbers, WABAs, keys, endpoints, templates), and a
//! parallel scan that finds every other item whose key starts with the tenant.
//!
//! A scan, not a walk of the indexes: some partitions are reachable from nothing (a
//! contact whose profile expired before its messages, identities, idempotency records),
//! and a deleted tenant must leave nothing behind. Deleting a tenant is rare; reading the
//! table once for it is the price of completeness.

use crate::store::NumberStore;
use crate::store::tenant::TenantStore;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};

use crate::domain::tenant::{Tenant, TenantId};
use crate::store::StoreError;
use crate::store::keys::{NUMBER_PREFIX, PACE_PREFIX, TENANT_SK, tenant_pk};
use crate::store::table::{Item, get_s, n, s};

/// Where a scan segment stopped: the last key DynamoDB evaluated.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ScanPosition {
    pub pk: String,
    pub sk: String,
}

/// One page of a segment: the keys of the tenant's items in it, and where to go on.
#[derive(Debug, Default)]
pub struct ScanPage {
    pub keys: Vec<ScanPosition>,
    pub next: Option<ScanPosition>,
}

impl TenantStore {
    /// Marks the tenant as being deleted by erasure run `run` of `segments` segments and
    /// answers it as it now stands; `None` when there is no such tenant. Starting again
    /// (a second request) begins a new run: the old run's segments no longer count.
    pub async fn begin_tenant_deletion(
        &self,
        id: &TenantId,
        run: &str,
        segments: u32,
        now: i64,
    ) -> Result<Option<Tenant>, StoreError> {
        let updated = self
            .update(
                "UpdateItem begin tenant deletion",
                tenant_pk(id.as_str()),
                TENANT_SK.into(),
            )
            .set("status", s("deleting"))
            .set("erasure_run", s(run))
            .set("erasure_segments", n(segments))
            .set_if_absent("deletion_requested_at", n(now))
            .remove("erased_segments")
            .condition("attribute_exists(pk)")
            .send_returning(ReturnValue::AllNew)
            .await?;
        updated
            .map(|it| super::tenant_from_item(id, &it))
            .transpose()
    }

    /// Deletes the tenant's key-encryption key: from this moment its contacts' sealed data,
    /// here and in every backup of the table, no longer opens.
    pub async fn shred_tenant_keys(&self, id: &TenantId) -> Result<(), StoreError> {
        self.keyring()?.forget_tenant(id.as_str()).await
    }

    /// Deletes the tenant's contacts' data keys, once its KEK is gone; answers how many.
    pub async fn delete_tenant_person_keys(&self, id: &TenantId) -> Result<usize, StoreError> {
        self.keyring()?.forget_tenant_people(id.as_str()).await
    }

    /// The erasure run the tenant is in, read consistently; `None` when it is in none or
    /// does not exist.
    pub async fn erasure_run(&self, id: &TenantId) -> Result<Option<String>, StoreError> {
        let found = self
            .get_consistent(tenant_pk(id.as_str()), TENANT_SK.into())
            .await?;
        Ok(found
            .as_ref()
            .and_then(|it| get_s(it, "erasure_run"))
            .map(str::to_owned))
    }

    /// Deletes every item of the tenant's own partition but the tenant item and the
    /// numbers' pacing (which holds their senders back; the sweep takes it): its numbers
    /// and WABAs (so webhooks stop routing and tokens are gone), API keys, callback
    /// endpoints and templates; and frees its numbers' routes. Answers the phone number ids
    /// it deleted.
    pub async fn cut_off_tenant(&self, id: &TenantId) -> Result<Vec<String>, StoreError> {
        let items = self
            .query_prefix("Query tenant partition", tenant_pk(id.as_str()), "")
            .await?;
        let keys: Vec<ScanPosition> = items
            .iter()
            .filter_map(position)
            .filter(|key| key.sk != TENANT_SK && !key.sk.starts_with(PACE_PREFIX))
            .collect();
        self.delete_keys(&keys).await?;
        let mut numbers = Vec::new();
        for it in &items {
            let (Some(number), Some(waba)) = (
                get_s(it, "sk").and_then(|sk| sk.strip_prefix(NUMBER_PREFIX)),
                get_s(it, "waba_id"),
            ) else {
                continue;
            };
            self.repo::<NumberStore>()
                .release_number_routes(id, number, waba)
                .await?;
            numbers.push(number.to_owned());
        }
        Ok(numbers)
    }

    /// One page of segment `segment` of `segments` of a scan for the tenant's items,
    /// from `start`. The tenant item itself is left out: it goes last.
    pub async fn scan_tenant_page(
        &self,
        id: &TenantId,
        segment: u32,
        segments: u32,
        start: Option<&ScanPosition>,
        limit: i32,
    ) -> Result<ScanPage, StoreError> {
        let own = tenant_pk(id.as_str());
        // `T#acme` must not take `T#acme2`'s items: its partitions are `T#acme` and
        // `T#acme#…`.
        let page = self
            .scan_keys_page(
                "Scan tenant items",
                "pk = :own OR begins_with(pk, :nested)",
                &[(":own", s(&own)), (":nested", s(format!("{own}#")))],
                (segment, segments),
                start.map(|p| (p.pk.as_str(), p.sk.as_str())),
                limit,
            )
            .await?;
        Ok(ScanPage {
            keys: page
                .items
                .iter()
                .filter_map(position)
                .filter(|key| !(key.pk == own && key.sk == TENANT_SK))
                .collect(),
            next: page.next.as_ref().and_then(|at| {
                Some(ScanPosition {
                    pk: at.get("pk")?.to_owned(),
                    sk: at.get("sk")?.to_owned(),
                })
            }),
        })
    }

    /// Records that segment `segment` of erasure run `run` went through the whole table,
    /// and tells whether every segment of the run has. `None` when the run is no longer
    /// the tenant's (a newer request started another, or the tenant is gone).
    pub async fn finish_erasure_segment(
        &self,
        id: &TenantId,
        run: &str,
        segment: u32,
    ) -> Result<Option<bool>, StoreError> {
        // A set, not a counter: a segment redelivered after it finished counts once.
        let updated = self
            .update(
                "UpdateItem erasure segment",
                tenant_pk(id.as_str()),
                TENANT_SK.into(),
            )
            .add(
                "erased_segments",
                AttributeValue::Ns(vec![segment.to_string()]),
            )
            .condition("erasure_run = :run")
            .value(":run", s(run))
            .send_returning(ReturnValue::AllNew)
            .await?;
        Ok(updated.map(|it| {
            let done = match it.get("erased_segments") {
                Some(AttributeValue::Ns(set)) => set.len(),
                _ => 0,
            };
            let of = crate::store::table::get_i64(&it, "erasure_segments").unwrap_or(i64::MAX);
            done as i64 >= of
        }))
    }

    /// Deletes the tenant item once run `run` erased everything else; false when another
    /// run took over (it deletes the item when it is done).
    pub async fn delete_erased_tenant(&self, id: &TenantId, run: &str) -> Result<bool, StoreError> {
        self.delete_if(
            "DeleteItem erased tenant",
            (tenant_pk(id.as_str()), TENANT_SK.into()),
            "erasure_run = :run",
            &[],
            &[(":run", s(run))],
        )
        .await
    }

    /// Deletes the items of `keys`.
    pub async fn delete_keys(&self, keys: &[ScanPosition]) -> Result<(), StoreError> {
        self.batch_delete(keys.iter().map(|key| (key.pk.as_str(), key.sk.as_str())))
            .await
    }
}

fn position(it: &Item) -> Option<ScanPosition> {
    Some(ScanPosition {
        pk: get_s(it, "pk")?.to_owned(),
        sk: get_s(it, "sk")?.to_owned(),
    })
}
