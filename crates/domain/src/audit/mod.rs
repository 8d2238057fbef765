//! The audit log: per tenant (and one for the operator's own actions), append-only and
//! hash-chained. Each entry holds its sequence number and the hash of the entry before it,
//! and its own hash covers both: changing, deleting or reordering an entry breaks the
//! chain at that place. The hash also covers when the entry ends and when the one before
//! it ends, so that a chain whose oldest entries were deleted (or their ends moved into
//! the past) is told from one whose oldest entries ended: the first entry kept names an
//! end of its predecessor that has not passed. Entries name who (an API key id or `operator`), what (the route
//! and the ids in its path), when, and the request id; never personal data.

pub mod checkpoint;

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The chain of actions that concern no one tenant (creating tenants, sharing WABAs,
/// maintenance) and of tenant deletions, which outlive the tenant's own chain. Not a
/// tenant id: those never start with `_`.
pub const OPERATOR_CHAIN: &str = "_operator";

/// The `prev_hash` of a chain's first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What an entry records, before it has a place in the chain. It names no person, so an
/// append that failed may wait on a queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditFact {
    /// `key:<id>` or `operator`.
    pub actor: String,
    /// The method and the route as the API documents it, e.g.
    /// `POST /admin/v1/tenants/{tenant_id}/erasures`.
    pub action: String,
    /// The path as called (ids, never personal data) and the id the answer made, if any.
    pub target: String,
    /// The HTTP status the action answered.
    pub status: u16,
    pub request_id: String,
    /// Epoch seconds.
    pub at: i64,
}

/// An entry of the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditEntry {
    pub seq: u64,
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub status: u16,
    pub request_id: String,
    /// The hash of the entry before (64 zeros for the first).
    pub prev_hash: String,
    /// When the entry ends (epoch seconds), never before the entry it follows. Absent on
    /// entries written before ends were hashed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
    /// When the entry before it ends (absent on the first, and where `expires_at` is).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prev_expires_at: Option<i64>,
    /// SHA-256 over this entry's fields, `prev_hash` and the two ends, hex.
    pub hash: String,
}

/// The place an entry follows: the chain's head (or the head of its newest checkpoint,
/// when every entry has ended) and when it ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Link<'a> {
    pub seq: u64,
    pub hash: &'a str,
    pub expires_at: i64,
}

impl AuditEntry {
    /// The entry `fact` makes after `prev` (`None`: the chain's first), to be kept until
    /// `expires_at` or until `prev` ends, whichever is later: the chain ends from its
    /// oldest side only.
    pub fn after(prev: Option<Link<'_>>, fact: AuditFact, expires_at: i64) -> Self {
        let (seq, prev_hash) = match prev {
            Some(link) => (link.seq + 1, link.hash.to_owned()),
            None => (1, GENESIS.to_owned()),
        };
        let prev_expires_at = prev.map(|link| link.expires_at);
        let mut entry = Self {
            seq,
            at: fact.at,
            actor: fact.actor,
            action: fact.action,
            target: fact.target,
            status: fact.status,
            request_id: fact.request_id,
            prev_hash,
            expires_at: Some(expires_at.max(prev_expires_at.unwrap_or(i64::MIN))),
            prev_expires_at,
            hash: String::new(),
        };
        entry.hash = entry.computed_hash();
        entry
    }

    /// The link the next entry follows.
    pub fn link(&self, stored_expires_at: i64) -> Link<'_> {
        Link {
            seq: self.seq,
            hash: &self.hash,
            expires_at: self.expires_at.unwrap_or(stored_expires_at),
        }
    }

    /// Whether this entry records exactly `fact`.
    pub fn records(&self, fact: &AuditFact) -> bool {
        self.at == fact.at
            && self.actor == fact.actor
            && self.action == fact.action
            && self.target == fact.target
            && self.status == fact.status
            && self.request_id == fact.request_id
    }

    /// The hash the entry's fields make. Each field is length-prefixed, so no two entries
    /// hash alike by moving text from one field to the next. An entry with an end hashes
    /// it and its predecessor's; one written before ends were hashed has neither, and
    /// taking the ends off an entry that had them changes its hash.
    pub fn computed_hash(&self) -> String {
        let mut fields = vec![
            self.seq.to_string(),
            self.at.to_string(),
            self.actor.clone(),
            self.action.clone(),
            self.target.clone(),
            self.status.to_string(),
            self.request_id.clone(),
            self.prev_hash.clone(),
        ];
        if let Some(ends) = self.expires_at {
            fields.push(ends.to_string());
            fields.push(
                self.prev_expires_at
                    .map(|e| e.to_string())
                    .unwrap_or_default(),
            );
        }
        let mut hasher = Sha256::new();
        for field in &fields {
            hasher.update((field.len() as u64).to_be_bytes());
            hasher.update(field.as_bytes());
        }
        hex::encode(hasher.finalize())
    }

    /// Whether, as the oldest entry kept at `now`, this one shows the chain's start was
    /// deleted: it follows an entry whose hashed end has not passed.
    pub fn start_deleted(&self, now: i64) -> Option<BrokenLink> {
        let ends = self
            .prev_expires_at
            .filter(|ends| *ends > now && self.seq > 1)?;
        Some(BrokenLink {
            seq: self.seq,
            problem: format!(
                "the entry before it is kept until {ends} and is gone: the chain's oldest entries were deleted"
            ),
        })
    }
}

