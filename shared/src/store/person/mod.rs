//! A person's erasure in the table: its record (`record`), the tombstones of their
//! identifiers (`tombstone`), finding and deleting everything about them (`sweep`), and
//! the records of their exports (`export`).

pub mod export;
pub mod record;
pub mod sweep;
pub mod tombstone;

pub use sweep::{PersonFootprint, SweepStep};
