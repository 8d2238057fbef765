//! The reporting worker: reads the durable path's event records and counts each once in
//! the projections (today a number's daily usage). A record it cannot read is logged and
//! dropped (it could never be counted; it names no person); a record whose count failed
//! goes back to the queue and is counted when it returns, once.

pub mod config;

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use futures_util::future::join_all;
use wagate_platform::telemetry::error_chain;
use wagate_reporting::domain::event_record::EventRecord;
use wagate_reporting::store::UsageStore;
use wagate_reporting::store::usage::Counted;

/// What became of one record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handled {
    Counted,
    /// Counted by an earlier delivery.
    Already,
    Unreadable,
    /// Back to the queue.
    Failed,
}

pub async fn handle_batch(usage: &UsageStore, event: SqsEvent, now: i64) -> SqsBatchResponse {
    let results = join_all(event.records.iter().map(|r| handle_record(usage, r, now))).await;
    let mut response = SqsBatchResponse::default();
    for (record, handled) in event.records.iter().zip(results) {
        if handled == Handled::Failed {
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = record.message_id.clone().unwrap_or_default();
            response.batch_item_failures.push(failure);
        }
    }
    response
}

pub async fn handle_record(usage: &UsageStore, message: &SqsMessage, now: i64) -> Handled {
    let id = message.message_id.as_deref().unwrap_or_default();
    let body = message.body.as_deref().unwrap_or_default();
    let Ok(record) = serde_json::from_str::<EventRecord>(body) else {
        tracing::error!(alert = "event_record_unreadable", message_id = %id, "unreadable event record dropped");
        return Handled::Unreadable;
    };
    match usage.count_once(&record, now).await {
        Ok(Counted::Counted) => Handled::Counted,
        Ok(Counted::Already) => Handled::Already,
        Err(e) => {
            tracing::warn!(tenant = %record.tenant_id, error = %error_chain(&e), "an event was not counted; it comes back");
            Handled::Failed
        }
    }
}
