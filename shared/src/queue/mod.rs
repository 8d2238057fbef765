//! SQS, both kinds: the FIFO queue of inbound events and outbound jobs (`fifo`, with the
//! envelope the webhook queues for each event in `event`), and the standard queues of
//! callback and erasure jobs (`jobs`).

pub mod event;
mod fifo;
pub mod ids;
pub mod jobs;

pub use fifo::{
    EventQueue, MAX_BATCH_BYTES, MAX_BATCH_ENTRIES, MAX_VISIBILITY_SECS, QueueError, chunk, waves,
};
