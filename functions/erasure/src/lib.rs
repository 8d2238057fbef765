//! The erasure worker: consumes the erasure queue, one job per record, and runs each until
//! it is done or the invocation's time is nearly up (the job then queues its own rest).
//! A job that fails is redelivered by SQS; one that keeps failing lands in the DLQ.

pub mod config;

use std::time::{Duration, Instant};

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use wagate_compliance::erasure::{BackgroundJobs, ErasureJob, JobOutcome};
use wagate_messaging::telemetry::error_chain;
use wagate_platform::queue::batch_response::{message_id, returning};

/// Time kept back from the invocation's deadline for the page in flight and the queueing
/// of the rest: a page is at most 1,000 items, deleted 25 to a request.
pub const RESERVE: Duration = Duration::from_secs(20);

/// Deliveries of a job before SQS moves it to the dead-letter queue (`maxReceiveCount` of
/// the erasure queue in `template.yaml`): the last one that fails marks its erasure failed.
pub const MAX_RECEIVES: u32 = 10;

/// What the worker did with one record; for logs and tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Handled {
    Done(JobOutcome),
    /// Not a job this worker knows: logged and dropped (it would fail every time).
    Unreadable,
    /// Our own failure (store, SQS): SQS redelivers the record after its timeout.
    Failed,
}

/// Runs the batch's jobs one after another, stopping each in time for `deadline`.
pub async fn handle_batch(
    jobs: &BackgroundJobs,
    event: SqsEvent,
    deadline: Instant,
) -> SqsBatchResponse {
    let mut failed = Vec::new();
    for record in &event.records {
        if handle_record(jobs, record, deadline).await == Handled::Failed {
            failed.push(message_id(record));
        }
    }
    returning(failed)
}

pub async fn handle_record(
    jobs: &BackgroundJobs,
    record: &SqsMessage,
    deadline: Instant,
) -> Handled {
    let id = record.message_id.as_deref().unwrap_or_default();
    let body = record.body.as_deref().unwrap_or_default();
    let Ok(job) = serde_json::from_str::<ErasureJob>(body) else {
        tracing::error!(alert = "erasure_job_unreadable", message_id = %id, "unreadable erasure job dropped");
        return Handled::Unreadable;
    };
    let keep_going = || Instant::now() + RESERVE < deadline;
    let started = Instant::now();
    match jobs.run(&job, keep_going).await {
        Ok(outcome) => {
            let left_ms = deadline
                .saturating_duration_since(Instant::now())
                .as_millis() as u64;
            let took_ms = started.elapsed().as_millis() as u64;
            tracing::info!(message_id = %id, ?outcome, took_ms, left_ms, "erasure job ran");
            Handled::Done(outcome)
        }
        Err(e) => {
            let error = error_chain(&e);
            tracing::error!(message_id = %id, error = %error, "erasure job failed; SQS will redeliver it");
            if receive_count(record) >= MAX_RECEIVES
                && let Err(e) = jobs
                    .give_up(
                        &job,
                        "the erasure failed repeatedly; the operator has the logs",
                    )
                    .await
            {
                tracing::error!(message_id = %id, error = %error_chain(&e), "a failed erasure could not be marked failed");
            }
            Handled::Failed
        }
    }
}

/// Which delivery of the record this is, from 1.
fn receive_count(record: &SqsMessage) -> u32 {
    record
        .attributes
        .get("ApproximateReceiveCount")
        .and_then(|n| n.parse().ok())
        .unwrap_or(1)
}
