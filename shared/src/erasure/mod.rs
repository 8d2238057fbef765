//! Erasure in the background: jobs on the erasure queue that delete data too large for one
//! request. Deleting a tenant is the first: the request cuts the tenant off at once and
//! queues one sweep per scan segment; each sweep deletes the tenant's items it finds,
//! page by page, handing on what is left to a new job before its time runs out.

pub mod job;
pub mod tenant;

pub use job::{ErasureJob, TenantSweep};
pub use tenant::{SweepOutcome, TenantEraser};

use crate::queue::QueueError;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ErasureError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Queue(#[from] QueueError),
    #[error("tenant id {0:?} in an erasure job is not valid")]
    BadTenant(String),
}
