//! Meta's request bodies for `POST /{version}/{phone-number-id}/messages`: typed views
//! over an [`OutboundMessage`] (which was validated when it was accepted), serialised in
//! Meta's shape. Meta's names (`interactive`, `context`, `language.code`) live here only.

use std::borrow::Cow;

use serde::Serialize;
use serde_json::{Value, json};

use wagate_domain::outbound::{
    ButtonPart, ButtonsPart, ComponentPart, ComponentType, Content, ListPart, LocationPart,
    MediaPart, MessageType, OutboundMessage, ParameterPart, SectionPart, TemplateMediaPart,
    TemplatePart, TextPart,
};

/// The whole request for a message.
#[derive(Debug, Serialize)]
pub struct MetaRequest<'a> {
    messaging_product: &'static str,
    recipient_type: &'static str,
    to: &'a str,
    #[serde(flatten)]
    content: MetaContent<'a>,
    /// Echoed in the message's statuses.
    #[serde(skip_serializing_if = "Option::is_none")]
    biz_opaque_callback_data: Option<Cow<'a, str>>,
}

impl<'a> MetaRequest<'a> {
    pub fn new(message: &'a OutboundMessage) -> Self {
        Self {
            messaging_product: "whatsapp",
            recipient_type: "individual",
            to: message.to.as_str(),
            content: MetaContent::new(message),
            biz_opaque_callback_data: None,
        }
    }

    /// Asks Meta to echo `tag` in the message's statuses.
    pub fn with_status_tag(mut self, tag: impl Into<Cow<'a, str>>) -> Self {
        self.biz_opaque_callback_data = Some(tag.into());
        self
    }

    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).expect("a message request always serialises")
    }
}

/// The request without its addressing: what a message record keeps of what was sent.
#[derive(Debug, Serialize)]
pub struct MetaContent<'a> {
    #[serde(skip)]
    message_type: MessageType,
    #[serde(skip_serializing_if = "Option::is_none")]
    context: Option<Context<'a>>,
    #[serde(flatten)]
    body: Body<'a>,
}

impl<'a> MetaContent<'a> {
    pub fn new(message: &'a OutboundMessage) -> Self {
        Self {
            message_type: message.content.message_type(),
            context: message
                .reply_to
                .as_deref()
                .map(|message_id| Context { message_id }),
            body: Body::new(&message.content),
        }
    }

    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).expect("a message always serialises")
    }

    /// Meta's `type` of the message: ours, but for buttons and lists, which Meta calls
    /// `interactive`.
    pub fn meta_type(&self) -> &'static str {
        match self.body {
            Body::Interactive { .. } => "interactive",
            _ => self.message_type.name(),
        }
    }
}

#[derive(Debug, Serialize)]
struct Context<'a> {
    message_id: &'a str,
}

