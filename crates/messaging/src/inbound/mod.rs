//! What the inbound worker does with one queued event: parse it fully, then store it,
//! apply it, or keep it as unknown. Every step is idempotent, so a redelivered event
//! changes nothing.

mod apply;
pub mod port;
#[cfg(test)]
mod tests;

pub use apply::{InboundProcessor, Outcome, ProcessError};
pub use port::{InboundStore, InboundTables};
