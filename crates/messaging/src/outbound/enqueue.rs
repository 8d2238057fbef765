//! Enqueueing outbound jobs: the one way messages get sent (the business API calls it).

use crate::domain::outbound::{OutboundMessage, ValidationError};
use crate::domain::tenant::TenantId;
use crate::queue::ids::QueueIdKeys;
use crate::queue::{EventQueue, QueueError};
use crate::webhook::QueueMessage;

use super::job::OutboundJob;

#[derive(Debug, thiserror::Error)]
pub enum EnqueueError {
    #[error("the message is not valid: {0}")]
    Invalid(#[from] ValidationError),
    #[error("the job could not be queued")]
    Queue(#[from] QueueError),
}

/// The outbound FIFO queue.
#[derive(Clone)]
pub struct OutboundQueue {
    queue: EventQueue,
    /// Keys the group ids, which are made from the recipient's number.
    ids: QueueIdKeys,
}

impl OutboundQueue {
    pub fn new(queue: EventQueue, ids: QueueIdKeys) -> Self {
        Self { queue, ids }
    }

    /// Validates `message` and queues it for sending from its number. The same
    /// `idempotency_key` makes the same job, which is sent at most once.
    pub async fn enqueue(
        &self,
        tenant: &TenantId,
        message: &OutboundMessage,
        idempotency_key: Option<&str>,
        now: i64,
    ) -> Result<OutboundJob, EnqueueError> {
        let job = OutboundJob::new(tenant, message, idempotency_key, now)?;
        self.enqueue_jobs(std::slice::from_ref(&job)).await?;
        Ok(job)
    }

    /// Whether the job fits in a queue message; its size in bytes when it does not.
    pub fn check_size(job: &OutboundJob) -> Result<(), usize> {
        let size = job.to_body().len();
        if size > crate::queue::MAX_BATCH_BYTES {
            Err(size)
        } else {
            Ok(())
        }
    }

    /// Queues jobs made beforehand, ten to a request.
    pub async fn enqueue_jobs(&self, jobs: &[OutboundJob]) -> Result<(), QueueError> {
        let ids = self.ids.key().await?;
        let messages = jobs
            .iter()
            .map(|job| QueueMessage {
                group_id: job.message_group_id(ids),
                // SQS drops a second enqueue of the same job within five minutes; the
                // message record stops any later one at send time.
                deduplication_id: job.job_id.clone(),
                body: job.to_body(),
            })
            .collect();
        self.queue.send_all(messages).await
    }
}
