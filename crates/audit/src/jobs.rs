//! The audit log's jobs on the erasure queue: an append to retry and the signing of
//! checkpoints. The erasure worker's job enum carries the same payloads under the same
//! `job` tags, so what the log queues here is what that worker reads.

use serde::{Deserialize, Serialize};

use crate::domain::audit::AuditFact;
use crate::store::cursor::Cursor;

/// An append to retry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditAppend {
    pub chain: String,
    pub fact: AuditFact,
    /// The end the writer meant it to have; none: the chain's retention.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
    /// The head the failed append found: an entry recording the fact is after it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after_seq: Option<u64>,
}

/// Sign a checkpoint of one chain's head: queued by an append at every 100th entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignChain {
    pub chain: String,
}

/// The daily signing of every chain, from the operator's, then tenant after tenant from
/// `after`; with `adopt`, the operator's adoption of the chains without a checkpoint.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SignEveryChain {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<Cursor>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub adopt: bool,
}

/// The audit log's jobs as the erasure queue carries them (`{"job": "audit_append", ...}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "job", rename_all = "snake_case")]
pub enum AuditJob {
    /// An append that failed, to retry.
    AuditAppend(AuditAppend),
    /// Sign a checkpoint of one chain's head.
    AuditSign(SignChain),
    /// Sign a checkpoint of every chain.
    AuditCheckpoints(SignEveryChain),
}
