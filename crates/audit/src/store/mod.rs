//! The audit log's items (`audit`: its entries, heads and checkpoints), beside the other
//! contexts' items, which this crate reads through `wagate_shared::store`.

pub mod audit;

pub use wagate_shared::store::repository;
pub use wagate_shared::store::*;

pub use audit::AuditStore;
