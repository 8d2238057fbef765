//! A person's erasure in the table: its record (`record`), the tombstones of their
//! identifiers (`tombstone`), and finding and deleting everything about them (`sweep`).

pub mod record;
pub mod sweep;
pub mod tombstone;

pub use sweep::{PersonFootprint, SweepStep};
