//! The delivery state of a wamid, merged monotonically from status webhooks. It lives on its
//! own item beside the message, keyed by the wamid's blind index, so a status that arrives
//! before its message is known is kept, and the message reads it when it appears (or it
//! expires). The wamid itself is sealed under the person's key.

use crate::store::message::MessageStore;
use std::collections::HashMap;
use std::future::Future;

use crate::domain::conversation::DeliveryProgress;
use crate::domain::retention::{DataClass, Retention};
use crate::domain::status::{DeliveryStatus, StatusUpdate};
use crate::domain::tenant::TenantId;
use crate::store::item_life::Ageing;
use crate::store::keys::{WAMID_PREFIX, contact_pk, wamid_sk};
use crate::store::message::WAMID;
use crate::store::table::Update;
use crate::store::table::{Item, get_i64, get_s, n, s, sealed, unsealed};
use crate::store::{EXPIRES_AT, StoreError, is_live};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusOutcome {
    /// The message moved to this status.
    Advanced,
    /// A later status was already known; this one was only added to the history.
    Late,
    /// This status was recorded before.
    Duplicate,
}

const ALL: [DeliveryStatus; 6] = [
    DeliveryStatus::Sent,
    DeliveryStatus::Delivered,
    DeliveryStatus::Read,
    DeliveryStatus::Played,
    DeliveryStatus::Failed,
    DeliveryStatus::Deleted,
];

impl MessageStore {
    pub async fn delivery_state(
        &self,
        tenant: &TenantId,
        contact_id: &str,
        wamid: &str,
        now: i64,
    ) -> Result<Option<DeliveryProgress>, StoreError> {
        let blinded = self.keyring()?.blind_wamid(tenant.as_str(), wamid).await?;
        let found = self
            .get(contact_pk(tenant.as_str(), contact_id), wamid_sk(&blinded))
            .await?;
        Ok(found
            .filter(|it| is_live(it, now))
            .map(|it| state_from_item(&it)))
    }
}

impl MessageStore {
    /// The delivery states of a page's wamids, in one batch read (at most 100).
    pub async fn delivery_states(
        &self,
        tenant: &TenantId,
        contact_id: &str,
        wamids: &[&str],
        now: i64,
    ) -> Result<HashMap<String, DeliveryProgress>, StoreError> {
        let pk = contact_pk(tenant.as_str(), contact_id);
        let keyring = self.keyring()?;
        // Each wamid by the key it is kept under.
        let mut by_sk = HashMap::new();
        for wamid in wamids.iter().take(100) {
            let blinded = keyring.blind_wamid(tenant.as_str(), wamid).await?;
            by_sk.insert(wamid_sk(&blinded), *wamid);
        }
        let keys: Vec<Item> = by_sk
            .keys()
            .map(|sk| HashMap::from([("pk".to_owned(), s(&pk)), ("sk".to_owned(), s(sk))]))
            .collect();
        let mut states = HashMap::new();
        for it in self.batch_get("BatchGetItem statuses", keys, now).await? {
            if let Some(wamid) = get_s(&it, "sk").and_then(|sk| by_sk.get(sk)) {
                states.insert((*wamid).to_owned(), state_from_item(&it));
            }
        }
        Ok(states)
    }
}

fn state_from_item(it: &Item) -> DeliveryProgress {
    DeliveryProgress {
        status: get_s(it, "status").and_then(DeliveryStatus::parse),
        error_code: get_i64(it, "error_code"),
        error_title: get_s(it, "error_title").map(str::to_owned),
        pricing_category: get_s(it, "pricing")
            .and_then(|p| serde_json::from_str::<serde_json::Value>(p).ok())
            .and_then(|p| {
                p.get("category")
                    .and_then(|c| c.as_str())
                    .map(str::to_owned)
            }),
        history: ALL
            .iter()
            .filter_map(|st| get_i64(it, &format!("at_{}", st.as_str())).map(|at| (*st, at)))
            .collect(),
    }
}

/// What every status adds to its wamid's history, once: when it came, the pricing, the
/// tenant's tag.
fn with_history<'a>(mut write: Update<'a>, update: &StatusUpdate, at_attr: &str) -> Update<'a> {
    write = write.set_if_absent(at_attr, n(update.at));
    if let Some(p) = &update.pricing {
        let pricing = serde_json::to_string(p).expect("pricing serialises");
        write = write.set_if_absent("pricing", s(pricing));
    }
    if let Some(data) = &update.callback_data {
        write = write.set_if_absent("callback_data", s(data));
    }
    write
}

