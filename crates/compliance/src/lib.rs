//! Compliance: what the gateway owes the people it holds data about and the tenants it
//! holds it for. A person's erasure, proven by a signed receipt (`erasure`, `receipt`);
//! their export (`export`); retention applied to what is already stored and the sealing of
//! what was written before per-person keys (`erasure::ageing`, `erasure::sealing`); and the
//! tenant's hash-chained audit log with its signed checkpoints (`audit`).
//!
//! It stands above messaging and tenancy (`wagate-shared` until they leave it): erasing
//! and exporting a person walks their contacts, messages, callbacks and events, so it
//! reads those contexts' items, and none of them reads its own. The inbound processor
//! records consent changes through its `AuditTrail` port, which the audit log implements
//! here.

pub mod audit;
pub mod erasure;
pub mod export;
pub mod receipt;
pub mod s3;
pub mod store;

use wagate_shared::{
    cache, clock, conversations, domain, metrics, privacy, queue, telemetry, tenants, views,
};
