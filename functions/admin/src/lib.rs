//! The admin API function, `/admin/v1`: tenants, keys, numbers, WABAs, Meta apps and
//! retention, for the operator and tenants' admin keys. It owns its router (`router`),
//! its handlers and its configuration (`config`); what both APIs share is `http_api`.

mod audit;
pub mod config;
mod consent;
mod contacts;
mod content;
mod erasures;
mod exports;
mod keys;
mod maintenance;
mod meta_app;
mod numbers;
mod retention;
mod router;
mod state;
mod tenants;
mod wabas;

pub use config::AdminConfig;
pub use router::{AdminApi, document, router};
pub use state::{
    AdminState, AdministeredTenant, Caller, PersonalDataJobs, TenantDeletion, TenantPath,
};
