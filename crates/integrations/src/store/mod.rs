//! The callbacks' items (`callback`: endpoints and the delivery log), beside the other
//! contexts' items, which this crate reads through `wagate_shared::store`.

pub mod callback;

pub use wagate_shared::store::repository;
pub use wagate_shared::store::*;

pub use callback::CallbackStore;
