//! Inbound messages. The message item is its own idempotency record: a conditional put on a
//! key made of Meta's timestamp and the blind index of the wamid, so a retry or duplicate
//! never stores twice. The wamid itself (it embeds the sender's number) is sealed under the
//! person's key, like the content.

use crate::domain::conversation::{MessageRecord, StoredMessage};
use crate::domain::message::InboundMessage;
use crate::domain::message_id::MessageId;
use crate::domain::retention::ContentLife;
use crate::domain::tenant::TenantId;
use crate::privacy::cipher::DataKey;
use crate::store::cursor::Cursor;
use crate::store::keys::{MESSAGE_PREFIX, contact_pk, message_id_of, message_id_sk, message_sk};
use crate::store::message::MessageStore;
use crate::store::message::WAMID;
use crate::store::message::outbound;
use crate::store::message::{content_attrs, live_content};
use crate::store::table::{Item, get_i64, get_s, item, n, s, sealed, unsealed};
use crate::store::{EXPIRES_AT, Expiry, PutOutcome, StoreError, is_live};
use std::future::Future;

/// An inbound message and where it belongs.
#[derive(Debug, Clone, Copy)]
pub struct NewInbound<'a> {
    pub contact_id: &'a str,
    pub phone_number_id: Option<&'a str>,
    pub message: &'a InboundMessage,
    /// When the webhook accepted it, epoch milliseconds.
    pub received_at_ms: i64,
    /// Whether and how long its content is kept (`expiry.at` is the item's, metadata's).
    pub content: ContentLife,
}

/// What storing an inbound message did, and the message's public id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredInbound {
    pub outcome: PutOutcome,
    pub id: MessageId,
}

impl MessageStore {
    /// A contact's messages, newest first, without expired ones.
    pub async fn messages_of(
        &self,
        tenant: &TenantId,
        contact_id: &str,
        now: i64,
        limit: i32,
    ) -> Result<Vec<MessageRecord>, StoreError> {
        let page = self
            .messages_query("Query messages", tenant, contact_id, now)
            .limit(limit)
            .page()
            .await?;
        let key = self.reading_key(tenant, contact_id).await?;
        Ok(page
            .items
            .iter()
            .filter(|it| is_live(it, now))
            .map(|it| record_from_item(it, key.as_deref(), now))
            .collect())
    }
}

/// A message item of either direction, opened with the person's key.
fn stored_message_from_item(it: &Item, key: Option<&DataKey>, now: i64) -> StoredMessage {
    match get_s(it, "direction") {
        Some("out") => StoredMessage::Outbound(outbound::record_from_item(it, key, now)),
        _ => StoredMessage::Inbound(record_from_item(it, key, now)),
    }
}

/// One page of a conversation, newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessagePage {
    /// Each message with its public id.
    pub messages: Vec<(MessageId, StoredMessage)>,
    /// Where the next page starts, when there may be more.
    pub next: Option<Cursor>,
}

impl MessageStore {
    /// A page of a contact's messages, newest first, starting after `after`; expired
    /// messages are left out (a page may then hold fewer than `limit`).
    pub async fn conversation_page(
        &self,
        tenant: &TenantId,
        contact_id: &str,
        after: Option<&Cursor>,
        limit: i32,
        now: i64,
    ) -> Result<MessagePage, StoreError> {
        let page = self
            .messages_query("Query conversation", tenant, contact_id, now)
            .after(after)
            .limit(limit)
            .page()
            .await?;
        let key = self.reading_key(tenant, contact_id).await?;
        let messages = page
            .items
            .iter()
            .filter(|it| is_live(it, now))
            .filter_map(|it| {
                let sk = get_s(it, "sk")?;
                Some((
                    message_id_of(contact_id, sk),
                    stored_message_from_item(it, key.as_deref(), now),
                ))
            })
            .collect();
        let next = page.next;
        Ok(MessagePage { messages, next })
    }

