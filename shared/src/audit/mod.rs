//! The audit log as the APIs and workers use it: appending an entry to a chain (the
//! tenant's, or the operator's), listing a chain, and walking it against its signed
//! checkpoints (`checkpoint`, `verify`). Every append also writes the chain's new head to
//! the log stream, and every signed checkpoint too, so that what is deleted from the table
//! is still known to have existed. An append that fails is queued and retried by the
//! erasure worker (`backlog`), never dropped.

pub mod backlog;
pub mod checkpoint;
pub mod verify;

use std::sync::Arc;
use std::time::Duration;

use crate::cache::TtlCache;
use crate::domain::audit::checkpoint::CHECKPOINT_EVERY;
use crate::domain::audit::{AuditEntry, AuditFact, OPERATOR_CHAIN};
use crate::domain::retention::{DataClass, Retention};
use crate::domain::tenant::TenantId;
use crate::metrics::Metrics;
use crate::privacy::mac::{KmsMac, MacError};
use crate::queue::QueueError;
use crate::queue::jobs::JobQueue;
use crate::store::audit::{AuditFilter, AuditPage};
use crate::store::cursor::Cursor;
use crate::store::{PutOutcome, Store, StoreError};
use crate::telemetry::error_chain;

pub use checkpoint::{Checkpointer, SignEveryChain, Signed, SignedChains};
pub use verify::ChainReport;

/// Writers racing for the same place give up after this many tries (each loses only to
/// another writer's success, so the chain moves on meanwhile).
const MAX_TRIES: usize = 25;
/// A tenant's audit retention reaches the writers within this.
const RETENTION_TTL: Duration = Duration::from_secs(300);

#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the audit key's MAC failed")]
    Mac(#[from] MacError),
    #[error("the failed append could not be queued either")]
    Queue(#[from] QueueError),
    #[error("the audit chain {0} stayed contended: the entry was not appended")]
    Contended(String),
    #[error("this function was built with no audit log")]
    NoLog,
}

#[derive(Clone)]
pub struct AuditLog {
    store: Store,
    retention: Arc<TtlCache<String, Retention>>,
    checkpoints: Checkpointer,
    /// The erasure queue: where an append that failed waits to be retried, and where the
    /// daily signing hands on its rest.
    jobs: Option<JobQueue>,
}

/// Where a recorded fact went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recorded {
    /// Into the chain, at this place.
    Appended(u64),
    /// Onto the backlog, to be appended by the erasure worker.
    Queued,
}

impl AuditLog {
    pub fn new(store: Store, checkpoints: Checkpointer) -> Self {
        Self {
            store,
            retention: Arc::new(TtlCache::new(RETENTION_TTL, 10_000)),
            checkpoints,
            jobs: None,
        }
    }

    /// An audit log whose checkpoints the KMS HMAC key `key_id` signs.
    pub fn signed_by(
        store: Store,
        kms: aws_sdk_kms::Client,
        key_id: impl Into<String>,
        metrics: Arc<Metrics>,
    ) -> Self {
        let key = KmsMac::new(kms, key_id, metrics);
        Self::new(store.clone(), Checkpointer::new(store, key))
    }

    /// Appends that fail are queued on `queue` (the erasure queue) instead of dropped.
    pub fn with_jobs(mut self, queue: JobQueue) -> Self {
        self.jobs = Some(queue);
        self
    }

    pub fn checkpoints(&self) -> &Checkpointer {
        &self.checkpoints
    }

    /// Runs one job of the daily signing of every chain; without the erasure queue to hand
    /// its rest to, it signs them all at once.
    pub async fn sign_every_chain(
        &self,
        job: &SignEveryChain,
        keep_going: impl Fn() -> bool,
    ) -> Result<SignedChains, AuditError> {
        self.checkpoints
            .sign_all(job, self.jobs.as_ref(), keep_going)
            .await
    }

