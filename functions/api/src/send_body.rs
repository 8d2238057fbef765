//! The body of `POST /v1/messages`: Meta's message shape, kept familiar (a `type` and a
//! part of that name), with our names where Meta's are awkward (`buttons` and `list`
//! instead of `interactive`, `reply_to` instead of `context`). It becomes the Cloud API
//! client's typed message, whose validation then applies.

use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;
use wagate_shared::cloud_api::request::{
    ComponentKind, ListRow, ListSection, MediaSource, OutboundContent, OutboundMessage, Recipient,
    ReplyButton, Template, TemplateComponent, TemplateParameter,
};
use wagate_shared::domain::message::MediaKind;

use http_api::error::ApiError;

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SendMessageRequest {
    /// The phone number id to send from: one of the tenant's numbers.
    #[schema(example = "106540352242922", pattern = "^[0-9]{5,20}$")]
    pub from: String,
    /// The recipient: a phone number in international form, or a business-scoped user id.
    #[schema(example = "+4915112345678")]
    pub to: String,
    /// The wamid of the message this one replies to.
    #[serde(default)]
    pub reply_to: Option<String>,
    /// What kind of message this is; the part of the same name holds it.
    #[serde(rename = "type")]
    pub message_type: MessageType,
    #[serde(default)]
    pub text: Option<TextPart>,
    #[serde(default)]
    pub template: Option<TemplatePart>,
    #[serde(default)]
    pub image: Option<MediaPart>,
    #[serde(default)]
    pub video: Option<MediaPart>,
    #[serde(default)]
    pub audio: Option<MediaPart>,
    #[serde(default)]
    pub document: Option<MediaPart>,
    #[serde(default)]
    pub sticker: Option<MediaPart>,
    #[serde(default)]
    pub buttons: Option<ButtonsPart>,
    #[serde(default)]
    pub list: Option<ListPart>,
    #[serde(default)]
    pub reaction: Option<ReactionPart>,
    #[serde(default)]
    pub location: Option<LocationPart>,
    /// Contact cards, in the Cloud API's structure.
    #[serde(default)]
    #[schema(value_type = Option<Vec<Object>>)]
    pub contacts: Option<Vec<Value>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MessageType {
    Text,
    Template,
    Image,
    Video,
    Audio,
    Document,
    Sticker,
    Buttons,
    List,
    Reaction,
    Location,
    Contacts,
}

impl MessageType {
    fn name(self) -> &'static str {
        match self {
            Self::Text => "text",
            Self::Template => "template",
            Self::Image => "image",
            Self::Video => "video",
            Self::Audio => "audio",
            Self::Document => "document",
            Self::Sticker => "sticker",
            Self::Buttons => "buttons",
            Self::List => "list",
            Self::Reaction => "reaction",
            Self::Location => "location",
            Self::Contacts => "contacts",
        }
    }
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TextPart {
    pub body: String,
    /// Let WhatsApp render a preview of the first link.
    #[serde(default)]
    pub preview_url: bool,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TemplatePart {
    /// An approved template of the number's WhatsApp Business Account.
    pub name: String,
    /// Its language code, such as `en_US` or `de`.
    pub language: String,
    #[serde(default)]
    pub components: Vec<ComponentPart>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ComponentPart {
    #[serde(rename = "type")]
    pub kind: ComponentType,
    /// For buttons: `quick_reply`, `url`, `copy_code`, …
    #[serde(default)]
    pub sub_type: Option<String>,
    /// For buttons: their position, 0 to 9.
    #[serde(default)]
    pub index: Option<u8>,
    #[serde(default)]
    pub parameters: Vec<ParameterPart>,
}

#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ComponentType {
    Header,
    Body,
    Button,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ParameterPart {
    Text {
        text: String,
        /// For templates with named parameters.
        #[serde(default)]
        parameter_name: Option<String>,
    },
    Currency {
        fallback_value: String,
        /// ISO 4217, such as `EUR`.
        code: String,
        /// The amount times 1000.
        amount_1000: i64,
    },
    DateTime {
        fallback_value: String,
    },
    Image {
        image: TemplateMediaPart,
    },
    Video {
        video: TemplateMediaPart,
    },
    Document {
        document: TemplateMediaPart,
    },
    /// A quick-reply button's payload.
    Payload {
        payload: String,
    },
}

/// Media by the id of an upload or by an HTTPS link: exactly one of the two.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MediaPart {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub link: Option<String>,
    #[serde(default)]
    pub caption: Option<String>,
    /// Documents only.
    #[serde(default)]
    pub filename: Option<String>,
}

/// A template header's media, by the id of an upload or by an HTTPS link: exactly one of
/// the two. The template's own text frames it: Meta takes no caption here.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TemplateMediaPart {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub link: Option<String>,
    /// Documents only.
    #[serde(default)]
    pub filename: Option<String>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ButtonsPart {
    pub body: String,
    #[serde(default)]
    pub header: Option<String>,
    #[serde(default)]
    pub footer: Option<String>,
    /// One to three reply buttons.
    pub buttons: Vec<ButtonPart>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ButtonPart {
    pub id: String,
    pub title: String,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ListPart {
    pub body: String,
    #[serde(default)]
    pub header: Option<String>,
    #[serde(default)]
    pub footer: Option<String>,
    /// The label of the button that opens the list.
    pub button: String,
    pub sections: Vec<SectionPart>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SectionPart {
    #[serde(default)]
    pub title: Option<String>,
    pub rows: Vec<RowPart>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RowPart {
    pub id: String,
    pub title: String,
    #[serde(default)]
    pub description: Option<String>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReactionPart {
    /// The wamid reacted to.
    pub message_id: String,
    /// The emoji; absent or empty removes the reaction.
    #[serde(default)]
    pub emoji: Option<String>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LocationPart {
    pub latitude: f64,
    pub longitude: f64,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub address: Option<String>,
}

impl SendMessageRequest {
    /// The message this request asks for, with the parts checked against its `type`.
    pub fn into_message(self) -> Result<OutboundMessage, ApiError> {
        let kind = self.message_type;
        self.no_other_parts(kind)?;
        let from_ok =
            (5..=20).contains(&self.from.len()) && self.from.bytes().all(|b| b.is_ascii_digit());
        if !from_ok {
            return Err(ApiError::invalid(
                "from",
                "must be the id (5 to 20 digits) of one of the tenant's phone numbers",
            ));
        }
        let to = Recipient::parse(&self.to).map_err(|e| ApiError::invalid("to", e.problem))?;
        let missing = || {
            ApiError::invalid(
                kind.name(),
                format!("is required when type is {}", kind.name()),
            )
        };
        let content = match kind {
            MessageType::Text => {
                let text = self.text.ok_or_else(missing)?;
                OutboundContent::Text {
                    body: text.body,
                    preview_url: text.preview_url,
                }
            }
            MessageType::Template => template(self.template.ok_or_else(missing)?)?,
            MessageType::Image => {
                media(MediaKind::Image, self.image.ok_or_else(missing)?, "image")?
            }
            MessageType::Video => {
                media(MediaKind::Video, self.video.ok_or_else(missing)?, "video")?
            }
            MessageType::Audio => {
                media(MediaKind::Audio, self.audio.ok_or_else(missing)?, "audio")?
            }
            MessageType::Document => media(
                MediaKind::Document,
                self.document.ok_or_else(missing)?,
                "document",
            )?,
            MessageType::Sticker => media(
                MediaKind::Sticker,
                self.sticker.ok_or_else(missing)?,
                "sticker",
            )?,
            MessageType::Buttons => {
                let part = self.buttons.ok_or_else(missing)?;
                OutboundContent::Buttons {
                    body: part.body,
                    header: part.header,
                    footer: part.footer,
                    buttons: part
                        .buttons
                        .into_iter()
                        .map(|b| ReplyButton {
                            id: b.id,
                            title: b.title,
                        })
                        .collect(),
                }
            }
            MessageType::List => {
                let part = self.list.ok_or_else(missing)?;
                OutboundContent::List {
                    body: part.body,
                    header: part.header,
                    footer: part.footer,
                    button: part.button,
                    sections: part
                        .sections
                        .into_iter()
                        .map(|s| ListSection {
                            title: s.title,
                            rows: s
                                .rows
                                .into_iter()
                                .map(|r| ListRow {
                                    id: r.id,
                                    title: r.title,
                                    description: r.description,
                                })
                                .collect(),
                        })
                        .collect(),
                }
            }
            MessageType::Reaction => {
                let part = self.reaction.ok_or_else(missing)?;
                OutboundContent::Reaction {
                    message_id: part.message_id,
                    emoji: part.emoji.filter(|e| !e.is_empty()),
                }
            }
            MessageType::Location => {
                let part = self.location.ok_or_else(missing)?;
                OutboundContent::Location {
                    latitude: part.latitude,
                    longitude: part.longitude,
                    name: part.name,
                    address: part.address,
                }
            }
            MessageType::Contacts => {
                OutboundContent::Contacts(Value::Array(self.contacts.ok_or_else(missing)?))
            }
        };
        Ok(OutboundMessage {
            to,
            reply_to: self.reply_to,
            content,
        })
    }

    /// A part that does not match the `type` is a mistake, not something to ignore.
    fn no_other_parts(&self, kind: MessageType) -> Result<(), ApiError> {
        let present = [
            ("text", self.text.is_some()),
            ("template", self.template.is_some()),
            ("image", self.image.is_some()),
            ("video", self.video.is_some()),
            ("audio", self.audio.is_some()),
            ("document", self.document.is_some()),
            ("sticker", self.sticker.is_some()),
            ("buttons", self.buttons.is_some()),
            ("list", self.list.is_some()),
            ("reaction", self.reaction.is_some()),
            ("location", self.location.is_some()),
            ("contacts", self.contacts.is_some()),
        ];
        match present
            .iter()
            .find(|(name, is_there)| *is_there && *name != kind.name())
        {
            Some((name, _)) => Err(ApiError::invalid(
                name,
                format!("is not allowed when type is {}", kind.name()),
            )),
            None => Ok(()),
        }
    }
}

fn media_source(
    (id, link): (&Option<String>, &Option<String>),
    field: &str,
) -> Result<MediaSource, ApiError> {
    match (id, link) {
        (Some(id), None) => Ok(MediaSource::Id(id.clone())),
        (None, Some(link)) => Ok(MediaSource::Link(link.clone())),
        _ => Err(ApiError::invalid(field, "needs exactly one of id and link")),
    }
}

fn media(kind: MediaKind, part: MediaPart, field: &str) -> Result<OutboundContent, ApiError> {
    Ok(OutboundContent::Media {
        kind,
        source: media_source((&part.id, &part.link), field)?,
        caption: part.caption,
        filename: part.filename,
    })
}

fn template(part: TemplatePart) -> Result<OutboundContent, ApiError> {
    let mut components = Vec::with_capacity(part.components.len());
    for (i, component) in part.components.into_iter().enumerate() {
        let mut parameters = Vec::with_capacity(component.parameters.len());
        for (j, parameter) in component.parameters.into_iter().enumerate() {
            let field = format!("template.components[{i}].parameters[{j}]");
            parameters.push(template_parameter(parameter, &field)?);
        }
        components.push(TemplateComponent {
            kind: match component.kind {
                ComponentType::Header => ComponentKind::Header,
                ComponentType::Body => ComponentKind::Body,
                ComponentType::Button => ComponentKind::Button,
            },
            sub_type: component.sub_type,
            index: component.index,
            parameters,
        });
    }
    Ok(OutboundContent::Template(Template {
        name: part.name,
        language: part.language,
        components,
    }))
}

fn template_parameter(part: ParameterPart, field: &str) -> Result<TemplateParameter, ApiError> {
    let with_media = |kind, media: TemplateMediaPart, name: &str| {
        Ok(TemplateParameter::Media {
            kind,
            source: media_source((&media.id, &media.link), &format!("{field}.{name}"))?,
            filename: media.filename,
        })
    };
    match part {
        ParameterPart::Text {
            text,
            parameter_name,
        } => Ok(TemplateParameter::Text {
            text,
            name: parameter_name,
        }),
        ParameterPart::Currency {
            fallback_value,
            code,
            amount_1000,
        } => Ok(TemplateParameter::Currency {
            fallback: fallback_value,
            code,
            amount_1000,
        }),
        ParameterPart::DateTime { fallback_value } => Ok(TemplateParameter::DateTime {
            fallback: fallback_value,
        }),
        ParameterPart::Image { image } => with_media(MediaKind::Image, image, "image"),
        ParameterPart::Video { video } => with_media(MediaKind::Video, video, "video"),
        ParameterPart::Document { document } => {
            with_media(MediaKind::Document, document, "document")
        }
        ParameterPart::Payload { payload } => Ok(TemplateParameter::Payload(payload)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_api::extract::parse_json;

    fn message(body: &str) -> Result<OutboundMessage, ApiError> {
        parse_json::<SendMessageRequest>(body.as_bytes())?.into_message()
    }

    fn field_of(body: &str) -> Option<String> {
        match message(body) {
            Err(ApiError::Invalid { field, .. }) => field,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn a_sender_that_is_no_phone_number_id_is_refused_by_name() {
        for from in [
            "1",
            "abc",
            "1234567890123456789012",
            "10654035224292\\u0000",
            "",
        ] {
            let body = format!(
                r#"{{"from":"{from}","to":"4915112345678","type":"text","text":{{"body":"hi"}}}}"#
            );
            assert_eq!(field_of(&body).as_deref(), Some("from"), "{from}");
        }
    }

    #[test]
    fn a_template_media_parameter_with_a_caption_is_refused_not_dropped() {
        let body = r#"{"from":"106540352242922","to":"4915112345678","type":"template","template":{"name":"order","language":"en_US",
            "components":[{"type":"header","parameters":[{"type":"image","image":{"link":"https://example.com/a.png","caption":"lost"}}]}]}}"#;
        match message(body) {
            Err(ApiError::Invalid { field, message }) => {
                assert_eq!(
                    field.as_deref(),
                    Some("template.components[0].parameters[0]")
                );
                assert!(message.contains("caption"), "{message}");
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn each_type_takes_its_part_and_validates() {
        let text =
            message(r#"{"from":"106540352242922","to":"+49 151 12345678","type":"text","text":{"body":"hi"}}"#)
                .unwrap();
        assert!(matches!(text.content, OutboundContent::Text { .. }));
        let template = message(
            r#"{"from":"106540352242922","to":"4915112345678","type":"template","template":{"name":"order","language":"en_US",
                "components":[{"type":"body","parameters":[{"type":"text","text":"Ann"},
                {"type":"currency","fallback_value":"€5","code":"EUR","amount_1000":5000}]},
                {"type":"header","parameters":[{"type":"image","image":{"link":"https://example.com/a.png"}}]}]}}"#,
        )
        .unwrap();
        template.validate().unwrap();
        let buttons = message(
            r#"{"from":"106540352242922","to":"US.1349120865530274","type":"buttons","reply_to":"wamid.X",
                "buttons":{"body":"Pick","buttons":[{"id":"a","title":"A"}]}}"#,
        )
        .unwrap();
        assert_eq!(buttons.reply_to.as_deref(), Some("wamid.X"));
        buttons.validate().unwrap();
        let reaction = message(
            r#"{"from":"106540352242922","to":"4915112345678","type":"reaction","reaction":{"message_id":"wamid.X","emoji":""}}"#,
        )
        .unwrap();
        assert!(matches!(
            reaction.content,
            OutboundContent::Reaction { emoji: None, .. }
        ));
    }

    #[test]
    fn refusals_name_the_field_at_fault() {
        assert_eq!(
            field_of(r#"{"from":"106540352242922","to":"4915112345678","type":"text"}"#).as_deref(),
            Some("text")
        );
        assert_eq!(
            field_of(r#"{"from":"106540352242922","to":"4915112345678","type":"text","text":{"body":"a"},"image":{"id":"1"}}"#)
                .as_deref(),
            Some("image")
        );
        assert_eq!(
            field_of(r#"{"from":"106540352242922","to":"12","type":"text","text":{"body":"a"}}"#)
                .as_deref(),
            Some("to")
        );
        assert_eq!(
            field_of(r#"{"from":"106540352242922","to":"4915112345678","type":"image","image":{"id":"1","link":"https://x"}}"#)
                .as_deref(),
            Some("image")
        );
        assert_eq!(
            field_of(
                r#"{"from":"106540352242922","to":"4915112345678","type":"text","text":{"body":"a","bold":true}}"#
            )
            .as_deref(),
            Some("text.bold")
        );
        assert_eq!(
            field_of(r#"{"from":"106540352242922","to":"4915112345678","type":"fax"}"#).as_deref(),
            Some("type")
        );
        assert_eq!(
            field_of(
                r#"{"from":"106540352242922","to":"4915112345678","type":"template","template":{"name":"t","language":"en",
                "components":[{"type":"body","parameters":[{"type":"text","txt":"a"}]}]}}"#
            )
            .as_deref(),
            Some("template.components[0].parameters[0]")
        );
    }
}
