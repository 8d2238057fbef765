//! wagate's library: domain rules, the webhook splitter, and small adapters over DynamoDB,
//! SQS and KMS. Function crates are thin shells around it.

pub mod access;
pub mod contact_import;
pub mod contacts;
pub mod conversations;
pub mod events;
#[cfg(test)]
pub(crate) mod fakes;
pub mod inbound;
pub mod numbers;
pub mod outbound;
pub mod privacy;
pub mod queue;
pub mod store;
pub mod templates;
pub mod tenant_admin;
pub mod tenant_setup;
pub mod tenants;
pub mod views;
pub mod webhook;

/// The domain crate, under the name the rest of this crate has always used for it.
pub use wagate_domain as domain;

/// The platform's modules, under the names the rest of this crate has always used.
pub use wagate_platform::{
    aws, cache, clock, config, http, metrics, secret, secret_store, telemetry, token_bucket,
};

/// Meta's wire, under the names the rest of this crate has always used.
pub use wagate_meta::{cloud_api, signature};