/// Where a walk of the chain found it broken.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BrokenLink {
    /// The sequence number of the first entry that does not hold.
    pub seq: u64,
    pub problem: String,
}

/// Walks a chain, oldest first, one entry at a time, as it stands at `now`.
#[derive(Debug, Default)]
pub struct ChainWalk {
    now: i64,
    last: Option<(u64, String, Option<i64>)>,
    /// The first entry seen: older ones expired (or were removed before it).
    pub first_seq: Option<u64>,
    /// Its time.
    pub first_at: Option<i64>,
    pub entries: u64,
    pub broken: Option<BrokenLink>,
    /// The entries whose hashes the walk keeps (those checkpoints name), and those hashes.
    watched: HashSet<u64>,
    seen: HashMap<u64, String>,
}

impl ChainWalk {
    /// A walk at `now` that keeps the hashes of the entries `seqs`.
    pub fn watching(now: i64, seqs: impl IntoIterator<Item = u64>) -> Self {
        Self {
            now,
            watched: seqs.into_iter().collect(),
            ..Self::default()
        }
    }

    /// A walk that starts inside the chain (from a checkpoint's head): its first entry is
    /// not taken for the chain's oldest.
    pub fn from_within(seqs: impl IntoIterator<Item = u64>) -> Self {
        Self::watching(i64::MAX, seqs)
    }

    /// The hash of entry `seq`, if it is watched and was checked.
    pub fn hash_at(&self, seq: u64) -> Option<&str> {
        self.seen.get(&seq).map(String::as_str)
    }

    /// Checks the next entry; after the first break, nothing more is checked.
    pub fn check(&mut self, entry: &AuditEntry) {
        if self.broken.is_some() {
            return;
        }
        self.entries += 1;
        if let Some(broken) = self.problem_with(entry) {
            self.broken = Some(broken);
            return;
        }
        self.first_seq.get_or_insert(entry.seq);
        self.first_at.get_or_insert(entry.at);
        if self.watched.contains(&entry.seq) {
            self.seen.insert(entry.seq, entry.hash.clone());
        }
        self.last = Some((entry.seq, entry.hash.clone(), entry.expires_at));
    }

    fn problem_with(&self, entry: &AuditEntry) -> Option<BrokenLink> {
        let at = |problem: &str| {
            Some(BrokenLink {
                seq: entry.seq,
                problem: problem.to_owned(),
            })
        };
        if entry.computed_hash() != entry.hash {
            return at("its hash does not match its fields: it was changed");
        }
        let Some((seq, hash, ends)) = &self.last else {
            if entry.seq == 1 && entry.prev_hash != GENESIS {
                return at("the first entry does not start the chain");
            }
            return entry.start_deleted(self.now);
        };
        if entry.seq != seq + 1 {
            return at("the sequence skips here: an entry before it is missing or moved");
        }
        if entry.prev_hash != *hash {
            return at(
                "it does not follow the entry before it: entries were reordered or replaced",
            );
        }
        // An entry written without hashed ends (by code from before them, during a rollout
        // or a rollback) after one with them holds by its links; taking the ends off an
        // entry that had them changes its hash.
        if ends.is_some() && entry.expires_at.is_some() && entry.prev_expires_at != *ends {
            return at("it names another end for the entry before it: entries were replaced");
        }
        None
    }

