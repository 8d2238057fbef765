//! Meta's checks of a send request, written from Meta's documentation independently of
//! wagate's own client, so that the client's requests are checked by a second reader.
//! Missing fields answer 131008, bad values 131009, malformed requests 100.

use serde_json::Value;

/// A refusal: Meta's code and what it says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub code: i64,
    pub details: String,
}

type Checked = Result<(), Refusal>;

fn missing(field: &str) -> Refusal {
    Refusal {
        code: 131008,
        details: format!("The parameter {field} is required."),
    }
}

fn invalid(field: &str, why: &str) -> Refusal {
    Refusal {
        code: 131009,
        details: format!("Parameter value is not valid: {field} {why}"),
    }
}

fn malformed(why: &str) -> Refusal {
    Refusal {
        code: 100,
        details: format!("Invalid parameter: {why}"),
    }
}

fn text<'a>(v: &'a Value, field: &str) -> Result<&'a str, Refusal> {
    match v.get(field) {
        None | Some(Value::Null) => Err(missing(field)),
        Some(Value::String(s)) => Ok(s),
        Some(_) => Err(malformed(&format!("{field} must be a string"))),
    }
}

fn object<'a>(v: &'a Value, field: &str) -> Result<&'a Value, Refusal> {
    match v.get(field) {
        None | Some(Value::Null) => Err(missing(field)),
        Some(o @ Value::Object(_)) => Ok(o),
        Some(_) => Err(malformed(&format!("{field} must be an object"))),
    }
}

fn array<'a>(v: &'a Value, field: &str) -> Result<&'a [Value], Refusal> {
    match v.get(field) {
        None | Some(Value::Null) => Err(missing(field)),
        Some(Value::Array(a)) => Ok(a),
        Some(_) => Err(malformed(&format!("{field} must be an array"))),
    }
}

fn limit(value: &str, field: &str, max: usize) -> Checked {
    if value.trim().is_empty() {
        return Err(invalid(field, "must not be empty"));
    }
    if value.chars().count() > max {
        return Err(invalid(field, &format!("is longer than {max} characters")));
    }
    Ok(())
}

fn optional_limit(v: &Value, field: &str, max: usize) -> Checked {
    match v.get(field) {
        None => Ok(()),
        Some(Value::String(s)) => limit(s, field, max),
        Some(_) => Err(malformed(&format!("{field} must be a string"))),
    }
}

/// Whether `to` is a phone number (digits, 6 to 15) or a business-scoped user id.
pub fn valid_recipient(to: &str) -> bool {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if let Some((country, id)) = to.split_once('.') {
        return country.len() == 2
            && country.bytes().all(|b| b.is_ascii_uppercase())
            && digits(id)
            && id.len() <= 40;
    }
    digits(to) && (6..=15).contains(&to.len())
}

/// Whether the request is a mark-as-read rather than a message.
pub fn is_mark_read(body: &Value) -> bool {
    body.get("status").and_then(Value::as_str) == Some("read")
}

pub fn check_mark_read(body: &Value) -> Checked {
    text(body, "message_id")?;
    if let Some(indicator) = body.get("typing_indicator")
        && text(indicator, "type")? != "text"
    {
        return Err(invalid("typing_indicator.type", "must be text"));
    }
    Ok(())
}

/// Checks a message request; the message type on success.
pub fn check_message(body: &Value) -> Result<String, Refusal> {
    if text(body, "messaging_product")? != "whatsapp" {
        return Err(malformed("messaging_product must be whatsapp"));
    }
    if let Some(kind) = body.get("recipient_type").and_then(Value::as_str)
        && kind != "individual"
    {
        return Err(invalid("recipient_type", "must be individual"));
    }
    if !valid_recipient(text(body, "to")?) {
        return Err(malformed("to is not a phone number or a user id"));
    }
    if let Some(context) = body.get("context") {
        text(context, "message_id")?;
    }
    if body.get("biz_opaque_callback_data").is_some() {
        limit(
            text(body, "biz_opaque_callback_data")?,
            "biz_opaque_callback_data",
            512,
        )?;
    }
    let kind = text(body, "type")?;
    let content = object(body, kind).or_else(|e| {
        if kind == "contacts" {
            Ok(body.get("contacts").unwrap_or(&Value::Null))
        } else {
            Err(e)
        }
    })?;
    match kind {
        "text" => limit(text(content, "body")?, "text.body", 4096)?,
        "image" | "video" | "audio" | "document" | "sticker" => media(kind, content)?,
        "interactive" => interactive(content)?,
        "template" => template(content)?,
        "reaction" => {
            text(content, "message_id")?;
            text(content, "emoji")?;
        }
        "location" => location(content)?,
        "contacts" => contacts(content)?,
        other => return Err(invalid("type", &format!("{other:?} is not a message type"))),
    }
    Ok(kind.to_owned())
}

