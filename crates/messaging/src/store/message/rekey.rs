//! Moving what was keyed by a raw wamid (before wamids were blinded) under the wamid's
//! blind index: inbound messages, their separate dedup records and delivery states. A
//! sealed value is bound to its item's key, so a moved message's sealed attributes are
//! sealed anew for their new place. Run by the sealing pass; each move is safe to repeat
//! and to race a worker that wrote the same message or status under its new key since.

use crate::domain::tenant::TenantId;
use crate::store::keys::{
    DEDUP_PREFIX, message_sk, raw_wamid_of_message_sk, raw_wamid_of_status_sk, wamid_sk,
};
use crate::store::message::MessageStore;
use crate::store::message::{SEALED_ATTRIBUTES, WAMID};
use crate::store::table::put_action;
use crate::store::table::{Item, get_i64, get_s, n, s, sealed, unsealed};
use crate::store::{StoreError, Transacted};

impl MessageStore {
    /// The person's key; for an erased person, `None` once the item at `key` is deleted:
    /// nothing of it opens any more, and its key names them.
    pub async fn key_or_drop(
        &self,
        tenant: &TenantId,
        contact_id: &str,
        (pk, sk): (&str, &str),
    ) -> Result<Option<std::sync::Arc<crate::privacy::cipher::DataKey>>, StoreError> {
        match self.keyring()?.person(tenant.as_str(), contact_id).await {
            Ok(key) => Ok(Some(key)),
            Err(StoreError::PersonErased) => {
                self.delete_item(
                    "DeleteItem erased person's item keyed by a wamid",
                    pk.into(),
                    sk.into(),
                )
                .await?;
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// Puts `moved` unless its place is taken (`Duplicate`), in one transaction with the
    /// check that the contact's key was not erased meanwhile (the pass may hold it cached
    /// from before): `None` when it was, and nothing was written.
    pub async fn put_new_unless_erased(
        &self,
        op: &'static str,
        moved: Item,
        (tenant, contact_id): (&TenantId, &str),
    ) -> Result<Option<crate::store::PutOutcome>, StoreError> {
        let actions = vec![
            put_action(self.table_name(), moved, "attribute_not_exists(pk)", &[])?,
            self.keyring()?
                .not_erased_check(tenant.as_str(), contact_id)?,
        ];
        match self.transact(op, actions).await? {
            Transacted::Written => Ok(Some(crate::store::PutOutcome::Stored)),
            Transacted::Cancelled { failed_conditions } => match failed_conditions.as_slice() {
                [_, true] => Ok(None),
                [true, _] => Ok(Some(crate::store::PutOutcome::Duplicate)),
                _ => Err(StoreError::Contended(
                    "a message moved under its blinded wamid",
                )),
            },
        }
    }

    /// Moves an inbound message kept under its raw wamid; true when it was moved (or, for
    /// an erased person, deleted).
    pub async fn move_message_keyed_by_wamid(
        &self,
        tenant: &TenantId,
        contact_id: &str,
        it: &Item,
    ) -> Result<bool, StoreError> {
        let (Some(pk), Some(sk)) = (get_s(it, "pk"), get_s(it, "sk")) else {
            return Ok(false);
        };
        let Some((sent_at, wamid)) = raw_wamid_of_message_sk(sk) else {
            return Ok(false);
        };
        let keyring = self.keyring()?;
        let Some(key) = self.key_or_drop(tenant, contact_id, (pk, sk)).await? else {
            return Ok(true);
        };
        let blinded = keyring.blind_wamid(tenant.as_str(), wamid).await?;
        let new_sk = message_sk(sent_at, &blinded);
        let mut moved = it.clone();
        moved.insert("sk".into(), s(&new_sk));
        for attribute in SEALED_ATTRIBUTES {
            let text = unsealed(Some(&key), it, attribute)
                .or_else(|| (attribute == WAMID).then(|| wamid.to_owned()));
            match text {
                Some(text) => {
                    moved.insert(
                        attribute.into(),
                        sealed(&key, pk, &new_sk, attribute, &text),
                    );
                }
                None => {
                    moved.remove(attribute);
                }
            }
        }
        // A duplicate: Meta's retry stored the same message under its new key meanwhile.
        let op = "TransactWriteItems message under its blinded wamid";
        if self
            .put_new_unless_erased(op, moved, (tenant, contact_id))
            .await?
            .is_none()
        {
            self.delete_item("DeleteItem erased message", pk.into(), sk.into())
                .await?;
            return Ok(true);
        }
        self.delete_item(
            "DeleteItem message keyed by its wamid",
            pk.into(),
            sk.into(),
        )
        .await?;
        Ok(true)
    }

    /// Moves a message's separate dedup record kept under its raw wamid; true when moved.
    pub async fn move_dedup_keyed_by_wamid(
        &self,
        tenant: &TenantId,
        it: &Item,
    ) -> Result<bool, StoreError> {
        let (Some(pk), Some(sk)) = (get_s(it, "pk"), get_s(it, "sk")) else {
            return Ok(false);
        };
        let Some((sent_at, wamid)) = sk
            .strip_prefix(DEDUP_PREFIX)
            .and_then(raw_wamid_of_message_sk)
        else {
            return Ok(false);
        };
        let blinded = self.keyring()?.blind_wamid(tenant.as_str(), wamid).await?;
        let mut moved = it.clone();
        moved.insert(
            "sk".into(),
            s(format!("{DEDUP_PREFIX}{}", message_sk(sent_at, &blinded))),
        );
        self.put_new("PutItem dedup record under its blinded wamid", moved)
            .await?;
        self.delete_item(
            "DeleteItem dedup record keyed by its wamid",
            pk.into(),
            sk.into(),
        )
        .await?;
        Ok(true)
    }

    /// Moves a delivery state kept under its raw wamid, into the one a later status started
    /// under the blinded key if there is one; true when moved (or, for an erased person,
    /// deleted).
    pub async fn move_status_keyed_by_wamid(
        &self,
        tenant: &TenantId,
        contact_id: &str,
        it: &Item,
    ) -> Result<bool, StoreError> {
        let (Some(pk), Some(sk)) = (get_s(it, "pk"), get_s(it, "sk")) else {
            return Ok(false);
        };
        let Some(wamid) = raw_wamid_of_status_sk(sk) else {
            return Ok(false);
        };
        let keyring = self.keyring()?;
        let Some(key) = self.key_or_drop(tenant, contact_id, (pk, sk)).await? else {
            return Ok(true);
        };
        let new_sk = wamid_sk(&keyring.blind_wamid(tenant.as_str(), wamid).await?);
        let mut moved = it.clone();
        moved.insert("sk".into(), s(&new_sk));
        moved.insert(WAMID.into(), sealed(&key, pk, &new_sk, WAMID, wamid));
        let op = "TransactWriteItems status under its blinded wamid";
        let Some(outcome) = self
            .put_new_unless_erased(op, moved, (tenant, contact_id))
            .await?
        else {
            self.delete_item("DeleteItem erased status", pk.into(), sk.into())
                .await?;
            return Ok(true);
        };
        if outcome == crate::store::PutOutcome::Duplicate {
            self.merge_status_history(pk, &new_sk, it).await?;
        }
        self.delete_item("DeleteItem status keyed by its wamid", pk.into(), sk.into())
            .await?;
        Ok(true)
    }

    /// Adds an older item's history of a wamid to the state a later status started: each
    /// status's time once, the tenant's tag and the pricing once, and its status when it
    /// ranks higher.
    pub async fn merge_status_history(
        &self,
        pk: &str,
        sk: &str,
        older: &Item,
    ) -> Result<(), StoreError> {
        let mut history = self.update("UpdateItem status history merged", pk.into(), sk.into());
        for (name, value) in older {
            if name.starts_with("at_") || name == "pricing" || name == "callback_data" {
                history = history.set_if_absent(name, value.clone());
            }
        }
        history.condition("attribute_exists(pk)").send().await?;
        let Some(rank) = get_i64(older, "status_rank") else {
            return Ok(());
        };
        let mut advance = self.update("UpdateItem status merged", pk.into(), sk.into());
        for name in ["status", "status_rank", "error_code", "error_title"] {
            if let Some(value) = older.get(name) {
                advance = advance.set(name, value.clone());
            }
        }
        advance
            .condition("attribute_not_exists(status_rank) OR status_rank < :rank")
            .value(":rank", n(rank))
            .send()
            .await?;
        Ok(())
    }
}
