//! A webhook delivery as Meta sends it: split into events with only the fields routing
//! needs (`split`), each of a kind (`kind`).

mod kind;
mod split;

pub use kind::EventKind;
pub use split::{RoutableEvent, Route, WebhookBodyError, split_delivery};
