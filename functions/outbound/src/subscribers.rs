//! Every subscriber of the sender's domain events (a message sent or failed, a
//! conversation the business opened), registered here and nowhere else. A subscriber here
//! runs after the outcome is recorded: its failure is logged, never the send's.

use wagate_messaging::events::Subscribers;
use wagate_messaging::events::durable::{DurableForwarder, HeldRecords};

/// What the sender's subscribers need, built once per container.
pub struct Wiring {
    /// The durable path, for the subscribers that may lag (reports, billing): held until
    /// the batch is done (`crate::handle_batch`).
    pub durable: HeldRecords,
}

pub fn subscribers(wiring: Wiring) -> Subscribers {
    Subscribers::new().with(DurableForwarder::new(wiring.durable))
}
