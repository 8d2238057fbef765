//! Signed checkpoints of the audit chains (`T#<chain>#AUDITCP` / `CP#<seq, 12 digits>`),
//! one per head signed; the daily signing of a chain that has not moved signs the same
//! head again, later. A checkpoint is kept as long as the entry it names, and at least
//! [`KEPT_AFTER_SIGNING_SECS`] after it was signed, so that the newest one outlives a
//! chain whose entries have all ended.

use crate::store::audit::AuditStore;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::domain::audit::checkpoint::{ChainState, Checkpoint};
use crate::store::cursor::Cursor;
use crate::store::keys::{audit_checkpoint_pk, audit_checkpoint_sk};
use crate::store::table::{Item, get_i64, get_s, item, n, s};
use crate::store::{EXPIRES_AT, StoreError};

/// A checkpoint outlives its signing by this much at least.
pub const KEPT_AFTER_SIGNING_SECS: i64 = 30 * 86_400;

impl AuditStore {
    /// Stores `checkpoint` unless one of the same head signed later is there already;
    /// whether it was stored.
    pub async fn put_audit_checkpoint(
        &self,
        chain: &str,
        checkpoint: &Checkpoint,
    ) -> Result<bool, StoreError> {
        let state = &checkpoint.state;
        let expires_at = state
            .entry_expires_at
            .max(state.at + KEPT_AFTER_SIGNING_SECS);
        let it = item([
            ("pk", s(audit_checkpoint_pk(chain))),
            ("sk", s(audit_checkpoint_sk(state.seq))),
            ("seq", n(state.seq)),
            ("hash", s(&state.hash)),
            ("entry_expires_at", n(state.entry_expires_at)),
            ("oldest_seq", n(state.oldest_seq)),
            ("oldest_expires_at", n(state.oldest_expires_at)),
            ("at", n(state.at)),
            ("mac", s(STANDARD.encode(&checkpoint.mac))),
            ("key_id", s(&checkpoint.key_id)),
            (EXPIRES_AT, n(expires_at)),
        ]);
        self.put_if(
            "PutItem audit checkpoint",
            it,
            "attribute_not_exists(pk) OR #at < :at",
            &[("#at", "at")],
            &[(":at", n(state.at))],
        )
        .await
    }

    /// The checkpoint of the newest head signed, read strongly.
    pub async fn newest_audit_checkpoint(
        &self,
        chain: &str,
    ) -> Result<Option<Checkpoint>, StoreError> {
        let page = self
            .query("Query newest audit checkpoint", "pk = :pk")
            .value(":pk", s(audit_checkpoint_pk(chain)))
            .backwards()
            .limit(1)
            .consistent()
            .page()
            .await?;
        page.items
            .first()
            .map(|it| checkpoint_of(chain, it))
            .transpose()
    }

    /// A page of the chain's checkpoints, oldest head first.
    pub async fn audit_checkpoints(
        &self,
        chain: &str,
        after: Option<&Cursor>,
    ) -> Result<(Vec<Checkpoint>, Option<Cursor>), StoreError> {
        let page = self
            .query("Query audit checkpoints", "pk = :pk")
            .value(":pk", s(audit_checkpoint_pk(chain)))
            .limit(500)
            .after(after)
            .page()
            .await?;
        let checkpoints = page
            .items
            .iter()
            .map(|it| checkpoint_of(chain, it))
            .collect::<Result<_, _>>()?;
        Ok((checkpoints, page.next))
    }
}

/// A checkpoint item; one whose MAC is not base64 reads as one with an empty MAC, which
/// no check accepts.
fn checkpoint_of(chain: &str, it: &Item) -> Result<Checkpoint, StoreError> {
    let corrupt = || StoreError::corrupt(&audit_checkpoint_pk(chain), "a checkpoint lacks a field");
    let number = |name: &str| get_i64(it, name).ok_or_else(corrupt);
    Ok(Checkpoint {
        state: ChainState {
            seq: number("seq")? as u64,
            hash: get_s(it, "hash").ok_or_else(corrupt)?.to_owned(),
            entry_expires_at: number("entry_expires_at")?,
            oldest_seq: number("oldest_seq")? as u64,
            oldest_expires_at: number("oldest_expires_at")?,
            at: number("at")?,
        },
        mac: get_s(it, "mac")
            .and_then(|m| STANDARD.decode(m).ok())
            .unwrap_or_default(),
        key_id: get_s(it, "key_id").unwrap_or_default().to_owned(),
    })
}
