//! Signed checkpoints of an audit chain. The chain's hashes show an entry changed in place,
//! but one who can write the table can rewrite every entry from some point on, or delete
//! the newest or the oldest ones, and leave a chain that holds. A checkpoint is a MAC,
//! made by a KMS key the table's writers cannot use, over the chain's head (its sequence
//! number and hash, and when that entry ends) and its oldest live entry, signed every
//! [`CHECKPOINT_EVERY`] entries and at least daily. A walk then finds: entries that differ
//! from a signed head (rewritten), a chain that ends before a signed head that should
//! still be there (truncated), an oldest entry gone before its end (a prefix deleted), and
//! a newest checkpoint older than a day (checkpoints deleted, or signing stopped).

use super::{BrokenLink, ChainWalk};

/// A checkpoint is signed when an append reaches a multiple of this.
pub const CHECKPOINT_EVERY: u64 = 100;
/// The daily run signs every chain; its newest checkpoint older than this means newer ones
/// were deleted or the run stopped (a day, the schedule's hour of leeway, and one more).
pub const STALE_AFTER_SECS: i64 = 26 * 3_600;
/// What a checkpoint signs, and which version of it.
const SIGNED_FORMAT: &str = "wagate-audit-checkpoint/1";

/// What a checkpoint states about its chain at `at`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainState {
    /// The head: its sequence number and hash, and when it ends.
    pub seq: u64,
    pub hash: String,
    pub entry_expires_at: i64,
    /// The oldest entry still kept and when it ends (0 and 0: none was).
    pub oldest_seq: u64,
    pub oldest_expires_at: i64,
    /// Epoch seconds.
    pub at: i64,
}

/// A chain's state with its MAC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub state: ChainState,
    pub mac: Vec<u8>,
    /// The KMS key that made the MAC, as KMS names it.
    pub key_id: String,
}

impl ChainState {
    /// The bytes the MAC covers: every field, and the chain, so that a checkpoint cannot
    /// be moved to another chain.
    pub fn signed_bytes(&self, chain: &str) -> Vec<u8> {
        format!(
            "{SIGNED_FORMAT}\n{chain}\n{}\n{}\n{}\n{}\n{}\n{}",
            self.seq,
            self.hash,
            self.entry_expires_at,
            self.oldest_seq,
            self.oldest_expires_at,
            self.at
        )
        .into_bytes()
    }
}

/// What a checkpoint says of a walked chain's head, if it finds something wrong (see
/// [`oldest_gone`] for its oldest end): read before a MAC is checked, so only a
/// checkpoint that accuses needs one.
pub fn accusation(state: &ChainState, walk: &ChainWalk, now: i64) -> Option<BrokenLink> {
    let head = walk.head().map_or(0, |(seq, _)| seq);
    let kept = |seq: u64| walk.first_seq.is_some_and(|first| seq >= first) && seq <= head;
    let lives = state.entry_expires_at > now;
    let problem = if state.seq > head && lives {
        format!(
            "a checkpoint signed at {} has the chain reach entry {}, which is kept until {}: the chain's newest entries were deleted",
            state.at, state.seq, state.entry_expires_at
        )
    } else if state.seq <= head && !kept(state.seq) && lives {
        format!(
            "a checkpoint signed at {} has entry {} kept until {}, and it is gone: the chain's oldest entries were deleted",
            state.at, state.seq, state.entry_expires_at
        )
    } else if kept(state.seq) && walk.hash_at(state.seq) != Some(state.hash.as_str()) {
        format!(
            "the entry differs from the one a checkpoint signed at {}: the chain was rewritten from here or before",
            state.at
        )
    } else {
        return None;
    };
    Some(BrokenLink {
        seq: state.seq.min(head + 1),
        problem,
    })
}

/// Whether the oldest entry `state` names is gone before its end, the chain's oldest
/// live entry now being `first` (`None`: none is).
pub fn oldest_gone(state: &ChainState, first: Option<u64>, now: i64) -> Option<BrokenLink> {
    let gone = state.oldest_seq > 0
        && state.oldest_expires_at > now
        && first.is_none_or(|first| first > state.oldest_seq);
    gone.then(|| BrokenLink {
        seq: state.oldest_seq,
        problem: format!(
            "a checkpoint signed at {} has entry {} kept until {}, and it is gone: the chain's oldest entries were deleted",
            state.at, state.oldest_seq, state.oldest_expires_at
        ),
    })
}

/// Whether the newest checkpoint (or its absence) leaves the chain's latest day unsigned
/// longer than the daily run allows.
pub fn staleness(newest: Option<&ChainState>, walk: &ChainWalk, now: i64) -> Option<BrokenLink> {
    let head = walk.head().map_or(0, |(seq, _)| seq);
    match newest {
        Some(state) if state.at < now - STALE_AFTER_SECS => Some(BrokenLink {
            seq: state.seq + 1,
            problem: format!(
                "the newest checkpoint was signed at {}, more than a day ago: newer ones were deleted, or the daily signing stopped",
                state.at
            ),
        }),
        Some(_) => None,
        None => unanchored(head, walk.first_at, now),
    }
}