    /// Appends `fact` to `chain` with the chain's retention, after whatever another writer
    /// appended first.
    pub async fn append(&self, chain: &str, fact: AuditFact) -> Result<AuditEntry, AuditError> {
        let expires_at = self
            .retention_of(chain)
            .await?
            .expires_at(DataClass::Audit, fact.at);
        self.append_until(chain, fact, expires_at).await
    }

    /// Appends `fact` to `chain`, to be kept until `expires_at` at least: for a caller that
    /// already holds the chain's retention. An entry never ends before the one it follows,
    /// so the chain ends from its oldest side only and a gap is never expiry.
    pub async fn append_until(
        &self,
        chain: &str,
        fact: AuditFact,
        expires_at: i64,
    ) -> Result<AuditEntry, AuditError> {
        for _ in 0..MAX_TRIES {
            let (prev, prev_ends) = self.place_after(chain).await?;
            let entry = AuditEntry::after(
                prev.as_ref().map(|(seq, hash)| (*seq, hash.as_str())),
                fact.clone(),
            );
            let ends = expires_at.max(prev_ends);
            if self.store.put_audit_entry(chain, &entry, ends).await? == PutOutcome::Stored {
                tracing::info!(audit_chain = %chain, seq = entry.seq, hash = %entry.hash, "audit head");
                if entry.seq.is_multiple_of(CHECKPOINT_EVERY) {
                    self.checkpoints.sign_or_alert(chain, fact.at).await;
                }
                return Ok(entry);
            }
        }
        Err(AuditError::Contended(chain.to_owned()))
    }

    /// Appends `fact`, or when that fails, queues it to be appended later: the change it
    /// records is made, so failing the caller would only invite a second one. An error
    /// means it could be neither appended nor queued.
    pub async fn record(
        &self,
        chain: &str,
        fact: AuditFact,
        expires_at: Option<i64>,
    ) -> Result<Recorded, AuditError> {
        let appended = match expires_at {
            Some(ends) => self.append_until(chain, fact.clone(), ends).await,
            None => self.append(chain, fact.clone()).await,
        };
        let failure = match appended {
            Ok(entry) => return Ok(Recorded::Appended(entry.seq)),
            Err(e) => e,
        };
        let Some(queue) = &self.jobs else {
            return Err(failure);
        };
        tracing::warn!(audit_chain = %chain, error = %error_chain(&failure), "an audit append failed; it is queued to be retried");
        backlog::queue(queue, chain, fact, expires_at).await?;
        Ok(Recorded::Queued)
    }

    /// A page of the chain, newest first.
    pub async fn entries(
        &self,
        chain: &str,
        filter: &AuditFilter<'_>,
        limit: i32,
        after: Option<&Cursor>,
        now: i64,
    ) -> Result<AuditPage, StoreError> {
        self.store
            .audit_entries(chain, filter, true, limit, after, now)
            .await
    }

    /// The place the next entry takes: after the head, or, when every entry has ended and
    /// gone, after the newest checkpoint's head (so that the numbers go on and a deleted
    /// chain does not start again unseen); and the end the head had.
    async fn place_after(&self, chain: &str) -> Result<(Option<(u64, String)>, i64), AuditError> {
        if let Some(head) = self.store.audit_head(chain).await? {
            return Ok((Some((head.entry.seq, head.entry.hash)), head.expires_at));
        }
        Ok(match self.store.newest_audit_checkpoint(chain).await? {
            Some(signed) => (
                Some((signed.state.seq, signed.state.hash)),
                signed.state.entry_expires_at,
            ),
            None => (None, 0),
        })
    }

    /// The retention of the chain's tenant (the defaults for the operator's chain).
    async fn retention_of(&self, chain: &str) -> Result<Retention, StoreError> {
        if let Some(found) = self.retention.get(&chain.to_owned()) {
            return Ok(found);
        }
        let retention = match TenantId::parse(chain) {
            Ok(tenant) if chain != OPERATOR_CHAIN => self
                .store
                .get_tenant(&tenant)
                .await?
                .map(|t| t.retention)
                .unwrap_or_default(),
            _ => Retention::default(),
        };
        self.retention.insert(chain.to_owned(), retention);
        Ok(retention)
    }
}
