//! An outbound job: what to send, from which number, to whom, as queued. Its id makes
//! sending idempotent: the message record is keyed by it.

use rand::Rng;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::cloud_api::request::{OutboundContent, OutboundMessage, Recipient, ValidationError};
use crate::domain::identity::UserIdentity;
use crate::domain::tenant::TenantId;

pub const JOB_VERSION: u8 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutboundJob {
    pub v: u8,
    pub job_id: String,
    pub tenant_id: TenantId,
    pub phone_number_id: String,
    /// A phone number (digits) or a BSUID, as the recipient is addressed at Meta.
    pub to: String,
    /// Epoch seconds; with the job id it places the message in the conversation.
    pub enqueued_at: i64,
    /// `text`, `template`, `image`, … as in Meta's request.
    pub message_type: String,
    /// Needs an open 24-hour window (everything but templates).
    pub free_form: bool,
    /// The request body for Meta, validated when the job was made.
    pub request: Value,
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

impl OutboundJob {
    /// Makes a job from a message that passes validation. With an idempotency key the job
    /// id is derived from it (the same key makes the same job); without, it is random.
    pub fn new(
        tenant_id: &TenantId,
        phone_number_id: &str,
        message: &OutboundMessage,
        idempotency_key: Option<&str>,
        now: i64,
    ) -> Result<Self, ValidationError> {
        message.validate()?;
        let job_id = match idempotency_key {
            Some(key) => derived_id(tenant_id, phone_number_id, key),
            None => hex::encode(rand::rng().random::<[u8; 16]>()),
        };
        let request = message.to_json();
        Ok(Self {
            v: JOB_VERSION,
            job_id,
            tenant_id: tenant_id.clone(),
            phone_number_id: phone_number_id.to_owned(),
            to: request["to"].as_str().unwrap_or_default().to_owned(),
            enqueued_at: now,
            message_type: request["type"].as_str().unwrap_or_default().to_owned(),
            free_form: !matches!(message.content, OutboundContent::Template(_)),
            request,
        })
    }

    pub fn parse(body: &str) -> Result<Self, JobError> {
        let job: Self = serde_json::from_str(body)?;
        if job.v != JOB_VERSION {
            return Err(JobError::Version(job.v));
        }
        job.recipient()?;
        Ok(job)
    }

    pub fn to_body(&self) -> String {
        serde_json::to_string(self).expect("a job always serialises")
    }

    /// The recipient as an identity, to find or create their contact.
    pub fn recipient(&self) -> Result<UserIdentity, JobError> {
        let bad = |e: &dyn std::fmt::Display| JobError::Recipient(e.to_string());
        match Recipient::parse(&self.to).map_err(|e| bad(&e))? {
            Recipient::Phone(p) => UserIdentity::from_parts(Some(p.as_str()), None),
            Recipient::Bsuid(b) => UserIdentity::from_parts(None, Some(b.as_str())),
        }
        .map_err(|e| bad(&e))
    }

    /// The FIFO group: one per number and recipient, so a slow recipient holds back only
    /// their own messages. The recipient is hashed: group ids show up in AWS's logs.
    pub fn message_group_id(&self) -> String {
        let digest = Sha256::digest(format!("{}\0{}", self.phone_number_id, self.to));
        format!(
            "{}:{}:{}",
            self.tenant_id,
            self.phone_number_id,
            hex::encode(&digest[..8])
        )
    }

    /// What the job's send asks Meta to echo in the message's statuses
    /// (`biz_opaque_callback_data`): a job that comes back without a recorded fate finds by
    /// it whether its earlier delivery reached Meta.
    pub fn status_tag(&self) -> String {
        format!("wg1.{}", self.job_id)
    }

    /// The request body Meta receives: the validated request, with the job's status tag.
    pub fn request_for_meta(&self) -> Value {
        let mut request = self.request.clone();
        if let Some(map) = request.as_object_mut() {
            map.insert(
                "biz_opaque_callback_data".into(),
                Value::String(self.status_tag()),
            );
        }
        request
    }

    /// The request's content as stored on the message: everything but the addressing.
    pub fn stored_content(&self) -> String {
        let mut content = self.request.clone();
        if let Some(map) = content.as_object_mut() {
            for addressing in ["to", "messaging_product", "recipient_type"] {
                map.remove(addressing);
            }
        }
        content.to_string()
    }
}

fn derived_id(tenant: &TenantId, phone_number_id: &str, key: &str) -> String {
    let digest = Sha256::digest(format!("{tenant}\0{phone_number_id}\0{key}"));
    hex::encode(&digest[..16])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text_to(to: &str) -> OutboundMessage {
        OutboundMessage {
            to: Recipient::parse(to).unwrap(),
            reply_to: None,
            content: OutboundContent::Text {
                body: "hi".into(),
                preview_url: false,
            },
        }
    }

    fn tenant() -> TenantId {
        TenantId::parse("acme").unwrap()
    }

    #[test]
    fn the_same_idempotency_key_makes_the_same_job_id_and_none_makes_a_fresh_one() {
        let m = text_to("4915112345678");
        let a = OutboundJob::new(&tenant(), "1", &m, Some("order-7"), 10).unwrap();
        let b = OutboundJob::new(&tenant(), "1", &m, Some("order-7"), 99).unwrap();
        assert_eq!(a.job_id, b.job_id);
        let other_number = OutboundJob::new(&tenant(), "2", &m, Some("order-7"), 10).unwrap();
        assert_ne!(a.job_id, other_number.job_id);
        let c = OutboundJob::new(&tenant(), "1", &m, None, 10).unwrap();
        let d = OutboundJob::new(&tenant(), "1", &m, None, 10).unwrap();
        assert_ne!(c.job_id, d.job_id);
        assert_eq!(c.job_id.len(), 32);
    }

    #[test]
    fn a_job_round_trips_through_its_body_and_keeps_personal_data_out_of_its_group() {
        let job =
            OutboundJob::new(&tenant(), "106", &text_to("+49 151 12345678"), None, 5).unwrap();
        assert_eq!(job.to, "4915112345678");
        assert!(job.free_form);
        assert_eq!(job.message_type, "text");
        let parsed = OutboundJob::parse(&job.to_body()).unwrap();
        assert_eq!(parsed, job);
        assert!(!job.message_group_id().contains("4915112345678"));
        assert!(job.message_group_id().starts_with("acme:106:"));
        assert!(!job.stored_content().contains("4915112345678"));
    }

    #[test]
    fn meta_is_asked_to_echo_the_jobs_tag_and_the_queued_request_is_unchanged() {
        let job = OutboundJob::new(&tenant(), "1", &text_to("4915112345678"), None, 1).unwrap();
        let request = job.request_for_meta();
        assert_eq!(request["biz_opaque_callback_data"], job.status_tag());
        assert!(job.status_tag().ends_with(&job.job_id));
        assert!(job.request.get("biz_opaque_callback_data").is_none());
        assert_eq!(request["text"], job.request["text"]);
    }

    #[test]
    fn an_invalid_message_makes_no_job_and_a_tampered_job_is_refused() {
        let mut m = text_to("4915112345678");
        m.content = OutboundContent::Text {
            body: String::new(),
            preview_url: false,
        };
        assert!(OutboundJob::new(&tenant(), "1", &m, None, 1).is_err());
        let job = OutboundJob::new(&tenant(), "1", &text_to("4915112345678"), None, 1).unwrap();
        let tampered = job.to_body().replace("4915112345678", "not-a-number");
        assert!(matches!(
            OutboundJob::parse(&tampered),
            Err(JobError::Recipient(_))
        ));
        assert!(OutboundJob::parse("{").is_err());
    }
}
