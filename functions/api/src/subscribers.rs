//! Every subscriber of what the business API publishes (a message queued, a conversation
//! the business opened), registered here and nowhere else. They run after the message is
//! queued: a failure is logged, never the call's.

use wagate_messaging::events::Subscribers;
use wagate_messaging::events::durable::DurableForwarder;
use wagate_messaging::queue::jobs::JobQueue;

/// What the API's subscribers need, built once per container.
pub struct Wiring {
    /// The durable path, for the subscribers that may lag (reports, billing).
    pub durable: JobQueue,
}

pub fn subscribers(wiring: Wiring) -> Subscribers {
    Subscribers::new().with(DurableForwarder::new(wiring.durable))
}
