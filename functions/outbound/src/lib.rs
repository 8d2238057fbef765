//! The outbound worker: consumes batches of jobs from the outbound FIFO queue, sends each
//! through the [`Sender`], and reports per record what must come back. Message groups (one
//! per number and recipient) run concurrently; within a group, order holds.

pub mod config;
pub mod subscribers;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use futures_util::future::join_all;
use wagate_messaging::cloud_api::{CloudApiClient, SendError};
use wagate_messaging::events::durable::HeldRecords;
use wagate_messaging::metrics::Metrics;
use wagate_messaging::outbound::{Delivery, JobResult, OutboundJob, Prepared, Sender, SenderError};
use wagate_messaging::queue::EventQueue;
use wagate_messaging::queue::jobs::JobQueue;
use wagate_messaging::secret_store::SecretStore;
use wagate_messaging::store::Store;
use wagate_messaging::tenants::TenantDirectory;
use wagate_platform::queue::batch_response::{message_id, returning};

use config::OutboundConfig;
use wagate_messaging::telemetry::error_chain;

/// Time kept after a Cloud API call's timeout to record its outcome and answer.
const RECORD_MARGIN: Duration = Duration::from_secs(3);

/// What a worker container holds: built once, shared by every invocation.
pub struct Worker {
    pub sender: Sender,
    /// The outbound queue, to delay the retry of one job.
    pub queue: EventQueue,
    /// How long before the invocation's deadline the last send must start: a Cloud API
    /// call's timeout and the write of its outcome.
    pub send_margin: Duration,
    /// The batch's event records for the durable path, sent when it is done.
    pub durable: HeldRecords,
}

/// When this invocation ends (epoch ms): the runtime's deadline, or, when the runtime gives
/// none in the future (local emulators), `timeout` from now.
pub fn invocation_deadline_ms(runtime_deadline_ms: u64, timeout: Duration) -> u64 {
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    if runtime_deadline_ms > now_ms {
        runtime_deadline_ms
    } else {
        now_ms + timeout.as_millis() as u64
    }
}

impl Worker {
    /// The worker's clients, from its settings and the SDK clients; calls are counted in
    /// `metrics`.
    pub fn new(
        config: &OutboundConfig,
        sdk: &aws_config::SdkConfig,
        metrics: Arc<Metrics>,
    ) -> Result<Self, SendError> {
        let store = Store::open(sdk, &config.storage, metrics.clone());
        let sqs = aws_sdk_sqs::Client::new(sdk);
        // Decrypt needs no key id: the ciphertext names its key.
        let secrets = SecretStore::new(
            aws_sdk_kms::Client::new(sdk),
            String::new(),
            metrics.clone(),
        );
        let durable = HeldRecords::new(JobQueue::new(
            sqs.clone(),
            config.reporting_queue_url.clone(),
            metrics.clone(),
        ));
        Ok(Self {
            sender: Sender::new(
                TenantDirectory::new(store),
                secrets,
                CloudApiClient::new(config.cloud_api.clone())?,
                config.sender,
            )
            .with_subscribers(subscribers::subscribers(subscribers::Wiring {
                durable: durable.clone(),
            })),
            queue: EventQueue::new(sqs, config.queue_url.clone(), metrics),
            send_margin: config.cloud_api.timeout + RECORD_MARGIN,
            durable,
        })
    }
}

struct Record {
    id: String,
    receipt_handle: String,
    attempt: u32,
    job: Result<OutboundJob, String>,
}

/// What became of one record in this invocation; `None` when its job could not be read.
type Processed = Option<Result<JobResult, SenderError>>;

/// Handles one invocation's batch (`deadline_ms` is when the invocation ends, epoch ms),
/// then hands the records of the outcomes it recorded to the durable path in one go: when
/// that fails, every job of the batch comes back, finds its outcome, sends nothing and
/// publishes it again.
pub async fn handle_batch(worker: &Worker, event: SqsEvent, deadline_ms: u64) -> SqsBatchResponse {
    let ids: Vec<String> = event.records.iter().map(message_id).collect();
    match worker
        .durable
        .batch(handle_jobs(worker, event, deadline_ms))
        .await
    {
        (response, Ok(())) => response,
        (_, Err(e)) => {
            tracing::error!(error = %error_chain(&e), "the batch's event records were not queued; the batch comes back");
            returning(ids)
        }
    }
}

