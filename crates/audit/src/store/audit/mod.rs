//! The audit log's items (`T#<chain>#AUDIT` / `SEQ#<seq, 12 digits>`): one per entry, put
//! only if its sequence number is free, so two writers that read the same head cannot
//! both extend it: one wins, the other reads the new head and tries again. An entry keeps
//! the end it was written with: no later retention shortens it.

pub mod checkpoint;

use crate::domain::audit::AuditEntry;
use crate::store::cursor::Cursor;
use crate::store::keys::{AUDIT_PREFIX, audit_pk, audit_sk};
use crate::store::table::{Item, bool_attr, get_bool, get_i64, get_s, item, n, s};
use crate::store::{EXPIRES_AT, PutOutcome, StoreError, is_live};

/// Whether an entry's hash covers its end and its predecessor's.
const ENDS_HASHED: &str = "ends_hashed";
const PREV_EXPIRES_AT: &str = "prev_expires_at";

/// Which entries a listing shows.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter<'a> {
    pub action: Option<&'a str>,
    pub actor: Option<&'a str>,
    pub since: Option<i64>,
    pub until: Option<i64>,
}

/// An entry as stored, with its end.
#[derive(Debug, Clone)]
pub struct KeptEntry {
    pub entry: AuditEntry,
    pub expires_at: i64,
}

/// A page of entries and where the next starts.
#[derive(Debug, Clone)]
pub struct AuditPage {
    pub entries: Vec<AuditEntry>,
    pub next: Option<Cursor>,
}

crate::store::repository! {
    /// The tenant's hash-chained audit log and its signed checkpoints.
    AuditStore
}

impl AuditStore {
    /// The chain's newest entry, read strongly: the next entry follows it.
    pub async fn audit_head(&self, chain: &str) -> Result<Option<KeptEntry>, StoreError> {
        let page = self
            .query("Query audit head", "pk = :pk AND begins_with(sk, :prefix)")
            .value(":pk", s(audit_pk(chain)))
            .value(":prefix", s(AUDIT_PREFIX))
            .backwards()
            .limit(1)
            .consistent()
            .page()
            .await?;
        page.items.first().map(|it| kept_of(chain, it)).transpose()
    }

    /// The chain's oldest entry that has not ended, read strongly.
    pub async fn oldest_live_audit_entry(
        &self,
        chain: &str,
        now: i64,
    ) -> Result<Option<KeptEntry>, StoreError> {
        self.query(
            "Query oldest audit entry",
            "pk = :pk AND begins_with(sk, :prefix)",
        )
        .value(":pk", s(audit_pk(chain)))
        .value(":prefix", s(AUDIT_PREFIX))
        .limit(100)
        .consistent()
        .find_map(|it| is_live(it, now).then(|| kept_of(chain, it).ok()).flatten())
        .await
    }

    /// Up to `limit` entries from entry `from` on, oldest first, read strongly.
    pub async fn audit_entries_from(
        &self,
        chain: &str,
        from: u64,
        limit: i32,
        after: Option<&Cursor>,
    ) -> Result<(Vec<KeptEntry>, Option<Cursor>), StoreError> {
        let page = self
            .query("Query audit entries from", "pk = :pk AND sk >= :from")
            .value(":pk", s(audit_pk(chain)))
            .value(":from", s(audit_sk(from)))
            .limit(limit)
            .after(after)
            .consistent()
            .page()
            .await?;
        let entries = page
            .items
            .iter()
            .map(|it| kept_of(chain, it))
            .collect::<Result<_, _>>()?;
        Ok((entries, page.next))
    }

