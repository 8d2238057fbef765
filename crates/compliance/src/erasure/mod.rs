//! Erasure in the background: jobs on the erasure queue that delete data too large for one
//! request. Deleting a tenant is the first: the request cuts the tenant off at once and
//! queues one sweep per scan segment; each sweep deletes the tenant's items it finds,
//! page by page, handing on what is left to a new job before its time runs out. Sealing
//! what was written before per-person sealing runs the same way (`sealing`), and so does
//! erasing one person (`person`).

pub mod ageing;
pub mod job;
pub mod person;
pub mod sealing;
pub mod tenant;

pub use ageing::{AgeingOutcome, RetentionAger};
pub use job::{
    AgeingStart, AgeingSweep, ErasureJob, PersonSweep, SealSweep, TenantAgeing, TenantSweep,
    WalkPosition,
};
pub use person::{PersonEraser, PersonOutcome};
pub use sealing::{BackgroundJobs, JobOutcome, SealOutcome, SealingSweeper};
pub use tenant::{SweepOutcome, TenantEraser};

use crate::queue::QueueError;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ErasureError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Queue(#[from] QueueError),
    #[error(transparent)]
    Receipt(#[from] crate::receipt::ReceiptError),
    #[error(transparent)]
    Export(#[from] crate::export::ExportError),
    #[error(transparent)]
    Audit(#[from] wagate_audit::AuditError),
    #[error("tenant id {0:?} in an erasure job is not valid")]
    BadTenant(String),
    #[error("a job of another kind was given to the tenant eraser")]
    NotATenantSweep,
}