fn media(kind: &str, m: &Value) -> Checked {
    match (m.get("id"), m.get("link")) {
        (Some(_), Some(_)) => return Err(malformed("media takes an id or a link, not both")),
        (None, None) => return Err(missing(&format!("{kind}.id or {kind}.link"))),
        (Some(id), None) => {
            if id.as_str().is_none_or(str::is_empty) {
                return Err(invalid(&format!("{kind}.id"), "must be a media id"));
            }
        }
        (None, Some(link)) => {
            if !link.as_str().is_some_and(|l| l.starts_with("https://")) {
                return Err(invalid(&format!("{kind}.link"), "must be an https URL"));
            }
        }
    }
    if m.get("caption").is_some() {
        if matches!(kind, "audio" | "sticker") {
            return Err(malformed(&format!("{kind} takes no caption")));
        }
        optional_limit(m, "caption", 1024)?;
    }
    if m.get("filename").is_some() && kind != "document" {
        return Err(malformed("only documents take a filename"));
    }
    Ok(())
}

fn interactive(i: &Value) -> Checked {
    let body = object(i, "body")?;
    limit(text(body, "text")?, "interactive.body.text", 1024)?;
    if let Some(header) = i.get("header")
        && text(header, "type")? == "text"
    {
        limit(text(header, "text")?, "interactive.header.text", 60)?;
    }
    if let Some(footer) = i.get("footer") {
        limit(text(footer, "text")?, "interactive.footer.text", 60)?;
    }
    let action = object(i, "action")?;
    match text(i, "type")? {
        "button" => {
            let buttons = array(action, "buttons")?;
            if buttons.is_empty() || buttons.len() > 3 {
                return Err(invalid(
                    "interactive.action.buttons",
                    "must hold 1 to 3 buttons",
                ));
            }
            let mut ids = Vec::new();
            for b in buttons {
                if text(b, "type")? != "reply" {
                    return Err(invalid("interactive.action.buttons.type", "must be reply"));
                }
                let reply = object(b, "reply")?;
                let id = text(reply, "id")?;
                limit(id, "reply.id", 256)?;
                limit(text(reply, "title")?, "reply.title", 20)?;
                if ids.contains(&id) {
                    return Err(invalid("reply.id", "must be unique"));
                }
                ids.push(id);
            }
        }
        "list" => {
            limit(text(action, "button")?, "interactive.action.button", 20)?;
            let sections = array(action, "sections")?;
            if sections.is_empty() || sections.len() > 10 {
                return Err(invalid(
                    "interactive.action.sections",
                    "must hold 1 to 10 sections",
                ));
            }
            let mut rows_total = 0;
            for s in sections {
                if sections.len() > 1 {
                    limit(text(s, "title")?, "section.title", 24)?;
                }
                let rows = array(s, "rows")?;
                if rows.is_empty() {
                    return Err(invalid("section.rows", "must not be empty"));
                }
                rows_total += rows.len();
                for r in rows {
                    limit(text(r, "id")?, "row.id", 200)?;
                    limit(text(r, "title")?, "row.title", 24)?;
                    optional_limit(r, "description", 72)?;
                }
            }
            if rows_total > 10 {
                return Err(invalid(
                    "interactive.action.sections",
                    "hold more than 10 rows",
                ));
            }
        }
        other => {
            return Err(invalid(
                "interactive.type",
                &format!("{other:?} is not supported"),
            ));
        }
    }
    Ok(())
}

