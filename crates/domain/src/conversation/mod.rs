//! A conversation's messages as they are kept and read back: the user's messages, the
//! business's with what became of each send, and a wamid's delivery progress. Stored by
//! `store::message`; nothing here knows a key or an attribute name.

pub mod activity;
pub mod cycle;

use crate::status::DeliveryStatus;

/// The state of a message accepted and waiting in the queue, before its fate is known.
pub const QUEUED: &str = "queued";

/// A message of a conversation: one the user sent, or one sent to them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoredMessage {
    Inbound(MessageRecord),
    Outbound(OutboundRecord),
}

impl StoredMessage {
    /// The wamid whose delivery progress this message shows: a sent message's, once Meta
    /// accepted it.
    pub fn accepted_wamid(&self) -> Option<&str> {
        match self {
            Self::Outbound(OutboundRecord {
                outcome: Some(SendOutcome::Accepted { wamid, .. }),
                ..
            }) => Some(wamid),
            _ => None,
        }
    }
}

/// A stored message as reads return it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageRecord {
    pub wamid: String,
    pub direction: String,
    pub message_type: String,
    /// The typed content as JSON.
    pub content: String,
    pub sent_at: i64,
    pub phone_number_id: Option<String>,
    pub expires_at: Option<i64>,
}

/// An outbound message as reads return it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboundRecord {
    pub job_id: String,
    pub phone_number_id: String,
    pub message_type: String,
    pub content: String,
    /// When it was enqueued, epoch seconds.
    pub sent_at: i64,
    /// `None` while the job waits in the queue.
    pub outcome: Option<SendOutcome>,
    pub attempts: u32,
    pub decided_at: Option<i64>,
    pub expires_at: Option<i64>,
}

impl OutboundRecord {
    pub fn state(&self) -> &'static str {
        self.outcome.as_ref().map_or(QUEUED, SendOutcome::state)
    }
}

/// What became of an outbound job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendOutcome {
    /// Meta accepted it; statuses follow on the wamid.
    Accepted {
        wamid: String,
        message_status: String,
    },
    /// Refused before any call to Meta, e.g. a free-form message outside the 24-hour window.
    Refused { reason: String },
    /// Meta refused it for good, or retries ran out.
    Failed {
        code: Option<i64>,
        title: String,
        details: Option<String>,
    },
}

impl SendOutcome {
    pub fn state(&self) -> &'static str {
        match self {
            Self::Accepted { .. } => "accepted",
            Self::Refused { .. } => "refused",
            Self::Failed { .. } => "failed",
        }
    }
}

/// What a wamid's delivery looks like now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryProgress {
    pub status: Option<DeliveryStatus>,
    pub error_code: Option<i64>,
    pub error_title: Option<String>,
    pub pricing_category: Option<String>,
    /// When each status was reached, in status order.
    pub history: Vec<(DeliveryStatus, i64)>,
}

/// Which conversations to list.
#[derive(Debug, Clone, Default)]
pub struct ConversationFilter<'a> {
    /// Only the conversations on this number.
    pub phone_number_id: Option<&'a str>,
    /// Only those active at or after this time (epoch seconds).
    pub since: Option<i64>,
    /// Only those the business has not answered since the user last wrote.
    pub unread_only: bool,
}
