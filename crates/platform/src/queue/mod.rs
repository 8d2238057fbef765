//! SQS, both kinds: the FIFO queue of inbound events and outbound jobs (`fifo`), and the
//! standard queues of callback and erasure jobs (`jobs`), with the keyed ids that keep
//! personal data out of queue metadata (`ids`), and what a function consuming a batch
//! answers (`batch_response`).

pub mod batch_response;
mod fifo;
pub mod ids;
pub mod jobs;

pub use fifo::{
    EventQueue, MAX_BATCH_BYTES, MAX_BATCH_ENTRIES, MAX_VISIBILITY_SECS, QueueError, QueueMessage,
    chunk, waves,
};
