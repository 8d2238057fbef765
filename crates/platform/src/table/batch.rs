//! Batches over any number of keys: BatchGetItem in chunks of 100 (unprocessed keys asked
//! again, expired items left out) and BatchWriteItem puts and deletes in chunks of 25.

use aws_sdk_dynamodb::types::{
    DeleteRequest, KeysAndAttributes, PutRequest, ReturnConsumedCapacity, WriteRequest,
};

use super::attrs::{Item, s};
use super::{StoreError, Table, is_live};

/// Rounds for the keys DynamoDB leaves unprocessed under load.
const ROUNDS: usize = 5;
const MAX_KEYS_PER_CALL: usize = 100;
const MAX_WRITES_PER_CALL: usize = 25;
/// Rounds for the writes DynamoDB leaves unprocessed under load, with a growing pause.
const WRITE_ROUNDS: u32 = 6;

impl Table {
    /// The live items of `keys` (each a `pk`/`sk` map), in no particular order; `op`
    /// names the read in errors.
    pub async fn batch_get(
        &self,
        op: &'static str,
        keys: Vec<Item>,
        now: i64,
    ) -> Result<Vec<Item>, StoreError> {
        let mut found = Vec::new();
        for chunk in keys.chunks(MAX_KEYS_PER_CALL) {
            let mut pending = chunk.to_vec();
            for _ in 0..ROUNDS {
                if pending.is_empty() {
                    break;
                }
                let request = KeysAndAttributes::builder()
                    .set_keys(Some(std::mem::take(&mut pending)))
                    .build()
                    .map_err(|e| StoreError::dynamo(op, e))?;
                let call = self
                    .client
                    .batch_get_item()
                    .request_items(&self.table, request)
                    .return_consumed_capacity(ReturnConsumedCapacity::Total)
                    .send();
                let out = super::timed(&self.metrics, op, call)
                    .await
                    .map_err(|e| StoreError::dynamo(op, e))?;
                for consumed in out.consumed_capacity() {
                    self.count_read(op, Some(consumed));
                }
                found.extend(
                    out.responses()
                        .and_then(|r| r.get(&self.table))
                        .into_iter()
                        .flatten()
                        .filter(|it| is_live(it, now))
                        .cloned(),
                );
                pending = out
                    .unprocessed_keys()
                    .and_then(|u| u.get(&self.table))
                    .map(|k| k.keys().to_vec())
                    .unwrap_or_default();
            }
            if !pending.is_empty() {
                return Err(StoreError::Unprocessed(op));
            }
        }
        Ok(found)
    }

    /// Deletes the items of `keys` (`pk`, `sk`), 25 to a BatchWriteItem.
    pub async fn batch_delete<'k>(
        &self,
        keys: impl Iterator<Item = (&'k str, &'k str)>,
    ) -> Result<(), StoreError> {
        const OP: &str = "BatchWriteItem delete";
        let requests = keys
            .map(|(pk, sk)| {
                let delete = DeleteRequest::builder()
                    .key("pk", s(pk))
                    .key("sk", s(sk))
                    .build()
                    .map_err(|e| StoreError::dynamo(OP, e))?;
                Ok(WriteRequest::builder().delete_request(delete).build())
            })
            .collect::<Result<_, StoreError>>()?;
        self.batch_write(OP, requests).await
    }

    /// Puts `items` (over whatever has their keys), 25 to a BatchWriteItem.
    pub async fn batch_put(&self, op: &'static str, items: Vec<Item>) -> Result<(), StoreError> {
        let requests = items
            .into_iter()
            .map(|it| {
                let put = PutRequest::builder()
                    .set_item(Some(it))
                    .build()
                    .map_err(|e| StoreError::dynamo(op, e))?;
                Ok(WriteRequest::builder().put_request(put).build())
            })
            .collect::<Result<_, StoreError>>()?;
        self.batch_write(op, requests).await
    }

    /// Sends `requests` 25 to a BatchWriteItem; those DynamoDB leaves unprocessed are sent
    /// again after a growing pause.
    async fn batch_write(
        &self,
        op: &'static str,
        requests: Vec<WriteRequest>,
    ) -> Result<(), StoreError> {
        for chunk in requests.chunks(MAX_WRITES_PER_CALL) {
            let mut pending = chunk.to_vec();
            for round in 0..WRITE_ROUNDS {
                if pending.is_empty() {
                    break;
                }
                if round > 0 {
                    tokio::time::sleep(std::time::Duration::from_millis(50 << round)).await;
                }
                let call = self
                    .client
                    .batch_write_item()
                    .request_items(&self.table, std::mem::take(&mut pending))
                    .return_consumed_capacity(ReturnConsumedCapacity::Total)
                    .send();
                let out = super::timed(&self.metrics, op, call)
                    .await
                    .map_err(|e| StoreError::dynamo(op, e))?;
                for consumed in out.consumed_capacity() {
                    self.count_write(op, Some(consumed));
                }
                pending = out
                    .unprocessed_items
                    .and_then(|mut u| u.remove(&self.table))
                    .unwrap_or_default();
            }
            if !pending.is_empty() {
                return Err(StoreError::Unprocessed(op));
            }
        }
        Ok(())
    }
}