/// A delivery state's sooner end under `retention`, counted from its latest status.
pub fn ageing(it: &Item, retention: &Retention) -> Option<Ageing> {
    let base = it
        .keys()
        .filter(|name| name.starts_with("at_"))
        .filter_map(|name| get_i64(it, name))
        .max()?;
    let stored = get_i64(it, EXPIRES_AT)?;
    Ageing::end(retention.shortened_end(DataClass::Metadata, base, stored))
}

/// The delivery states Meta reports for outbound messages.
pub trait DeliveryStates: Send + Sync {
    fn apply_status(
        &self,
        tenant: &TenantId,
        contact_id: &str,
        update: &StatusUpdate,
        expires_at: i64,
    ) -> impl Future<Output = Result<StatusOutcome, StoreError>> + Send;

    /// The wamid of the contact's message whose statuses carry `callback_data` (Meta echoes
    /// a send's `biz_opaque_callback_data` in each of them), once one has arrived. Read only
    /// when a job comes back without a recorded fate, to learn whether its earlier delivery
    /// reached Meta before it died.
    fn wamid_with_callback_data(
        &self,
        tenant: &TenantId,
        contact_id: &str,
        callback_data: &str,
    ) -> impl Future<Output = Result<Option<String>, StoreError>> + Send;
}

impl DeliveryStates for MessageStore {
    async fn apply_status(
        &self,
        tenant: &TenantId,
        contact_id: &str,
        update: &StatusUpdate,
        expires_at: i64,
    ) -> Result<StatusOutcome, StoreError> {
        let at_attr = format!("at_{}", update.status.as_str());
        let keyring = self.keyring()?;
        let key = keyring.person(tenant.as_str(), contact_id).await?;
        let pk = contact_pk(tenant.as_str(), contact_id);
        let sk = wamid_sk(&keyring.blind_wamid(tenant.as_str(), &update.wamid).await?);
        // Sealed once, by the first status: the wamid never changes.
        let wamid = sealed(&key, &pk, &sk, WAMID, &update.wamid);
        let mut advance = self
            .update("UpdateItem status", pk.clone(), sk.clone())
            .set("status", s(update.status.as_str()))
            .set("status_rank", n(update.status.rank()))
            .set_if_absent(WAMID, wamid.clone())
            .set(EXPIRES_AT, n(expires_at));
        if let Some(error) = update.errors.first() {
            advance = advance.set("error_code", n(error.code));
            if let Some(title) = &error.title {
                advance = advance.set("error_title", s(title));
            }
        }
        let advanced = with_history(advance, update, &at_attr)
            .condition("attribute_not_exists(status_rank) OR status_rank < :rank")
            .value(":rank", n(update.status.rank()))
            .send()
            .await?;
        if advanced {
            return Ok(StatusOutcome::Advanced);
        }
        // Not an advance: keep the late status in the history, once.
        let late = with_history(
            self.update("UpdateItem status history", pk, sk)
                .set_if_absent(WAMID, wamid),
            update,
            &at_attr,
        )
        .condition("attribute_not_exists(#seen)")
        .name("#seen", &at_attr)
        .send()
        .await?;
        Ok(if late {
            StatusOutcome::Late
        } else {
            StatusOutcome::Duplicate
        })
    }

    async fn wamid_with_callback_data(
        &self,
        tenant: &TenantId,
        contact_id: &str,
        callback_data: &str,
    ) -> Result<Option<String>, StoreError> {
        let found = self
            .query(
                "Query status by callback data",
                "pk = :pk AND begins_with(sk, :wamid)",
            )
            .filter("callback_data = :data")
            .value(":pk", s(contact_pk(tenant.as_str(), contact_id)))
            .value(":wamid", s(WAMID_PREFIX))
            .value(":data", s(callback_data))
            .consistent()
            .find_map(|it| Some(it.clone()))
            .await?;
        let Some(found) = found else {
            return Ok(None);
        };
        let key = self.reading_key(tenant, contact_id).await?;
        Ok(unsealed(key.as_deref(), &found, WAMID))
    }
}
