//! An outbound job: what to send, from which number, to whom, as queued. Its id makes
//! sending idempotent: the message record is keyed by it.

use rand::Rng;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::cloud_api::request::{MetaContent, MetaRequest};
use crate::domain::event::OutboundRef;
use crate::domain::identity::UserIdentity;
use crate::domain::outbound::{OutboundMessage, Recipient, ValidationError};
use crate::domain::tenant::TenantId;
use crate::outbound::consent::Outgoing;
use crate::queue::ids::QueueIdKey;

/// Jobs carry the typed message. Version 1 carried Meta's request body; the sender still
/// reads such jobs, so that none queued before an upgrade is lost (a job lives at most 4
/// days in the queue and 14 in its dead-letter queue).
pub const JOB_VERSION: u8 = 2;
const META_REQUEST_VERSION: u8 = 1;

#[derive(Debug, Clone, PartialEq)]
pub struct OutboundJob {
    pub job_id: String,
    pub tenant_id: TenantId,
    /// Epoch seconds; with the job id it places the message in the conversation.
    pub enqueued_at: i64,
    pub queued: Queued,
    pub purpose: Purpose,
    /// The call that queued the job records the business's activity on the contact and
    /// its conversation itself, right after queueing it, so the sender leaves them alone
    /// (a read and two writes fewer per reply). False for jobs queued by other paths,
    /// before this field, and again by a call resuming an idempotency key. Recording it
    /// first would mark a conversation answered by a message that then failed to queue;
    /// as it is, a crash or a failed write between the two leaves it unanswered in the
    /// listing (logged), which shows rather than hides a person waiting.
    pub activity_recorded: bool,
}

/// Why the gateway sends a job; every job but the confirmation of an opt-out passes the
/// recipient's consent first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    /// A message the business (or its automation) sends.
    #[default]
    Message,
    /// The gateway's one confirmation of a person's opt-out, in reply to it.
    ConsentAck,
}

impl Purpose {
    fn is_message(&self) -> bool {
        *self == Self::Message
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Queued {
    /// Validated when the job was made.
    Message(OutboundMessage),
    /// A job of version 1.
    MetaRequest(MetaRequestJob),
}

/// What a version-1 job carried besides its id, tenant and time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetaRequestJob {
    pub phone_number_id: String,
    /// A phone number (digits) or a BSUID, as the recipient is addressed at Meta.
    pub to: String,
    /// Meta's `type`.
    pub message_type: String,
    /// Needs an open 24-hour window (everything but templates).
    pub free_form: bool,
    /// Meta's request body, validated when the job was made.
    pub request: Value,
}

/// A job as its queue message holds it.
#[derive(Serialize)]
struct Body<'a, T> {
    v: u8,
    job_id: &'a str,
    tenant_id: &'a TenantId,
    enqueued_at: i64,
    #[serde(skip_serializing_if = "Purpose::is_message")]
    purpose: Purpose,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    activity_recorded: bool,
    #[serde(flatten)]
    queued: T,
}

#[derive(Serialize)]
struct MessageBody<'a> {
    message: &'a OutboundMessage,
}

/// A job read from its queue message.
#[derive(Deserialize)]
struct ReadBody<T> {
    job_id: String,
    tenant_id: TenantId,
    enqueued_at: i64,
    #[serde(default)]
    purpose: Purpose,
    #[serde(default)]
    activity_recorded: bool,
    #[serde(flatten)]
    queued: T,
}

#[derive(Deserialize)]
struct ReadMessage {
    message: OutboundMessage,
}

#[derive(Deserialize)]
struct Version {
    v: u8,
}

#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error("the job is not readable: {0}")]
    Unreadable(#[from] serde_json::Error),
    #[error("job version {0} is not known to this worker")]
    Version(u8),
    #[error("the job's recipient is not valid: {0}")]
    Recipient(String),
}

/// What Meta receives for a job, serialised straight into the request.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum MetaBody<'a> {
    Typed(MetaRequest<'a>),
    /// A version-1 job's body, as it was made then.
    MadeEarlier(Value),
}

