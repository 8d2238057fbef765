//! The queues (`wagate_platform::queue`), and the envelope the webhook queues for each
//! event (`event`).

pub mod event;

pub use wagate_platform::queue::*;
