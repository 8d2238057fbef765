//! Messages and what happens to them: inbound messages (each its own dedup record),
//! outbound messages keyed by their job, the delivery state of each wamid, and the
//! public id that names a message to callers.

pub mod delivery;
pub mod inbound;
pub mod outbound;
