//! The delivery state of a wamid, merged monotonically from status webhooks. It lives on its
//! own item beside the message, so a status that arrives before its message is known is
//! kept, and the message reads it when it appears (or it expires).

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{AttributeValue, ReturnConsumedCapacity};

use crate::domain::status::{DeliveryStatus, StatusUpdate};
use crate::domain::tenant::TenantId;
use crate::store::keys::{contact_pk, wamid_sk};
use crate::store::table::{Item, get_i64, get_s, n, s};
use crate::store::{Store, StoreError, is_live};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusOutcome {
    /// The message moved to this status.
    Advanced,
    /// A later status was already known; this one was only added to the history.
    Late,
    /// This status was recorded before.
    Duplicate,
}

/// What a wamid's delivery looks like now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryState {
    pub status: Option<DeliveryStatus>,
    pub error_code: Option<i64>,
    pub error_title: Option<String>,
    pub pricing_category: Option<String>,
    /// When each status was reached, in status order.
    pub history: Vec<(DeliveryStatus, i64)>,
}

const ALL: [DeliveryStatus; 6] = [
    DeliveryStatus::Sent,
    DeliveryStatus::Delivered,
    DeliveryStatus::Read,
    DeliveryStatus::Played,
    DeliveryStatus::Failed,
    DeliveryStatus::Deleted,
];

impl Store {
    /// The wamid of the contact's message whose statuses carry `callback_data` (Meta echoes
    /// a send's `biz_opaque_callback_data` in each of them), once one has arrived. Read only
    /// when a job comes back without a recorded fate, to learn whether its earlier delivery
    /// reached Meta before it died.
    pub async fn wamid_with_callback_data(
        &self,
        tenant: &TenantId,
        contact_id: &str,
        callback_data: &str,
    ) -> Result<Option<String>, StoreError> {
        let mut start = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk AND begins_with(sk, :wamid)")
                .filter_expression("callback_data = :data")
                .expression_attribute_values(":pk", s(contact_pk(tenant.as_str(), contact_id)))
                .expression_attribute_values(":wamid", s(wamid_sk("")))
                .expression_attribute_values(":data", s(callback_data))
                .consistent_read(true)
                .set_exclusive_start_key(start.take())
                .return_consumed_capacity(ReturnConsumedCapacity::Total)
                .send()
                .await
                .map_err(|e| StoreError::dynamo("Query status by callback data", e))?;
            self.count_read(out.consumed_capacity());
            if let Some(wamid) = out.items().iter().find_map(|it| get_s(it, "wamid")) {
                return Ok(Some(wamid.to_owned()));
            }
            match out.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => return Ok(None),
            }
        }
    }

    pub async fn apply_status(
        &self,
        tenant: &TenantId,
        contact_id: &str,
        update: &StatusUpdate,
        expires_at: i64,
    ) -> Result<StatusOutcome, StoreError> {
        let at_attr = format!("at_{}", update.status.as_str());
        let mut sets = vec![
            "#status = :status".to_owned(),
            "status_rank = :rank".to_owned(),
            "wamid = :wamid".to_owned(),
            "expires_at = :exp".to_owned(),
        ];
        let mut values = vec![
            (":status", s(update.status.as_str())),
            (":rank", n(update.status.rank())),
            (":wamid", s(&update.wamid)),
            (":exp", n(expires_at)),
        ];
        let mut history_sets = vec![format!("{at_attr} = if_not_exists({at_attr}, :at)")];
        values.push((":at", n(update.at)));
        if let Some(error) = update.errors.first() {
            sets.push("error_code = :ecode".into());
            values.push((":ecode", n(error.code)));
            if let Some(title) = &error.title {
                sets.push("error_title = :etitle".into());
                values.push((":etitle", s(title)));
            }
        }
        if let Some(p) = &update.pricing {
            let pricing = serde_json::to_string(p).expect("pricing serialises");
            history_sets.push("pricing = if_not_exists(pricing, :pricing)".into());
            values.push((":pricing", s(pricing)));
        }
        if let Some(data) = &update.callback_data {
            history_sets.push("callback_data = if_not_exists(callback_data, :cb)".into());
            values.push((":cb", s(data)));
        }
        let key = (
            s(contact_pk(tenant.as_str(), contact_id)),
            s(wamid_sk(&update.wamid)),
        );
        let advance = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", key.0.clone())
            .key("sk", key.1.clone())
            .update_expression(format!(
                "SET {}, {}",
                sets.join(", "),
                history_sets.join(", ")
            ))
            .condition_expression("attribute_not_exists(status_rank) OR status_rank < :rank")
            .expression_attribute_names("#status", "status")
            .set_expression_attribute_values(Some(
                values
                    .iter()
                    .cloned()
                    .map(|(k, v)| (k.to_owned(), v))
                    .collect(),
            ))
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await;
        if self.settle("UpdateItem status", advance)? {
            return Ok(StatusOutcome::Advanced);
        }
        // Not an advance: keep the late status in the history, once.
        let history_values: std::collections::HashMap<String, AttributeValue> = values
            .into_iter()
            .filter(|(k, _)| history_sets.iter().any(|set| set.contains(k)))
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
        let late = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", key.0)
            .key("sk", key.1)
            .update_expression(format!("SET {}", history_sets.join(", ")))
            .condition_expression(format!("attribute_not_exists({at_attr})"))
            .set_expression_attribute_values(Some(history_values))
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await;
        Ok(if self.settle("UpdateItem status history", late)? {
            StatusOutcome::Late
        } else {
            StatusOutcome::Duplicate
        })
    }

    pub async fn delivery_state(
        &self,
        tenant: &TenantId,
        contact_id: &str,
        wamid: &str,
        now: i64,
    ) -> Result<Option<DeliveryState>, StoreError> {
        let found = self
            .get(contact_pk(tenant.as_str(), contact_id), wamid_sk(wamid))
            .await?;
        Ok(found
            .filter(|it| is_live(it, now))
            .map(|it| state_from_item(&it)))
    }
}

impl Store {
    /// The delivery states of a page's wamids, in one batch read (at most 100).
    pub async fn delivery_states(
        &self,
        tenant: &TenantId,
        contact_id: &str,
        wamids: &[&str],
        now: i64,
    ) -> Result<HashMap<String, DeliveryState>, StoreError> {
        let pk = contact_pk(tenant.as_str(), contact_id);
        let mut states = HashMap::new();
        let mut keys: Vec<Item> = wamids
            .iter()
            .take(100)
            .map(|w| HashMap::from([("pk".to_owned(), s(&pk)), ("sk".to_owned(), s(wamid_sk(w)))]))
            .collect();
        keys.dedup();
        for it in self.batch_get("BatchGetItem statuses", keys, now).await? {
            if let Some(wamid) = get_s(&it, "wamid") {
                states.insert(wamid.to_owned(), state_from_item(&it));
            }
        }
        Ok(states)
    }
}

fn state_from_item(it: &Item) -> DeliveryState {
    DeliveryState {
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