    /// The newest entry checked: the chain's head as this walk saw it.
    pub fn head(&self) -> Option<(u64, &str)> {
        self.last.as_ref().map(|(s, h, _)| (*s, h.as_str()))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn fact(n: i64) -> AuditFact {
        AuditFact {
            actor: "key:k1".into(),
            action: "PUT /admin/v1/tenants/{tenant_id}/retention".into(),
            target: "/admin/v1/tenants/acme/retention".into(),
            status: 200,
            request_id: format!("req-{n}"),
            at: 1_767_000_000 + n,
        }
    }

    /// Each entry ends a minute after the one before, long after the walks' time.
    pub(crate) fn chain(n: usize) -> Vec<AuditEntry> {
        let mut entries: Vec<AuditEntry> = Vec::new();
        for i in 0..n {
            let prev = entries.last().map(|e| e.link(0));
            let entry = AuditEntry::after(prev, fact(i as i64), ENDS + 60 * i as i64);
            entries.push(entry);
        }
        entries
    }

    pub(crate) const ENDS: i64 = 1_800_000_000;

    fn walk(entries: &[AuditEntry]) -> ChainWalk {
        walk_at(entries, 1_767_100_000)
    }

    fn walk_at(entries: &[AuditEntry], now: i64) -> ChainWalk {
        let mut walk = ChainWalk::watching(now, []);
        for e in entries {
            walk.check(e);
        }
        walk
    }

    #[test]
    fn an_untouched_chain_holds() {
        let entries = chain(5);
        let walk = walk(&entries);
        assert_eq!(walk.broken, None);
        assert_eq!((walk.entries, walk.first_seq), (5, Some(1)));
        assert_eq!(walk.head().unwrap().0, 5);
    }

    #[test]
    fn a_changed_entry_breaks_at_itself() {
        let mut entries = chain(5);
        entries[2].actor = "operator".into();
        assert_eq!(walk(&entries).broken.unwrap().seq, 3);
        // Its hash recomputed too: then the next entry no longer follows it.
        entries[2].hash = entries[2].computed_hash();
        assert_eq!(walk(&entries).broken.unwrap().seq, 4);
    }

    #[test]
    fn a_deleted_entry_breaks_at_the_one_after_it() {
        let mut entries = chain(5);
        entries.remove(1);
        let broken = walk(&entries).broken.unwrap();
        assert_eq!(broken.seq, 3);
        assert!(broken.problem.contains("skips"));
    }

    #[test]
    fn swapped_entries_break_at_the_first_moved() {
        let mut entries = chain(5);
        entries.swap(1, 3);
        assert_eq!(walk(&entries).broken.unwrap().seq, 4);
    }

    #[test]
    fn fields_cannot_trade_text() {
        let a = AuditEntry::after(
            None,
            AuditFact {
                actor: "ab".into(),
                action: "c".into(),
                ..fact(0)
            },
            ENDS,
        );
        let b = AuditEntry::after(
            None,
            AuditFact {
                actor: "a".into(),
                action: "bc".into(),
                ..fact(0)
            },
            ENDS,
        );
        assert_ne!(a.hash, b.hash);
    }

    #[test]
    fn a_deleted_start_is_told_from_an_ended_one() {
        let entries = chain(6);
        // Entries 1 to 3 gone while they should be kept: the first kept names entry 3's end.
        let broken = walk(&entries[3..]).broken.unwrap();
        assert_eq!(broken.seq, 4);
        assert!(
            broken.problem.contains("oldest entries were deleted"),
            "{broken:?}"
        );
        // Once entry 3 has ended, the same chain is one whose start expired.
        let later = walk_at(&entries[3..], entries[2].expires_at.unwrap());
        assert_eq!(later.broken, None);
        assert_eq!(later.first_seq, Some(4));
    }

    #[test]
    fn an_end_cannot_be_moved_or_taken_off() {
        let mut entries = chain(4);
        entries[1].expires_at = Some(1);
        assert_eq!(walk(&entries).broken.unwrap().seq, 2);
        let mut entries = chain(4);
        entries[1].expires_at = None;
        entries[1].prev_expires_at = None;
        assert_eq!(walk(&entries).broken.unwrap().seq, 2);
    }

    #[test]
    fn an_entry_without_ends_after_one_with_them_holds_by_its_links() {
        let mut entries = chain(2);
        let mut legacy = AuditEntry::after(Some(entries[1].link(0)), fact(2), ENDS);
        legacy.expires_at = None;
        legacy.prev_expires_at = None;
        legacy.hash = legacy.computed_hash();
        entries.push(legacy);
        assert_eq!(walk(&entries).broken, None);
    }

    #[test]
    fn an_entry_never_ends_before_the_one_it_follows() {
        let first = AuditEntry::after(None, fact(0), ENDS);
        let second = AuditEntry::after(Some(first.link(0)), fact(1), ENDS - 86_400);
        assert_eq!(second.expires_at, Some(ENDS));
        assert_eq!(second.prev_expires_at, Some(ENDS));
    }
}
