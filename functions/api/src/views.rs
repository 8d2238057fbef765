//! What the business API answers with: messages as a tenant sees them (the message itself
//! is `wagate_messaging::views`, shared with exports).

use serde::Serialize;
use utoipa::ToSchema;

pub use wagate_messaging::views::message::MessageView;

/// The answer to an accepted send.
#[derive(Debug, Serialize, ToSchema)]
pub struct AcceptedView {
    /// The message's id, for `GET /v1/messages/{id}`.
    pub id: String,
    /// The recipient's contact, for `GET /v1/conversations/{contact_id}/messages`.
    pub contact_id: String,
    /// `queued` when just accepted; for a repeated idempotency key, the state now.
    pub state: String,
    /// The same idempotency key and body were sent before: this is that call's message.
    pub replayed: bool,
}

/// A page of a conversation, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct MessagePageView {
    pub messages: Vec<MessageView>,
    /// Pass as `cursor` for the next page; absent on the last.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}
