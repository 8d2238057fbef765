//! The API keys' items, beside the other contexts' items.

pub mod api_key;

pub use wagate_storage::repository;
pub use wagate_storage::store::*;

pub use api_key::ApiKeyStore;
