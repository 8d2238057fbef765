//! The checks an outbound message passes before it is queued: Meta's limits, so that what
//! Meta would refuse is refused here first, naming the field of the business's request.

use std::collections::HashSet;

use super::{
    ButtonsPart, ComponentType, Content, ListPart, LocationPart, MediaPart, OutboundMessage,
    ParameterPart, ReactionPart, TemplatePart,
};
use crate::message::MediaKind;

/// Meta's limits.
pub mod limits {
    pub const TEXT_CHARS: usize = 4096;
    pub const CAPTION_CHARS: usize = 1024;
    pub const INTERACTIVE_BODY_CHARS: usize = 1024;
    pub const HEADER_FOOTER_CHARS: usize = 60;
    pub const REPLY_BUTTONS: usize = 3;
    pub const BUTTON_TITLE_CHARS: usize = 20;
    pub const BUTTON_ID_CHARS: usize = 256;
    pub const LIST_SECTIONS: usize = 10;
    pub const LIST_ROWS: usize = 10;
    pub const ROW_TITLE_CHARS: usize = 24;
    pub const ROW_DESCRIPTION_CHARS: usize = 72;
    pub const ROW_ID_CHARS: usize = 200;
    pub const TEMPLATE_NAME_CHARS: usize = 512;
    pub const MESSAGE_ID_CHARS: usize = 512;
    pub const FILENAME_CHARS: usize = 240;
}

use limits::*;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field} {problem}")]
pub struct ValidationError {
    pub field: String,
    pub problem: String,
}

impl ValidationError {
    pub(super) fn new(field: impl Into<String>, problem: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            problem: problem.into(),
        }
    }
}

type Checked = Result<(), ValidationError>;

impl OutboundMessage {
    pub fn validate(&self) -> Checked {
        let from_ok =
            (5..=20).contains(&self.from.len()) && self.from.bytes().all(|b| b.is_ascii_digit());
        if !from_ok {
            return Err(ValidationError::new(
                "from",
                "must be the id (5 to 20 digits) of one of the tenant's phone numbers",
            ));
        }
        if let Some(id) = &self.reply_to {
            chars("reply_to", id, 1, MESSAGE_ID_CHARS)?;
        }
        if let Some((kind, media)) = self.content.media() {
            return check_media(kind, media);
        }
        match &self.content {
            Content::Text { text } => chars("text.body", &text.body, 1, TEXT_CHARS),
            Content::Template { template } => check_template(template),
            Content::Buttons { buttons } => check_buttons(buttons),
            Content::List { list } => check_list(list),
            Content::Reaction { reaction } => check_reaction(reaction),
            Content::Location { location } => check_location(location),
            Content::Contacts { contacts } => {
                if !contacts.is_empty() && contacts.iter().all(|c| c.get("name").is_some()) {
                    Ok(())
                } else {
                    Err(ValidationError::new(
                        "contacts",
                        "must be a non-empty list of cards, each with a name",
                    ))
                }
            }
            Content::Image { .. }
            | Content::Video { .. }
            | Content::Audio { .. }
            | Content::Document { .. }
            | Content::Sticker { .. } => unreachable!("media was checked above"),
        }
    }
}

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

fn media_name(kind: MediaKind) -> &'static str {
    match kind {
        MediaKind::Image => "image",
        MediaKind::Video => "video",
        MediaKind::Audio => "audio",
        MediaKind::Document => "document",
        MediaKind::Sticker => "sticker",
    }
}

/// Exactly one of an upload's id and an HTTPS link.
fn check_source(field: &str, id: &Option<String>, link: &Option<String>) -> Checked {
    match (id, link) {
        (Some(id), None) => {
            let ok =
                !id.is_empty() && id.len() <= 128 && id.bytes().all(|b| b.is_ascii_alphanumeric());
            ok.then_some(()).ok_or_else(|| {
                ValidationError::new(format!("{field}.id"), "must be a media id from an upload")
            })
        }
        (None, Some(link)) => {
            let ok = link.starts_with("https://")
                && link.len() > 8
                && link.len() <= 2048
                && !link.contains(char::is_whitespace);
            ok.then_some(()).ok_or_else(|| {
                ValidationError::new(format!("{field}.link"), "must be an https URL")
            })
        }
        _ => Err(ValidationError::new(
            field,
            "needs exactly one of id and link",
        )),
    }
}

fn check_media(kind: MediaKind, media: &MediaPart) -> Checked {
    let name = media_name(kind);
    check_source(name, &media.id, &media.link)?;
    if media.caption.is_some() && matches!(kind, MediaKind::Audio | MediaKind::Sticker) {
        return Err(ValidationError::new(
            format!("{name}.caption"),
            "is not allowed for this media type",
        ));
    }
    if media.filename.is_some() && kind != MediaKind::Document {
        return Err(ValidationError::new(
            format!("{name}.filename"),
            "is only for documents",
        ));
    }
    optional_chars(&format!("{name}.caption"), &media.caption, CAPTION_CHARS)?;
    optional_chars(&format!("{name}.filename"), &media.filename, FILENAME_CHARS)
}

fn check_template(template: &TemplatePart) -> Checked {
    chars("template.name", &template.name, 1, TEMPLATE_NAME_CHARS)?;
    if !template
        .name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    {
        return Err(ValidationError::new(
            "template.name",
            "may hold only a-z, 0-9 and _",
        ));
    }
    let language = &template.language;
    let language_ok = (2..=15).contains(&language.len())
        && language
            .bytes()
            .all(|b| b.is_ascii_alphabetic() || b == b'_' || b == b'-');
    if !language_ok {
        return Err(ValidationError::new(
            "template.language",
            "must be a language code such as en_US",
        ));
    }
    for (i, component) in template.components.iter().enumerate() {
        if component.kind == ComponentType::Button
            && (component.sub_type.is_none() || component.index.is_none_or(|x| x > 9))
        {
            return Err(ValidationError::new(
                format!("template.components[{i}]"),
                "a button needs a sub_type and an index from 0 to 9",
            ));
        }
        for (j, parameter) in component.parameters.iter().enumerate() {
            check_parameter(
                &format!("template.components[{i}].parameters[{j}]"),
                parameter,
            )?;
        }
    }
    Ok(())
}

