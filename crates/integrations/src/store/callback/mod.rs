//! Callback endpoints (`T#<t>` / `CB#<id>`) and the delivery log of their events
//! (`T#<t>#CBLOG` / `<event time, 10 digits>#<event id>#<endpoint id>`): one item per
//! event and endpoint, rewritten at each attempt, holding the event so it can be replayed.

use aws_sdk_dynamodb::types::AttributeValue;

use crate::callbacks::endpoint::CallbackEndpoint;
use crate::callbacks::event::EventType;
use crate::callbacks::log::{CallbackDeliveryState, DeliveryRecord};
use crate::domain::retention::{DataClass, Retention};
use crate::domain::tenant::TenantId;
use crate::privacy::cipher::DataKey;
use crate::store::cursor::Cursor;
use crate::store::item_life::Ageing;
use crate::store::keys::tenant_pk;
use crate::store::table::{Item, b, get_b, get_i64, get_s, item, n, s, sealed, unsealed};
use crate::store::{EXPIRES_AT, StoreError, is_live};

const ENDPOINT_PREFIX: &str = "CB#";

fn endpoint_sk(id: &str) -> String {
    format!("{ENDPOINT_PREFIX}{id}")
}

pub fn delivery_log_pk(tenant: &str) -> String {
    format!("T#{tenant}#CBLOG")
}

pub fn delivery_sk(created_at: i64, event_id: &str, endpoint_id: &str) -> String {
    format!("{created_at:010}#{event_id}#{endpoint_id}")
}

/// One attempt's result, as the log keeps it.
#[derive(Debug, Clone)]
pub struct DeliveryAttempt<'a> {
    pub tenant: &'a TenantId,
    pub endpoint_id: &'a str,
    pub event_id: &'a str,
    pub event_type: EventType,
    pub event_created_at: i64,
    /// The event as sent, for replays; sealed under the key of the contact it is about.
    pub body: &'a str,
    /// The contact the event is about, if it is about one.
    pub contact_id: Option<&'a str>,
    pub state: CallbackDeliveryState,
    pub attempt: u32,
    /// The receiver's HTTP status, when it answered.
    pub http_status: Option<u16>,
    pub error: Option<&'a str>,
    pub now: i64,
    pub expires_at: i64,
}

crate::store::repository! {
    /// Callback endpoints and the delivery log of what was sent to them.
    CallbackStore
}

impl CallbackStore {
    pub async fn put_callback(&self, endpoint: &CallbackEndpoint) -> Result<(), StoreError> {
        let events: Vec<AttributeValue> = endpoint.events.iter().map(|e| s(e.as_str())).collect();
        let mut it = item([
            ("pk", s(tenant_pk(endpoint.tenant_id.as_str()))),
            ("sk", s(endpoint_sk(&endpoint.id))),
            ("callback_id", s(&endpoint.id)),
            ("url", s(&endpoint.url)),
            ("secret_ct", b(endpoint.secret_ciphertext.clone())),
            ("secret_fingerprint", s(&endpoint.secret_fingerprint)),
            ("created_at", n(endpoint.created_at)),
        ]);
        if !events.is_empty() {
            it.insert("events".into(), AttributeValue::L(events));
        }
        self.put("PutItem callback", it).await
    }

    pub async fn callbacks_of(
        &self,
        tenant: &TenantId,
    ) -> Result<Vec<CallbackEndpoint>, StoreError> {
        self.query_prefix(
            "Query callbacks",
            tenant_pk(tenant.as_str()),
            ENDPOINT_PREFIX,
        )
        .await?
        .iter()
        .map(|it| endpoint_from_item(tenant, it))
        .collect()
    }

    /// Deletes the endpoint; false when the tenant has none of that id.
    pub async fn delete_callback(&self, tenant: &TenantId, id: &str) -> Result<bool, StoreError> {
        self.delete_if(
            "DeleteItem callback",
            (tenant_pk(tenant.as_str()), endpoint_sk(id)),
            "attribute_exists(pk)",
            &[],
            &[],
        )
        .await
    }

