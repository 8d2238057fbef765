//! The audit log as the APIs use it: appending an entry to a chain (the tenant's, or the
//! operator's), listing a chain, and walking it to find the first broken link. Every
//! append also writes the chain's new head to the log stream, so that a tail deleted from
//! the table is still known to have existed.

use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use utoipa::ToSchema;

use crate::cache::TtlCache;
use crate::domain::audit::{AuditEntry, AuditFact, BrokenLink, ChainWalk, OPERATOR_CHAIN};
use crate::domain::retention::{DataClass, Retention};
use crate::domain::tenant::TenantId;
use crate::store::audit::{AuditFilter, AuditPage};
use crate::store::cursor::Cursor;
use crate::store::{PutOutcome, Store, StoreError};

/// Writers racing for the same place give up after this many tries (each loses only to
/// another writer's success, so the chain moves on meanwhile).
const MAX_TRIES: usize = 25;
/// A walk reads this many entries a page.
const WALK_PAGE: i32 = 500;
/// A tenant's audit retention reaches the writers within this.
const RETENTION_TTL: Duration = Duration::from_secs(300);

#[derive(Clone)]
pub struct AuditLog {
    store: Store,
    retention: Arc<TtlCache<String, Retention>>,
}

/// What a walk of a chain found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ChainReport {
    /// Every entry checked holds, and each follows the one before.
    pub valid: bool,
    pub entries: u64,
    /// The oldest entry kept (older ones expired with the audit retention).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_seq: Option<u64>,
    /// The newest entry: compare with the heads the log stream holds, which a deleted
    /// tail cannot take back.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub head_seq: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub head_hash: Option<String>,
    /// The first entry that does not hold, and why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub broken: Option<BrokenLink>,
}

/// Appends `fact` to `chain`, to be kept until `expires_at`, after whatever another writer
/// appended first: for a caller that already holds the chain's retention.
pub async fn append_until(
    store: &Store,
    chain: &str,
    fact: AuditFact,
    expires_at: i64,
) -> Result<AuditEntry, StoreError> {
    for _ in 0..MAX_TRIES {
        let head = store.audit_head(chain).await?;
        let entry = AuditEntry::after(
            head.as_ref().map(|h| (h.seq, h.hash.as_str())),
            fact.clone(),
        );
        if store.put_audit_entry(chain, &entry, expires_at).await? == PutOutcome::Stored {
            tracing::info!(audit_chain = %chain, seq = entry.seq, hash = %entry.hash, "audit head");
            return Ok(entry);
        }
    }
    Err(StoreError::corrupt(
        chain,
        "the audit chain stayed contended: the entry was not appended",
    ))
}

impl AuditLog {
    pub fn new(store: Store) -> Self {
        Self {
            store,
            retention: Arc::new(TtlCache::new(RETENTION_TTL, 10_000)),
        }
    }

    /// Appends `fact` to `chain`, after whatever another writer appended first.
    pub async fn append(&self, chain: &str, fact: AuditFact) -> Result<AuditEntry, StoreError> {
        let expires_at = self
            .retention_of(chain)
            .await?
            .expires_at(DataClass::Audit, fact.at);
        append_until(&self.store, chain, fact, expires_at).await
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

    /// Walks the whole chain, oldest first, and reports the first broken link.
    pub async fn verify(&self, chain: &str, now: i64) -> Result<ChainReport, StoreError> {
        let mut walk = ChainWalk::default();
        let mut after: Option<Cursor> = None;
        loop {
            let page = self
                .store
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
                _ => break,
            }
        }
        let head = walk.head().map(|(seq, hash)| (seq, hash.to_owned()));
        Ok(ChainReport {
            valid: walk.broken.is_none(),
            entries: walk.entries,
            first_seq: walk.first_seq,
            head_seq: head.as_ref().map(|h| h.0),
            head_hash: head.map(|h| h.1),
            broken: walk.broken,
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