/// How a message record keeps what was sent: Meta's `type`, and the request without its
/// addressing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredForm {
    pub message_type: String,
    pub content: String,
}

impl OutboundJob {
    /// Makes a job from a message that passes validation. With an idempotency key the job
    /// id is derived from it (the same key makes the same job); without, it is random.
    pub fn new(
        tenant_id: &TenantId,
        message: &OutboundMessage,
        idempotency_key: Option<&str>,
        now: i64,
    ) -> Result<Self, ValidationError> {
        message.validate()?;
        Ok(Self::of_valid(tenant_id, message, idempotency_key, now))
    }

    /// [`OutboundJob::new`] for a message its caller has just validated (the outbox does,
    /// before it writes anything).
    pub(crate) fn of_valid(
        tenant_id: &TenantId,
        message: &OutboundMessage,
        idempotency_key: Option<&str>,
        now: i64,
    ) -> Self {
        let job_id = match idempotency_key {
            Some(key) => derived_id(tenant_id, &message.from, key),
            None => hex::encode(rand::rng().random::<[u8; 16]>()),
        };
        Self {
            job_id,
            tenant_id: tenant_id.clone(),
            enqueued_at: now,
            queued: Queued::Message(message.clone()),
            purpose: Purpose::Message,
            activity_recorded: false,
        }
    }

    /// The confirmation of an opt-out: a text reply, made the same by every delivery of
    /// the opt-out (its id from the opt-out's wamid, its time the opt-out's), so that it
    /// is sent once.
    pub fn consent_ack(
        tenant_id: &TenantId,
        message: &OutboundMessage,
        opt_out_wamid: &str,
        opted_out_at: i64,
    ) -> Result<Self, ValidationError> {
        let key = format!("consent-ack:{opt_out_wamid}");
        let mut job = Self::new(tenant_id, message, Some(&key), opted_out_at)?;
        job.purpose = Purpose::ConsentAck;
        Ok(job)
    }

    pub fn parse(body: &str) -> Result<Self, JobError> {
        let job = match serde_json::from_str::<Version>(body)?.v {
            JOB_VERSION => {
                let b: ReadBody<ReadMessage> = serde_json::from_str(body)?;
                Self::from_body(b, |m| Queued::Message(m.message))
            }
            META_REQUEST_VERSION => {
                let b: ReadBody<MetaRequestJob> = serde_json::from_str(body)?;
                Self::from_body(b, Queued::MetaRequest)
            }
            other => return Err(JobError::Version(other)),
        };
        job.recipient()?;
        Ok(job)
    }

    fn from_body<T>(body: ReadBody<T>, queued: impl FnOnce(T) -> Queued) -> Self {
        Self {
            job_id: body.job_id,
            tenant_id: body.tenant_id,
            enqueued_at: body.enqueued_at,
            queued: queued(body.queued),
            purpose: body.purpose,
            activity_recorded: body.activity_recorded,
        }
    }

    pub fn to_body(&self) -> String {
        match &self.queued {
            Queued::Message(message) => self.body(JOB_VERSION, MessageBody { message }),
            Queued::MetaRequest(job) => self.body(META_REQUEST_VERSION, job),
        }
    }

    fn body<T: Serialize>(&self, v: u8, queued: T) -> String {
        let body = Body {
            v,
            job_id: &self.job_id,
            tenant_id: &self.tenant_id,
            enqueued_at: self.enqueued_at,
            purpose: self.purpose,
            activity_recorded: self.activity_recorded,
            queued,
        };
        serde_json::to_string(&body).expect("a job always serialises")
    }

    /// The message the job sends to `contact_id`, as events name it.
    pub fn reference(&self, contact_id: &str) -> OutboundRef {
        OutboundRef {
            contact_id: contact_id.to_owned(),
            job_id: self.job_id.clone(),
            phone_number_id: self.phone_number_id().to_owned(),
            enqueued_at: self.enqueued_at,
        }
    }

    pub fn phone_number_id(&self) -> &str {
        match &self.queued {
            Queued::Message(m) => &m.from,
            Queued::MetaRequest(job) => &job.phone_number_id,
        }
    }

