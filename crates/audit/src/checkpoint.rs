//! Signing a chain's checkpoint, in the erasure function (the one function that holds
//! the audit key besides the admin API, which only checks): when an append reaches a
//! multiple of 100 (the job it queues), and every day for every chain (`sign_all`). A new
//! checkpoint is signed only over a chain that still agrees with the newest
//! one before it (its MAC checked, the entries since it linked to its head, its oldest
//! entry there until its end), so that a chain rewritten or cut short between two
//! signings is never signed as it is: the signing refuses and alerts, and the walk of
//! `audit/verify` reports the same.

use crate::store::AuditStore;
use crate::store::TenantStore;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::AuditError;
use crate::domain::audit::checkpoint::{
    ChainState, Checkpoint, accusation, oldest_gone, unanchored,
};
use crate::domain::audit::{BrokenLink, ChainWalk, OPERATOR_CHAIN};
use crate::jobs::AuditJob;
use crate::jobs::SignEveryChain;
use crate::privacy::mac::KmsMac;
use crate::queue::jobs::JobQueue;
use crate::store::Store;
use crate::store::audit::KeptEntry;
use crate::telemetry::error_chain;

/// Entries read a page when the signing walks from the last checkpoint to the head.
const WALK_PAGE: i32 = 500;
/// Tenants one page of the daily signing lists (its time is checked between pages).
const TENANTS_A_PAGE: i32 = 20;

#[derive(Clone)]
pub struct Checkpointer {
    store: Store,
    key: KmsMac,
}

/// What signing a chain did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Signed {
    /// A checkpoint of the head at this place.
    Head(u64),
    /// The chain was never written.
    Nothing,
    /// The chain no longer agrees with its newest checkpoint: nothing was signed.
    Refused(BrokenLink),
}

/// What one job of the daily signing did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SignedChains {
    pub signed: u64,
    pub refused: u64,
    pub failed: u64,
    /// Its time ran out: a job for the rest is queued.
    pub continued: bool,
}

impl Checkpointer {
    pub fn new(store: Store, key: KmsMac) -> Self {
        Self { store, key }
    }

    /// Signs the chain's head as it is now, if the chain still agrees with its newest
    /// checkpoint; a chain without one only while it is young (see `unanchored`).
    pub async fn sign(&self, chain: &str, now: i64) -> Result<Signed, AuditError> {
        self.sign_as(chain, now, false).await
    }

    /// [`Self::sign`]; with `adopt`, also a chain that has no checkpoint though one was due
    /// (after an upgrade, or after signing failed), once a walk of the whole chain holds:
    /// the operator's decision, asked for through the admin API.
    async fn sign_as(&self, chain: &str, now: i64, adopt: bool) -> Result<Signed, AuditError> {
        let previous = self
            .store
            .repo::<AuditStore>()
            .newest_audit_checkpoint(chain)
            .await?;
        if let Some(previous) = &previous
            && !self.holds(chain, previous).await?
        {
            return Ok(refused(chain, forged(previous)));
        }
        let head = self.store.repo::<AuditStore>().audit_head(chain).await?;
        let oldest = self
            .store
            .repo::<AuditStore>()
            .oldest_live_audit_entry(chain, now)
            .await?;
        if previous.is_none() {
            let head_seq = head.as_ref().map_or(0, |h| h.entry.seq);
            let first_at = oldest.as_ref().map(|o| o.entry.at);
            let problem = match adopt {
                false => unanchored(head_seq, first_at, now),
                true => self.walk_from(chain, 0, now).await?.broken,
            };
            if let Some(problem) = problem {
                return Ok(refused(chain, problem));
            }
        }
        if let Some(previous) = &previous {
            let walk = self.walk_from(chain, previous.state.seq, i64::MAX).await?;
            let problem = walk
                .broken
                .clone()
                .or_else(|| accusation(&previous.state, &walk, now))
                .or_else(|| {
                    let first = oldest.as_ref().map(|o| o.entry.seq);
                    oldest_gone(&previous.state, first, now)
                })
                .or_else(|| oldest.as_ref()?.entry.start_deleted(now));
            if let Some(problem) = problem {
                return Ok(refused(chain, problem));
            }
        }
        let state = match (head, previous) {
            (Some(head), _) => state_of(&head, oldest.as_ref(), now),
            // Every entry has ended: the last head signed is signed again, so that the
            // newest checkpoint stays fresh and numbers go on from it.
            (None, Some(previous)) => ChainState {
                oldest_seq: 0,
                oldest_expires_at: 0,
                at: now,
                ..previous.state
            },
            (None, None) => return Ok(Signed::Nothing),
        };
        let mac = self.key.sign(&state.signed_bytes(chain)).await?;
        let checkpoint = Checkpoint {
            state,
            mac: mac.bytes,
            key_id: mac.key_id,
        };
        self.store
            .repo::<AuditStore>()
            .put_audit_checkpoint(chain, &checkpoint)
            .await?;
        let state = &checkpoint.state;
        tracing::info!(
            audit_chain = %chain,
            seq = state.seq,
            hash = %state.hash,
            oldest_seq = state.oldest_seq,
            at = state.at,
            mac = %STANDARD.encode(&checkpoint.mac),
            "audit checkpoint"
        );
        Ok(Signed::Head(state.seq))
    }

