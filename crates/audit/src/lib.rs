//! The audit log as the APIs and workers use it: appending an entry to a chain (the
//! tenant's, or the operator's), listing a chain, and walking it against its signed
//! checkpoints (`checkpoint`, `verify`). Every append also writes the chain's new head to
//! the log stream, and every signed checkpoint too, so that what is deleted from the table
//! is still known to have existed. An append that fails is queued and retried by the
//! erasure worker (`backlog`), never dropped.

pub mod backlog;
pub mod checkpoint;
pub mod jobs;
pub mod store;
pub mod verify;

use wagate_messaging::{cache, clock, domain, metrics, privacy, queue, telemetry};

use crate::store::AuditStore;
use crate::store::TenantStore;
use std::sync::Arc;
use std::time::Duration;
use wagate_messaging::inbound::port::AuditTrail;

use crate::cache::TtlCache;
use crate::domain::audit::checkpoint::CHECKPOINT_EVERY;
use crate::domain::audit::{AuditEntry, AuditFact, Link, OPERATOR_CHAIN};
use crate::domain::retention::{DataClass, Retention};
use crate::domain::tenant::TenantId;
use crate::jobs::AuditJob;
use crate::metrics::Metrics;
use crate::privacy::mac::{KmsMac, MacError};
use crate::queue::QueueError;
use crate::queue::jobs::JobQueue;
use crate::store::audit::{AuditFilter, AuditPage};
use crate::store::cursor::Cursor;
use crate::store::{PutOutcome, Store, StoreError};
use crate::telemetry::error_chain;

pub use checkpoint::{Checkpointer, Signed, SignedChains};
pub use jobs::{AuditAppend, SignChain, SignEveryChain};
pub use verify::ChainReport;

/// Writers racing for the same place give up after this many tries (each loses only to
/// another writer's success, so the chain moves on meanwhile).
const MAX_TRIES: usize = 25;
/// Entries a retried append looks through for its own first try.
const RECENT_ENTRIES: i32 = 100;
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
    #[error("this function holds no audit key: it neither signs nor checks checkpoints")]
    NoKey,
}

#[derive(Clone)]
pub struct AuditLog {
    store: Store,
    retention: Arc<TtlCache<String, Retention>>,
    /// Signs and checks checkpoints with the audit key: the erasure function's and the
    /// admin API's logs (the functions that face the internet hold no audit key).
    checkpoints: Option<Checkpointer>,
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
    pub fn new(store: Store) -> Self {
        Self {
            store,
            retention: Arc::new(TtlCache::new(RETENTION_TTL, 10_000)),
            checkpoints: None,
            jobs: None,
        }
    }

    /// An audit log that signs and checks checkpoints with the KMS HMAC key `key_id`.
    pub fn signed_by(
        store: Store,
        kms: aws_sdk_kms::Client,
        key_id: impl Into<String>,
        metrics: Arc<Metrics>,
    ) -> Self {
        let key = KmsMac::new(kms, key_id, metrics);
        let checkpoints = Checkpointer::new(store.clone(), key);
        Self {
            checkpoints: Some(checkpoints),
            ..Self::new(store)
        }
    }

    /// Appends that fail are queued on `queue` (the erasure queue) instead of dropped.
    pub fn with_jobs(mut self, queue: JobQueue) -> Self {
        self.jobs = Some(queue);
        self
    }

    /// The audit key's signer, which a log of a function without the key lacks.
    pub fn checkpoints(&self) -> Result<&Checkpointer, AuditError> {
        self.checkpoints.as_ref().ok_or(AuditError::NoKey)
    }

    /// Queues the adoption of every chain that has no checkpoint though one was due: each
    /// is signed once a walk of it holds (the operator's decision, after an upgrade or a
    /// failure of signing).
    pub async fn adopt_unanchored_chains(&self) -> Result<(), AuditError> {
        let queue = self.jobs.as_ref().ok_or(AuditError::NoLog)?;
        let job = SignEveryChain {
            after: None,
            adopt: true,
        };
        Ok(queue.send(&[AuditJob::AuditCheckpoints(job)]).await?)
    }

    /// Signs a checkpoint of `chain`'s head as it is now (the job an append queues at every
    /// [`CHECKPOINT_EVERY`]th entry).
    pub async fn sign_checkpoint(&self, chain: &str, now: i64) -> Result<Signed, AuditError> {
        self.checkpoints()?.sign(chain, now).await
    }

    /// Runs one job of the daily signing of every chain; without the erasure queue to hand
    /// its rest to, it signs them all at once.
    pub async fn sign_every_chain(
        &self,
        job: &SignEveryChain,
        keep_going: impl Fn() -> bool,
    ) -> Result<SignedChains, AuditError> {
        self.checkpoints()?
            .sign_all(job, self.jobs.as_ref(), keep_going)
            .await
    }

    /// Appends `fact` to `chain` with the chain's retention, after whatever another writer
    /// appended first.
    pub async fn append(&self, chain: &str, fact: AuditFact) -> Result<AuditEntry, AuditError> {
        self.append_noting(chain, fact, None, &mut None).await
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
        self.append_noting(chain, fact, Some(expires_at), &mut None)
            .await
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
        let mut head_before = None;
        let appended = self
            .append_noting(chain, fact.clone(), expires_at, &mut head_before)
            .await;
        let failure = match appended {
            Ok(entry) => return Ok(Recorded::Appended(entry.seq)),
            Err(e) => e,
        };
        let Some(queue) = &self.jobs else {
            return Err(failure);
        };
        tracing::warn!(audit_chain = %chain, error = %error_chain(&failure), "an audit append failed; it is queued to be retried");
        let job = AuditAppend {
            chain: chain.to_owned(),
            fact,
            expires_at,
            after_seq: head_before,
        };
        backlog::queue(queue, job).await?;
        Ok(Recorded::Queued)
    }