/// The first job of every message group is prepared (its reads and checks) before any is
/// sent, so that the send slots leased for the batch are for jobs ready to use them: a slot
/// leased while its job still waits on a read would be lost to the number's throughput.
/// Later jobs of a group (rare: one group per recipient) follow in order.
async fn handle_jobs(worker: &Worker, event: SqsEvent, deadline_ms: u64) -> SqsBatchResponse {
    let send_by_us = deadline_ms as i64 * 1000 - worker.send_margin.as_micros() as i64;
    let delivery = |record: &Record| Delivery {
        attempt: record.attempt,
        now: now(),
        send_by_us,
    };
    let groups = groups_of(event);
    let sender = &worker.sender;

    let prepared = join_all(groups.iter().map(|records| async {
        let job = readable(&records[0])?;
        Some(sender.prepare(job, delivery(&records[0])).await)
    }))
    .await;
    let ready_per_number = count_ready(&prepared);
    let firsts: Vec<Processed> = join_all(prepared.into_iter().map(|prepared| async {
        Some(match prepared? {
            Ok(Prepared::Ready(ready)) => {
                let expected = ready_per_number
                    .get(ready.phone_number_id())
                    .copied()
                    .unwrap_or(1);
                sender.send_ready(*ready, expected).await
            }
            Ok(Prepared::Finished(result)) => Ok(result),
            Err(e) => Err(e),
        })
    }))
    .await;

    let failures = join_all(
        groups
            .iter()
            .zip(firsts)
            .map(|(records, first)| finish_group(worker, records, first, &delivery)),
    )
    .await;
    returning(failures.into_iter().flatten())
}

/// Groups the batch's records by message group, in the order they came.
fn groups_of(event: SqsEvent) -> Vec<Vec<Record>> {
    let mut groups: Vec<(String, Vec<Record>)> = Vec::new();
    for message in event.records {
        let group = message
            .attributes
            .get("MessageGroupId")
            .cloned()
            .unwrap_or_default();
        let record = record_of(message);
        match groups.iter_mut().find(|(g, _)| *g == group) {
            Some((_, records)) => records.push(record),
            None => groups.push((group, vec![record])),
        }
    }
    groups.into_iter().map(|(_, records)| records).collect()
}

fn count_ready(prepared: &[Option<Result<Prepared<'_>, SenderError>>]) -> HashMap<String, u32> {
    let mut counts = HashMap::new();
    for prepared in prepared.iter().flatten() {
        if let Ok(Prepared::Ready(ready)) = prepared {
            *counts
                .entry(ready.phone_number_id().to_owned())
                .or_default() += 1;
        }
    }
    counts
}

/// Settles a group's first record, then sends the rest in order; the first that does not
/// finish holds back the rest of its group, which comes back after it. Returns the ids of
/// the records that must come back.
async fn finish_group(
    worker: &Worker,
    records: &[Record],
    first: Processed,
    delivery: &impl Fn(&Record) -> Delivery,
) -> Vec<String> {
    let mut failed = Vec::new();
    if !settle(worker, &records[0], first).await {
        failed.push(records[0].id.clone());
    }
    for record in &records[1..] {
        if failed.is_empty() {
            let processed = match readable(record) {
                Some(job) => Some(worker.sender.process(job, delivery(record), 1).await),
                None => None,
            };
            if settle(worker, record, processed).await {
                continue;
            }
        }
        failed.push(record.id.clone());
    }
    failed
}

fn readable(record: &Record) -> Option<&OutboundJob> {
    match &record.job {
        Ok(job) => Some(job),
        Err(problem) => {
            tracing::error!(message_id = %record.id, problem = %problem, "unreadable outbound job");
            None
        }
    }
}

/// Logs what became of a record and delays its retry if it has one; true when it is done.
async fn settle(worker: &Worker, record: &Record, processed: Processed) -> bool {
    let (Some(processed), Ok(job)) = (processed, &record.job) else {
        return false;
    };
    match processed {
        Ok(JobResult::Done(done)) => {
            tracing::info!(tenant = %job.tenant_id, job_id = %job.job_id, attempt = record.attempt, outcome = ?done, "job done");
            true
        }
        Ok(JobResult::RetryAfter { delay, reason }) => {
            tracing::info!(tenant = %job.tenant_id, job_id = %job.job_id, attempt = record.attempt, delay_ms = delay.as_millis() as u64, reason, "job will be retried");
            if let Err(e) = worker
                .queue
                .retry_after(&record.receipt_handle, delay)
                .await
            {
                tracing::warn!(job_id = %job.job_id, error = %error_chain(&e), "could not delay the retry; it comes back after the visibility timeout");
            }
            false
        }
        Err(e) => {
            tracing::error!(tenant = %job.tenant_id, job_id = %job.job_id, attempt = record.attempt, error = %error_chain(&e), "job failed; it will be redelivered");
            false
        }
    }
}

fn record_of(message: SqsMessage) -> Record {
    Record {
        id: message.message_id.unwrap_or_default(),
        receipt_handle: message.receipt_handle.unwrap_or_default(),
        attempt: message
            .attributes
            .get("ApproximateReceiveCount")
            .and_then(|c| c.parse().ok())
            .unwrap_or(1),
        job: OutboundJob::parse(message.body.as_deref().unwrap_or_default())
            .map_err(|e| e.to_string()),
    }
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_runtime_deadline_in_the_future_is_kept_and_a_missing_one_becomes_the_timeout() {
        let now_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis() as u64;
        let timeout = Duration::from_secs(30);
        assert_eq!(
            invocation_deadline_ms(now_ms + 5_000, timeout),
            now_ms + 5_000
        );
        for absent in [0, 42, now_ms - 1] {
            let deadline = invocation_deadline_ms(absent, timeout);
            assert!((now_ms + 29_000..now_ms + 31_000).contains(&deadline));
        }
    }
}
