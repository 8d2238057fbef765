//! Walking a chain from its oldest entry: every entry must hold and follow the one before
//! (`ChainWalk`), every checkpoint must agree with what the walk found, and the newest
//! checkpoint must be this deployment's audit key's and no older than a day. Only the MACs
//! that matter are checked with KMS: the newest checkpoint's, and that of any checkpoint
//! that accuses the chain (a forged one accuses nothing but itself).

use crate::store::AuditStore;
use serde::Serialize;
use utoipa::ToSchema;

use crate::checkpoint::forged;
use crate::domain::audit::checkpoint::{Checkpoint, accusation, oldest_gone, staleness};
use crate::domain::audit::{BrokenLink, ChainWalk};
use crate::store::audit::AuditFilter;
use crate::store::cursor::Cursor;
use crate::{AuditError, AuditLog};

/// A walk reads this many entries a page.
const WALK_PAGE: i32 = 500;

/// What a walk of a chain found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ChainReport {
    /// Every entry checked holds, each follows the one before, and the chain agrees with
    /// its signed checkpoints.
    pub valid: bool,
    pub entries: u64,
    /// The oldest entry kept (older ones ended with the audit retention).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_seq: Option<u64>,
    /// The newest entry.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub head_seq: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub head_hash: Option<String>,
    /// The checkpoints compared with the chain.
    pub checkpoints: u64,
    /// The newest checkpoint, its MAC checked: entries up to it are as they were signed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signed: Option<SignedHead>,
    /// The first thing that does not hold, and why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub broken: Option<BrokenLink>,
}

/// A checkpoint whose MAC holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct SignedHead {
    pub seq: u64,
    pub hash: String,
    /// When it was signed (epoch seconds).
    pub at: i64,
    /// The KMS key that signed it.
    pub key_id: String,
}

impl AuditLog {
    /// Walks the whole chain, oldest first, and reports the first thing that does not hold.
    pub async fn verify(&self, chain: &str, now: i64) -> Result<ChainReport, AuditError> {
        let checkpoints = self.all_checkpoints(chain).await?;
        let walk = self
            .walk(chain, checkpoints.iter().map(|c| c.state.seq), now)
            .await?;
        let mut broken = walk.broken.clone();
        if broken.is_none() {
            broken = self.accused(chain, &checkpoints, &walk, now).await?;
        }
        let mut signed = None;
        if broken.is_none()
            && let Some(newest) = checkpoints.last()
        {
            if self.checkpoints()?.holds(chain, newest).await? {
                signed = Some(newest);
            } else {
                broken = Some(forged(newest));
            }
        }
        if broken.is_none() {
            broken = staleness(signed.map(|c| &c.state), &walk, now);
        }
        let head = walk.head().map(|(seq, hash)| (seq, hash.to_owned()));
        Ok(ChainReport {
            valid: broken.is_none(),
            entries: walk.entries,
            first_seq: walk.first_seq,
            head_seq: head.as_ref().map(|h| h.0),
            head_hash: head.map(|h| h.1),
            checkpoints: checkpoints.len() as u64,
            signed: signed.map(|c| SignedHead {
                seq: c.state.seq,
                hash: c.state.hash.clone(),
                at: c.state.at,
                key_id: c.key_id.clone(),
            }),
            broken,
        })
    }

    /// The first checkpoint, oldest first, that accuses the chain and whose MAC holds (or
    /// the finding that one that accuses was forged).
    async fn accused(
        &self,
        chain: &str,
        checkpoints: &[Checkpoint],
        walk: &ChainWalk,
        now: i64,
    ) -> Result<Option<BrokenLink>, AuditError> {
        for checkpoint in checkpoints {
            let state = &checkpoint.state;
            let Some(found) =
                accusation(state, walk, now).or_else(|| oldest_gone(state, walk.first_seq, now))
            else {
                continue;
            };
            return Ok(Some(
                if self.checkpoints()?.holds(chain, checkpoint).await? {
                    found
                } else {
                    forged(checkpoint)
                },
            ));
        }
        Ok(None)
    }

    /// Walks the chain's live entries, keeping the hashes of `watched`.
    async fn walk(
        &self,
        chain: &str,
        watched: impl IntoIterator<Item = u64>,
        now: i64,
    ) -> Result<ChainWalk, AuditError> {
        let mut walk = ChainWalk::watching(now, watched);
        let mut after: Option<Cursor> = None;
        loop {
            let page = self
                .store
                .repo::<AuditStore>()
                .audit_entries(
                    chain,
                    &AuditFilter::default(),
                    false,
                    WALK_PAGE,
                    after.as_ref(),
                    now,
                )
                .await?;
            for entry in &page.entries {
                walk.check(entry);
            }
            match page.next {
                Some(next) if walk.broken.is_none() => after = Some(next),
                _ => return Ok(walk),
            }
        }
    }

    async fn all_checkpoints(&self, chain: &str) -> Result<Vec<Checkpoint>, AuditError> {
        let mut all = Vec::new();
        let mut after = None;
        loop {
            let (page, next) = self
                .store
                .repo::<AuditStore>()
                .audit_checkpoints(chain, after.as_ref())
                .await?;
            all.extend(page);
            match next {
                Some(next) => after = Some(next),
                None => return Ok(all),
            }
        }
    }
}