fn check_parameter(field: &str, parameter: &ParameterPart) -> Checked {
    let media = |name: &str, m: &super::TemplateMediaPart| {
        let field = format!("{field}.{name}");
        check_source(&field, &m.id, &m.link)?;
        optional_chars(&format!("{field}.filename"), &m.filename, FILENAME_CHARS)
    };
    match parameter {
        ParameterPart::Text { text, .. } => chars(&format!("{field}.text"), text, 1, 32_768),
        ParameterPart::Currency {
            fallback_value,
            code,
            ..
        } => {
            chars(&format!("{field}.fallback_value"), fallback_value, 1, 256)?;
            if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_uppercase()) {
                return Err(ValidationError::new(
                    format!("{field}.code"),
                    "must be an ISO 4217 code such as EUR",
                ));
            }
            Ok(())
        }
        ParameterPart::DateTime { fallback_value } => {
            chars(&format!("{field}.fallback_value"), fallback_value, 1, 256)
        }
        ParameterPart::Image { image } => media("image", image),
        ParameterPart::Video { video } => media("video", video),
        ParameterPart::Document { document } => media("document", document),
        ParameterPart::Payload { .. } => Ok(()),
    }
}

fn check_frame(
    part: &str,
    body: &str,
    header: &Option<String>,
    footer: &Option<String>,
) -> Checked {
    chars(&format!("{part}.body"), body, 1, INTERACTIVE_BODY_CHARS)?;
    optional_chars(&format!("{part}.header"), header, HEADER_FOOTER_CHARS)?;
    optional_chars(&format!("{part}.footer"), footer, HEADER_FOOTER_CHARS)
}

fn check_buttons(part: &ButtonsPart) -> Checked {
    check_frame("buttons", &part.body, &part.header, &part.footer)?;
    let buttons = &part.buttons;
    if buttons.is_empty() || buttons.len() > REPLY_BUTTONS {
        return Err(ValidationError::new(
            "buttons.buttons",
            format!(
                "must hold 1 to {REPLY_BUTTONS} buttons (has {})",
                buttons.len()
            ),
        ));
    }
    for (i, b) in buttons.iter().enumerate() {
        let field = format!("buttons.buttons[{i}]");
        chars(&format!("{field}.title"), &b.title, 1, BUTTON_TITLE_CHARS)?;
        chars(&format!("{field}.id"), &b.id, 1, BUTTON_ID_CHARS)?;
        if buttons[..i]
            .iter()
            .any(|other| other.id == b.id || other.title == b.title)
        {
            return Err(ValidationError::new(
                field,
                "repeats another button's id or title",
            ));
        }
    }
    Ok(())
}

fn check_list(part: &ListPart) -> Checked {
    check_frame("list", &part.body, &part.header, &part.footer)?;
    chars("list.button", &part.button, 1, BUTTON_TITLE_CHARS)?;
    let sections = &part.sections;
    if sections.is_empty() || sections.len() > LIST_SECTIONS {
        return Err(ValidationError::new(
            "list.sections",
            format!("must hold 1 to {LIST_SECTIONS} sections"),
        ));
    }
    let rows: usize = sections.iter().map(|s| s.rows.len()).sum();
    if rows == 0 || rows > LIST_ROWS {
        return Err(ValidationError::new(
            "list.sections",
            format!("must hold 1 to {LIST_ROWS} rows in all (has {rows})"),
        ));
    }
    let mut ids = HashSet::new();
    for (i, section) in sections.iter().enumerate() {
        let field = format!("list.sections[{i}]");
        if sections.len() > 1 && section.title.is_none() {
            return Err(ValidationError::new(
                format!("{field}.title"),
                "is required when there are several sections",
            ));
        }
        optional_chars(&format!("{field}.title"), &section.title, ROW_TITLE_CHARS)?;
        for (j, row) in section.rows.iter().enumerate() {
            let field = format!("{field}.rows[{j}]");
            chars(&format!("{field}.id"), &row.id, 1, ROW_ID_CHARS)?;
            chars(&format!("{field}.title"), &row.title, 1, ROW_TITLE_CHARS)?;
            optional_chars(
                &format!("{field}.description"),
                &row.description,
                ROW_DESCRIPTION_CHARS,
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

fn check_reaction(part: &ReactionPart) -> Checked {
    chars("reaction.message_id", &part.message_id, 1, MESSAGE_ID_CHARS)?;
    match &part.emoji {
        Some(e) if e.chars().count() > 16 || e.chars().any(|c| c.is_ascii_alphanumeric()) => Err(
            ValidationError::new("reaction.emoji", "must be a single emoji"),
        ),
        _ => Ok(()),
    }
}

fn check_location(part: &LocationPart) -> Checked {
    if !(-90.0..=90.0).contains(&part.latitude) {
        return Err(ValidationError::new(
            "location.latitude",
            "must be between -90 and 90",
        ));
    }
    if !(-180.0..=180.0).contains(&part.longitude) {
        return Err(ValidationError::new(
            "location.longitude",
            "must be between -180 and 180",
        ));
    }
    optional_chars("location.name", &part.name, 1000)?;
    optional_chars("location.address", &part.address, 1000)
}
