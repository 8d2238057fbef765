//! The kinds of callback event, by the names receivers see in `type`. Below both the
//! envelope (`event.rs`) and its payloads (`payload.rs`), which each name a kind.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
pub enum EventType {
    #[serde(rename = "message.received")]
    MessageReceived,
    #[serde(rename = "message.status")]
    MessageStatus,
    /// A user stopped or resumed marketing messages.
    #[serde(rename = "contact.marketing_preference")]
    MarketingPreference,
    /// Template status, quality or category.
    #[serde(rename = "template.update")]
    TemplateUpdate,
    /// Account and phone number events (quality, name, restrictions, throughput).
    #[serde(rename = "account.update")]
    AccountUpdate,
}

impl EventType {
    pub const ALL: [EventType; 5] = [
        Self::MessageReceived,
        Self::MessageStatus,
        Self::MarketingPreference,
        Self::TemplateUpdate,
        Self::AccountUpdate,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::MessageReceived => "message.received",
            Self::MessageStatus => "message.status",
            Self::MarketingPreference => "contact.marketing_preference",
            Self::TemplateUpdate => "template.update",
            Self::AccountUpdate => "account.update",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == raw)
    }
}
