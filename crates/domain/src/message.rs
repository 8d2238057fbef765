//! Inbound messages (`value.messages[]`) parsed into typed content. A type we do not know
//! is kept whole as `Unknown`, never an error.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::meta_error::{MetaError, parse_errors};
use super::timestamp::parse_seconds;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InboundMessage {
    pub wamid: String,
    /// Sender's phone, absent for users known only by BSUID.
    pub from: Option<String>,
    pub from_user_id: Option<String>,
    /// Meta's timestamp, epoch seconds.
    pub sent_at: i64,
    pub content: MessageContent,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub context: Option<ReplyContext>,
    /// Click-to-WhatsApp ad or post the user came from, as Meta sent it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub referral: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ReplyContext {
    /// The message replied to.
    #[serde(default, rename = "id", skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub forwarded: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub frequently_forwarded: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MediaKind {
    Image,
    Video,
    Audio,
    Document,
    Sticker,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum MessageContent {
    Text {
        body: String,
    },
    Media {
        kind: MediaKind,
        #[serde(skip_serializing_if = "Option::is_none")]
        media_id: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        mime_type: Option<String>,
        /// Base64, as in webhooks.
        #[serde(skip_serializing_if = "Option::is_none")]
        sha256: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        caption: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        filename: Option<String>,
        /// An audio message recorded as a voice note.
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        voice: bool,
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        animated: bool,
    },
    Location {
        latitude: f64,
        longitude: f64,
        #[serde(skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        address: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        url: Option<String>,
    },
    /// Shared contact cards, kept as Meta structures them.
    Contacts {
        contacts: Value,
    },
    Interactive {
        reply: InteractiveReply,
    },
    /// A template's quick-reply button.
    Button {
        payload: String,
        text: String,
    },
    /// `emoji: None` means the user removed their reaction.
    Reaction {
        message_id: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        emoji: Option<String>,
    },
    Order {
        catalog_id: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        text: Option<String>,
        product_items: Value,
    },
    System {
        kind: SystemEvent,
        #[serde(skip_serializing_if = "Option::is_none")]
        body: Option<String>,
        /// The new phone number of a user who changed numbers.
        #[serde(skip_serializing_if = "Option::is_none")]
        new_wa_id: Option<String>,
    },
    Unsupported {
        errors: Vec<MetaError>,
        #[serde(skip_serializing_if = "Option::is_none")]
        unsupported_type: Option<String>,
    },
    Edit {
        original_message_id: String,
        message: Value,
    },
    Revoke {
        original_message_id: String,
    },
    RequestWelcome,
    /// A type this version does not know (or a known type with a body it cannot read):
    /// kept whole so nothing is lost.
    Unknown {
        type_name: String,
        raw: Value,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum InteractiveReply {
    ButtonReply {
        id: String,
        title: String,
    },
    ListReply {
        id: String,
        title: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        description: Option<String>,
    },
    /// A completed WhatsApp Flow.
    FlowReply {
        #[serde(skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        body: Option<String>,
        response_json: String,
    },
    CallPermissionReply {
        response: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        expiration_timestamp: Option<i64>,
    },
    Other {
        reply_type: String,
        raw: Value,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SystemEvent {
    UserChangedNumber,
    CustomerIdentityChanged,
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MessageError {
    #[error("a message must be a JSON object")]
    NotAnObject,
    #[error("a message has no id")]
    MissingId,
    #[error("a message has no readable timestamp")]
    MissingTimestamp,
}

impl MessageContent {
    /// The type name stored beside the content, as Meta names it.
    pub fn type_name(&self) -> &str {
        match self {
            Self::Text { .. } => "text",
            Self::Media { kind, voice, .. } => match kind {
                MediaKind::Image => "image",
                MediaKind::Video => "video",
                MediaKind::Audio if *voice => "voice",
                MediaKind::Audio => "audio",
                MediaKind::Document => "document",
                MediaKind::Sticker => "sticker",
            },
            Self::Location { .. } => "location",
            Self::Contacts { .. } => "contacts",
            Self::Interactive { .. } => "interactive",
            Self::Button { .. } => "button",
            Self::Reaction { .. } => "reaction",
            Self::Order { .. } => "order",
            Self::System { .. } => "system",
            Self::Unsupported { .. } => "unsupported",
            Self::Edit { .. } => "edit",
            Self::Revoke { .. } => "revoke",
            Self::RequestWelcome => "request_welcome",
            Self::Unknown { type_name, .. } => type_name,
        }
    }
}

/// Parses one `messages[]` item. Only a missing id or timestamp is an error: without them
/// a message can be neither stored nor deduplicated.
pub fn parse_message(raw: &Value) -> Result<InboundMessage, MessageError> {
    let obj = raw.as_object().ok_or(MessageError::NotAnObject)?;
    let wamid = str_field(obj, "id").ok_or(MessageError::MissingId)?;
    let sent_at = obj
        .get("timestamp")
        .and_then(parse_seconds)
        .ok_or(MessageError::MissingTimestamp)?;
    let type_name = str_field(obj, "type").unwrap_or_default();
    let content = parse_content(&type_name, obj).unwrap_or_else(|| MessageContent::Unknown {
        type_name: if type_name.is_empty() {
            "unknown".into()
        } else {
            type_name.clone()
        },
        raw: raw.clone(),
    });
    Ok(InboundMessage {
        wamid,
        from: str_field(obj, "from"),
        from_user_id: str_field(obj, "from_user_id"),
        sent_at,
        content,
        context: obj
            .get("context")
            .and_then(|c| serde_json::from_value(c.clone()).ok()),
        referral: obj.get("referral").cloned(),
        group_id: str_field(obj, "group_id"),
    })
}

fn parse_content(type_name: &str, obj: &Map<String, Value>) -> Option<MessageContent> {
    let body = obj.get(type_name);
    let field = |name: &str| {
        body.and_then(|b| b.get(name))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    Some(match type_name {
        "text" => MessageContent::Text {
            body: field("body")?,
        },
        "image" | "video" | "audio" | "voice" | "document" | "sticker" => {
            let kind = match type_name {
                "image" => MediaKind::Image,
                "video" => MediaKind::Video,
                "document" => MediaKind::Document,
                "sticker" => MediaKind::Sticker,
                _ => MediaKind::Audio,
            };
            let body = body?.as_object()?;
            MessageContent::Media {
                kind,
                media_id: field("id"),
                mime_type: field("mime_type"),
                sha256: field("sha256"),
                caption: field("caption"),
                filename: field("filename"),
                voice: type_name == "voice"
                    || body.get("voice").and_then(Value::as_bool) == Some(true),
                animated: body.get("animated").and_then(Value::as_bool) == Some(true),
            }
        }
        "location" => {
            let b = body?;
            MessageContent::Location {
                latitude: b.get("latitude")?.as_f64()?,
                longitude: b.get("longitude")?.as_f64()?,
                name: field("name"),
                address: field("address"),
                url: field("url"),
            }
        }
        "contacts" => MessageContent::Contacts {
            contacts: body?.clone(),
        },
        "interactive" => MessageContent::Interactive {
            reply: parse_interactive(body?)?,
        },
        "button" => MessageContent::Button {
            payload: field("payload").unwrap_or_default(),
            text: field("text")?,
        },
        "reaction" => MessageContent::Reaction {
            message_id: field("message_id")?,
            emoji: field("emoji").filter(|e| !e.is_empty()),
        },
        "order" => MessageContent::Order {
            catalog_id: field("catalog_id")?,
            text: field("text").filter(|t| !t.is_empty()),
            product_items: body?.get("product_items")?.clone(),
        },
        "system" => {
            let kind = match field("type").as_deref() {
                Some("user_changed_number" | "customer_changed_number") => {
                    SystemEvent::UserChangedNumber
                }
                Some("customer_identity_changed") => SystemEvent::CustomerIdentityChanged,
                _ => SystemEvent::Other,
            };
            MessageContent::System {
                kind,
                body: field("body"),
                new_wa_id: field("wa_id").or_else(|| field("new_wa_id")),
            }
        }
        "unsupported" => MessageContent::Unsupported {
            errors: parse_errors(obj.get("errors")),
            unsupported_type: field("type"),
        },
        "edit" => MessageContent::Edit {
            original_message_id: field("original_message_id")?,
            message: body?.get("message").cloned().unwrap_or(Value::Null),
        },
        "revoke" => MessageContent::Revoke {
            original_message_id: field("original_message_id")?,
        },
        "request_welcome" => MessageContent::RequestWelcome,
        _ => return None,
    })
}

fn parse_interactive(body: &Value) -> Option<InteractiveReply> {
    let reply_type = body.get("type")?.as_str()?;
    let reply = body.get(reply_type);
    let field = |name: &str| {
        reply
            .and_then(|r| r.get(name))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    Some(match reply_type {
        "button_reply" => InteractiveReply::ButtonReply {
            id: field("id")?,
            title: field("title")?,
        },
        "list_reply" => InteractiveReply::ListReply {
            id: field("id")?,
            title: field("title")?,
            description: field("description"),
        },
        "nfm_reply" => InteractiveReply::FlowReply {
            name: field("name"),
            body: field("body"),
            response_json: field("response_json")?,
        },
        "call_permission_reply" => InteractiveReply::CallPermissionReply {
            response: field("response")?,
            expiration_timestamp: reply
                .and_then(|r| r.get("expiration_timestamp"))
                .and_then(parse_seconds),
        },
        other => InteractiveReply::Other {
            reply_type: other.to_owned(),
            raw: body.clone(),
        },
    })
}

fn str_field(obj: &Map<String, Value>, name: &str) -> Option<String> {
    obj.get(name).and_then(Value::as_str).map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(v: Value) -> InboundMessage {
        parse_message(&v).unwrap()
    }

    #[test]
    fn a_text_message_keeps_its_body_sender_and_time() {
        let m = parse(
            json!({"from":"4915112345678","id":"wamid.1","timestamp":"1700000000","type":"text","text":{"body":"hi"}}),
        );
        assert_eq!(m.content, MessageContent::Text { body: "hi".into() });
        assert_eq!(m.from.as_deref(), Some("4915112345678"));
        assert_eq!(m.sent_at, 1_700_000_000);
    }

    #[test]
    fn a_voice_note_is_audio_marked_as_voice() {
        let m = parse(
            json!({"id":"w","timestamp":"1","type":"audio","audio":{"id":"m1","mime_type":"audio/ogg","voice":true}}),
        );
        assert_eq!(m.content.type_name(), "voice");
    }

    #[test]
    fn a_reaction_without_emoji_means_it_was_removed() {
        let m = parse(
            json!({"id":"w","timestamp":"1","type":"reaction","reaction":{"message_id":"wamid.0"}}),
        );
        assert_eq!(
            m.content,
            MessageContent::Reaction {
                message_id: "wamid.0".into(),
                emoji: None
            }
        );
        let m = parse(
            json!({"id":"w","timestamp":"1","type":"reaction","reaction":{"message_id":"wamid.0","emoji":""}}),
        );
        assert!(matches!(
            m.content,
            MessageContent::Reaction { emoji: None, .. }
        ));
    }

    #[test]
    fn a_flow_completion_keeps_its_response_json() {
        let m = parse(
            json!({"id":"w","timestamp":"1","type":"interactive","interactive":{"type":"nfm_reply","nfm_reply":{"response_json":"{\"a\":1}","body":"Sent","name":"flow"}}}),
        );
        assert!(matches!(
            m.content,
            MessageContent::Interactive {
                reply: InteractiveReply::FlowReply { .. }
            }
        ));
    }

    #[test]
    fn an_unknown_type_is_kept_whole_instead_of_failing() {
        let raw = json!({"id":"w","timestamp":"1","type":"hologram","hologram":{"x":1}});
        let m = parse(raw.clone());
        assert_eq!(
            m.content,
            MessageContent::Unknown {
                type_name: "hologram".into(),
                raw
            }
        );
    }

    #[test]
    fn a_known_type_with_an_unreadable_body_is_kept_as_unknown() {
        let m = parse(json!({"id":"w","timestamp":"1","type":"interactive"}));
        assert!(
            matches!(m.content, MessageContent::Unknown { ref type_name, .. } if type_name == "interactive")
        );
    }

    #[test]
    fn replies_and_forwards_keep_their_context() {
        let m = parse(
            json!({"id":"w","timestamp":"1","type":"text","text":{"body":"x"},"context":{"from":"1","id":"wamid.0"}}),
        );
        assert_eq!(m.context.unwrap().message_id.as_deref(), Some("wamid.0"));
        let m = parse(
            json!({"id":"w","timestamp":"1","type":"text","text":{"body":"x"},"context":{"forwarded":true}}),
        );
        assert!(m.context.unwrap().forwarded);
    }

    #[test]
    fn a_message_without_id_or_timestamp_cannot_be_stored() {
        assert_eq!(
            parse_message(&json!({"timestamp":"1"})),
            Err(MessageError::MissingId)
        );
        assert_eq!(
            parse_message(&json!({"id":"w"})),
            Err(MessageError::MissingTimestamp)
        );
        assert_eq!(parse_message(&json!(3)), Err(MessageError::NotAnObject));
    }
}