    /// Appends `entry` unless its sequence number is taken (another writer got there
    /// first: `Duplicate`).
    pub async fn put_audit_entry(
        &self,
        chain: &str,
        entry: &AuditEntry,
    ) -> Result<PutOutcome, StoreError> {
        let expires_at = entry
            .expires_at
            .ok_or_else(|| StoreError::corrupt(&audit_pk(chain), "a new entry has no end"))?;
        let mut it = item([
            ("pk", s(audit_pk(chain))),
            ("sk", s(audit_sk(entry.seq))),
            ("seq", n(entry.seq)),
            ("at", n(entry.at)),
            ("actor", s(&entry.actor)),
            ("action", s(&entry.action)),
            ("target", s(&entry.target)),
            ("status", n(entry.status)),
            ("request_id", s(&entry.request_id)),
            ("prev_hash", s(&entry.prev_hash)),
            ("hash", s(&entry.hash)),
            (EXPIRES_AT, n(expires_at)),
            (ENDS_HASHED, bool_attr(true)),
        ]);
        if let Some(ends) = entry.prev_expires_at {
            it.insert(PREV_EXPIRES_AT.into(), n(ends));
        }
        self.put_new("PutItem audit entry", it).await
    }

    /// A page of the chain: newest first for a listing, oldest first for a walk; the
    /// filter leaves entries out of the page, never out of the chain.
    pub async fn audit_entries(
        &self,
        chain: &str,
        filter: &AuditFilter<'_>,
        newest_first: bool,
        limit: i32,
        after: Option<&Cursor>,
        now: i64,
    ) -> Result<AuditPage, StoreError> {
        let mut query = self
            .query(
                "Query audit entries",
                "pk = :pk AND begins_with(sk, :prefix)",
            )
            .value(":pk", s(audit_pk(chain)))
            .value(":prefix", s(AUDIT_PREFIX))
            .limit(limit)
            .after(after);
        if newest_first {
            query = query.backwards();
        }
        let mut conditions = Vec::new();
        if let Some(action) = filter.action {
            conditions.push("#action = :action");
            query = query.name("#action", "action").value(":action", s(action));
        }
        if let Some(actor) = filter.actor {
            conditions.push("actor = :actor");
            query = query.value(":actor", s(actor));
        }
        if let Some(since) = filter.since {
            conditions.push("#at >= :since");
            query = query.name("#at", "at").value(":since", n(since));
        }
        if let Some(until) = filter.until {
            conditions.push("#at <= :until");
            query = query.name("#at", "at").value(":until", n(until));
        }
        if !conditions.is_empty() {
            query = query.filter(conditions.join(" AND "));
        }
        let page = query.page().await?;
        let entries = page
            .items
            .iter()
            .filter(|it| is_live(it, now))
            .map(|it| entry_of(chain, it))
            .collect::<Result<_, _>>()?;
        Ok(AuditPage {
            entries,
            next: page.next,
        })
    }
}

fn kept_of(chain: &str, it: &Item) -> Result<KeptEntry, StoreError> {
    Ok(KeptEntry {
        entry: entry_of(chain, it)?,
        expires_at: get_i64(it, EXPIRES_AT)
            .ok_or_else(|| StoreError::corrupt(&audit_pk(chain), "an audit entry lacks its end"))?,
    })
}

/// An entry as its item holds it. Its ends are read as hashed only when the item says it
/// hashed them (`ends_hashed`): taking that mark off leaves a hash that no longer matches.
fn entry_of(chain: &str, it: &Item) -> Result<AuditEntry, StoreError> {
    let corrupt = || StoreError::corrupt(&audit_pk(chain), "an audit entry lacks a field");
    let text = |name: &str| get_s(it, name).map(str::to_owned).ok_or_else(corrupt);
    let hashed = get_bool(it, ENDS_HASHED).unwrap_or(false);
    Ok(AuditEntry {
        expires_at: hashed.then(|| get_i64(it, EXPIRES_AT)).flatten(),
        prev_expires_at: hashed.then(|| get_i64(it, PREV_EXPIRES_AT)).flatten(),
        seq: get_i64(it, "seq").ok_or_else(corrupt)? as u64,
        at: get_i64(it, "at").ok_or_else(corrupt)?,
        actor: text("actor")?,
        action: text("action")?,
        target: text("target")?,
        status: get_i64(it, "status").ok_or_else(corrupt)? as u16,
        request_id: text("request_id")?,
        prev_hash: text("prev_hash")?,
        hash: text("hash")?,
    })
}
