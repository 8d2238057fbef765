//! Compliance: what the gateway owes the people it holds data about and the tenants it
//! holds it for. A person's erasure, proven by a signed receipt (`erasure`, `receipt`);
//! their export (`export`); retention applied to what is already stored and the sealing of
//! what was written before per-person keys (`erasure::ageing`, `erasure::sealing`). The
//! erasure worker also runs the audit log's jobs (`wagate-audit`): retried appends and
//! checkpoint signings.
//!
//! It stands above messaging and tenancy (`wagate-shared` until they leave it) and the
//! audit log: erasing and exporting a person walks their contacts, messages, callbacks
//! and events, so it reads those contexts' items, and none of them reads its own.

pub mod erasure;
pub mod export;
pub mod receipt;
pub mod s3;
pub mod store;

use wagate_messaging::{
    clock, conversations, domain, metrics, privacy, queue, telemetry, tenants, views,
};
