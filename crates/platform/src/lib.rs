//! wagate's platform: what every context stands on and none owns. Configuration read
//! once, secrets under KMS, JSON logs and counters, container-local caches and token
//! buckets, the SDK clients, the cipher and MACs that seal and sign, and the queues.
//! No rule of the product lives here.

pub mod aws;
pub mod cache;
pub mod config;
pub mod http;
pub mod metrics;
pub mod privacy;
pub mod queue;
pub mod secret;
pub mod secret_store;
pub mod telemetry;
pub mod token_bucket;
