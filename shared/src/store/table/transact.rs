//! One TransactWriteItems call: its cost counted, and a cancellation told apart from a
//! failure, with which of its items' conditions failed.

use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{ReturnConsumedCapacity, TransactWriteItem};

use super::{Store, StoreError};

/// What became of a transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Transacted {
    Written,
    /// Nothing was written; for each item, whether its condition failed (none did when a
    /// conflicting transaction cancelled this one).
    Cancelled {
        failed_conditions: Vec<bool>,
    },
}

impl Store {
    pub(crate) async fn transact(
        &self,
        op: &'static str,
        items: Vec<TransactWriteItem>,
    ) -> Result<Transacted, StoreError> {
        let result = self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await;
        match result {
            Ok(out) => {
                self.count_writes(out.consumed_capacity());
                Ok(Transacted::Written)
            }
            Err(e) => {
                let Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) =
                    e.as_service_error()
                else {
                    return Err(StoreError::dynamo(op, e));
                };
                // A cancelled transaction still costs: count one unit, as for a failed
                // conditional write.
                self.count_write(None);
                let failed_conditions = cancelled
                    .cancellation_reasons()
                    .iter()
                    .map(|r| r.code() == Some("ConditionalCheckFailed"))
                    .collect();
                Ok(Transacted::Cancelled { failed_conditions })
            }
        }
    }
}
