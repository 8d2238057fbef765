//! Sends events to a FIFO queue with `SendMessageBatch`, in chunks that respect SQS limits,
//! and reports success only when SQS took every one of them.

use std::collections::HashMap;
use std::sync::Arc;

use aws_sdk_sqs::types::SendMessageBatchRequestEntry;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::metrics::Metrics;

/// One SQS FIFO message: body, group and deduplication id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueMessage {
    pub group_id: String,
    pub deduplication_id: String,
    pub body: String,
}

/// SQS's limits on one `SendMessageBatch`: entries, and bytes of all bodies together.
pub const MAX_BATCH_ENTRIES: usize = 10;
pub const MAX_BATCH_BYTES: usize = 256 * 1024;
/// SQS's longest visibility timeout: 12 hours.
pub const MAX_VISIBILITY_SECS: u64 = 43_200;
/// Batches sent at once for one delivery.
const PARALLEL_BATCHES: usize = 8;

#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error("an event of {0} bytes exceeds the queue's message size limit")]
    TooLarge(usize),
    #[error("an SQS request failed")]
    Send(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("SQS refused {failed} of the batch's entries (first: {code})")]
    Refused { failed: usize, code: String },
    #[error("the key of queue ids is not available")]
    IdKey(#[from] super::ids::QueueIdKeyError),
}

#[derive(Clone)]
pub struct EventQueue {
    client: aws_sdk_sqs::Client,
    url: String,
    metrics: Arc<Metrics>,
}

impl EventQueue {
    pub fn new(client: aws_sdk_sqs::Client, url: String, metrics: Arc<Metrics>) -> Self {
        Self {
            client,
            url,
            metrics,
        }
    }

    /// Sends every message, or fails: the caller answers Meta with a 5xx so it retries.
    /// Batches that share a message group go one after another, in the messages' order
    /// (a conversation's events reach the queue in order, however many there are); batches
    /// of other groups go at the same time. A failed wave stops the later ones, whose
    /// messages would otherwise overtake the failed ones of their group.
    pub async fn send_all(&self, messages: Vec<QueueMessage>) -> Result<(), QueueError> {
        for wave in waves(chunk(messages)?) {
            let permits = Arc::new(Semaphore::new(PARALLEL_BATCHES));
            let mut tasks = JoinSet::new();
            for batch in wave {
                let queue = self.clone();
                let permits = permits.clone();
                tasks.spawn(async move {
                    let _permit = permits
                        .acquire_owned()
                        .await
                        .expect("the semaphore is never closed");
                    queue.send_batch(batch).await
                });
            }
            let mut first_error = None;
            while let Some(joined) = tasks.join_next().await {
                let result = joined.unwrap_or_else(|e| Err(QueueError::Send(Box::new(e))));
                if let Err(e) = result {
                    first_error.get_or_insert(e);
                }
            }
            if let Some(e) = first_error {
                return Err(e);
            }
        }
        Ok(())
    }

    /// Makes a received message visible again only after `delay`: the retry of one job,
    /// while the rest of the batch (and, in a FIFO queue, other groups) go on.
    pub async fn retry_after(
        &self,
        receipt_handle: &str,
        delay: std::time::Duration,
    ) -> Result<(), QueueError> {
        self.metrics.add_sqs_request();
        self.client
            .change_message_visibility()
            .queue_url(&self.url)
            .receipt_handle(receipt_handle)
            .visibility_timeout(delay.as_secs().min(MAX_VISIBILITY_SECS) as i32)
            .send()
            .await
            .map_err(|e| QueueError::Send(Box::new(e)))?;
        Ok(())
    }

    async fn send_batch(&self, batch: Vec<QueueMessage>) -> Result<(), QueueError> {
        let mut pending = batch;
        // One retry of the entries SQS refused for a passing reason; a second refusal fails.
        for attempt in 0..2 {
            self.metrics.add_sqs_request();
            let entries = pending
                .iter()
                .enumerate()
                .map(|(i, m)| {
                    SendMessageBatchRequestEntry::builder()
                        .id(i.to_string())
                        .message_body(&m.body)
                        .message_group_id(&m.group_id)
                        .message_deduplication_id(&m.deduplication_id)
                        .build()
                        .expect("id and body are set")
                })
                .collect();
            let out = self
                .client
                .send_message_batch()
                .queue_url(&self.url)
                .set_entries(Some(entries))
                .send()
                .await
                .map_err(|e| QueueError::Send(Box::new(e)))?;
            let failed = out.failed();
            if failed.is_empty() {
                return Ok(());
            }
            let retryable = failed.iter().all(|f| !f.sender_fault);
            if attempt == 1 || !retryable {
                return Err(QueueError::Refused {
                    failed: failed.len(),
                    code: failed[0].code.clone(),
                });
            }
            let failed_ids: Vec<usize> = failed.iter().filter_map(|f| f.id.parse().ok()).collect();
            pending = pending
                .into_iter()
                .enumerate()
                .filter(|(i, _)| failed_ids.contains(i))
                .map(|(_, m)| m)
                .collect();
        }
        Ok(())
    }
}

