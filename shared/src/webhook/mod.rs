//! What the webhook does with a delivery's bytes: split it into events with only the
//! fields routing needs, and turn each into a queue message for its tenant.

mod queue_message;
mod split;

pub use queue_message::{Arrival, QueueMessage, to_queue_message};
pub use split::{RoutableEvent, Route, WebhookBodyError, split_delivery};
