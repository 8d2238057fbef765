//! wagate's platform: what every context stands on and none owns. Configuration read
//! once, secrets under KMS, JSON logs and counters, container-local caches and token
//! buckets, the SDK clients, the cipher, keyring and MACs that seal and sign, the table
//! helper every item module writes through, and the queues.
//! No rule of the product lives here.

pub mod aws;
pub mod cache;
pub mod clock;
pub mod config;
pub mod http;
pub mod metrics;
pub mod privacy;
pub mod queue;
pub mod secret;
pub mod secret_store;
pub mod table;
pub mod telemetry;
pub mod token_bucket;
