//! DynamoDB adapters over the single table. Every key starts with the tenant; every read
//! hides items whose `expires_at` has passed, because TTL deletion runs days late.

pub mod api_keys;
mod attrs;
mod batch;
pub mod callbacks;
pub mod contact_batch;
pub mod contact_details;
pub mod contact_index;
pub mod contacts;
pub mod conversations;
pub mod cursor;
pub mod erasure;
pub mod events;
pub mod idempotency;
pub mod keys;
pub mod message_ref;
pub mod messages;
pub mod number_quality;
pub mod outbound;
pub mod pacing;
mod prefix;
pub mod retention;
pub mod routes;
pub mod statuses;
pub mod templates;
pub mod tenant_index;
pub mod tenants;
mod transact;

use std::sync::Arc;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{ConsumedCapacity, ReturnConsumedCapacity};

use crate::metrics::Metrics;

pub use attrs::Item;

/// The name of the TTL attribute, epoch seconds.
pub const EXPIRES_AT: &str = "expires_at";
/// The index that finds a tenant from a phone number id or a WABA id.
pub const ROUTE_INDEX: &str = "route-index";

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("DynamoDB {op} failed")]
    Dynamo {
        op: &'static str,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error("item {key} is malformed: {problem}")]
    Corrupt { key: String, problem: String },
    #[error("DynamoDB {0} left keys unprocessed after several rounds")]
    Unprocessed(&'static str),
}

impl StoreError {
    pub(crate) fn dynamo<E: std::error::Error + Send + Sync + 'static>(
        op: &'static str,
        e: E,
    ) -> Self {
        Self::Dynamo {
            op,
            source: Box::new(e),
        }
    }
}

/// The table and what reads and writes to it cost.
#[derive(Clone)]
pub struct Store {
    pub(crate) client: Client,
    pub(crate) table: String,
    pub(crate) metrics: Arc<Metrics>,
}

impl Store {
    pub fn new(client: Client, table: impl Into<String>, metrics: Arc<Metrics>) -> Self {
        Self {
            client,
            table: table.into(),
            metrics,
        }
    }

    pub(crate) fn count_write(&self, consumed: Option<&ConsumedCapacity>) {
        // A conditional write that fails still costs a unit but reports nothing: count one.
        self.metrics
            .add_write_units(consumed.and_then(|c| c.capacity_units).unwrap_or(1.0));
    }

    /// Counts what a transaction's writes cost, item by item.
    pub(crate) fn count_writes(&self, consumed: &[ConsumedCapacity]) {
        for item in consumed {
            self.count_write(Some(item));
        }
    }

    pub(crate) fn count_read(&self, consumed: Option<&ConsumedCapacity>) {
        self.metrics
            .add_read_units(consumed.and_then(|c| c.capacity_units).unwrap_or(0.5));
    }
}

/// The outputs of writes that report consumed capacity.
pub(crate) trait Consumed {
    fn consumed(&self) -> Option<&ConsumedCapacity>;
}

impl Consumed for aws_sdk_dynamodb::operation::put_item::PutItemOutput {
    fn consumed(&self) -> Option<&ConsumedCapacity> {
        self.consumed_capacity()
    }
}

impl Consumed for aws_sdk_dynamodb::operation::delete_item::DeleteItemOutput {
    fn consumed(&self) -> Option<&ConsumedCapacity> {
        self.consumed_capacity()
    }
}

impl Consumed for aws_sdk_dynamodb::operation::update_item::UpdateItemOutput {
    fn consumed(&self) -> Option<&ConsumedCapacity> {
        self.consumed_capacity()
    }
}

impl Store {
    /// Counts a conditional write's cost and tells whether its condition held: a failed
    /// condition is an answer (a duplicate, a stale update), not an error.
    pub(crate) fn settle<T, E, R>(
        &self,
        op: &'static str,
        result: Result<T, aws_sdk_dynamodb::error::SdkError<E, R>>,
    ) -> Result<bool, StoreError>
    where
        T: Consumed,
        E: aws_sdk_dynamodb::error::ProvideErrorMetadata
            + std::error::Error
            + Send
            + Sync
            + 'static,
        R: std::fmt::Debug + Send + Sync + 'static,
    {
        match result {
            Ok(out) => {
                self.count_write(out.consumed());
                Ok(true)
            }
            Err(e) if is_condition_failure(&e) => {
                self.count_write(None);
                Ok(false)
            }
            Err(e) => Err(StoreError::dynamo(op, e)),
        }
    }
}

