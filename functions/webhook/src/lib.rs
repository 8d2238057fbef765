//! The webhook function: verifies Meta's signature on the exact bytes, splits the delivery
//! into events and puts them on `inbound.fifo`, answering 200 only once SQS has them all.

pub mod config;
mod error;
mod handler;
mod state;

pub use config::WebhookConfig;
pub use error::WebhookError;
pub use handler::handle;
pub use state::AppState;
