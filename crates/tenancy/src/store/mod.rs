//! The tenancy's items (tenants, numbers, templates), beside the other contexts' items.

pub mod number;
pub mod template;
pub mod tenant;

pub use wagate_storage::repository;
pub use wagate_storage::store::*;

pub use number::NumberStore;
pub use template::TemplateStore;
pub use tenant::TenantStore;