#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Body<'a> {
    Text { text: &'a TextPart },
    Template { template: Template<'a> },
    Image { image: &'a MediaPart },
    Video { video: &'a MediaPart },
    Audio { audio: &'a MediaPart },
    Document { document: &'a MediaPart },
    Sticker { sticker: &'a MediaPart },
    Interactive { interactive: Interactive<'a> },
    Reaction { reaction: Reaction<'a> },
    Location { location: &'a LocationPart },
    Contacts { contacts: &'a [Value] },
}

impl<'a> Body<'a> {
    fn new(content: &'a Content) -> Self {
        match content {
            Content::Text { text } => Self::Text { text },
            Content::Template { template } => Self::Template {
                template: Template::new(template),
            },
            Content::Image { image } => Self::Image { image },
            Content::Video { video } => Self::Video { video },
            Content::Audio { audio } => Self::Audio { audio },
            Content::Document { document } => Self::Document { document },
            Content::Sticker { sticker } => Self::Sticker { sticker },
            Content::Buttons { buttons } => Self::Interactive {
                interactive: Interactive::buttons(buttons),
            },
            Content::List { list } => Self::Interactive {
                interactive: Interactive::list(list),
            },
            Content::Reaction { reaction } => Self::Reaction {
                reaction: Reaction {
                    message_id: &reaction.message_id,
                    // Meta removes a reaction when the emoji is empty.
                    emoji: reaction.emoji.as_deref().unwrap_or_default(),
                },
            },
            Content::Location { location } => Self::Location { location },
            Content::Contacts { contacts } => Self::Contacts { contacts },
        }
    }
}

#[derive(Debug, Serialize)]
struct Reaction<'a> {
    message_id: &'a str,
    emoji: &'a str,
}

#[derive(Debug, Serialize)]
struct Template<'a> {
    name: &'a str,
    language: Language<'a>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    components: Vec<Component<'a>>,
}

#[derive(Debug, Serialize)]
struct Language<'a> {
    code: &'a str,
}

#[derive(Debug, Serialize)]
struct Component<'a> {
    #[serde(rename = "type")]
    kind: ComponentType,
    #[serde(skip_serializing_if = "Option::is_none")]
    sub_type: Option<&'a str>,
    /// Meta takes a button's index as a string.
    #[serde(skip_serializing_if = "Option::is_none")]
    index: Option<String>,
    parameters: Vec<Parameter<'a>>,
}

#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Parameter<'a> {
    Text {
        text: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        parameter_name: Option<&'a str>,
    },
    Currency {
        currency: Currency<'a>,
    },
    DateTime {
        date_time: DateTime<'a>,
    },
    Image {
        image: &'a TemplateMediaPart,
    },
    Video {
        video: &'a TemplateMediaPart,
    },
    Document {
        document: &'a TemplateMediaPart,
    },
    Payload {
        payload: &'a str,
    },
}

#[derive(Debug, Serialize)]
struct Currency<'a> {
    fallback_value: &'a str,
    code: &'a str,
    amount_1000: i64,
}

#[derive(Debug, Serialize)]
struct DateTime<'a> {
    fallback_value: &'a str,
}

impl<'a> Template<'a> {
    fn new(template: &'a TemplatePart) -> Self {
        Self {
            name: &template.name,
            language: Language {
                code: &template.language,
            },
            components: template.components.iter().map(Component::new).collect(),
        }
    }
}

impl<'a> Component<'a> {
    fn new(component: &'a ComponentPart) -> Self {
        Self {
            kind: component.kind,
            sub_type: component.sub_type.as_deref(),
            index: component.index.map(|i| i.to_string()),
            parameters: component.parameters.iter().map(Parameter::new).collect(),
        }
    }
}

impl<'a> Parameter<'a> {
    fn new(parameter: &'a ParameterPart) -> Self {
        match parameter {
            ParameterPart::Text {
                text,
                parameter_name,
            } => Self::Text {
                text,
                parameter_name: parameter_name.as_deref(),
            },
            ParameterPart::Currency {
                fallback_value,
                code,
                amount_1000,
            } => Self::Currency {
                currency: Currency {
                    fallback_value,
                    code,
                    amount_1000: *amount_1000,
                },
            },
            ParameterPart::DateTime { fallback_value } => Self::DateTime {
                date_time: DateTime { fallback_value },
            },
            ParameterPart::Image { image } => Self::Image { image },
            ParameterPart::Video { video } => Self::Video { video },
            ParameterPart::Document { document } => Self::Document { document },
            ParameterPart::Payload { payload } => Self::Payload { payload },
        }
    }
}

/// Meta's interactive message: the text around it is the same for buttons and lists;
/// `kind` holds its `type` and its `action`.
#[derive(Debug, Serialize)]
struct Interactive<'a> {
    #[serde(flatten)]
    kind: InteractiveKind<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    header: Option<Header<'a>>,
    body: Text<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    footer: Option<Text<'a>>,
}

#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum InteractiveKind<'a> {
    Button { action: ButtonAction<'a> },
    List { action: ListAction<'a> },
}

#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Header<'a> {
    Text { text: &'a str },
}

#[derive(Debug, Serialize)]
struct Text<'a> {
    text: &'a str,
}

#[derive(Debug, Serialize)]
struct ButtonAction<'a> {
    buttons: Vec<ReplyButton<'a>>,
}

#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ReplyButton<'a> {
    Reply { reply: &'a ButtonPart },
}

#[derive(Debug, Serialize)]
struct ListAction<'a> {
    button: &'a str,
    sections: &'a [SectionPart],
}

impl<'a> Interactive<'a> {
    fn new(
        kind: InteractiveKind<'a>,
        header: &'a Option<String>,
        body: &'a str,
        footer: &'a Option<String>,
    ) -> Self {
        Self {
            kind,
            header: header.as_deref().map(|text| Header::Text { text }),
            body: Text { text: body },
            footer: footer.as_deref().map(|text| Text { text }),
        }
    }

    fn buttons(part: &'a ButtonsPart) -> Self {
        let buttons = part
            .buttons
            .iter()
            .map(|reply| ReplyButton::Reply { reply })
            .collect();
        let kind = InteractiveKind::Button {
            action: ButtonAction { buttons },
        };
        Self::new(kind, &part.header, &part.body, &part.footer)
    }

    fn list(part: &'a ListPart) -> Self {
        let kind = InteractiveKind::List {
            action: ListAction {
                button: &part.button,
                sections: &part.sections,
            },
        };
        Self::new(kind, &part.header, &part.body, &part.footer)
    }
}

/// Marks an inbound message read, optionally showing a typing indicator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarkRead {
    pub message_id: String,
    pub typing_indicator: bool,
}

impl MarkRead {
    pub fn to_json(&self) -> Value {
        let mut body = json!({"messaging_product": "whatsapp", "status": "read", "message_id": self.message_id});
        if self.typing_indicator {
            body["typing_indicator"] = json!({"type": "text"});
        }
        body
    }
}

#[cfg(test)]
mod tests;
