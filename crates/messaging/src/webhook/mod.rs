//! What the webhook does with a delivery's bytes: split it into events with only the
//! fields routing needs (Meta's wire, `wagate_meta::webhook`), and turn each into a queue
//! message for its tenant.

mod queue_message;

pub use queue_message::{Arrival, QueueMessage, to_queue_message};
pub use wagate_meta::webhook::{RoutableEvent, Route, WebhookBodyError, split_delivery};
