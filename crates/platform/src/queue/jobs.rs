//! A standard (not FIFO) SQS queue of JSON jobs: the callback queue and the erasure queue.
//! Jobs go out with `SendMessageBatch`, in batches within SQS's limits on entries and on
//! their bytes, and a send succeeds only when SQS took every job.

use std::sync::Arc;
use std::time::Duration;

use aws_sdk_sqs::types::SendMessageBatchRequestEntry;
use serde::Serialize;

use crate::metrics::Metrics;
use crate::queue::{MAX_BATCH_BYTES, MAX_BATCH_ENTRIES, QueueError};

/// SQS's longest delivery delay.
pub const MAX_DELAY: Duration = Duration::from_secs(900);

#[derive(Clone)]
pub struct JobQueue {
    sqs: aws_sdk_sqs::Client,
    url: String,
    metrics: Arc<Metrics>,
}

impl JobQueue {
    pub fn new(sqs: aws_sdk_sqs::Client, url: String, metrics: Arc<Metrics>) -> Self {
        Self { sqs, url, metrics }
    }

    /// Queues every job for delivery now.
    pub async fn send<T: Serialize>(&self, jobs: &[T]) -> Result<(), QueueError> {
        self.send_delayed(jobs, Duration::ZERO).await
    }

    /// Queues every job, each delivered no sooner than `delay` (at most 15 minutes).
    pub async fn send_delayed<T: Serialize>(
        &self,
        jobs: &[T],
        delay: Duration,
    ) -> Result<(), QueueError> {
        let delay_seconds = delay.min(MAX_DELAY).as_secs() as i32;
        let mut batch: Vec<SendMessageBatchRequestEntry> = Vec::new();
        let mut batch_bytes = 0;
        for (i, job) in jobs.iter().enumerate() {
            let body = serde_json::to_string(job).expect("a job serialises");
            if body.len() > MAX_BATCH_BYTES {
                return Err(QueueError::TooLarge(body.len()));
            }
            if batch.len() == MAX_BATCH_ENTRIES || batch_bytes + body.len() > MAX_BATCH_BYTES {
                self.send_batch(std::mem::take(&mut batch)).await?;
                batch_bytes = 0;
            }
            batch_bytes += body.len();
            let entry = SendMessageBatchRequestEntry::builder()
                .id(format!("e{i}"))
                .message_body(body)
                .set_delay_seconds((delay_seconds > 0).then_some(delay_seconds))
                .build()
                .map_err(|e| QueueError::Send(Box::new(e)))?;
            batch.push(entry);
        }
        if !batch.is_empty() {
            self.send_batch(batch).await?;
        }
        Ok(())
    }

    async fn send_batch(
        &self,
        entries: Vec<SendMessageBatchRequestEntry>,
    ) -> Result<(), QueueError> {
        self.metrics.add_sqs_request();
        let out = self
            .sqs
            .send_message_batch()
            .queue_url(&self.url)
            .set_entries(Some(entries))
            .send()
            .await
            .map_err(|e| QueueError::Send(Box::new(e)))?;
        match out.failed().first() {
            None => Ok(()),
            Some(first) => Err(QueueError::Refused {
                failed: out.failed().len(),
                code: first.code().to_owned(),
            }),
        }
    }
}