    /// Whether `checkpoint` is this deployment's audit key's MAC of what it states.
    pub async fn holds(&self, chain: &str, checkpoint: &Checkpoint) -> Result<bool, AuditError> {
        Ok(self
            .key
            .verify(&checkpoint.state.signed_bytes(chain), &checkpoint.mac)
            .await?)
    }

    /// Signs every chain, from where `job` is, while `keep_going` says there is time; the
    /// rest goes on `queue` as a new job.
    pub async fn sign_all(
        &self,
        job: &SignEveryChain,
        queue: Option<&JobQueue>,
        keep_going: impl Fn() -> bool,
    ) -> Result<SignedChains, AuditError> {
        let mut done = SignedChains::default();
        if job.after.is_none() {
            self.sign_counted(OPERATOR_CHAIN, job.adopt, &mut done)
                .await;
        }
        let mut after = job.after.clone();
        loop {
            let page = self
                .store
                .repo::<TenantStore>()
                .list_tenants(after.as_ref(), TENANTS_A_PAGE)
                .await?;
            for tenant in &page.tenants {
                self.sign_counted(tenant.id.as_str(), job.adopt, &mut done)
                    .await;
            }
            match (page.next, queue) {
                (None, _) => return Ok(done),
                (Some(next), Some(queue)) if !keep_going() => {
                    let rest = SignEveryChain {
                        after: Some(next),
                        adopt: job.adopt,
                    };
                    queue.send(&[AuditJob::AuditCheckpoints(rest)]).await?;
                    done.continued = true;
                    return Ok(done);
                }
                (Some(next), _) => after = Some(next),
            }
        }
    }

    /// Signs one chain of the daily signing; a failure is counted and alerted, and the
    /// signing goes on with the next chain.
    async fn sign_counted(&self, chain: &str, adopt: bool, done: &mut SignedChains) {
        match self
            .sign_as(chain, crate::clock::now_seconds(), adopt)
            .await
        {
            Ok(Signed::Head(_)) => done.signed += 1,
            Ok(Signed::Nothing) => {}
            Ok(Signed::Refused(_)) => done.refused += 1,
            Err(e) => {
                done.failed += 1;
                tracing::error!(alert = "audit_checkpoint_failed", audit_chain = %chain, error = %error_chain(&e), "an audit checkpoint was not signed");
            }
        }
    }

    /// Walks the chain from entry `from` to its head; its first entry is taken for the
    /// chain's oldest at `now` (`i64::MAX`: a walk from within, which does not).
    async fn walk_from(&self, chain: &str, from: u64, now: i64) -> Result<ChainWalk, AuditError> {
        let mut walk = ChainWalk::watching(now, [from]);
        let mut after = None;
        loop {
            let (entries, next) = self
                .store
                .repo::<AuditStore>()
                .audit_entries_from(chain, from, WALK_PAGE, after.as_ref())
                .await?;
            for kept in &entries {
                walk.check(&kept.entry);
            }
            match next {
                Some(next) if walk.broken.is_none() => after = Some(next),
                _ => return Ok(walk),
            }
        }
    }
}

fn state_of(head: &KeptEntry, oldest: Option<&KeptEntry>, now: i64) -> ChainState {
    ChainState {
        seq: head.entry.seq,
        hash: head.entry.hash.clone(),
        entry_expires_at: head.expires_at,
        oldest_seq: oldest.map_or(0, |o| o.entry.seq),
        oldest_expires_at: oldest.map_or(0, |o| o.expires_at),
        at: now,
    }
}

/// The finding that a checkpoint's MAC does not hold.
pub(crate) fn forged(checkpoint: &Checkpoint) -> BrokenLink {
    BrokenLink {
        seq: checkpoint.state.seq,
        problem: format!(
            "the checkpoint of entry {} is not signed by this deployment's audit key: it was forged or changed",
            checkpoint.state.seq
        ),
    }
}

fn refused(chain: &str, problem: BrokenLink) -> Signed {
    tracing::error!(alert = "audit_chain_tampered", audit_chain = %chain, seq = problem.seq, problem = %problem.problem, "the audit chain disagrees with its newest checkpoint: nothing was signed");
    Signed::Refused(problem)
}