    /// One message by its place, unless it expired.
    pub async fn message_at(
        &self,
        tenant: &TenantId,
        id: &MessageId,
        now: i64,
    ) -> Result<Option<StoredMessage>, StoreError> {
        // An id given out before wamids were blinded names the wamid: its message is kept
        // under the wamid's blind index now.
        let sk = match id.raw_wamid() {
            Some((sent_at, wamid)) => {
                let blinded = self.keyring()?.blind_wamid(tenant.as_str(), wamid).await?;
                message_sk(sent_at, &blinded)
            }
            None => message_id_sk(id),
        };
        let found = self
            .get(contact_pk(tenant.as_str(), &id.contact_id), sk)
            .await?;
        let Some(found) = found.filter(|it| is_live(it, now)) else {
            return Ok(None);
        };
        let key = self.reading_key(tenant, &id.contact_id).await?;
        Ok(Some(stored_message_from_item(&found, key.as_deref(), now)))
    }
}

fn record_from_item(it: &Item, key: Option<&DataKey>, now: i64) -> MessageRecord {
    let text = |name: &str| get_s(it, name).unwrap_or_default().to_owned();
    MessageRecord {
        wamid: unsealed(key, it, WAMID).unwrap_or_default(),
        direction: text("direction"),
        message_type: text("type"),
        content: live_content(key, it, "content", now).unwrap_or_default(),
        sent_at: get_i64(it, "sent_at").unwrap_or(0),
        phone_number_id: get_s(it, "phone_number_id").map(str::to_owned),
        expires_at: get_i64(it, EXPIRES_AT),
    }
}

fn json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("domain values always serialise")
}

impl MessageStore {
    /// A contact's live messages, newest first.
    fn messages_query(
        &self,
        op: &'static str,
        tenant: &TenantId,
        contact_id: &str,
        now: i64,
    ) -> crate::store::table::Query<'_> {
        self.query(op, "pk = :pk AND begins_with(sk, :prefix)")
            .filter("attribute_not_exists(expires_at) OR expires_at > :now")
            .value(":pk", s(contact_pk(tenant.as_str(), contact_id)))
            .value(":prefix", s(MESSAGE_PREFIX))
            .value(":now", n(now))
            .backwards()
    }
}

/// Inbound messages, each stored once.
pub trait InboundMessages: Send + Sync {
    /// Stores an inbound message once; a redelivery of it is a [`PutOutcome::Duplicate`].
    fn put_inbound_message(
        &self,
        tenant: &TenantId,
        inbound: &NewInbound<'_>,
        expiry: Expiry,
        now: i64,
    ) -> impl Future<Output = Result<StoredInbound, StoreError>> + Send;
}

impl InboundMessages for MessageStore {
    async fn put_inbound_message(
        &self,
        tenant: &TenantId,
        inbound: &NewInbound<'_>,
        expiry: Expiry,
        now: i64,
    ) -> Result<StoredInbound, StoreError> {
        let NewInbound {
            contact_id,
            phone_number_id,
            message,
            received_at_ms,
            content,
        } = *inbound;
        let keyring = self.keyring()?;
        let key = keyring.person(tenant.as_str(), contact_id).await?;
        let blinded = keyring.blind_wamid(tenant.as_str(), &message.wamid).await?;
        let pk = contact_pk(tenant.as_str(), contact_id);
        let sk = message_sk(message.sent_at, &blinded);
        let seal = |attribute: &str, text: &str| sealed(&key, &pk, &sk, attribute, text);
        let mut it = item([
            ("pk", s(&pk)),
            ("sk", s(&sk)),
            (WAMID, seal(WAMID, &message.wamid)),
            ("direction", s("in")),
            ("type", s(message.content.type_name())),
            ("sent_at", n(message.sent_at)),
            ("received_at_ms", n(received_at_ms)),
            (EXPIRES_AT, n(expiry.at)),
        ]);
        if let Some(pn) = phone_number_id {
            it.insert("phone_number_id".into(), s(pn));
        }
        let mut sealed = vec![("content", seal("content", &json(&message.content)))];
        if let Some(context) = &message.context {
            sealed.push(("context", seal("context", &json(context))));
        }
        if let Some(referral) = &message.referral {
            sealed.push(("referral", seal("referral", &json(referral))));
        }
        for (name, value) in content_attrs(content, expiry.at, sealed) {
            it.insert(name.into(), value);
        }
        let outcome = self.put_once("PutItem message", it, expiry, now).await?;
        Ok(StoredInbound {
            outcome,
            id: MessageId::inbound(contact_id, message.sent_at, &blinded),
        })
    }
}
