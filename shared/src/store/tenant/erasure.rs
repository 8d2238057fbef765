//! What erasing a whole tenant takes from the table: its deletion state on the tenant item,
//! the items of its own partition (numbers, WABAs, keys, endpoints, templates), and a
//! parallel scan that finds every other item whose key starts with the tenant.
//!
//! A scan, not a walk of the indexes: some partitions are reachable from nothing (a
//! contact whose profile expired before its messages, identities, idempotency records),
//! and a deleted tenant must leave nothing behind. Deleting a tenant is rare; reading the
//! table once for it is the price of completeness.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{
    AttributeValue, DeleteRequest, ReturnConsumedCapacity, ReturnValue, WriteRequest,
};

use crate::domain::tenant::{Tenant, TenantId};
use crate::store::keys::{NUMBER_PREFIX, PACE_PREFIX, TENANT_SK, tenant_pk};
use crate::store::table::{Item, get_s, n, s};
use crate::store::{Store, StoreError};

const MAX_DELETES_PER_CALL: usize = 25;
/// Rounds for the deletes DynamoDB leaves unprocessed under load, with a growing pause.
const ROUNDS: u32 = 6;

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

impl Store {
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
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(tenant_pk(id.as_str())))
            .key("sk", s(TENANT_SK))
            .update_expression(
                "SET #status = :deleting, erasure_run = :run, erasure_segments = :segments, \
                 deletion_requested_at = if_not_exists(deletion_requested_at, :now) \
                 REMOVE erased_segments",
            )
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":deleting", s("deleting"))
            .expression_attribute_values(":run", s(run))
            .expression_attribute_values(":segments", n(segments))
            .expression_attribute_values(":now", n(now))
            .return_values(ReturnValue::AllNew)
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await;
        self.updated_tenant("UpdateItem begin tenant deletion", id, result)
    }

    /// The erasure run the tenant is in, read consistently; `None` when it is in none or
    /// does not exist.
    pub async fn erasure_run(&self, id: &TenantId) -> Result<Option<String>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(tenant_pk(id.as_str())))
            .key("sk", s(TENANT_SK))
            .projection_expression("erasure_run")
            .consistent_read(true)
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await
            .map_err(|e| StoreError::dynamo("GetItem erasure run", e))?;
        self.count_read(out.consumed_capacity());
        Ok(out
            .item
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
            self.release_number_routes(id, number, waba).await?;
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
        let out =
            self.client
                .scan()
                .table_name(&self.table)
                .segment(segment as i32)
                .total_segments(segments as i32)
                .limit(limit)
                // `T#acme` must not take `T#acme2`'s items: its partitions are `T#acme` and
                // `T#acme#…`.
                .filter_expression("pk = :own OR begins_with(pk, :nested)")
                .expression_attribute_values(":own", s(&own))
                .expression_attribute_values(":nested", s(format!("{own}#")))
                .projection_expression("pk, sk")
                .set_exclusive_start_key(start.map(|p| {
                    HashMap::from([("pk".to_owned(), s(&p.pk)), ("sk".to_owned(), s(&p.sk))])
                }))
                .return_consumed_capacity(ReturnConsumedCapacity::Total)
                .send()
                .await
                .map_err(|e| StoreError::dynamo("Scan tenant items", e))?;
        self.count_read(out.consumed_capacity());
        Ok(ScanPage {
            keys: out
                .items()
                .iter()
                .filter_map(position)
                .filter(|key| !(key.pk == own && key.sk == TENANT_SK))
                .collect(),
            next: out
                .last_evaluated_key
                .as_ref()
                .filter(|key| !key.is_empty())
                .and_then(position),
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
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(tenant_pk(id.as_str())))
            .key("sk", s(TENANT_SK))
            .update_expression("ADD erased_segments :segment")
            .condition_expression("erasure_run = :run")
            .expression_attribute_values(":segment", AttributeValue::Ns(vec![segment.to_string()]))
            .expression_attribute_values(":run", s(run))
            .return_values(ReturnValue::AllNew)
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await;
        match result {
            Ok(out) => {
                self.count_write(out.consumed_capacity());
                let it = out.attributes.unwrap_or_default();
                let done = match it.get("erased_segments") {
                    Some(AttributeValue::Ns(set)) => set.len(),
                    _ => 0,
                };
                let of = crate::store::table::get_i64(&it, "erasure_segments").unwrap_or(i64::MAX);
                Ok(Some(done as i64 >= of))
            }
            Err(e) if crate::store::is_condition_failure(&e) => Ok(None),
            Err(e) => Err(StoreError::dynamo("UpdateItem erasure segment", e)),
        }
    }

    /// Deletes the tenant item once run `run` erased everything else; false when another
    /// run took over (it deletes the item when it is done).
    pub async fn delete_erased_tenant(&self, id: &TenantId, run: &str) -> Result<bool, StoreError> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key("pk", s(tenant_pk(id.as_str())))
            .key("sk", s(TENANT_SK))
            .condition_expression("erasure_run = :run")
            .expression_attribute_values(":run", s(run))
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await;
        self.settle("DeleteItem erased tenant", result)
    }

    /// Deletes items by key, 25 to a BatchWriteItem; keys DynamoDB leaves unprocessed are
    /// sent again after a pause.
    pub async fn delete_keys(&self, keys: &[ScanPosition]) -> Result<(), StoreError> {
        const OP: &str = "BatchWriteItem delete";
        for chunk in keys.chunks(MAX_DELETES_PER_CALL) {
            let mut pending: Vec<WriteRequest> = chunk
                .iter()
                .map(|key| {
                    let delete = DeleteRequest::builder()
                        .key("pk", s(&key.pk))
                        .key("sk", s(&key.sk))
                        .build()
                        .map_err(|e| StoreError::dynamo(OP, e))?;
                    Ok(WriteRequest::builder().delete_request(delete).build())
                })
                .collect::<Result<_, StoreError>>()?;
            for round in 0..ROUNDS {
                if pending.is_empty() {
                    break;
                }
                if round > 0 {
                    tokio::time::sleep(std::time::Duration::from_millis(50 << round)).await;
                }
                let out = self
                    .client
                    .batch_write_item()
                    .request_items(&self.table, std::mem::take(&mut pending))
                    .return_consumed_capacity(ReturnConsumedCapacity::Total)
                    .send()
                    .await
                    .map_err(|e| StoreError::dynamo(OP, e))?;
                for consumed in out.consumed_capacity() {
                    self.count_write(Some(consumed));
                }
                pending = out
                    .unprocessed_items
                    .and_then(|mut u| u.remove(&self.table))
                    .unwrap_or_default();
            }
            if !pending.is_empty() {
                return Err(StoreError::Unprocessed(OP));
            }
        }
        Ok(())
    }
}

fn position(it: &Item) -> Option<ScanPosition> {
    Some(ScanPosition {
        pk: get_s(it, "pk")?.to_owned(),
        sk: get_s(it, "sk")?.to_owned(),
    })
}
