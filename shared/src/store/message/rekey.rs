//! Moving what was keyed by a raw wamid (before wamids were blinded) under the wamid's
//! blind index: inbound messages, their separate dedup records and delivery states. A
//! sealed value is bound to its item's key, so a moved message's sealed attributes are
//! sealed anew for their new place. Run by the sealing pass; each move is safe to repeat
//! and to race a worker that wrote the same message or status under its new key since.

use crate::domain::tenant::TenantId;
use crate::store::keys::{
    DEDUP_PREFIX, message_sk, raw_wamid_of_message_sk, raw_wamid_of_status_sk, wamid_sk,
};
use crate::store::message::{SEALED_ATTRIBUTES, WAMID};
use crate::store::table::{Item, get_i64, get_s, n, s, sealed, unsealed};
use crate::store::{Store, StoreError};

impl Store {
    /// Moves an inbound message kept under its raw wamid; true when it was moved (or, for
    /// an erased person, deleted).
    pub(crate) async fn move_message_keyed_by_wamid(
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
        let key = match keyring.person(tenant.as_str(), contact_id).await {
            Ok(key) => key,
            // What an erased person left: nothing of it opens any more, and its key names
            // them. It goes.
            Err(StoreError::PersonErased) => {
                self.delete_item("DeleteItem erased message", pk.into(), sk.into())
                    .await?;
                return Ok(true);
            }
            Err(e) => return Err(e),
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
        self.put_new("PutItem message under its blinded wamid", moved)
            .await?;
        self.delete_item(
            "DeleteItem message keyed by its wamid",
            pk.into(),
            sk.into(),
        )
        .await?;
        Ok(true)
    }

    /// Moves a message's separate dedup record kept under its raw wamid; true when moved.
    pub(crate) async fn move_dedup_keyed_by_wamid(
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
    pub(crate) async fn move_status_keyed_by_wamid(
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
        let key = match keyring.person(tenant.as_str(), contact_id).await {
            Ok(key) => key,
            Err(StoreError::PersonErased) => {
                self.delete_item("DeleteItem erased status", pk.into(), sk.into())
                    .await?;
                return Ok(true);
            }
            Err(e) => return Err(e),
        };
        let new_sk = wamid_sk(&keyring.blind_wamid(tenant.as_str(), wamid).await?);
        let mut moved = it.clone();
        moved.insert("sk".into(), s(&new_sk));
        moved.insert(WAMID.into(), sealed(&key, pk, &new_sk, WAMID, wamid));
        let outcome = self
            .put_new("PutItem status under its blinded wamid", moved)
            .await?;
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
    async fn merge_status_history(
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
