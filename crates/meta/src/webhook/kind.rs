//! Which part of a webhook delivery an event came from: the kinds the splitter tells apart.

use serde::{Deserialize, Serialize};

/// Which array of a change value (or the whole value) the event came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// `value.messages[]`: a message a user sent.
    Message,
    /// `value.statuses[]`: a delivery status of a message we sent (or of a call).
    Status,
    /// `value.errors[]`: an error Meta reports outside any message.
    Error,
    /// `value.message_echoes[]`: a message the business sent from another client.
    Echo,
    /// `value.calls[]`: a call event.
    Call,
    /// `value.user_preferences[]`: a user stopped or resumed marketing messages.
    UserPreference,
    /// A whole change value: template, account and number events, and unknown fields.
    Change,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Message => "message",
            Self::Status => "status",
            Self::Error => "error",
            Self::Echo => "echo",
            Self::Call => "call",
            Self::UserPreference => "user_preference",
            Self::Change => "change",
        }
    }
}