    pub async fn record_delivery(&self, attempt: &DeliveryAttempt<'_>) -> Result<(), StoreError> {
        let tenant = attempt.tenant.as_str();
        let pk = delivery_log_pk(tenant);
        let sk = delivery_sk(
            attempt.event_created_at,
            attempt.event_id,
            attempt.endpoint_id,
        );
        let key = self.sealing_key(tenant, attempt.contact_id).await?;
        // An empty body is not kept (a tenant that stores no content).
        let body = (!attempt.body.is_empty()).then(|| sealed(&key, &pk, &sk, "body", attempt.body));
        // Each attempt's answer replaces the previous attempt's.
        self.update("UpdateItem callback delivery", pk, sk)
            .set("endpoint_id", s(attempt.endpoint_id))
            .set_or_remove("contact_id", attempt.contact_id.map(s))
            .set("event_id", s(attempt.event_id))
            .set("event_type", s(attempt.event_type.as_str()))
            .set("event_created_at", n(attempt.event_created_at))
            .set_or_remove("body", body)
            .set("state", s(attempt.state.as_str()))
            .set("attempts", n(attempt.attempt))
            .set("updated_at", n(attempt.now))
            .set("expires_at", n(attempt.expires_at))
            .set_or_remove("http_status", attempt.http_status.map(n))
            .set_or_remove("error", attempt.error.map(s))
            .send()
            .await?;
        Ok(())
    }

    /// Deliveries of events created in `[from, to]` (epoch seconds), oldest first, from
    /// after `after`, at most `limit`.
    pub async fn deliveries(
        &self,
        tenant: &TenantId,
        from: i64,
        to: i64,
        after: Option<&Cursor>,
        limit: i32,
        now: i64,
    ) -> Result<(Vec<DeliveryRecord>, Option<Cursor>), StoreError> {
        let page = self
            .query(
                "Query callback deliveries",
                "pk = :pk AND sk BETWEEN :from AND :to",
            )
            .value(":pk", s(delivery_log_pk(tenant.as_str())))
            .value(":from", s(format!("{from:010}#")))
            // '~' sorts after every character of an event or endpoint id.
            .value(":to", s(format!("{to:010}#~")))
            .after(after)
            .limit(limit)
            .page()
            .await?;
        let live: Vec<&Item> = page.items.iter().filter(|it| is_live(it, now)).collect();
        let contacts: Vec<&str> = live
            .iter()
            .filter_map(|it| get_s(it, "contact_id"))
            .collect();
        let keys = self.opening_keys(tenant.as_str(), &contacts).await?;
        let records = live
            .into_iter()
            .map(|it| delivery_from_item(it, keys.of(get_s(it, "contact_id"))))
            .collect();
        Ok((records, page.next))
    }
}

impl CallbackStore {
    /// The deliveries about any of `contacts` among one page of the log (`limit` items
    /// read, from `after`), without their bodies: what a person's export lists (those
    /// still live at `live_at`) and their erasure deletes (all of them: `None`).
    pub async fn deliveries_about(
        &self,
        tenant: &TenantId,
        contacts: &[String],
        after: Option<&Cursor>,
        limit: i32,
        live_at: Option<i64>,
    ) -> Result<(Vec<DeliveryRecord>, Option<Cursor>), StoreError> {
        if contacts.is_empty() {
            return Ok((Vec::new(), None));
        }
        let mut query = self
            .query("Query callback log about contacts", "pk = :pk")
            .filter(format!(
                "contact_id IN ({})",
                placeholders(":c", contacts.len())
            ))
            .value(":pk", s(delivery_log_pk(tenant.as_str())))
            .limit(limit)
            .after(after);
        for (i, contact) in contacts.iter().enumerate() {
            query = query.value(&format!(":c{i}"), s(contact));
        }
        let page = query.page().await?;
        let records = page
            .items
            .iter()
            .filter(|it| live_at.is_none_or(|now| is_live(it, now)))
            .map(|it| delivery_from_item(it, None))
            .collect();
        Ok((records, page.next))
    }
}

