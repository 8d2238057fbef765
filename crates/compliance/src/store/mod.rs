//! The items only compliance writes: a person's erasure and export records and the sweep
//! of their items (`person`), the audit log (`audit`), ageing what is stored (`ageing`) and
//! sealing what was written before per-person keys (`migration`). The audit log's items are
//! the audit crate's. They stand beside the
//! other contexts' items, which this crate reads through `wagate_messaging::store`.

pub mod ageing;
pub mod migration;
pub mod person;

pub use wagate_messaging::store::repository;
pub use wagate_messaging::store::*;

pub use ageing::AgeingStore;
pub use migration::SealingStore;
pub use person::PersonStore;