    /// Appends `fact` (with the chain's retention unless `expires_at` is given), noting in
    /// `head_before` the head it first found: an entry that records `fact` can only be
    /// after it. A put the SDK retried after it had been stored answers that the place is
    /// taken; the entry that records `fact` after that head is then the answer.
    async fn append_noting(
        &self,
        chain: &str,
        fact: AuditFact,
        expires_at: Option<i64>,
        head_before: &mut Option<u64>,
    ) -> Result<AuditEntry, AuditError> {
        let expires_at = match expires_at {
            Some(ends) => ends,
            None => self
                .retention_of(chain)
                .await?
                .expires_at(DataClass::Audit, fact.at),
        };
        for attempt in 0..MAX_TRIES {
            if attempt > 0
                && let Some(before) = *head_before
                && let Some(found) = self.recorded_after(chain, before, &fact).await?
            {
                return Ok(found);
            }
            let head = self.store.repo::<AuditStore>().audit_head(chain).await?;
            let prev = match head {
                Some(head) => {
                    let ends = head.entry.expires_at.unwrap_or(head.expires_at);
                    Some((head.entry.seq, head.entry.hash, ends))
                }
                None => self.place_after_checkpoint(chain).await?,
            };
            head_before.get_or_insert(prev.as_ref().map_or(0, |p| p.0));
            let link = prev.as_ref().map(|(seq, hash, ends)| Link {
                seq: *seq,
                hash,
                expires_at: *ends,
            });
            let entry = AuditEntry::after(link, fact.clone(), expires_at);
            if self
                .store
                .repo::<AuditStore>()
                .put_audit_entry(chain, &entry)
                .await?
                == PutOutcome::Stored
            {
                tracing::info!(audit_chain = %chain, seq = entry.seq, hash = %entry.hash, "audit head");
                if entry.seq.is_multiple_of(CHECKPOINT_EVERY) {
                    self.checkpoint_due(chain, fact.at).await;
                }
                return Ok(entry);
            }
        }
        Err(AuditError::Contended(chain.to_owned()))
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
            .repo::<AuditStore>()
            .audit_entries(chain, filter, true, limit, after, now)
            .await
    }

    /// A checkpoint is due: queued for the erasure function, which holds the audit key;
    /// signed here by a log with no queue (in process). A failure is an alert, never the
    /// append's: the daily signing covers the chain again.
    async fn checkpoint_due(&self, chain: &str, at: i64) {
        let signed = match (&self.jobs, &self.checkpoints) {
            (Some(queue), _) => {
                let job = AuditJob::AuditSign(SignChain {
                    chain: chain.to_owned(),
                });
                queue.send(&[job]).await.map_err(AuditError::from)
            }
            (None, Some(checkpoints)) => checkpoints.sign(chain, at).await.map(|_| ()),
            (None, None) => Err(AuditError::NoKey),
        };
        if let Err(e) = signed {
            tracing::error!(alert = "audit_checkpoint_failed", audit_chain = %chain, error = %error_chain(&e), "an audit checkpoint was not signed");
        }
    }

    /// The entry after `before` that records `fact`, among the next few (a retry looks
    /// right after its first try).
    async fn recorded_after(
        &self,
        chain: &str,
        before: u64,
        fact: &AuditFact,
    ) -> Result<Option<AuditEntry>, AuditError> {
        let (entries, _) = self
            .store
            .repo::<AuditStore>()
            .audit_entries_from(chain, before + 1, RECENT_ENTRIES, None)
            .await?;
        Ok(entries
            .into_iter()
            .map(|kept| kept.entry)
            .find(|entry| entry.records(fact)))
    }

    /// Where the next entry goes when every entry has ended and gone: after the newest
    /// checkpoint's head, so that the numbers go on and a deleted chain does not start
    /// again unseen.
    async fn place_after_checkpoint(
        &self,
        chain: &str,
    ) -> Result<Option<(u64, String, i64)>, AuditError> {
        Ok(self
            .store
            .repo::<AuditStore>()
            .newest_audit_checkpoint(chain)
            .await?
            .map(|signed| {
                let state = signed.state;
                (state.seq, state.hash, state.entry_expires_at)
            }))
    }

    /// The retention of the chain's tenant (the defaults for the operator's chain).
    async fn retention_of(&self, chain: &str) -> Result<Retention, StoreError> {
        if let Some(found) = self.retention.get(&chain.to_owned()) {
            return Ok(found);
        }
        let retention = match TenantId::parse(chain) {
            Ok(tenant) if chain != OPERATOR_CHAIN => self
                .store
                .repo::<TenantStore>()
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

/// The inbound processor records the consent changes people and Meta make through this.
impl AuditTrail for AuditLog {
    type Error = AuditError;

    async fn record_fact(
        &self,
        tenant: &TenantId,
        fact: AuditFact,
        expires_at: i64,
    ) -> Result<(), AuditError> {
        self.record(tenant.as_str(), fact, Some(expires_at))
            .await
            .map(|_| ())
    }
}
