//! The inbound worker: consumes batches from `inbound.fifo` and reports, per record, what
//! it did not process, so SQS redelivers exactly those (and the DLQ catches poison).

pub mod config;
pub mod subscribers;

use std::collections::HashSet;
use std::future::Future;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use wagate_audit::AuditLog;
use wagate_messaging::events::durable::HeldRecords;
use wagate_messaging::inbound::{InboundProcessor, InboundTables};
use wagate_messaging::telemetry::error_chain;
use wagate_platform::queue::batch_response::{message_id, returning};

/// The worker's processor: the table's stores, consent changes recorded in the tenant's
/// audit log.
pub type Processor = InboundProcessor<InboundTables<AuditLog>>;

pub async fn handle_batch(processor: &Processor, event: SqsEvent) -> SqsBatchResponse {
    process_in_order(event, |body| async move { processor.process(&body).await }).await
}

/// As [`handle_batch`], then hands the event records the batch made to the durable path
/// in one go. When that fails, every record of the batch comes back: each is idempotent,
/// and its redelivery makes its records again.
pub async fn handle_batch_and_flush(
    processor: &Processor,
    durable: &HeldRecords,
    event: SqsEvent,
) -> SqsBatchResponse {
    let ids: Vec<String> = event.records.iter().map(message_id).collect();
    match durable.batch(handle_batch(processor, event)).await {
        (response, Ok(())) => response,
        (_, Err(e)) => {
            tracing::error!(error = %error_chain(&e), "the batch's event records were not queued; the batch comes back");
            returning(ids)
        }
    }
}

/// Processes a batch in order with `process`. A record that fails is reported, and so is
/// every later record of its message group: order within a conversation must hold, so they
/// wait for the failed one to be redelivered first. Other groups go on.
pub async fn process_in_order<F, Fut, T, E>(event: SqsEvent, mut process: F) -> SqsBatchResponse
where
    F: FnMut(String) -> Fut,
    Fut: Future<Output = Result<T, E>>,
    T: std::fmt::Debug,
    E: std::error::Error,
{
    let mut failed_groups: HashSet<String> = HashSet::new();
    let mut failures = Vec::new();
    for record in event.records {
        let id = message_id(&record);
        let group = record
            .attributes
            .get("MessageGroupId")
            .cloned()
            .unwrap_or_default();
        if failed_groups.contains(&group) {
            failures.push(id);
            continue;
        }
        match process(record.body.unwrap_or_default()).await {
            Ok(outcome) => tracing::debug!(message_id = %id, ?outcome, "record processed"),
            Err(e) => {
                tracing::error!(message_id = %id, error = %error_chain(&e), "record failed");
                failed_groups.insert(group);
                failures.push(id);
            }
        }
    }
    returning(failures)
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;

    use aws_lambda_events::event::sqs::SqsMessage;

    use super::*;

    fn record(id: &str, group: &str, body: &str) -> SqsMessage {
        let mut m = SqsMessage::default();
        m.message_id = Some(id.into());
        m.body = Some(body.into());
        m.attributes.insert("MessageGroupId".into(), group.into());
        m
    }

    #[derive(Debug, thiserror::Error)]
    #[error("poison")]
    struct Poison;

    #[tokio::test]
    async fn a_failure_fails_its_record_and_holds_back_the_rest_of_its_group_only() {
        let mut event = SqsEvent::default();
        event.records = vec![
            record("1", "a", "ok"),
            record("2", "b", "poison"),
            record("3", "a", "ok"),
            record("4", "b", "ok"),
            record("5", "c", "ok"),
        ];
        let seen = RefCell::new(Vec::new());
        let response = process_in_order(event, |body| {
            seen.borrow_mut().push(body.clone());
            async move {
                if body == "poison" {
                    Err(Poison)
                } else {
                    Ok(())
                }
            }
        })
        .await;
        let failed: Vec<_> = response
            .batch_item_failures
            .iter()
            .map(|f| f.item_identifier.as_str())
            .collect();
        assert_eq!(failed, ["2", "4"]);
        assert_eq!(
            seen.borrow().len(),
            4,
            "record 4 waits behind 2 without being processed"
        );
    }
}
