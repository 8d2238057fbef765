//! The outbound worker: consumes batches of jobs from the outbound FIFO queue, sends each
//! through the [`Sender`], and reports per record what must come back. Message groups (one
//! per number and recipient) run concurrently; within a group, order holds.

pub mod config;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use tokio::task::JoinSet;
use wagate_shared::outbound::{JobResult, OutboundJob, Sender};
use wagate_shared::queue::EventQueue;
use wagate_shared::telemetry::error_chain;

/// What a worker container holds: built once, shared by every invocation.
pub struct Worker {
    pub sender: Sender,
    /// The outbound queue, to delay the retry of one job.
    pub queue: EventQueue,
}

struct Record {
    id: String,
    receipt_handle: String,
    attempt: u32,
    job: Result<OutboundJob, String>,
}

pub async fn handle_batch(worker: Arc<Worker>, event: SqsEvent) -> SqsBatchResponse {
    let mut groups: Vec<(String, Vec<Record>)> = Vec::new();
    let mut per_number: HashMap<String, u32> = HashMap::new();
    for message in event.records {
        let group = message
            .attributes
            .get("MessageGroupId")
            .cloned()
            .unwrap_or_default();
        let record = record_of(message);
        if let Ok(job) = &record.job {
            *per_number.entry(job.phone_number_id.clone()).or_default() += 1;
        }
        match groups.iter_mut().find(|(g, _)| *g == group) {
            Some((_, records)) => records.push(record),
            None => groups.push((group, vec![record])),
        }
    }
    let per_number = Arc::new(per_number);
    let mut tasks = JoinSet::new();
    for (_, records) in groups {
        let worker = worker.clone();
        let per_number = per_number.clone();
        tasks.spawn(async move { run_group(&worker, records, &per_number).await });
    }
    let mut failures = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok(failed) => failures.extend(failed),
            Err(e) => tracing::error!(error = %e, "a message group's task panicked"),
        }
    }
    let mut response = SqsBatchResponse::default();
    response.batch_item_failures = failures
        .into_iter()
        .map(|id| {
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = id;
            failure
        })
        .collect();
    response
}

/// Sends a group's jobs in order. The first that does not finish holds back the rest of
/// its group, which comes back after it.
async fn run_group(
    worker: &Worker,
    records: Vec<Record>,
    per_number: &HashMap<String, u32>,
) -> Vec<String> {
    let mut failed = Vec::new();
    for record in records {
        if !failed.is_empty() {
            failed.push(record.id);
            continue;
        }
        let job = match &record.job {
            Ok(job) => job,
            Err(problem) => {
                tracing::error!(message_id = %record.id, problem = %problem, "unreadable outbound job");
                failed.push(record.id);
                continue;
            }
        };
        let expected = per_number.get(&job.phone_number_id).copied().unwrap_or(1);
        match worker
            .sender
            .process(job, record.attempt, expected, now())
            .await
        {
            Ok(JobResult::Done(done)) => {
                tracing::info!(tenant = %job.tenant_id, job_id = %job.job_id, attempt = record.attempt, outcome = ?done, "job done");
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
                failed.push(record.id);
            }
            Err(e) => {
                tracing::error!(tenant = %job.tenant_id, job_id = %job.job_id, attempt = record.attempt, error = %error_chain(&e), "job failed; it will be redelivered");
                failed.push(record.id);
            }
        }
    }
    failed
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
