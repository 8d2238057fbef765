//! Integrations: the tenant's own systems. Callbacks (`callbacks`): the endpoints a tenant
//! registers, the subscriber that turns domain events into the callbacks tenants receive,
//! their signed delivery with retries, the delivery log and replays; with the items only
//! they write (`store`).
//!
//! It stands above messaging (`wagate-shared` until it leaves it): it reads the events
//! messaging publishes and the contacts' erasure and restriction, and messaging knows
//! nothing of it. Compliance stands above it, since erasing and exporting a person walks
//! their callback deliveries too.

pub mod callbacks;
pub mod store;

use wagate_messaging::{
    cache, domain, events, http, privacy, queue, secret, secret_store, tenants,
};
