//! wagate's library: domain rules, the webhook splitter, and small adapters over DynamoDB,
//! SQS and KMS. Function crates are thin shells around it.

pub mod contact_import;
pub mod contacts;
pub mod conversations;
pub mod events;
#[cfg(any(test, feature = "fakes"))]
pub mod fakes;
pub mod inbound;
pub mod outbound;
pub mod privacy;
pub mod queue;
pub mod store;
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

/// Access and tenancy, under the names the rest of this crate and the functions have
/// always used for them.
pub use wagate_access as access;
pub use wagate_tenancy::{numbers, templates, tenant_admin, tenant_setup, tenants};