/// Orders batches into waves: a batch goes in the wave after the last one that holds an
/// earlier message of any of its groups, so each group's batches are sent one after
/// another while batches of unrelated groups share a wave.
pub fn waves(batches: Vec<Vec<QueueMessage>>) -> Vec<Vec<Vec<QueueMessage>>> {
    let mut wave_of_group: HashMap<String, usize> = HashMap::new();
    let mut waves: Vec<Vec<Vec<QueueMessage>>> = Vec::new();
    for batch in batches {
        let wave = batch
            .iter()
            .filter_map(|m| wave_of_group.get(&m.group_id))
            .map(|w| w + 1)
            .max()
            .unwrap_or(0);
        for m in &batch {
            wave_of_group.insert(m.group_id.clone(), wave);
        }
        if waves.len() <= wave {
            waves.resize_with(wave + 1, Vec::new);
        }
        waves[wave].push(batch);
    }
    waves
}

/// Groups messages into batches of at most ten entries and 256 KiB of bodies, in order.
pub fn chunk(messages: Vec<QueueMessage>) -> Result<Vec<Vec<QueueMessage>>, QueueError> {
    let mut batches: Vec<Vec<QueueMessage>> = Vec::new();
    let mut bytes = 0;
    for message in messages {
        let size = message.body.len();
        if size > MAX_BATCH_BYTES {
            return Err(QueueError::TooLarge(size));
        }
        let full = batches
            .last()
            .is_none_or(|b| b.len() == MAX_BATCH_ENTRIES || bytes + size > MAX_BATCH_BYTES);
        if full {
            batches.push(Vec::with_capacity(MAX_BATCH_ENTRIES));
            bytes = 0;
        }
        bytes += size;
        batches
            .last_mut()
            .expect("a batch was just ensured")
            .push(message);
    }
    Ok(batches)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(size: usize) -> QueueMessage {
        QueueMessage {
            group_id: "g".into(),
            deduplication_id: "d".into(),
            body: "x".repeat(size),
        }
    }

    #[test]
    fn batches_hold_at_most_ten_entries() {
        let batches = chunk((0..25).map(|_| message(10)).collect()).unwrap();
        assert_eq!(
            batches.iter().map(Vec::len).collect::<Vec<_>>(),
            [10, 10, 5]
        );
    }

    #[test]
    fn batches_hold_at_most_256_kib_of_bodies() {
        let batches = chunk((0..5).map(|_| message(100 * 1024)).collect()).unwrap();
        assert_eq!(batches.iter().map(Vec::len).collect::<Vec<_>>(), [2, 2, 1]);
        assert!(
            batches
                .iter()
                .all(|b| b.iter().map(|m| m.body.len()).sum::<usize>() <= MAX_BATCH_BYTES)
        );
    }

    fn in_group(group: &str, i: usize) -> QueueMessage {
        QueueMessage {
            group_id: group.into(),
            deduplication_id: format!("{group}-{i}"),
            body: format!("{group}-{i}"),
        }
    }

    #[test]
    fn one_groups_batches_go_one_after_another_and_other_groups_share_a_wave() {
        // 25 events of one conversation, then one each of 15 others.
        let mut messages: Vec<QueueMessage> = (0..25).map(|i| in_group("g", i)).collect();
        messages.extend((0..15).map(|i| in_group(&format!("other{i}"), 0)));
        let waves = waves(chunk(messages).unwrap());
        let bodies = |wave: &Vec<Vec<QueueMessage>>| -> Vec<String> {
            wave.iter().flatten().map(|m| m.body.clone()).collect()
        };
        assert_eq!(waves.len(), 3);
        let first = bodies(&waves[0]);
        assert_eq!(
            &first[..10],
            (0..10).map(|i| format!("g-{i}")).collect::<Vec<_>>()
        );
        assert_eq!(
            first.len(),
            10 + 10,
            "ten other groups ride in the first wave"
        );
        let second = bodies(&waves[1]);
        assert_eq!(
            &second[..10],
            (10..20).map(|i| format!("g-{i}")).collect::<Vec<_>>()
        );
        let third = bodies(&waves[2]);
        assert_eq!(
            &third[..5],
            (20..25).map(|i| format!("g-{i}")).collect::<Vec<_>>()
        );
        // Every message is sent, each once.
        let all: usize = waves
            .iter()
            .map(|w| w.iter().map(Vec::len).sum::<usize>())
            .sum();
        assert_eq!(all, 40);
    }

    #[test]
    fn an_event_larger_than_a_queue_message_is_refused() {
        assert!(matches!(
            chunk(vec![message(MAX_BATCH_BYTES + 1)]),
            Err(QueueError::TooLarge(_))
        ));
    }
}
