//! Every subscriber of the inbound worker's domain events, registered here and nowhere
//! else, in the order they run for each event. A new subscriber (a bot flow, an
//! assignment) is one line here and a module of its own; none of those already here
//! changes.

use wagate_integrations::callbacks::emitter::CallbackEmitter;
use wagate_integrations::callbacks::subscriber::CallbackSubscriber;
use wagate_messaging::events::Subscribers;
use wagate_messaging::events::durable::{DurableForwarder, HeldRecords};

/// What the worker's subscribers need, built once per container.
pub struct Wiring {
    /// The tenant's callback endpoints, through the callback queue.
    pub callbacks: CallbackEmitter,
    /// The durable path, for the subscribers that may lag (reports, billing): held until
    /// the batch is done (`crate::handle_batch_and_flush`).
    pub durable: HeldRecords,
}

pub fn subscribers(wiring: Wiring) -> Subscribers {
    Subscribers::new()
        .with(CallbackSubscriber::new(wiring.callbacks))
        .with(DurableForwarder::new(wiring.durable))
}
