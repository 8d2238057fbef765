//! The callbacks' items (`callback`: endpoints and the delivery log), beside the other
//! contexts' items, which this crate reads through `wagate_messaging::store`.

pub mod callback;

pub use wagate_messaging::store::repository;
pub use wagate_messaging::store::*;

pub use callback::CallbackStore;
