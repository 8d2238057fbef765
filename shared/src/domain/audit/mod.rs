//! The audit log: per tenant (and one for the operator's own actions), append-only and
//! hash-chained. Each entry holds its sequence number and the hash of the entry before it,
//! and its own hash covers both: changing, deleting or reordering an entry breaks the
//! chain at that place. Entries name who (an API key id or `operator`), what (the route
//! and the ids in its path), when, and the request id; never personal data.

pub mod checkpoint;

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
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
    /// SHA-256 over this entry's fields and `prev_hash`, hex.
    pub hash: String,
}

impl AuditEntry {
    /// The entry `fact` makes after `prev` (`None`: the chain's first).
    pub fn after(prev: Option<(u64, &str)>, fact: AuditFact) -> Self {
        let (seq, prev_hash) = match prev {
            Some((seq, hash)) => (seq + 1, hash.to_owned()),
            None => (1, GENESIS.to_owned()),
        };
        let mut entry = Self {
            seq,
            at: fact.at,
            actor: fact.actor,
            action: fact.action,
            target: fact.target,
            status: fact.status,
            request_id: fact.request_id,
            prev_hash,
            hash: String::new(),
        };
        entry.hash = entry.computed_hash();
        entry
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
    /// hash alike by moving text from one field to the next.
    pub fn computed_hash(&self) -> String {
        let mut hasher = Sha256::new();
        for field in [
            self.seq.to_string().as_str(),
            &self.at.to_string(),
            &self.actor,
            &self.action,
            &self.target,
            &self.status.to_string(),
            &self.request_id,
            &self.prev_hash,
        ] {
            hasher.update((field.len() as u64).to_be_bytes());
            hasher.update(field.as_bytes());
        }
        hex::encode(hasher.finalize())
    }
}

/// Where a walk of the chain found it broken.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct BrokenLink {
    /// The sequence number of the first entry that does not hold.
    pub seq: u64,
    pub problem: String,
}

/// Walks a chain, oldest first, one entry at a time.
#[derive(Debug, Default)]
pub struct ChainWalk {
    last: Option<(u64, String)>,
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
    /// A walk that keeps the hashes of the entries `seqs`.
    pub fn watching(seqs: impl IntoIterator<Item = u64>) -> Self {
        Self {
            watched: seqs.into_iter().collect(),
            ..Self::default()
        }
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
        let problem = if entry.computed_hash() != entry.hash {
            Some("its hash does not match its fields: it was changed")
        } else {
            match &self.last {
                None if entry.seq == 1 && entry.prev_hash != GENESIS => {
                    Some("the first entry does not start the chain")
                }
                None => None,
                Some((seq, _)) if entry.seq != seq + 1 => {
                    Some("the sequence skips here: an entry before it is missing or moved")
                }
                Some((_, hash)) if entry.prev_hash != *hash => Some(
                    "it does not follow the entry before it: entries were reordered or replaced",
                ),
                Some(_) => None,
            }
        };
        if let Some(problem) = problem {
            self.broken = Some(BrokenLink {
                seq: entry.seq,
                problem: problem.to_owned(),
            });
            return;
        }
        self.first_seq.get_or_insert(entry.seq);
        self.first_at.get_or_insert(entry.at);
        if self.watched.contains(&entry.seq) {
            self.seen.insert(entry.seq, entry.hash.clone());
        }
        self.last = Some((entry.seq, entry.hash.clone()));
    }

    /// The newest entry checked: the chain's head as this walk saw it.
    pub fn head(&self) -> Option<(u64, &str)> {
        self.last.as_ref().map(|(s, h)| (*s, h.as_str()))
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

    pub(crate) fn chain(n: usize) -> Vec<AuditEntry> {
        let mut entries: Vec<AuditEntry> = Vec::new();
        for i in 0..n {
            let prev = entries.last().map(|e| (e.seq, e.hash.as_str()));
            let entry = AuditEntry::after(prev, fact(i as i64));
            entries.push(entry);
        }
        entries
    }

    fn walk(entries: &[AuditEntry]) -> ChainWalk {
        let mut walk = ChainWalk::default();
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
        );
        let b = AuditEntry::after(
            None,
            AuditFact {
                actor: "a".into(),
                action: "bc".into(),
                ..fact(0)
            },
        );
        assert_ne!(a.hash, b.hash);
    }
}
