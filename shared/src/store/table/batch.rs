//! BatchGetItem over any number of keys: chunks of 100 (DynamoDB's limit), unprocessed
//! keys asked again, expired items left out.

use aws_sdk_dynamodb::types::{KeysAndAttributes, ReturnConsumedCapacity};

use super::attrs::Item;
use super::{Store, StoreError, is_live};

/// Rounds for the keys DynamoDB leaves unprocessed under load.
const ROUNDS: usize = 5;
const MAX_KEYS_PER_CALL: usize = 100;

impl Store {
    /// The live items of `keys` (each a `pk`/`sk` map), in no particular order; `op`
    /// names the read in errors.
    pub(crate) async fn batch_get(
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
                let out = self
                    .client
                    .batch_get_item()
                    .request_items(&self.table, request)
                    .return_consumed_capacity(ReturnConsumedCapacity::Total)
                    .send()
                    .await
                    .map_err(|e| StoreError::dynamo(op, e))?;
                for consumed in out.consumed_capacity() {
                    self.count_read(Some(consumed));
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
}
