//! Sending: outbound jobs on a FIFO queue (grouped by phone number and recipient), and the
//! sender that turns one job into at most one accepted Cloud API call, paced per number and
//! per recipient, with Meta's errors turned into retries, refusals or stops.

pub mod accept;
pub mod accept_port;
#[cfg(test)]
mod accept_tests;
pub mod consent;
pub mod enqueue;
pub mod job;
pub mod pacer;
pub mod pair;
pub mod read_receipt;
pub mod retry;
pub mod send_port;
pub mod sender;
#[cfg(test)]
mod sender_tests;
pub mod window;

pub use accept::{AcceptError, AcceptedMessage, IdempotencyKey, Outbox, SendCommand};
pub use accept_port::{AcceptStore, JobSink};
pub use enqueue::{EnqueueError, OutboundQueue};
pub use job::{JobError, OutboundJob};
pub use read_receipt::{ReadError, ReadReceipts};
pub use sender::{
    Delivery, Done, JobResult, Prepared, ReadyJob, Sender, SenderError, SenderSettings,
};
