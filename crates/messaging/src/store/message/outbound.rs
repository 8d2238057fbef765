//! Outbound messages: one item per job, written when the job's fate is known (accepted by
//! Meta with its wamid, refused before sending, or failed). A job accepted through the
//! business API is written first as `queued`, so it can be read before it is sent; its
//! fate then replaces that state once. The item's key comes from the job, so it is also the
//! job's idempotency record: a redelivered job that finds a decided item is not sent
//! again. Delivery statuses stay on the wamid's own item (see `statuses`).

use crate::domain::conversation::{OutboundRecord, QUEUED, SendOutcome};
use crate::domain::retention::ContentLife;
use crate::domain::tenant::TenantId;
use crate::privacy::cipher::DataKey;
use crate::store::IdempotencyStore;
use crate::store::idempotency::IdempotencyClaims;
use crate::store::keys::{contact_pk, outbound_sk};
use crate::store::message::MessageStore;
use crate::store::message::{WAMID, content_attrs, live_content};
use crate::store::table::{Item, get_i64, get_s, item, n, s, sealed, unsealed};
use crate::store::{EXPIRES_AT, PutOutcome, StoreError};
use std::future::Future;

/// Where an outbound message lives.
#[derive(Debug, Clone, Copy)]
pub struct OutboundKey<'a> {
    pub contact_id: &'a str,
    pub enqueued_at: i64,
    pub job_id: &'a str,
}

/// An outbound message as written.
#[derive(Debug, Clone)]
pub struct NewOutbound<'a> {
    pub key: OutboundKey<'a>,
    pub phone_number_id: &'a str,
    pub message_type: &'a str,
    /// The request's content as JSON, without the recipient (the contact holds that).
    pub content: &'a str,
    /// Whether and how long the content is kept (`expires_at` is the item's).
    pub content_life: ContentLife,
    pub outcome: SendOutcome,
    pub attempts: u32,
    pub expires_at: i64,
    pub now: i64,
}

/// A message accepted by the API and waiting in the queue.
#[derive(Debug, Clone)]
pub struct QueuedOutbound<'a> {
    pub key: OutboundKey<'a>,
    pub phone_number_id: &'a str,
    pub message_type: &'a str,
    pub content: &'a str,
    pub content_life: ContentLife,
    pub expires_at: i64,
    /// The API call's idempotency key, if it had one: the message keeps its hash, so
    /// that erasing the contact finds the key's record.
    pub idempotency_key: Option<&'a str>,
}

/// The attribute of an outbound message that holds its API call's idempotency key digest.
pub const IDEMPOTENCY_HASH: &str = "idem";

/// What every outbound item holds, queued or decided.
struct OutboundFields<'a> {
    key: OutboundKey<'a>,
    phone_number_id: &'a str,
    message_type: &'a str,
    content: &'a str,
    content_life: ContentLife,
    state: &'a str,
    attempts: u32,
    expires_at: i64,
}

fn outbound_item(tenant: &TenantId, key: &DataKey, f: &OutboundFields<'_>) -> Item {
    let pk = contact_pk(tenant.as_str(), f.key.contact_id);
    let sk = outbound_sk(f.key.enqueued_at, f.key.job_id);
    let content = sealed(key, &pk, &sk, "content", f.content);
    let mut it = item([
        ("pk", s(pk)),
        ("sk", s(sk)),
        ("direction", s("out")),
        ("job_id", s(f.key.job_id)),
        ("phone_number_id", s(f.phone_number_id)),
        ("type", s(f.message_type)),
        ("sent_at", n(f.key.enqueued_at)),
        ("state", s(f.state)),
        ("attempts", n(f.attempts)),
        (EXPIRES_AT, n(f.expires_at)),
    ]);
    for (name, value) in content_attrs(f.content_life, f.expires_at, [("content", content)]) {
        it.insert(name.into(), value);
    }
    it
}