    /// The recipient as Meta addresses them: a phone number's digits, or a BSUID.
    pub fn to(&self) -> &str {
        match &self.queued {
            Queued::Message(m) => m.to.as_str(),
            Queued::MetaRequest(job) => &job.to,
        }
    }

    /// What the job sends, as the recipient's consent sees it.
    pub fn outgoing(&self) -> Outgoing<'_> {
        match &self.queued {
            Queued::Message(m) => Outgoing::of(m),
            Queued::MetaRequest(job) if job.free_form => Outgoing::Reply,
            Queued::MetaRequest(_) => Outgoing::UnnamedTemplate,
        }
    }

    /// Whether sending needs the recipient's open 24-hour window (all but templates).
    pub fn free_form(&self) -> bool {
        match &self.queued {
            Queued::Message(m) => !m.content.is_template(),
            Queued::MetaRequest(job) => job.free_form,
        }
    }

    /// The recipient as an identity, to find or create their contact.
    pub fn recipient(&self) -> Result<UserIdentity, JobError> {
        let bad = |e: &dyn std::fmt::Display| JobError::Recipient(e.to_string());
        let parsed;
        let recipient = match &self.queued {
            Queued::Message(m) => &m.to,
            Queued::MetaRequest(job) => {
                parsed = Recipient::parse(&job.to).map_err(|e| bad(&e))?;
                &parsed
            }
        };
        match recipient {
            Recipient::Phone(p) => UserIdentity::from_parts(Some(p.as_str()), None),
            Recipient::Bsuid(b) => UserIdentity::from_parts(None, Some(b.as_str())),
        }
        .map_err(|e| bad(&e))
    }

    /// The FIFO group: one per number and recipient, so a slow recipient holds back only
    /// their own messages. The recipient is a keyed digest: group ids show up in AWS's
    /// logs, and an unkeyed hash of a number is found by trying every number.
    pub fn message_group_id(&self, ids: &QueueIdKey) -> String {
        let digest = ids.digest(&["outbound-group", self.phone_number_id(), self.to()], 8);
        format!("{}:{}:{digest}", self.tenant_id, self.phone_number_id())
    }

    /// What the job's send asks Meta to echo in the message's statuses
    /// (`biz_opaque_callback_data`): a job that comes back without a recorded fate finds by
    /// it whether its earlier delivery reached Meta.
    pub fn status_tag(&self) -> String {
        format!("wg1.{}", self.job_id)
    }

    /// The request body Meta receives, with the job's status tag.
    pub fn request_for_meta(&self) -> MetaBody<'_> {
        let tag = self.status_tag();
        match &self.queued {
            Queued::Message(m) => MetaBody::Typed(MetaRequest::new(m).with_status_tag(tag)),
            Queued::MetaRequest(job) => {
                let mut request = job.request.clone();
                if let Some(map) = request.as_object_mut() {
                    map.insert("biz_opaque_callback_data".into(), Value::String(tag));
                }
                MetaBody::MadeEarlier(request)
            }
        }
    }

    /// What the message's record keeps of the request.
    pub fn stored_form(&self) -> StoredForm {
        let content = match &self.queued {
            Queued::Message(m) => {
                let content = MetaContent::new(m);
                return StoredForm {
                    message_type: content.meta_type().to_owned(),
                    content: serde_json::to_string(&content).expect("a message always serialises"),
                };
            }
            Queued::MetaRequest(job) => {
                let mut content = job.request.clone();
                if let Some(map) = content.as_object_mut() {
                    for addressing in ["to", "messaging_product", "recipient_type"] {
                        map.remove(addressing);
                    }
                }
                content
            }
        };
        StoredForm {
            message_type: content["type"].as_str().unwrap_or_default().to_owned(),
            content: content.to_string(),
        }
    }
}

fn derived_id(tenant: &TenantId, phone_number_id: &str, key: &str) -> String {
    let digest = Sha256::digest(format!("{tenant}\0{phone_number_id}\0{key}"));
    hex::encode(&digest[..16])
}

#[cfg(test)]
mod tests;