fn template(t: &Value) -> Checked {
    limit(text(t, "name")?, "template.name", 512)?;
    let language = object(t, "language")?;
    limit(text(language, "code")?, "template.language.code", 15)?;
    let Some(components) = t.get("components") else {
        return Ok(());
    };
    let components = components
        .as_array()
        .ok_or_else(|| malformed("template.components must be an array"))?;
    for c in components {
        match text(c, "type")? {
            "header" | "body" => {}
            "button" => {
                text(c, "sub_type")?;
                let index = c.get("index").ok_or_else(|| missing("button.index"))?;
                let index = index
                    .as_u64()
                    .or_else(|| index.as_str().and_then(|s| s.parse().ok()));
                if index.is_none_or(|i| i > 9) {
                    return Err(invalid("button.index", "must be 0 to 9"));
                }
            }
            other => return Err(invalid("component.type", &format!("{other:?} is unknown"))),
        }
        for p in array(c, "parameters")? {
            parameter(p)?;
        }
    }
    Ok(())
}

fn parameter(p: &Value) -> Checked {
    let kind = text(p, "type")?;
    match kind {
        "text" => limit(text(p, "text")?, "parameter.text", 32_768)?,
        "payload" => limit(text(p, "payload")?, "parameter.payload", 1000)?,
        "currency" => {
            let c = object(p, "currency")?;
            text(c, "fallback_value")?;
            text(c, "code")?;
            if !c.get("amount_1000").is_some_and(Value::is_i64) {
                return Err(invalid("currency.amount_1000", "must be a whole number"));
            }
        }
        "date_time" => {
            text(object(p, "date_time")?, "fallback_value")?;
        }
        "image" | "video" | "document" => media(kind, object(p, kind)?)?,
        other => return Err(invalid("parameter.type", &format!("{other:?} is unknown"))),
    }
    Ok(())
}

fn location(l: &Value) -> Checked {
    let coordinate = |field: &str, max: f64| match l.get(field).and_then(Value::as_f64) {
        None => Err(missing(&format!("location.{field}"))),
        Some(v) if v.abs() > max => Err(invalid(&format!("location.{field}"), "is out of range")),
        Some(_) => Ok(()),
    };
    coordinate("latitude", 90.0)?;
    coordinate("longitude", 180.0)
}

fn contacts(c: &Value) -> Checked {
    let cards = c
        .as_array()
        .ok_or_else(|| malformed("contacts must be an array"))?;
    if cards.is_empty() {
        return Err(invalid("contacts", "must not be empty"));
    }
    for card in cards {
        limit(
            text(object(card, "name")?, "formatted_name")?,
            "contacts.name.formatted_name",
            1024,
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn message(kind: &str, content: Value) -> Value {
        json!({"messaging_product": "whatsapp", "recipient_type": "individual", "to": "4915112345678", "type": kind, kind: content})
    }

    #[test]
    fn missing_fields_bad_values_and_malformed_requests_get_metas_three_codes() {
        let no_body = message("text", json!({}));
        assert_eq!(check_message(&no_body).unwrap_err().code, 131008);
        let long = message("text", json!({"body": "x".repeat(4097)}));
        assert_eq!(check_message(&long).unwrap_err().code, 131009);
        let mut bad_to = message("text", json!({"body": "hi"}));
        bad_to["to"] = json!("hello");
        assert_eq!(check_message(&bad_to).unwrap_err().code, 100);
        assert_eq!(
            check_message(&message("text", json!({"body": "hi"}))).unwrap(),
            "text"
        );
    }

    #[test]
    fn four_buttons_and_a_captioned_sticker_are_refused() {
        let button =
            |i: usize| json!({"type": "reply", "reply": {"id": format!("b{i}"), "title": "Yes"}});
        let four = message(
            "interactive",
            json!({"type": "button", "body": {"text": "Pick"}, "action": {"buttons": (0..4).map(button).collect::<Vec<_>>()}}),
        );
        assert_eq!(check_message(&four).unwrap_err().code, 131009);
        let sticker = message("sticker", json!({"id": "1", "caption": "no"}));
        assert_eq!(check_message(&sticker).unwrap_err().code, 100);
    }

    #[test]
    fn recipients_are_phones_or_bsuids() {
        assert!(valid_recipient("4915112345678"));
        assert!(valid_recipient("US.13491208655302741918"));
        assert!(!valid_recipient("+4915112345678"));
        assert!(!valid_recipient("us.1"));
        assert!(!valid_recipient("12345"));
    }
}