pub(crate) fn record_from_item(it: &Item, key: Option<&DataKey>, now: i64) -> OutboundRecord {
    let text = |name: &str| get_s(it, name).unwrap_or_default().to_owned();
    let outcome = match get_s(it, "state") {
        Some(QUEUED) => None,
        Some("accepted") => Some(SendOutcome::Accepted {
            wamid: unsealed(key, it, WAMID).unwrap_or_default(),
            message_status: text("message_status"),
        }),
        Some("refused") => Some(SendOutcome::Refused {
            reason: text("reason"),
        }),
        _ => Some(SendOutcome::Failed {
            code: get_i64(it, "error_code"),
            title: text("error_title"),
            details: unsealed(key, it, "error_details"),
        }),
    };
    OutboundRecord {
        job_id: text("job_id"),
        phone_number_id: text("phone_number_id"),
        message_type: text("type"),
        content: live_content(key, it, "content", now).unwrap_or_default(),
        sent_at: get_i64(it, "sent_at").unwrap_or(0),
        outcome,
        attempts: get_i64(it, "attempts").unwrap_or(0) as u32,
        decided_at: get_i64(it, "decided_at"),
        expires_at: get_i64(it, EXPIRES_AT),
    }
}

/// Outbound messages from their acceptance on, and the window they are sent in.
pub trait OutboundMessages: Send + Sync {
    /// The outbound message of a job, read consistently: a job redelivered right after
    /// its send must see the record.
    fn outbound_record(
        &self,
        tenant: &TenantId,
        key: OutboundKey<'_>,
    ) -> impl Future<Output = Result<Option<OutboundRecord>, StoreError>> + Send;

    /// When the contact last wrote in, from the messages themselves: the exact end of the
    /// 24-hour window when the profile's rounded `last_inbound_at` is not enough.
    fn newest_inbound_since(
        &self,
        tenant: &TenantId,
        contact_id: &str,
        since: i64,
    ) -> impl Future<Output = Result<Option<i64>, StoreError>> + Send;

    /// Records a job the API accepted, before it is queued: readable at once, and
    /// replaced by the job's outcome. Refused if anything already has its key.
    fn put_queued_outbound(
        &self,
        tenant: &TenantId,
        message: &QueuedOutbound<'_>,
    ) -> impl Future<Output = Result<PutOutcome, StoreError>> + Send;

    /// Takes back a queued record whose job could not be queued.
    fn delete_queued_outbound(
        &self,
        tenant: &TenantId,
        key: OutboundKey<'_>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Writes the job's outcome once; a second writer of the same job gets `Duplicate`.
    fn put_outbound(
        &self,
        tenant: &TenantId,
        message: &NewOutbound<'_>,
    ) -> impl Future<Output = Result<PutOutcome, StoreError>> + Send;
}

impl OutboundMessages for MessageStore {
    async fn outbound_record(
        &self,
        tenant: &TenantId,
        key: OutboundKey<'_>,
    ) -> Result<Option<OutboundRecord>, StoreError> {
        let found = self
            .get_consistent(
                contact_pk(tenant.as_str(), key.contact_id),
                outbound_sk(key.enqueued_at, key.job_id),
            )
            .await?;
        // Not filtered by expiry: a record past its retention still proves the job ran.
        let Some(found) = found else {
            return Ok(None);
        };
        let key = self.reading_key(tenant, key.contact_id).await?;
        Ok(Some(record_from_item(
            &found,
            key.as_deref(),
            crate::clock::now_seconds(),
        )))
    }

    async fn newest_inbound_since(
        &self,
        tenant: &TenantId,
        contact_id: &str,
        since: i64,
    ) -> Result<Option<i64>, StoreError> {
        let page = self
            .query("Query newest inbound", "pk = :pk AND sk >= :from")
            .filter("direction = :in")
            .value(":pk", s(contact_pk(tenant.as_str(), contact_id)))
            .value(":from", s(format!("MSG#{since:010}")))
            .value(":in", s("in"))
            .consistent()
            .page()
            .await?;
        Ok(page
            .items
            .iter()
            .filter(|it| get_s(it, "sk").is_some_and(|sk| sk.starts_with("MSG#")))
            .filter_map(|it| get_i64(it, "sent_at"))
            .max())
    }

