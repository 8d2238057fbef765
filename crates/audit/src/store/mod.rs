//! The audit log's items (`audit`: its entries, heads and checkpoints), beside the other
//! contexts' items, which this crate reads through `wagate_messaging::store`.

pub mod audit;

pub use wagate_messaging::store::repository;
pub use wagate_messaging::store::*;

pub use audit::AuditStore;
