//! The table itself, for every item module: the client and what calls cost, typed
//! reads, writes, updates, batches, transactions and cursors, each written once. Item
//! modules say which key and attributes; this module says how DynamoDB is called.

mod attrs;
mod batch;
pub mod cursor;
pub mod key_table;
mod prefix;
mod query;
mod read;
mod scan;
mod sealed;
mod transact;
mod update;
mod write;

pub use attrs::Item;
pub use attrs::{b, bool_attr, get_b, get_bool, get_i64, get_s, item, n, s};
pub use query::Query;
pub use sealed::{OpeningKeys, plaintext_of, sealed, unsealed, unsealed_copy};
pub use transact::{Transacted, check_action, put_action};
pub use update::Update;
pub use write::DEDUP_PREFIX;

use std::sync::Arc;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::ConsumedCapacity;

use crate::metrics::Metrics;

/// The name of the TTL attribute, epoch seconds.
pub const EXPIRES_AT: &str = "expires_at";

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
    /// The keys of personal data could not be reached.
    #[error("KMS {op} failed for a tenant's key-encryption key")]
    Kms {
        op: &'static str,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error("this store was built without the keys of personal data")]
    NoKeyring,
    /// The person an event or job is about was erased after it was made: it is dropped,
    /// and nothing is written for them.
    #[error("the person was erased")]
    PersonErased,
    /// Writers kept racing for the same item: the caller tries again later.
    #[error("writers raced for {0} too many times")]
    Contended(&'static str),
}

impl StoreError {
    /// An item that does not hold what its module writes.
    pub fn corrupt(key: &str, problem: &str) -> Self {
        Self::Corrupt {
            key: key.to_owned(),
            problem: problem.to_owned(),
        }
    }

    pub fn kms<E: std::error::Error + Send + Sync + 'static>(op: &'static str, e: E) -> Self {
        Self::Kms {
            op,
            source: Box::new(e),
        }
    }

    pub fn dynamo<E: std::error::Error + Send + Sync + 'static>(op: &'static str, e: E) -> Self {
        Self::Dynamo {
            op,
            source: Box::new(e),
        }
    }
}

/// A table and what reads and writes to it cost. It holds no keys: the data table's
/// owner pairs it with the keyring that seals personal data in it.
#[derive(Clone)]
pub struct Table {
    client: Client,
    table: String,
    metrics: Arc<Metrics>,
}

impl Table {
    pub fn new(client: Client, table: impl Into<String>, metrics: Arc<Metrics>) -> Self {
        Self {
            client,
            table: table.into(),
            metrics,
        }
    }

    /// The table this store reads and writes.
    pub fn table_name(&self) -> &str {
        &self.table
    }

    pub fn count_write(&self, op: &str, consumed: Option<&ConsumedCapacity>) {
        // A conditional write that fails still costs a unit but reports nothing: count one.
        self.metrics
            .add_write_units(op, consumed.and_then(|c| c.capacity_units).unwrap_or(1.0));
    }

    /// Counts what a transaction's writes cost, item by item.
    pub fn count_writes(&self, op: &str, consumed: &[ConsumedCapacity]) {
        for item in consumed {
            self.count_write(op, Some(item));
        }
    }

    pub fn count_read(&self, op: &str, consumed: Option<&ConsumedCapacity>) {
        self.metrics
            .add_read_units(op, consumed.and_then(|c| c.capacity_units).unwrap_or(0.5));
    }
}

/// Awaits `call`, adding the time it took to `op`'s in the metrics' breakdown.
pub(crate) async fn timed<F: std::future::Future>(
    metrics: &Metrics,
    op: &str,
    call: F,
) -> F::Output {
    let started = std::time::Instant::now();
    let out = call.await;
    metrics.add_time(op, started.elapsed());
    out
}

/// The outputs of writes that report consumed capacity.
pub trait Consumed {
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

impl Table {
    /// Counts a conditional write's cost and tells whether its condition held: a failed
    /// condition is an answer (a duplicate, a stale update), not an error.
    pub fn settle<T, E, R>(
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
                self.count_write(op, out.consumed());
                Ok(true)
            }
            Err(e) if is_condition_failure(&e) => {
                self.count_write(op, None);
                Ok(false)
            }
            Err(e) => Err(StoreError::dynamo(op, e)),
        }
    }
}

pub fn is_condition_failure<E, R>(e: &aws_sdk_dynamodb::error::SdkError<E, R>) -> bool
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

/// Whether an item read now is still alive under its `expires_at`.
pub fn is_live(item: &Item, now: i64) -> bool {
    attrs::get_i64(item, EXPIRES_AT).is_none_or(|at| at > now)
}
