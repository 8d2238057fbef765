//! What an SQS-triggered function answers: the ids of the messages that must come back.
//! Every other message of the batch is deleted (the event source reports partial batch
//! responses), so an id left out here is a message gone.

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsMessage};

/// The answer that returns the messages `ids` and lets the rest of the batch go.
pub fn returning(ids: impl IntoIterator<Item = String>) -> SqsBatchResponse {
    let mut response = SqsBatchResponse::default();
    response.batch_item_failures = ids
        .into_iter()
        .map(|id| {
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = id;
            failure
        })
        .collect();
    response
}

/// A message's id as the batch response names it.
pub fn message_id(message: &SqsMessage) -> String {
    message.message_id.clone().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_each_returned_message_once_in_order() {
        let response = returning(["b".to_owned(), "a".to_owned()]);
        let ids: Vec<&str> = response
            .batch_item_failures
            .iter()
            .map(|f| f.item_identifier.as_str())
            .collect();
        assert_eq!(ids, ["b", "a"]);
        assert!(returning(Vec::new()).batch_item_failures.is_empty());
    }
}
