//! One outbound message, in one set of types: the business API reads it (its OpenAPI
//! schema is derived from these types), it is validated once, queued as it is, and turned
//! into Meta's request body by the Cloud API client (`cloud_api::request`).
//!
//! Its JSON keeps Meta's familiar shape, a `type` and a part of that name, with our names
//! where Meta's are awkward (`buttons` and `list` instead of `interactive`, `reply_to`
//! instead of `context`). A new message type is a line in `message_types!` below, its
//! part in `parts.rs`, its checks in `validate.rs` and its place in Meta's request
//! (`cloud_api/request.rs`).

mod parts;
mod read;
mod validate;

use serde::{Deserialize, Serialize, Serializer};
use serde_json::Value;

use crate::identity::{Bsuid, Phone};
use crate::message::MediaKind;

pub use parts::*;
pub use validate::{ValidationError, limits};

/// A message to send: from one of the tenant's numbers to a person.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = SendMessageRequest))]
pub struct OutboundMessage {
    /// The phone number id to send from: one of the tenant's numbers.
    #[cfg_attr(
        feature = "openapi",
        schema(example = "106540352242922", pattern = "^[0-9]{5,20}$")
    )]
    pub from: String,
    /// The recipient: a phone number in international form, or a business-scoped user id.
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "+4915112345678"))]
    pub to: Recipient,
    /// The wamid of the message this one replies to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<String>,
    #[serde(flatten)]
    pub content: Content,
}

/// Declares the message types from one list, each with the key and type of its part: the
/// `Content` a message holds, the `MessageType` names, and the reading of a part by name.
/// A type's name is its part's key (`rename_all` gives serde the same; a test holds the
/// two together), so each is written once.
macro_rules! message_types {
    ($(
        $(#[$doc:meta])*
        $variant:ident { $(#[$field_attr:meta])* $part:ident: $part_type:ty }
    ),+ $(,)?) => {
        /// What is sent: the `type` and the part of the same name.
        #[derive(Debug, Clone, PartialEq, Serialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[serde(tag = "type", rename_all = "snake_case")]
        #[cfg_attr(feature = "openapi", schema(as = MessageContent))]
        pub enum Content {
            $( $(#[$doc])* $variant { $(#[$field_attr])* $part: $part_type }, )+
        }

        /// The names of the message types: a message's `type`, and the key of its part.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[serde(rename_all = "snake_case")]
        pub enum MessageType {
            $( $variant, )+
        }

        impl Content {
            pub fn message_type(&self) -> MessageType {
                match self {
                    $( Self::$variant { .. } => MessageType::$variant, )+
                }
            }
        }

        impl MessageType {
            /// The name as it appears in JSON (`text`, `buttons`, …): the part's key.
            pub fn name(self) -> &'static str {
                match self {
                    $( Self::$variant => stringify!($part), )+
                }
            }

            /// Reads the part of this type (for `read.rs`, which reads the message).
            fn read_part<'de, D: serde::Deserializer<'de>>(
                self,
                part: D,
            ) -> Result<Content, D::Error> {
                Ok(match self {
                    $( Self::$variant => Content::$variant {
                        $part: Deserialize::deserialize(part)?,
                    }, )+
                })
            }
        }
    };
}

message_types! {
    Text { text: TextPart },
    Template { template: TemplatePart },
    Image { image: MediaPart },
    Video { video: MediaPart },
    Audio { audio: MediaPart },
    Document { document: MediaPart },
    Sticker { sticker: MediaPart },
    Buttons { buttons: ButtonsPart },
    List { list: ListPart },
    Reaction { reaction: ReactionPart },
    Location { location: LocationPart },
    /// Contact cards, in the Cloud API's structure.
    Contacts {
        #[cfg_attr(feature = "openapi", schema(value_type = Vec<Object>))]
        contacts: Vec<Value>
    },
}

impl Content {
    /// Templates may be sent at any time; everything else needs the recipient's open
    /// 24-hour window, and a manager's key to send.
    pub fn is_template(&self) -> bool {
        matches!(self, Self::Template { .. })
    }

    /// The media of an image, video, audio, document or sticker message.
    pub fn media(&self) -> Option<(MediaKind, &MediaPart)> {
        match self {
            Self::Image { image } => Some((MediaKind::Image, image)),
            Self::Video { video } => Some((MediaKind::Video, video)),
            Self::Audio { audio } => Some((MediaKind::Audio, audio)),
            Self::Document { document } => Some((MediaKind::Document, document)),
            Self::Sticker { sticker } => Some((MediaKind::Sticker, sticker)),
            _ => None,
        }
    }
}

impl std::fmt::Display for MessageType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl OutboundMessage {
    /// A free-form text.
    pub fn text(from: &str, to: Recipient, body: &str) -> Self {
        Self {
            from: from.to_owned(),
            to,
            reply_to: None,
            content: Content::Text {
                text: TextPart {
                    body: body.to_owned(),
                    preview_url: false,
                },
            },
        }
    }

    /// A template without parameters.
    pub fn template(from: &str, to: Recipient, name: &str, language: &str) -> Self {
        Self {
            from: from.to_owned(),
            to,
            reply_to: None,
            content: Content::Template {
                template: TemplatePart {
                    name: name.to_owned(),
                    language: language.to_owned(),
                    components: Vec::new(),
                },
            },
        }
    }
}

/// Who a message goes to: a phone number, or a business-scoped user id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recipient {
    Phone(Phone),
    Bsuid(Bsuid),
}

impl Recipient {
    /// Reads a phone number (`+49 151 …` or digits) or a BSUID (`US.1234…`).
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        if let Ok(b) = Bsuid::parse(raw) {
            return Ok(Self::Bsuid(b));
        }
        Phone::parse(raw).map(Self::Phone).map_err(|_| {
            ValidationError::new(
                "to",
                "is neither a phone number in international form nor a BSUID",
            )
        })
    }

    /// As Meta addresses the recipient: the phone number's digits, or the BSUID.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Phone(p) => p.as_str(),
            Self::Bsuid(b) => b.as_str(),
        }
    }
}

impl Serialize for Recipient {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests;
