//! One TransactWriteItems call: its cost counted, and a cancellation told apart from a
//! failure, with which of its items' conditions failed.

use std::collections::HashMap;

use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeValue, ConditionCheck, Put, ReturnConsumedCapacity, TransactWriteItem,
};

use super::attrs::{Item, s};
use super::{StoreError, Table};

/// A condition's value placeholders, `None` when it has none (DynamoDB refuses an empty
/// map).
fn values_of(values: &[(&str, AttributeValue)]) -> Option<HashMap<String, AttributeValue>> {
    (!values.is_empty()).then(|| {
        values
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect()
    })
}

/// A put of `it` into `table`, only if `condition` holds, as one action of a transaction.
pub fn put_action(
    table: &str,
    it: Item,
    condition: &str,
    values: &[(&str, AttributeValue)],
) -> Result<TransactWriteItem, StoreError> {
    let put = Put::builder()
        .table_name(table)
        .set_item(Some(it))
        .condition_expression(condition)
        .set_expression_attribute_values(values_of(values))
        .build()
        .map_err(|e| StoreError::dynamo("TransactWriteItems put", e))?;
    Ok(TransactWriteItem::builder().put(put).build())
}

/// A check that `condition` holds on the item at `pk`/`sk` of `table` (which may not
/// exist), as one action of a transaction: it writes nothing.
pub fn check_action(
    table: &str,
    (pk, sk): (String, String),
    condition: &str,
    values: &[(&str, AttributeValue)],
) -> Result<TransactWriteItem, StoreError> {
    let check = ConditionCheck::builder()
        .table_name(table)
        .key("pk", s(pk))
        .key("sk", s(sk))
        .condition_expression(condition)
        .set_expression_attribute_values(values_of(values))
        .build()
        .map_err(|e| StoreError::dynamo("TransactWriteItems check", e))?;
    Ok(TransactWriteItem::builder().condition_check(check).build())
}

/// What became of a transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transacted {
    Written,
    /// Nothing was written; for each item, whether its condition failed (none did when a
    /// conflicting transaction cancelled this one).
    Cancelled {
        failed_conditions: Vec<bool>,
    },
}

impl Table {
    pub async fn transact(
        &self,
        op: &'static str,
        items: Vec<TransactWriteItem>,
    ) -> Result<Transacted, StoreError> {
        let call = self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send();
        let result = super::timed(&self.metrics, op, call).await;
        match result {
            Ok(out) => {
                self.count_writes(op, out.consumed_capacity());
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
                self.count_write(op, None);
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
