//! Typed send requests for `POST /{version}/{phone-number-id}/messages`, checked against
//! Meta's limits before any call, so that what Meta would refuse is refused here first with
//! an error that names the field.

use serde_json::{Value, json};

use crate::domain::identity::{Bsuid, Phone};
use crate::domain::message::MediaKind;

pub const MAX_TEXT_CHARS: usize = 4096;
pub const MAX_CAPTION_CHARS: usize = 1024;
pub const MAX_INTERACTIVE_BODY_CHARS: usize = 1024;
pub const MAX_HEADER_FOOTER_CHARS: usize = 60;
pub const MAX_REPLY_BUTTONS: usize = 3;
pub const MAX_BUTTON_TITLE_CHARS: usize = 20;
pub const MAX_BUTTON_ID_CHARS: usize = 256;
pub const MAX_LIST_SECTIONS: usize = 10;
pub const MAX_LIST_ROWS: usize = 10;
pub const MAX_ROW_TITLE_CHARS: usize = 24;
pub const MAX_ROW_DESCRIPTION_CHARS: usize = 72;
pub const MAX_ROW_ID_CHARS: usize = 200;
pub const MAX_TEMPLATE_NAME_CHARS: usize = 512;

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

    fn as_str(&self) -> &str {
        match self {
            Self::Phone(p) => p.as_str(),
            Self::Bsuid(b) => b.as_str(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct OutboundMessage {
    pub to: Recipient,
    /// The wamid this message replies to.
    pub reply_to: Option<String>,
    pub content: OutboundContent,
}

#[derive(Debug, Clone, PartialEq)]
pub enum OutboundContent {
    Text {
        body: String,
        preview_url: bool,
    },
    Template(Template),
    Media {
        kind: MediaKind,
        source: MediaSource,
        caption: Option<String>,
        filename: Option<String>,
    },
    Buttons {
        body: String,
        header: Option<String>,
        footer: Option<String>,
        buttons: Vec<ReplyButton>,
    },
    List {
        body: String,
        header: Option<String>,
        footer: Option<String>,
        button: String,
        sections: Vec<ListSection>,
    },
    /// `emoji: None` removes the reaction.
    Reaction {
        message_id: String,
        emoji: Option<String>,
    },
    Location {
        latitude: f64,
        longitude: f64,
        name: Option<String>,
        address: Option<String>,
    },
    /// Contact cards in Meta's structure.
    Contacts(Value),
}

/// Media by the id of an upload, or by an HTTPS link Meta fetches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MediaSource {
    Id(String),
    Link(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplyButton {
    pub id: String,
    pub title: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListSection {
    pub title: Option<String>,
    pub rows: Vec<ListRow>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListRow {
    pub id: String,
    pub title: String,
    pub description: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    pub name: String,
    /// A language code such as `en_US` or `de`.
    pub language: String,
    pub components: Vec<TemplateComponent>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ComponentKind {
    Header,
    Body,
    Button,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TemplateComponent {
    pub kind: ComponentKind,
    /// For buttons: `quick_reply`, `url`, `copy_code`, …
    pub sub_type: Option<String>,
    /// For buttons: their position, 0 to 9.
    pub index: Option<u8>,
    pub parameters: Vec<TemplateParameter>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum TemplateParameter {
    /// `name` is set for templates with named parameters.
    Text {
        text: String,
        name: Option<String>,
    },
    Currency {
        fallback: String,
        code: String,
        amount_1000: i64,
    },
    DateTime {
        fallback: String,
    },
    Media {
        kind: MediaKind,
        source: MediaSource,
        filename: Option<String>,
    },
    /// A quick-reply button's payload.
    Payload(String),
}

/// Marks an inbound message read, optionally showing a typing indicator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarkRead {
    pub message_id: String,
    pub typing_indicator: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field} {problem}")]
pub struct ValidationError {
    pub field: String,
    pub problem: String,
}

impl ValidationError {
    fn new(field: impl Into<String>, problem: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            problem: problem.into(),
        }
    }
}

type Checked = Result<(), ValidationError>;

fn chars(field: &str, value: &str, min: usize, max: usize) -> Checked {
    let n = value.chars().count();
    if n < min || n > max || (min > 0 && value.trim().is_empty()) {
        let bound = if min == 0 {
            format!("at most {max} characters")
        } else {
            format!("{min} to {max} characters, not blank")
        };
        return Err(ValidationError::new(
            field,
            format!("must be {bound} (has {n})"),
        ));
    }
    Ok(())
}

fn optional_chars(field: &str, value: &Option<String>, max: usize) -> Checked {
    value.as_deref().map_or(Ok(()), |v| chars(field, v, 1, max))
}

impl OutboundMessage {
    pub fn validate(&self) -> Checked {
        if let Some(id) = &self.reply_to {
            chars("context.message_id", id, 1, 512)?;
        }
        match &self.content {
            OutboundContent::Text { body, .. } => chars("text.body", body, 1, MAX_TEXT_CHARS),
            OutboundContent::Template(t) => t.validate(),
            OutboundContent::Media {
                kind,
                source,
                caption,
                filename,
            } => {
                source.validate(media_name(*kind))?;
                if caption.is_some() && matches!(kind, MediaKind::Audio | MediaKind::Sticker) {
                    return Err(ValidationError::new(
                        format!("{}.caption", media_name(*kind)),
                        "is not allowed for this media type",
                    ));
                }
                if filename.is_some() && *kind != MediaKind::Document {
                    return Err(ValidationError::new(
                        format!("{}.filename", media_name(*kind)),
                        "is only for documents",
                    ));
                }
                optional_chars(
                    &format!("{}.caption", media_name(*kind)),
                    caption,
                    MAX_CAPTION_CHARS,
                )?;
                optional_chars("document.filename", filename, 240)
            }
            OutboundContent::Buttons {
                body,
                header,
                footer,
                buttons,
            } => {
                interactive_texts(body, header, footer)?;
                if buttons.is_empty() || buttons.len() > MAX_REPLY_BUTTONS {
                    return Err(ValidationError::new(
                        "interactive.action.buttons",
                        format!(
                            "must hold 1 to {MAX_REPLY_BUTTONS} buttons (has {})",
                            buttons.len()
                        ),
                    ));
                }
                for (i, b) in buttons.iter().enumerate() {
                    chars(
                        &format!("interactive.action.buttons[{i}].title"),
                        &b.title,
                        1,
                        MAX_BUTTON_TITLE_CHARS,
                    )?;
                    chars(
                        &format!("interactive.action.buttons[{i}].id"),
                        &b.id,
                        1,
                        MAX_BUTTON_ID_CHARS,
                    )?;
                    if buttons[..i]
                        .iter()
                        .any(|other| other.id == b.id || other.title == b.title)
                    {
                        return Err(ValidationError::new(
                            format!("interactive.action.buttons[{i}]"),
                            "repeats another button's id or title",
                        ));
                    }
                }
                Ok(())
            }
            OutboundContent::List {
                body,
                header,
                footer,
                button,
                sections,
            } => {
                interactive_texts(body, header, footer)?;
                chars(
                    "interactive.action.button",
                    button,
                    1,
                    MAX_BUTTON_TITLE_CHARS,
                )?;
                if sections.is_empty() || sections.len() > MAX_LIST_SECTIONS {
                    return Err(ValidationError::new(
                        "interactive.action.sections",
                        format!("must hold 1 to {MAX_LIST_SECTIONS} sections"),
                    ));
                }
                let rows: usize = sections.iter().map(|s| s.rows.len()).sum();
                if rows == 0 || rows > MAX_LIST_ROWS {
                    return Err(ValidationError::new(
                        "interactive.action.sections",
                        format!("must hold 1 to {MAX_LIST_ROWS} rows in all (has {rows})"),
                    ));
                }
                let mut ids = std::collections::HashSet::new();
                for (i, section) in sections.iter().enumerate() {
                    if sections.len() > 1 && section.title.is_none() {
                        return Err(ValidationError::new(
                            format!("interactive.action.sections[{i}].title"),
                            "is required when there are several sections",
                        ));
                    }
                    optional_chars(
                        &format!("interactive.action.sections[{i}].title"),
                        &section.title,
                        MAX_ROW_TITLE_CHARS,
                    )?;
                    for (j, row) in section.rows.iter().enumerate() {
                        let field = format!("interactive.action.sections[{i}].rows[{j}]");
                        chars(&format!("{field}.id"), &row.id, 1, MAX_ROW_ID_CHARS)?;
                        chars(
                            &format!("{field}.title"),
                            &row.title,
                            1,
                            MAX_ROW_TITLE_CHARS,
                        )?;
                        optional_chars(
                            &format!("{field}.description"),
                            &row.description,
                            MAX_ROW_DESCRIPTION_CHARS,
                        )?;
                        if !ids.insert(row.id.as_str()) {
                            return Err(ValidationError::new(
                                format!("{field}.id"),
                                "repeats another row's id",
                            ));
                        }
                    }
                }
                Ok(())
            }
            OutboundContent::Reaction { message_id, emoji } => {
                chars("reaction.message_id", message_id, 1, 512)?;
                match emoji {
                    Some(e)
                        if e.chars().count() > 16
                            || e.chars().any(|c| c.is_ascii_alphanumeric()) =>
                    {
                        Err(ValidationError::new(
                            "reaction.emoji",
                            "must be a single emoji",
                        ))
                    }
                    _ => Ok(()),
                }
            }
            OutboundContent::Location {
                latitude,
                longitude,
                name,
                address,
            } => {
                if !(-90.0..=90.0).contains(latitude) {
                    return Err(ValidationError::new(
                        "location.latitude",
                        "must be between -90 and 90",
                    ));
                }
                if !(-180.0..=180.0).contains(longitude) {
                    return Err(ValidationError::new(
                        "location.longitude",
                        "must be between -180 and 180",
                    ));
                }
                optional_chars("location.name", name, 1000)?;
                optional_chars("location.address", address, 1000)
            }
            OutboundContent::Contacts(cards) => match cards.as_array() {
                Some(list) if !list.is_empty() && list.iter().all(|c| c.get("name").is_some()) => {
                    Ok(())
                }
                _ => Err(ValidationError::new(
                    "contacts",
                    "must be a non-empty list of cards, each with a name",
                )),
            },
        }
    }

    /// The request body Meta expects; call [`OutboundMessage::validate`] first.
    pub fn to_json(&self) -> Value {
        let mut body = json!({"messaging_product": "whatsapp", "recipient_type": "individual", "to": self.to.as_str()});
        if let Some(id) = &self.reply_to {
            body["context"] = json!({"message_id": id});
        }
        let (kind, value) = match &self.content {
            OutboundContent::Text { body, preview_url } => {
                ("text", json!({"body": body, "preview_url": preview_url}))
            }
            OutboundContent::Template(t) => ("template", t.to_json()),
            OutboundContent::Media {
                kind,
                source,
                caption,
                filename,
            } => {
                let mut media = source.to_json();
                if let Some(c) = caption {
                    media["caption"] = json!(c);
                }
                if let Some(f) = filename {
                    media["filename"] = json!(f);
                }
                (media_name(*kind), media)
            }
            OutboundContent::Buttons {
                body,
                header,
                footer,
                buttons,
            } => {
                let buttons: Vec<Value> = buttons
                    .iter()
                    .map(|b| json!({"type": "reply", "reply": {"id": b.id, "title": b.title}}))
                    .collect();
                (
                    "interactive",
                    interactive("button", body, header, footer, json!({"buttons": buttons})),
                )
            }
            OutboundContent::List {
                body,
                header,
                footer,
                button,
                sections,
            } => {
                let sections: Vec<Value> = sections
                    .iter()
                    .map(|s| {
                        let rows: Vec<Value> = s
                            .rows
                            .iter()
                            .map(|r| {
                                let mut row = json!({"id": r.id, "title": r.title});
                                if let Some(d) = &r.description {
                                    row["description"] = json!(d);
                                }
                                row
                            })
                            .collect();
                        let mut section = json!({"rows": rows});
                        if let Some(t) = &s.title {
                            section["title"] = json!(t);
                        }
                        section
                    })
                    .collect();
                (
                    "interactive",
                    interactive(
                        "list",
                        body,
                        header,
                        footer,
                        json!({"button": button, "sections": sections}),
                    ),
                )
            }
            OutboundContent::Reaction { message_id, emoji } => (
                "reaction",
                json!({"message_id": message_id, "emoji": emoji.clone().unwrap_or_default()}),
            ),
            OutboundContent::Location {
                latitude,
                longitude,
                name,
                address,
            } => {
                let mut location = json!({"latitude": latitude, "longitude": longitude});
                if let Some(n) = name {
                    location["name"] = json!(n);
                }
                if let Some(a) = address {
                    location["address"] = json!(a);
                }
                ("location", location)
            }
            OutboundContent::Contacts(cards) => ("contacts", cards.clone()),
        };
        body["type"] = json!(kind);
        body[kind] = value;
        body
    }
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

impl Template {
    fn validate(&self) -> Checked {
        chars("template.name", &self.name, 1, MAX_TEMPLATE_NAME_CHARS)?;
        if !self
            .name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        {
            return Err(ValidationError::new(
                "template.name",
                "may hold only a-z, 0-9 and _",
            ));
        }
        let language_ok = (2..=15).contains(&self.language.len())
            && self
                .language
                .bytes()
                .all(|b| b.is_ascii_alphabetic() || b == b'_' || b == b'-');
        if !language_ok {
            return Err(ValidationError::new(
                "template.language.code",
                "must be a language code such as en_US",
            ));
        }
        for (i, c) in self.components.iter().enumerate() {
            if c.kind == ComponentKind::Button
                && (c.sub_type.is_none() || c.index.is_none_or(|x| x > 9))
            {
                return Err(ValidationError::new(
                    format!("template.components[{i}]"),
                    "a button needs a sub_type and an index from 0 to 9",
                ));
            }
            for (j, p) in c.parameters.iter().enumerate() {
                let field = format!("template.components[{i}].parameters[{j}]");
                match p {
                    TemplateParameter::Text { text, .. } => {
                        chars(&format!("{field}.text"), text, 1, 32_768)?
                    }
                    TemplateParameter::Currency { fallback, code, .. } => {
                        chars(&format!("{field}.fallback_value"), fallback, 1, 256)?;
                        if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_uppercase()) {
                            return Err(ValidationError::new(
                                format!("{field}.code"),
                                "must be an ISO 4217 code such as EUR",
                            ));
                        }
                    }
                    TemplateParameter::DateTime { fallback } => {
                        chars(&format!("{field}.fallback_value"), fallback, 1, 256)?
                    }
                    TemplateParameter::Media { source, .. } => source.validate(&field)?,
                    TemplateParameter::Payload(payload) => {
                        chars(&format!("{field}.payload"), payload, 1, 1000)?
                    }
                }
            }
        }
        Ok(())
    }

    fn to_json(&self) -> Value {
        let components: Vec<Value> = self
            .components
            .iter()
            .map(|c| {
                let kind = match c.kind {
                    ComponentKind::Header => "header",
                    ComponentKind::Body => "body",
                    ComponentKind::Button => "button",
                };
                let parameters: Vec<Value> = c
                    .parameters
                    .iter()
                    .map(TemplateParameter::to_json)
                    .collect();
                let mut component = json!({"type": kind, "parameters": parameters});
                if let Some(s) = &c.sub_type {
                    component["sub_type"] = json!(s);
                }
                if let Some(i) = c.index {
                    component["index"] = json!(i.to_string());
                }
                component
            })
            .collect();
        let mut template = json!({"name": self.name, "language": {"code": self.language}});
        if !components.is_empty() {
            template["components"] = json!(components);
        }
        template
    }
}

impl TemplateParameter {
    fn to_json(&self) -> Value {
        match self {
            Self::Text { text, name } => {
                let mut p = json!({"type": "text", "text": text});
                if let Some(n) = name {
                    p["parameter_name"] = json!(n);
                }
                p
            }
            Self::Currency {
                fallback,
                code,
                amount_1000,
            } => {
                json!({"type": "currency", "currency": {"fallback_value": fallback, "code": code, "amount_1000": amount_1000}})
            }
            Self::DateTime { fallback } => {
                json!({"type": "date_time", "date_time": {"fallback_value": fallback}})
            }
            Self::Media {
                kind,
                source,
                filename,
            } => {
                let mut media = source.to_json();
                if let Some(f) = filename {
                    media["filename"] = json!(f);
                }
                let name = media_name(*kind);
                json!({"type": name, name: media})
            }
            Self::Payload(payload) => json!({"type": "payload", "payload": payload}),
        }
    }
}

impl MediaSource {
    fn validate(&self, field: &str) -> Checked {
        match self {
            Self::Id(id)
                if !id.is_empty()
                    && id.len() <= 128
                    && id.bytes().all(|b| b.is_ascii_alphanumeric()) =>
            {
                Ok(())
            }
            Self::Id(_) => Err(ValidationError::new(
                format!("{field}.id"),
                "must be a media id from an upload",
            )),
            Self::Link(link)
                if link.starts_with("https://")
                    && link.len() > 8
                    && link.len() <= 2048
                    && !link.contains(char::is_whitespace) =>
            {
                Ok(())
            }
            Self::Link(_) => Err(ValidationError::new(
                format!("{field}.link"),
                "must be an https URL",
            )),
        }
    }

    fn to_json(&self) -> Value {
        match self {
            Self::Id(id) => json!({"id": id}),
            Self::Link(link) => json!({"link": link}),
        }
    }
}

fn media_name(kind: MediaKind) -> &'static str {
    match kind {
        MediaKind::Image => "image",
        MediaKind::Video => "video",
        MediaKind::Audio => "audio",
        MediaKind::Document => "document",
        MediaKind::Sticker => "sticker",
    }
}

fn interactive_texts(body: &str, header: &Option<String>, footer: &Option<String>) -> Checked {
    chars("interactive.body.text", body, 1, MAX_INTERACTIVE_BODY_CHARS)?;
    optional_chars("interactive.header.text", header, MAX_HEADER_FOOTER_CHARS)?;
    optional_chars("interactive.footer.text", footer, MAX_HEADER_FOOTER_CHARS)
}

fn interactive(
    kind: &str,
    body: &str,
    header: &Option<String>,
    footer: &Option<String>,
    action: Value,
) -> Value {
    let mut value = json!({"type": kind, "body": {"text": body}, "action": action});
    if let Some(h) = header {
        value["header"] = json!({"type": "text", "text": h});
    }
    if let Some(f) = footer {
        value["footer"] = json!({"text": f});
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    fn to(raw: &str) -> Recipient {
        Recipient::parse(raw).unwrap()
    }

    fn message(content: OutboundContent) -> OutboundMessage {
        OutboundMessage {
            to: to("+49 151 12345678"),
            reply_to: None,
            content,
        }
    }

    fn field_of(m: &OutboundMessage) -> String {
        m.validate().unwrap_err().field
    }

    #[test]
    fn a_text_reply_becomes_metas_body_with_context() {
        let mut m = message(OutboundContent::Text {
            body: "Hallo".into(),
            preview_url: true,
        });
        m.reply_to = Some("wamid.IN".into());
        assert_eq!(m.validate(), Ok(()));
        assert_eq!(
            m.to_json(),
            json!({"messaging_product": "whatsapp", "recipient_type": "individual", "to": "4915112345678",
                "context": {"message_id": "wamid.IN"}, "type": "text", "text": {"body": "Hallo", "preview_url": true}})
        );
    }

    #[test]
    fn a_bsuid_is_a_valid_recipient_and_garbage_is_not() {
        assert_eq!(
            to("US.13491208655302741918"),
            Recipient::Bsuid(Bsuid::parse("US.13491208655302741918").unwrap())
        );
        assert_eq!(Recipient::parse("call me").unwrap_err().field, "to");
    }

    #[test]
    fn empty_and_oversized_text_are_refused_before_sending() {
        let empty = message(OutboundContent::Text {
            body: "  ".into(),
            preview_url: false,
        });
        assert_eq!(field_of(&empty), "text.body");
        let long = message(OutboundContent::Text {
            body: "ä".repeat(MAX_TEXT_CHARS + 1),
            preview_url: false,
        });
        assert_eq!(field_of(&long), "text.body");
        let longest = message(OutboundContent::Text {
            body: "ä".repeat(MAX_TEXT_CHARS),
            preview_url: false,
        });
        assert_eq!(longest.validate(), Ok(()));
    }

    #[test]
    fn more_than_three_reply_buttons_or_repeated_ids_are_refused() {
        let button = |i: usize| ReplyButton {
            id: format!("b{i}"),
            title: format!("Option {i}"),
        };
        let four = message(OutboundContent::Buttons {
            body: "Pick".into(),
            header: None,
            footer: None,
            buttons: (0..4).map(button).collect(),
        });
        assert_eq!(field_of(&four), "interactive.action.buttons");
        let repeated = message(OutboundContent::Buttons {
            body: "Pick".into(),
            header: None,
            footer: None,
            buttons: vec![button(1), button(1)],
        });
        assert_eq!(field_of(&repeated), "interactive.action.buttons[1]");
        let three = message(OutboundContent::Buttons {
            body: "Pick".into(),
            header: Some("H".into()),
            footer: None,
            buttons: (0..3).map(button).collect(),
        });
        assert_eq!(three.validate(), Ok(()));
        assert_eq!(
            three.to_json()["interactive"]["action"]["buttons"][2]["reply"]["id"],
            "b2"
        );
    }

    #[test]
    fn a_list_holds_at_most_ten_rows_and_titled_sections() {
        let rows = |n: usize, p: &str| {
            (0..n)
                .map(|i| ListRow {
                    id: format!("{p}{i}"),
                    title: format!("Row {i}"),
                    description: None,
                })
                .collect()
        };
        let list = |sections| {
            message(OutboundContent::List {
                body: "Menu".into(),
                header: None,
                footer: None,
                button: "Choose".into(),
                sections,
            })
        };
        assert_eq!(
            list(vec![ListSection {
                title: None,
                rows: rows(10, "a")
            }])
            .validate(),
            Ok(())
        );
        assert_eq!(
            field_of(&list(vec![ListSection {
                title: None,
                rows: rows(11, "a")
            }])),
            "interactive.action.sections"
        );
        let untitled = list(vec![
            ListSection {
                title: Some("A".into()),
                rows: rows(2, "a"),
            },
            ListSection {
                title: None,
                rows: rows(2, "b"),
            },
        ]);
        assert_eq!(field_of(&untitled), "interactive.action.sections[1].title");
    }

    #[test]
    fn media_by_id_or_https_link_with_captions_only_where_meta_allows() {
        let media = |kind, source, caption: Option<&str>| {
            message(OutboundContent::Media {
                kind,
                source,
                caption: caption.map(str::to_owned),
                filename: None,
            })
        };
        assert_eq!(
            media(
                MediaKind::Image,
                MediaSource::Id("1234567890".into()),
                Some("Look")
            )
            .validate(),
            Ok(())
        );
        assert_eq!(
            field_of(&media(
                MediaKind::Image,
                MediaSource::Link("http://x.example/a.jpg".into()),
                None
            )),
            "image.link"
        );
        assert_eq!(
            field_of(&media(
                MediaKind::Sticker,
                MediaSource::Id("1".into()),
                Some("no")
            )),
            "sticker.caption"
        );
        let document = message(OutboundContent::Media {
            kind: MediaKind::Document,
            source: MediaSource::Link("https://files.example/invoice.pdf".into()),
            caption: None,
            filename: Some("invoice.pdf".into()),
        });
        assert_eq!(
            document.to_json()["document"],
            json!({"link": "https://files.example/invoice.pdf", "filename": "invoice.pdf"})
        );
    }

    #[test]
    fn a_template_with_body_currency_date_media_and_button_parameters() {
        let t = Template {
            name: "order_update".into(),
            language: "en_US".into(),
            components: vec![
                TemplateComponent {
                    kind: ComponentKind::Header,
                    sub_type: None,
                    index: None,
                    parameters: vec![TemplateParameter::Media {
                        kind: MediaKind::Image,
                        source: MediaSource::Link("https://img.example/p.png".into()),
                        filename: None,
                    }],
                },
                TemplateComponent {
                    kind: ComponentKind::Body,
                    sub_type: None,
                    index: None,
                    parameters: vec![
                        TemplateParameter::Text {
                            text: "Ana".into(),
                            name: Some("first_name".into()),
                        },
                        TemplateParameter::Currency {
                            fallback: "€12.50".into(),
                            code: "EUR".into(),
                            amount_1000: 12_500,
                        },
                        TemplateParameter::DateTime {
                            fallback: "Tuesday".into(),
                        },
                    ],
                },
                TemplateComponent {
                    kind: ComponentKind::Button,
                    sub_type: Some("quick_reply".into()),
                    index: Some(0),
                    parameters: vec![TemplateParameter::Payload("TRACK".into())],
                },
            ],
        };
        let m = message(OutboundContent::Template(t));
        assert_eq!(m.validate(), Ok(()));
        let body = m.to_json();
        assert_eq!(body["template"]["language"]["code"], "en_US");
        assert_eq!(
            body["template"]["components"][1]["parameters"][1]["currency"]["amount_1000"],
            12_500
        );
        assert_eq!(body["template"]["components"][2]["index"], "0");
        assert_eq!(
            body["template"]["components"][0]["parameters"][0]["image"]["link"],
            "https://img.example/p.png"
        );
    }

    #[test]
    fn template_names_and_button_components_are_checked() {
        let bad_name = message(OutboundContent::Template(Template {
            name: "Order Update".into(),
            language: "en".into(),
            components: vec![],
        }));
        assert_eq!(field_of(&bad_name), "template.name");
        let button = TemplateComponent {
            kind: ComponentKind::Button,
            sub_type: None,
            index: Some(0),
            parameters: vec![],
        };
        let no_sub_type = message(OutboundContent::Template(Template {
            name: "x".into(),
            language: "en".into(),
            components: vec![button],
        }));
        assert_eq!(field_of(&no_sub_type), "template.components[0]");
    }

    #[test]
    fn a_reaction_and_its_removal() {
        let react = message(OutboundContent::Reaction {
            message_id: "wamid.X".into(),
            emoji: Some("👍".into()),
        });
        assert_eq!(react.validate(), Ok(()));
        let remove = message(OutboundContent::Reaction {
            message_id: "wamid.X".into(),
            emoji: None,
        });
        assert_eq!(
            remove.to_json()["reaction"],
            json!({"message_id": "wamid.X", "emoji": ""})
        );
        let words = message(OutboundContent::Reaction {
            message_id: "wamid.X".into(),
            emoji: Some("ok".into()),
        });
        assert_eq!(field_of(&words), "reaction.emoji");
    }

    #[test]
    fn locations_out_of_range_and_cards_without_names_are_refused() {
        let far = message(OutboundContent::Location {
            latitude: 91.0,
            longitude: 0.0,
            name: None,
            address: None,
        });
        assert_eq!(field_of(&far), "location.latitude");
        let cards = message(OutboundContent::Contacts(json!([{"phones": []}])));
        assert_eq!(field_of(&cards), "contacts");
    }

    #[test]
    fn mark_read_with_a_typing_indicator() {
        let read = MarkRead {
            message_id: "wamid.IN".into(),
            typing_indicator: true,
        };
        assert_eq!(
            read.to_json(),
            json!({"messaging_product": "whatsapp", "status": "read", "message_id": "wamid.IN", "typing_indicator": {"type": "text"}})
        );
    }
}
