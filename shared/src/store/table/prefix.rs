//! Every item of one partition whose sort key starts with a prefix (an empty one: every
//! item), over all pages: the tenant's numbers, keys, callback endpoints and templates are
//! read this way.

use aws_sdk_dynamodb::types::ReturnConsumedCapacity;

use super::attrs::{Item, s};
use super::{Store, StoreError};

impl Store {
    pub(crate) async fn query_prefix(
        &self,
        op: &'static str,
        pk: String,
        prefix: &str,
    ) -> Result<Vec<Item>, StoreError> {
        let mut items = Vec::new();
        let mut start = None;
        let mut values = std::collections::HashMap::from([(":pk".to_owned(), s(&pk))]);
        // DynamoDB refuses a value the expression does not use.
        if !prefix.is_empty() {
            values.insert(":prefix".to_owned(), s(prefix));
        }
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression(if prefix.is_empty() {
                    "pk = :pk"
                } else {
                    "pk = :pk AND begins_with(sk, :prefix)"
                })
                .set_expression_attribute_values(Some(values.clone()))
                .set_exclusive_start_key(start.take())
                .return_consumed_capacity(ReturnConsumedCapacity::Total)
                .send()
                .await
                .map_err(|e| StoreError::dynamo(op, e))?;
            self.count_read(out.consumed_capacity());
            items.extend(out.items().iter().cloned());
            match out.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => return Ok(items),
            }
        }
    }
}