    async fn put_queued_outbound(
        &self,
        tenant: &TenantId,
        message: &QueuedOutbound<'_>,
    ) -> Result<PutOutcome, StoreError> {
        let key = self
            .keyring()?
            .person(tenant.as_str(), message.key.contact_id)
            .await?;
        let mut it = outbound_item(
            tenant,
            &key,
            &OutboundFields {
                key: message.key,
                phone_number_id: message.phone_number_id,
                message_type: message.message_type,
                content: message.content,
                content_life: message.content_life,
                state: QUEUED,
                attempts: 0,
                expires_at: message.expires_at,
            },
        );
        if let Some(idempotency_key) = message.idempotency_key {
            let digest = self
                .repo::<IdempotencyStore>()
                .idempotency_key_digest(tenant, idempotency_key)
                .await?;
            it.insert(IDEMPOTENCY_HASH.into(), s(digest));
        }
        self.put_new("PutItem queued outbound", it).await
    }

    async fn delete_queued_outbound(
        &self,
        tenant: &TenantId,
        key: OutboundKey<'_>,
    ) -> Result<(), StoreError> {
        // Only while still queued: a decided record stays.
        self.delete_if(
            "DeleteItem queued outbound",
            (
                contact_pk(tenant.as_str(), key.contact_id),
                outbound_sk(key.enqueued_at, key.job_id),
            ),
            "#state = :queued",
            &[("#state", "state")],
            &[(":queued", s(QUEUED))],
        )
        .await?;
        Ok(())
    }

    async fn put_outbound(
        &self,
        tenant: &TenantId,
        message: &NewOutbound<'_>,
    ) -> Result<PutOutcome, StoreError> {
        let key = self
            .keyring()?
            .person(tenant.as_str(), message.key.contact_id)
            .await?;
        let mut it = outbound_item(
            tenant,
            &key,
            &OutboundFields {
                key: message.key,
                phone_number_id: message.phone_number_id,
                message_type: message.message_type,
                content: message.content,
                content_life: message.content_life,
                state: message.outcome.state(),
                attempts: message.attempts,
                expires_at: message.expires_at,
            },
        );
        it.insert("decided_at".into(), n(message.now));
        let k = message.key;
        let (pk, sk) = (
            contact_pk(tenant.as_str(), k.contact_id),
            outbound_sk(k.enqueued_at, k.job_id),
        );
        match &message.outcome {
            SendOutcome::Accepted {
                wamid,
                message_status,
            } => {
                // Meta's wamid embeds the recipient's number: sealed like the content.
                it.insert(WAMID.into(), sealed(&key, &pk, &sk, WAMID, wamid));
                it.insert("message_status".into(), s(message_status));
            }
            SendOutcome::Refused { reason } => {
                it.insert("reason".into(), s(reason));
            }
            SendOutcome::Failed {
                code,
                title,
                details,
            } => {
                if let Some(code) = code {
                    it.insert("error_code".into(), n(*code));
                }
                it.insert("error_title".into(), s(title));
                // Meta's details may quote the message: sealed like it.
                if let Some(details) = details {
                    it.insert(
                        "error_details".into(),
                        sealed(&key, &pk, &sk, "error_details", details),
                    );
                }
            }
        }
        // Written once: over nothing, or over the job's queued record, whose other
        // attributes (the idempotency key's hash) stay.
        let mut update = self.update("UpdateItem outbound", pk, sk);
        for (attribute, value) in it {
            if attribute != "pk" && attribute != "sk" {
                update = update.set(&attribute, value);
            }
        }
        let written = update
            .condition("attribute_not_exists(pk) OR #state = :queued")
            .name("#state", "state")
            .value(":queued", s(QUEUED))
            .send()
            .await?;
        Ok(if written {
            PutOutcome::Stored
        } else {
            PutOutcome::Duplicate
        })
    }
}
