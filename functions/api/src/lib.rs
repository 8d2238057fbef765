//! The business API function, `/v1`: what a tenant's systems and agents call with their
//! keys. It owns its router (`router`), its handlers, and its configuration (`config`);
//! what both APIs share (errors, extractors, rate limits, cursors) is `http_api`.

mod callbacks;
pub mod config;
mod consent;
mod contact_import;
mod contacts;
mod conversations;
mod messages;
mod read;
mod restriction;
mod router;
mod state;
pub mod subscribers;
mod templates;
mod usage;
mod views;

pub use config::ApiConfig;
pub use router::{BusinessApi, document, router};
pub use state::{Allowed, BusinessState};