/// Whether a chain without any checkpoint should have one by now: it reached a second
/// hundred entries, or holds an entry older than the daily signing allows. Such a chain is
/// not signed as it is (its checkpoints may have been deleted and the chain rewritten)
/// unless the operator adopts it.
pub fn unanchored(head: u64, first_at: Option<i64>, now: i64) -> Option<BrokenLink> {
    let old = first_at.filter(|at| *at < now - STALE_AFTER_SECS);
    if old.is_none() && head < 2 * CHECKPOINT_EVERY {
        return None;
    }
    let since = old.map_or_else(String::new, |at| format!(" and an entry from {at}"));
    Some(BrokenLink {
        seq: head,
        problem: format!(
            "no checkpoint is signed, though the chain reached entry {head}{since}: its checkpoints were deleted, or signing failed; the operator adopts a chain found sound with POST /admin/v1/maintenance/audit-checkpoints"
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::tests::chain;

    const NOW: i64 = 1_767_100_000;

    fn walk_of(entries: &[crate::audit::AuditEntry], watched: &[u64]) -> ChainWalk {
        let mut walk = ChainWalk::from_within(watched.iter().copied());
        for e in entries {
            walk.check(e);
        }
        walk
    }

    fn state_at(entries: &[crate::audit::AuditEntry], seq: u64) -> ChainState {
        let entry = entries.iter().find(|e| e.seq == seq).unwrap();
        ChainState {
            seq,
            hash: entry.hash.clone(),
            entry_expires_at: NOW + 1_000,
            oldest_seq: 1,
            oldest_expires_at: NOW + 500,
            at: NOW - 60,
        }
    }

    #[test]
    fn a_checkpoint_of_an_untouched_chain_accuses_nothing() {
        let entries = chain(10);
        let state = state_at(&entries, 7);
        let walk = walk_of(&entries, &[7]);
        assert_eq!(accusation(&state, &walk, NOW), None);
        assert_eq!(staleness(Some(&state), &walk, NOW), None);
    }

    #[test]
    fn a_rewritten_chain_differs_from_its_checkpoint() {
        let entries = chain(10);
        let state = state_at(&entries, 7);
        // The same facts from entry 4 on, rehashed: the walk holds, the checkpoint does not.
        let mut rewritten: Vec<_> = entries[..3].to_vec();
        for e in &entries[3..] {
            let prev = rewritten.last().map(|p| p.link(0));
            let mut fact = crate::audit::tests::fact(e.seq as i64);
            fact.actor = "key:someone-else".into();
            let ends = e.expires_at.unwrap();
            rewritten.push(crate::audit::AuditEntry::after(prev, fact, ends));
        }
        let walk = walk_of(&rewritten, &[7]);
        assert_eq!(walk.broken, None);
        let found = accusation(&state, &walk, NOW).unwrap();
        assert_eq!(found.seq, 7);
        assert!(found.problem.contains("rewritten"), "{found:?}");
    }

    #[test]
    fn a_deleted_tail_falls_short_of_the_checkpoint() {
        let entries = chain(10);
        let state = state_at(&entries, 9);
        let walk = walk_of(&entries[..6], &[9]);
        let found = accusation(&state, &walk, NOW).unwrap();
        assert_eq!(found.seq, 7);
        assert!(found.problem.contains("newest entries were deleted"));
        // Had entry 9 ended already, the chain could have lost it to expiry.
        let ended = ChainState {
            entry_expires_at: NOW - 1,
            oldest_expires_at: NOW - 1,
            ..state
        };
        assert_eq!(accusation(&ended, &walk, NOW), None);
    }

    #[test]
    fn a_deleted_prefix_is_found_by_the_oldest_entry_signed() {
        let entries = chain(10);
        let state = state_at(&entries, 9);
        let walk = walk_of(&entries[4..], &[9]);
        assert_eq!(accusation(&state, &walk, NOW), None, "the head holds");
        let found = oldest_gone(&state, walk.first_seq, NOW).unwrap();
        assert_eq!(found.seq, 1);
        assert!(found.problem.contains("oldest entries were deleted"));
        // Expired, it is no accusation.
        let expired = ChainState {
            oldest_expires_at: NOW - 10,
            ..state.clone()
        };
        assert_eq!(oldest_gone(&expired, walk.first_seq, NOW), None);
        // Nor is an oldest entry that is there.
        assert_eq!(oldest_gone(&state, Some(1), NOW), None);
        // An older checkpoint whose own entry is gone before its end accuses too.
        let older = ChainState {
            seq: 2,
            oldest_seq: 0,
            ..state_at(&entries, 2)
        };
        assert_eq!(accusation(&older, &walk, NOW).unwrap().seq, 2);
    }

    #[test]
    fn a_day_without_a_checkpoint_is_stale() {
        let entries = chain(3);
        let walk = walk_of(&entries, &[]);
        // The test chain's entries are from long before NOW.
        let found = staleness(None, &walk, NOW).unwrap();
        assert!(found.problem.contains("no checkpoint"), "{found:?}");
        let old = ChainState {
            at: NOW - STALE_AFTER_SECS - 1,
            ..state_at(&entries, 3)
        };
        assert_eq!(staleness(Some(&old), &walk, NOW).unwrap().seq, 4);
        // A new chain needs none yet; one past its second hundred entries does.
        let young = walk_of(&entries, &[]);
        assert_eq!(staleness(None, &young, entries[0].at + 60), None);
        let busy = chain(200);
        let walk = walk_of(&busy, &[]);
        assert_eq!(staleness(None, &walk, busy[0].at + 60).unwrap().seq, 200);
        assert_eq!(unanchored(199, Some(NOW), NOW), None);
    }

    #[test]
    fn the_signed_bytes_name_the_chain() {
        let state = state_at(&chain(2), 2);
        assert_ne!(state.signed_bytes("acme"), state.signed_bytes("other"));
    }
}
