//! A message as the business API shows it, and as a person's export holds it: one type
//! for both, so that an export says exactly what the API says.

use std::collections::HashMap;

use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::domain::conversation::{DeliveryProgress, SendOutcome, StoredMessage};
use crate::domain::message_id::MessageId;

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    Inbound,
    Outbound,
}

/// A message of a conversation.
#[derive(Debug, Serialize, ToSchema)]
pub struct MessageView {
    pub id: String,
    pub contact_id: String,
    pub direction: Direction,
    /// `text`, `template`, `image`, …
    #[serde(rename = "type")]
    pub message_type: String,
    /// What the message holds, in the Cloud API's shape; `null` once its content's
    /// retention passed, or when the tenant stores no content.
    #[schema(value_type = Object)]
    pub content: Value,
    /// The tenant's phone number id it was sent from or to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone_number_id: Option<String>,
    /// Epoch seconds: when it was sent (inbound) or accepted for sending (outbound).
    pub created_at: i64,
    /// Inbound: `received`. Outbound: `queued`, `refused`, `failed`, `accepted` (by Meta),
    /// then the newest delivery status: `sent`, `delivered`, `read`, `played`, `deleted`.
    pub state: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wamid: Option<String>,
    /// Each delivery status reached, with when, in status order.
    pub status_history: Vec<StatusView>,
    /// Why Meta refused or failed the message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<MessageErrorView>,
    /// Why the message was refused before sending.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refusal: Option<String>,
    /// Epoch seconds when the tenant's retention removes it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StatusView {
    pub status: String,
    pub at: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MessageErrorView {
    /// Meta's error code, when Meta gave one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<i64>,
    pub title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<String>,
}

impl MessageView {
    pub fn new(
        reference: &MessageId,
        message: StoredMessage,
        deliveries: &HashMap<String, DeliveryProgress>,
    ) -> Self {
        let id = reference.encode();
        let contact_id = reference.contact_id.clone();
        match message {
            StoredMessage::Inbound(m) => Self {
                id,
                contact_id,
                direction: Direction::Inbound,
                message_type: m.message_type,
                content: content_json(&m.content),
                phone_number_id: m.phone_number_id,
                created_at: m.sent_at,
                state: "received".into(),
                wamid: Some(m.wamid),
                status_history: Vec::new(),
                error: None,
                refusal: None,
                expires_at: m.expires_at,
            },
            StoredMessage::Outbound(m) => {
                let mut view = Self {
                    id,
                    contact_id,
                    direction: Direction::Outbound,
                    state: m.state().into(),
                    message_type: m.message_type,
                    content: content_json(&m.content),
                    phone_number_id: Some(m.phone_number_id),
                    created_at: m.sent_at,
                    wamid: None,
                    status_history: Vec::new(),
                    error: None,
                    refusal: None,
                    expires_at: m.expires_at,
                };
                match m.outcome {
                    Some(SendOutcome::Accepted { wamid, .. }) => {
                        if let Some(delivery) = deliveries.get(&wamid) {
                            view.add_delivery(delivery);
                        }
                        view.wamid = Some(wamid);
                    }
                    Some(SendOutcome::Refused { reason }) => view.refusal = Some(reason),
                    Some(SendOutcome::Failed {
                        code,
                        title,
                        details,
                    }) => {
                        view.error = Some(MessageErrorView {
                            code,
                            title,
                            details,
                        })
                    }
                    None => {}
                }
                view
            }
        }
    }

    fn add_delivery(&mut self, delivery: &DeliveryProgress) {
        if let Some(status) = delivery.status {
            self.state = status.as_str().to_owned();
        }
        self.status_history = delivery
            .history
            .iter()
            .map(|(status, at)| StatusView {
                status: status.as_str().to_owned(),
                at: *at,
            })
            .collect();
        if let Some(code) = delivery.error_code {
            self.error = Some(MessageErrorView {
                code: Some(code),
                title: delivery
                    .error_title
                    .clone()
                    .unwrap_or_else(|| format!("Meta error {code}")),
                details: None,
            });
        }
    }
}

fn content_json(stored: &str) -> Value {
    serde_json::from_str(stored).unwrap_or(Value::Null)
}