pub(crate) fn is_condition_failure<E, R>(e: &aws_sdk_dynamodb::error::SdkError<E, R>) -> bool
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata,
{
    e.as_service_error()
        .and_then(|se| se.code())
        .is_some_and(|code| code == "ConditionalCheckFailedException")
}

/// When an item expires, and how long its key must keep deduplicating.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expiry {
    /// The item's `expires_at`, from its data class's retention.
    pub at: i64,
    /// Until when a redelivery of the same event must still count as a duplicate.
    pub dedup_until: i64,
}

/// Whether a put stored something new.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PutOutcome {
    Stored,
    /// The same event was stored before: nothing was written again.
    Duplicate,
}

impl Store {
    /// Puts `it` unless an item with its key was put before: the item is its own dedup
    /// record, at no extra write. Only when the item expires before `dedup_until` (a
    /// tenant keeping content shorter than Meta's retry window) does a separate record,
    /// holding nothing but the key, keep deduplicating after the item is gone.
    pub(crate) async fn put_once(
        &self,
        op: &'static str,
        it: Item,
        expiry: Expiry,
        now: i64,
    ) -> Result<PutOutcome, StoreError> {
        let pk = attrs::get_s(&it, "pk").unwrap_or_default().to_owned();
        let dedup_sk = format!("DEDUP#{}", attrs::get_s(&it, "sk").unwrap_or_default());
        let separate = expiry.at < expiry.dedup_until;
        if separate {
            let earlier = self.get(pk.clone(), dedup_sk.clone()).await?;
            if earlier.is_some_and(|found| is_live(&found, now)) {
                return Ok(PutOutcome::Duplicate);
            }
        }
        if self.put_new(op, it).await? == PutOutcome::Duplicate {
            return Ok(PutOutcome::Duplicate);
        }
        if separate {
            let record = attrs::item([
                ("pk", attrs::s(pk)),
                ("sk", attrs::s(dedup_sk)),
                (EXPIRES_AT, attrs::n(expiry.dedup_until)),
            ]);
            self.put("PutItem dedup record", record).await?;
        }
        Ok(PutOutcome::Stored)
    }
}

impl Store {
    /// Puts `it` only if no item has its key.
    pub(crate) async fn put_new(
        &self,
        op: &'static str,
        it: Item,
    ) -> Result<PutOutcome, StoreError> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(it))
            .condition_expression("attribute_not_exists(pk)")
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await;
        Ok(if self.settle(op, result)? {
            PutOutcome::Stored
        } else {
            PutOutcome::Duplicate
        })
    }
}

impl Store {
    /// Deletes an item only if `condition` holds on it; false when it did not (or there was
    /// no item). `names` and `values` are the condition's placeholders.
    pub(crate) async fn delete_if(
        &self,
        op: &'static str,
        (pk, sk): (String, String),
        condition: &str,
        names: &[(&str, &str)],
        values: &[(&str, aws_sdk_dynamodb::types::AttributeValue)],
    ) -> Result<bool, StoreError> {
        let mut request = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key("pk", attrs::s(pk))
            .key("sk", attrs::s(sk))
            .condition_expression(condition)
            .return_consumed_capacity(ReturnConsumedCapacity::Total);
        for (placeholder, name) in names {
            request = request.expression_attribute_names(*placeholder, *name);
        }
        for (placeholder, value) in values {
            request = request.expression_attribute_values(*placeholder, value.clone());
        }
        self.settle(op, request.send().await)
    }
}

/// Whether an item read now is still alive under its `expires_at`.
pub(crate) fn is_live(item: &Item, now: i64) -> bool {
    attrs::get_i64(item, EXPIRES_AT).is_none_or(|at| at > now)
}
