//! Puts and deletes: plain, only-if-new, once per event (with a dedup record when the item
//! itself will not outlive the dedup window), and conditional deletes.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::ReturnConsumedCapacity;

use super::{EXPIRES_AT, Expiry, PutOutcome, StoreError, Table, attrs, is_live};
use attrs::{Item, s};

/// The sort key prefix of the record that keeps deduplicating a put once its item is gone.
pub const DEDUP_PREFIX: &str = "DEDUP#";

impl Table {
    pub async fn put(&self, op: &'static str, it: Item) -> Result<(), StoreError> {
        let call = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(it))
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send();
        let out = super::timed(&self.metrics, op, call)
            .await
            .map_err(|e| StoreError::dynamo(op, e))?;
        self.count_write(op, out.consumed_capacity());
        Ok(())
    }

    pub async fn delete_item(
        &self,
        op: &'static str,
        pk: String,
        sk: String,
    ) -> Result<(), StoreError> {
        let call = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key("pk", s(pk))
            .key("sk", s(sk))
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send();
        let out = super::timed(&self.metrics, op, call)
            .await
            .map_err(|e| StoreError::dynamo(op, e))?;
        self.count_write(op, out.consumed_capacity());
        Ok(())
    }
}

impl Table {
    /// Puts `it` unless an item with its key was put before: the item is its own dedup
    /// record, at no extra write. Only when the item expires before `dedup_until` (a
    /// tenant keeping content shorter than Meta's retry window) does a separate record,
    /// holding nothing but the key, keep deduplicating after the item is gone.
    pub async fn put_once(
        &self,
        op: &'static str,
        it: Item,
        expiry: Expiry,
        now: i64,
    ) -> Result<PutOutcome, StoreError> {
        let pk = attrs::get_s(&it, "pk").unwrap_or_default().to_owned();
        let dedup_sk = format!(
            "{}{}",
            DEDUP_PREFIX,
            attrs::get_s(&it, "sk").unwrap_or_default()
        );
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

impl Table {
    /// Puts `it` only if no item has its key.
    pub async fn put_new(&self, op: &'static str, it: Item) -> Result<PutOutcome, StoreError> {
        let call = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(it))
            .condition_expression("attribute_not_exists(pk)")
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send();
        let result = super::timed(&self.metrics, op, call).await;
        Ok(if self.settle(op, result)? {
            PutOutcome::Stored
        } else {
            PutOutcome::Duplicate
        })
    }
}

impl Table {
    /// Puts `it` only if `condition` holds on the item it would replace; false when it
    /// did not (nothing written). `names` and `values` are the condition's placeholders.
    pub async fn put_if(
        &self,
        op: &'static str,
        it: Item,
        condition: &str,
        names: &[(&str, &str)],
        values: &[(&str, aws_sdk_dynamodb::types::AttributeValue)],
    ) -> Result<bool, StoreError> {
        let request = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(it))
            .condition_expression(condition)
            .set_expression_attribute_names(placeholder_names(names))
            .set_expression_attribute_values(placeholder_values(values))
            .return_consumed_capacity(ReturnConsumedCapacity::Total);
        self.settle(op, super::timed(&self.metrics, op, request.send()).await)
    }

    /// Deletes an item and answers what it held; `None` when there was none.
    pub async fn delete_existing(
        &self,
        op: &'static str,
        pk: String,
        sk: String,
    ) -> Result<Option<Item>, StoreError> {
        let call = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key("pk", s(pk))
            .key("sk", s(sk))
            .condition_expression("attribute_exists(pk)")
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllOld)
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send();
        let result = super::timed(&self.metrics, op, call).await;
        match result {
            Ok(out) => {
                self.count_write(op, out.consumed_capacity());
                Ok(Some(out.attributes.unwrap_or_default()))
            }
            Err(e) if super::is_condition_failure(&e) => Ok(None),
            Err(e) => Err(StoreError::dynamo(op, e)),
        }
    }

    /// Deletes an item only if `condition` holds on it; false when it did not (or there was
    /// no item). `names` and `values` are the condition's placeholders.
    pub async fn delete_if(
        &self,
        op: &'static str,
        (pk, sk): (String, String),
        condition: &str,
        names: &[(&str, &str)],
        values: &[(&str, aws_sdk_dynamodb::types::AttributeValue)],
    ) -> Result<bool, StoreError> {
        let request = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key("pk", attrs::s(pk))
            .key("sk", attrs::s(sk))
            .condition_expression(condition)
            .set_expression_attribute_names(placeholder_names(names))
            .set_expression_attribute_values(placeholder_values(values))
            .return_consumed_capacity(ReturnConsumedCapacity::Total);
        self.settle(op, super::timed(&self.metrics, op, request.send()).await)
    }
}

/// A condition's name placeholders; `None` when it has none (DynamoDB refuses an empty map).
fn placeholder_names(names: &[(&str, &str)]) -> Option<HashMap<String, String>> {
    (!names.is_empty()).then(|| {
        names
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    })
}

/// A condition's value placeholders; `None` when it has none.
fn placeholder_values(
    values: &[(&str, aws_sdk_dynamodb::types::AttributeValue)],
) -> Option<HashMap<String, aws_sdk_dynamodb::types::AttributeValue>> {
    (!values.is_empty()).then(|| {
        values
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect()
    })
}
