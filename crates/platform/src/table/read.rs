//! Single-item reads, eventually or strongly consistent.

use aws_sdk_dynamodb::types::{AttributeValue, ReturnConsumedCapacity};

use super::attrs::Item;
use super::{StoreError, Table};

impl Table {
    pub async fn get(&self, pk: String, sk: String) -> Result<Option<Item>, StoreError> {
        self.get_item(pk, sk, false).await
    }

    /// A strongly consistent read, for decisions that must see the latest write.
    pub async fn get_consistent(&self, pk: String, sk: String) -> Result<Option<Item>, StoreError> {
        self.get_item(pk, sk, true).await
    }

    async fn get_item(
        &self,
        pk: String,
        sk: String,
        consistent: bool,
    ) -> Result<Option<Item>, StoreError> {
        // Named by the kind of item (the sort key up to its first `#`), for the breakdown.
        let op = format!(
            "GetItem {}{}",
            sk.split('#').next().unwrap_or_default(),
            if consistent { " (strong)" } else { "" }
        );
        let call = self
            .client
            .get_item()
            .table_name(&self.table)
            .consistent_read(consistent)
            .key("pk", AttributeValue::S(pk))
            .key("sk", AttributeValue::S(sk))
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send();
        let out = super::timed(&self.metrics, &op, call)
            .await
            .map_err(|e| StoreError::dynamo("GetItem", e))?;
        self.count_read(&op, out.consumed_capacity());
        Ok(out.item)
    }
}
