//! Tenancy: the tenants and what they hold at Meta. Their settings, retention and
//! lifecycle (`tenant_admin`, `tenant_setup`), their numbers (`numbers`) and templates
//! (`templates`), with the items only this context writes (`store/`: tenants, numbers and
//! their routes and pacing, templates), and the directory every other context reads them
//! through, cached per container (`tenants`).
//!
//! It stands on access (setting a tenant up makes its first key) and below messaging,
//! which reads tenants, numbers and template categories on every event and send.

pub mod numbers;
pub mod store;
pub mod templates;
pub mod tenant_admin;
pub mod tenant_setup;
pub mod tenants;

use wagate_access as access;
use wagate_domain as domain;
use wagate_meta::cloud_api;
use wagate_platform::{cache, secret, secret_store};
