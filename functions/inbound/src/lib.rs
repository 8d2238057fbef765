//! The inbound worker: consumes batches from `inbound.fifo` and reports, per record, what
//! it did not process, so SQS redelivers exactly those (and the DLQ catches poison).

use std::collections::HashSet;

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use wagate_shared::inbound::InboundProcessor;

/// Processes a batch in order. A record that fails is reported, and so is every later
/// record of its message group: FIFO order within a conversation must hold, so they wait
/// for the failed one to be redelivered first. Other groups go on.
pub async fn handle_batch(processor: &InboundProcessor, event: SqsEvent) -> SqsBatchResponse {
    let mut failed_groups: HashSet<String> = HashSet::new();
    let mut failures = Vec::new();
    for record in event.records {
        let id = record.message_id.clone().unwrap_or_default();
        let group = record
            .attributes
            .get("MessageGroupId")
            .cloned()
            .unwrap_or_default();
        if failed_groups.contains(&group) {
            failures.push(failure(id));
            continue;
        }
        let body = record.body.as_deref().unwrap_or_default();
        match processor.process(body).await {
            Ok(outcome) => tracing::debug!(message_id = %id, ?outcome, "record processed"),
            Err(e) => {
                tracing::error!(message_id = %id, error = %error_chain(&e), "record failed");
                failed_groups.insert(group);
                failures.push(failure(id));
            }
        }
    }
    let mut response = SqsBatchResponse::default();
    response.batch_item_failures = failures;
    response
}

fn failure(id: String) -> BatchItemFailure {
    let mut failure = BatchItemFailure::default();
    failure.item_identifier = id;
    failure
}

fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
