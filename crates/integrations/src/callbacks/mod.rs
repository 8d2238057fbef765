//! Callbacks to the tenant: normalised events, signed and POSTed to the URLs a tenant
//! registers, retried for a day, logged per delivery and replayable.

pub mod delivery;
pub mod destination;
pub mod emitter;
pub mod endpoint;
pub mod event;
pub mod event_type;
pub mod log;
pub mod payload;
pub mod registry;
pub mod signature;
pub mod subscriber;