/// `:c0, :c1, ...`: the placeholders of an `IN` list of `count` values.
pub fn placeholders(prefix: &str, count: usize) -> String {
    (0..count)
        .map(|i| format!("{prefix}{i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn endpoint_from_item(tenant: &TenantId, it: &Item) -> Result<CallbackEndpoint, StoreError> {
    let corrupt = |problem: &str| StoreError::Corrupt {
        key: format!(
            "{}/{}",
            tenant_pk(tenant.as_str()),
            get_s(it, "sk").unwrap_or("?")
        ),
        problem: problem.to_owned(),
    };
    let events = match it.get("events") {
        Some(AttributeValue::L(list)) => list
            .iter()
            .filter_map(|v| v.as_s().ok())
            .map(|raw| EventType::parse(raw).ok_or_else(|| corrupt("unknown event type")))
            .collect::<Result<_, _>>()?,
        _ => Vec::new(),
    };
    Ok(CallbackEndpoint {
        id: get_s(it, "callback_id")
            .ok_or_else(|| corrupt("no callback_id"))?
            .to_owned(),
        tenant_id: tenant.clone(),
        url: get_s(it, "url")
            .ok_or_else(|| corrupt("no url"))?
            .to_owned(),
        events,
        secret_ciphertext: get_b(it, "secret_ct")
            .ok_or_else(|| corrupt("no secret"))?
            .to_vec(),
        secret_fingerprint: get_s(it, "secret_fingerprint")
            .unwrap_or_default()
            .to_owned(),
        created_at: get_i64(it, "created_at").unwrap_or(0),
    })
}

/// The tenant of a delivery log partition's key.
pub fn delivery_log_tenant(pk: &str) -> Option<&str> {
    pk.strip_prefix("T#")?.strip_suffix("#CBLOG")
}

impl CallbackStore {
    /// Seals the body of a delivery logged before sealing, under the key of the contact
    /// its event names (or the tenant's); true when rewritten.
    pub async fn seal_delivery_written_before(
        &self,
        tenant: &TenantId,
        it: &Item,
    ) -> Result<bool, StoreError> {
        let Some(AttributeValue::S(body)) = it.get("body") else {
            return Ok(false);
        };
        let contact = serde_json::from_str::<serde_json::Value>(body)
            .ok()
            .and_then(|event| event["data"]["contact_id"].as_str().map(str::to_owned));
        let key = self
            .sealing_key(tenant.as_str(), contact.as_deref())
            .await?;
        if let Some(contact) = &contact
            && it.get("contact_id").is_none()
        {
            // Which key opens it: written first, so the body is never sealed unnamed.
            let (Some(pk), Some(sk)) = (get_s(it, "pk"), get_s(it, "sk")) else {
                return Ok(false);
            };
            self.update("UpdateItem delivery contact", pk.to_owned(), sk.to_owned())
                .set("contact_id", s(contact))
                .condition("attribute_exists(pk)")
                .send()
                .await?;
        }
        self.seal_written_before("UpdateItem seal delivery", it, &["body"], &key)
            .await
    }
}

fn delivery_from_item(it: &Item, key: Option<&DataKey>) -> DeliveryRecord {
    let text = |name: &str| get_s(it, name).unwrap_or_default().to_owned();
    DeliveryRecord {
        log_key: text("sk"),
        endpoint_id: text("endpoint_id"),
        event_id: text("event_id"),
        event_type: text("event_type"),
        event_created_at: get_i64(it, "event_created_at").unwrap_or(0),
        state: get_s(it, "state").and_then(CallbackDeliveryState::parse),
        attempts: get_i64(it, "attempts").unwrap_or(0),
        http_status: get_i64(it, "http_status"),
        error: get_s(it, "error").map(str::to_owned),
        updated_at: get_i64(it, "updated_at").unwrap_or(0),
        body: unsealed(key, it, "body").unwrap_or_default(),
    }
}

/// A delivery log line's sooner end under `retention`: it holds the event's body, so it
/// lives as content does, counted from its last attempt.
pub fn ageing(it: &Item, retention: &Retention) -> Option<Ageing> {
    let stored = get_i64(it, EXPIRES_AT)?;
    Ageing::end(retention.shortened_end(DataClass::Content, get_i64(it, "updated_at")?, stored))
}
