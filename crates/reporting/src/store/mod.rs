//! Reporting's items: the daily usage counters and the marks of the events they counted.

pub mod usage;

pub use wagate_storage::repository;
pub use wagate_storage::store::*;

pub use usage::UsageStore;
