//! The callbacks worker: consumes the callback queue (one event for one endpoint per
//! message) and delivers each record on its own, at the same time, so one slow receiver
//! does not hold up the batch. A failed delivery comes back after its retry delay (the
//! record's visibility is moved); one given up on goes to the dead-letter queue.

pub mod config;

use std::sync::Arc;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use futures_util::future::join_all;
use wagate_integrations::callbacks::delivery::{Deliverer, NextStep};
use wagate_integrations::callbacks::emitter::CallbackJob;
use wagate_messaging::metrics::Metrics;
use wagate_messaging::queue::EventQueue;
use wagate_messaging::telemetry::error_chain;
use wagate_platform::queue::batch_response::{message_id, returning};

pub struct Worker {
    pub deliverer: Deliverer,
    pub queue: EventQueue,
    pub sqs: aws_sdk_sqs::Client,
    pub dead_letter_queue_url: String,
    pub metrics: Arc<Metrics>,
}

/// What the worker did with one record; for logs and tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Handled {
    Delivered,
    Dropped,
    Retrying,
    DeadLettered,
    /// Our own failure (store, KMS, SQS): SQS redelivers the record after its timeout.
    Failed,
}

pub async fn handle_batch(worker: &Worker, event: SqsEvent, now: i64) -> SqsBatchResponse {
    let results = join_all(event.records.iter().map(|r| handle_record(worker, r, now))).await;
    let failed = event
        .records
        .iter()
        .zip(results)
        .filter(|(_, handled)| matches!(handled, Handled::Retrying | Handled::Failed))
        .map(|(record, _)| message_id(record));
    returning(failed)
}

pub async fn handle_record(worker: &Worker, record: &SqsMessage, now: i64) -> Handled {
    let id = record.message_id.as_deref().unwrap_or_default();
    let body = record.body.as_deref().unwrap_or_default();
    let Ok(job) = serde_json::from_str::<CallbackJob>(body) else {
        tracing::error!(message_id = %id, "unreadable callback job; moved to the dead-letter queue");
        return dead_letter(worker, body, "unreadable job", 0).await;
    };
    let attempt: u32 = record
        .attributes
        .get("ApproximateReceiveCount")
        .and_then(|c| c.parse().ok())
        .unwrap_or(1);
    let tenant = job.event.tenant_id.as_str();
    match worker.deliverer.deliver(&job, attempt, now).await {
        Ok(NextStep::Done) => Handled::Delivered,
        Ok(NextStep::Dropped) => Handled::Dropped,
        Ok(NextStep::RetryAfter(delay)) => {
            tracing::info!(tenant, endpoint = %job.endpoint_id, attempt, delay_secs = delay.as_secs(), "callback delivery failed; will retry");
            let receipt = record.receipt_handle.as_deref().unwrap_or_default();
            if let Err(e) = worker.queue.retry_after(receipt, delay).await {
                tracing::error!(error = %error_chain(&e), "could not delay the retry; SQS redelivers it sooner");
            }
            Handled::Retrying
        }
        Ok(NextStep::GiveUp(why)) => {
            tracing::warn!(alert = "callback_dead_lettered", tenant, endpoint = %job.endpoint_id, attempt, reason = %why, "callback given up on");
            dead_letter(worker, body, &why, attempt).await
        }
        Err(e) => {
            tracing::error!(tenant, error = %error_chain(&e), "callback delivery could not be attempted");
            Handled::Failed
        }
    }
}

/// Moves the record to the dead-letter queue, with why and after how many attempts.
async fn dead_letter(worker: &Worker, body: &str, reason: &str, attempts: u32) -> Handled {
    worker.metrics.add_sqs_request();
    let sent = worker
        .sqs
        .send_message()
        .queue_url(&worker.dead_letter_queue_url)
        .message_body(body)
        .message_attributes("reason", string_attribute(reason))
        .message_attributes("attempts", string_attribute(&attempts.to_string()))
        .send()
        .await;
    match sent {
        Ok(_) => Handled::DeadLettered,
        Err(e) => {
            tracing::error!(error = %error_chain(&e), "could not move a callback to the dead-letter queue");
            Handled::Failed
        }
    }
}

fn string_attribute(value: &str) -> aws_sdk_sqs::types::MessageAttributeValue {
    aws_sdk_sqs::types::MessageAttributeValue::builder()
        .data_type("String")
        .string_value(value)
        .build()
        .expect("data type and value are set")
}
