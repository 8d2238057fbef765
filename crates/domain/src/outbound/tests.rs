use serde_json::{Value, json};

use super::*;
use crate::identity::Bsuid;

const FROM: &str = "106540352242922";

fn with(mut fields: Value) -> Value {
    let map = fields.as_object_mut().unwrap();
    map.entry("from").or_insert(json!(FROM));
    map.entry("to").or_insert(json!("4915112345678"));
    fields
}

/// The path and message of a refusal, as the API reports it.
fn refusal(body: Value) -> (String, String) {
    refusal_of(&body.to_string())
}

fn refusal_of(text: &str) -> (String, String) {
    let mut de = serde_json::Deserializer::from_str(text);
    match serde_path_to_error::deserialize::<_, OutboundMessage>(&mut de) {
        Ok(m) => panic!("expected a refusal, got {m:?}"),
        Err(e) => (e.path().to_string(), e.into_inner().to_string()),
    }
}

fn read(body: Value) -> OutboundMessage {
    serde_json::from_value(body).unwrap()
}

fn invalid_field(body: Value) -> String {
    read(body).validate().unwrap_err().field
}

#[test]
fn every_type_reads_back_what_it_writes_with_its_type_naming_its_part() {
    let samples = [
        json!({"type": "text", "text": {"body": "hi", "preview_url": true}}),
        json!({"type": "template", "template": {"name": "t", "language": "en", "components": [
            {"type": "body", "parameters": [{"type": "text", "text": "a"}, {"type": "date_time", "fallback_value": "x"}]}]}}),
        json!({"type": "image", "image": {"id": "1", "caption": "c"}}),
        json!({"type": "video", "video": {"link": "https://v.example/a.mp4"}}),
        json!({"type": "audio", "audio": {"id": "2"}}),
        json!({"type": "document", "document": {"id": "3", "filename": "a.pdf"}}),
        json!({"type": "sticker", "sticker": {"id": "4"}}),
        json!({"type": "buttons", "buttons": {"body": "b", "buttons": [{"id": "1", "title": "A"}]}}),
        json!({"type": "list", "list": {"body": "b", "button": "B", "sections": [{"rows": [{"id": "1", "title": "A"}]}]}}),
        json!({"type": "reaction", "reaction": {"message_id": "wamid.X", "emoji": "👍"}}),
        json!({"type": "location", "location": {"latitude": 1.5, "longitude": 2.5}}),
        json!({"type": "contacts", "contacts": [{"name": {"formatted_name": "Ann"}}]}),
    ];
    for sample in samples {
        let message = read(with(sample.clone()));
        message.validate().unwrap();
        let written = serde_json::to_value(&message).unwrap();
        let kind = message.content.message_type();
        assert_eq!(written["type"], kind.name(), "{sample}");
        assert!(written.get(kind.name()).is_some(), "{sample}");
        assert_eq!(written, with(sample.clone()));
        assert_eq!(read(written), message);
    }
}

#[test]
fn the_part_may_come_before_its_type_and_a_bsuid_is_a_recipient() {
    let message = read(json!({"text": {"body": "hi"}, "type": "text", "from": FROM,
        "to": "US.13491208655302741918", "reply_to": "wamid.X"}));
    assert_eq!(
        message.to,
        Recipient::Bsuid(Bsuid::parse("US.13491208655302741918").unwrap())
    );
    assert_eq!(message.reply_to.as_deref(), Some("wamid.X"));
    assert!(!message.content.is_template());
}

#[test]
fn refusals_name_the_field_at_fault() {
    let cases = [
        (json!({"type": "text"}), ".", "missing field `text`"),
        (
            json!({"image": {"id": "1"}, "type": "text"}),
            "type",
            "holds a `image` part",
        ),
        (
            json!({"type": "text", "text": {"body": "a", "bold": true}}),
            "text.bold",
            "unknown field",
        ),
        (
            json!({"type": "text", "text": {"body": "a"}, "priority": 1}),
            "priority",
            "unknown field `priority`",
        ),
        (json!({"type": "fax"}), "type", "unknown variant `fax`"),
        (
            json!({"type": "text", "to": "12", "text": {"body": "a"}}),
            "to",
            "neither a phone number",
        ),
        (
            json!({"type": "template", "template": {"name": "t", "language": "en",
                "components": [{"type": "body", "parameters": [{"type": "text", "txt": "a"}]}]}}),
            "template.components[0].parameters[0]",
            "unknown field `txt`",
        ),
        (
            json!({"type": "template", "template": {"name": "order", "language": "en_US",
                "components": [{"type": "header", "parameters": [{"type": "image",
                    "image": {"link": "https://example.com/a.png", "caption": "lost"}}]}]}}),
            "template.components[0].parameters[0]",
            "caption",
        ),
    ];
    for (body, path, message) in cases {
        let body = with(body);
        let (got_path, got_message) = refusal(body.clone());
        assert_eq!(got_path, path, "{body}");
        assert!(got_message.contains(message), "{body}: {got_message}");
    }
    // key order and repeated keys matter here, so these bodies are written out as text
    let head = format!(r#""from": "{FROM}", "to": "4915112345678", "type": "text""#);
    let (path, message) = refusal_of(&format!(
        r#"{{{head}, "text": {{"body": "a"}}, "image": {{"id": "1"}}}}"#
    ));
    assert_eq!(path, "image");
    assert!(
        message.contains("not allowed when type is text"),
        "{message}"
    );
    let (path, message) = refusal_of(&format!(
        r#"{{{head}, "type": "text", "text": {{"body": "a"}}}}"#
    ));
    assert_eq!(path, ".");
    assert!(message.contains("duplicate field `type`"), "{message}");
    let (path, message) =
        refusal(json!({"to": "4915112345678", "type": "text", "text": {"body": "a"}}));
    assert_eq!(path, ".");
    assert!(message.starts_with("missing field `from`"), "{message}");
}

#[test]
fn a_sender_that_is_no_phone_number_id_is_refused_by_name() {
    for from in [
        "1",
        "abc",
        "1234567890123456789012",
        "10654035224292\u{0}",
        "",
    ] {
        let body = json!({"from": from, "type": "text", "text": {"body": "hi"}});
        assert_eq!(invalid_field(with(body)), "from", "{from:?}");
    }
}

#[test]
fn empty_and_oversized_text_are_refused_before_sending() {
    let text = |body: String| with(json!({"type": "text", "text": {"body": body}}));
    assert_eq!(invalid_field(text("  ".into())), "text.body");
    assert_eq!(
        invalid_field(text("ä".repeat(limits::TEXT_CHARS + 1))),
        "text.body"
    );
    read(text("ä".repeat(limits::TEXT_CHARS)))
        .validate()
        .unwrap();
}

#[test]
fn more_than_three_reply_buttons_or_repeated_ids_are_refused() {
    let buttons = |ids: &[&str]| {
        let buttons: Vec<Value> = ids
            .iter()
            .map(|id| json!({"id": id, "title": format!("Option {id}")}))
            .collect();
        with(json!({"type": "buttons", "buttons": {"body": "Pick", "buttons": buttons}}))
    };
    assert_eq!(
        invalid_field(buttons(&["a", "b", "c", "d"])),
        "buttons.buttons"
    );
    assert_eq!(invalid_field(buttons(&["a", "a"])), "buttons.buttons[1]");
    read(buttons(&["a", "b", "c"])).validate().unwrap();
}

#[test]
fn a_list_holds_at_most_ten_rows_and_titled_sections() {
    let rows = |n: usize, p: &str| -> Vec<Value> {
        (0..n)
            .map(|i| json!({"id": format!("{p}{i}"), "title": format!("Row {i}")}))
            .collect()
    };
    let list = |sections: Value| {
        with(
            json!({"type": "list", "list": {"body": "Menu", "button": "Choose", "sections": sections}}),
        )
    };
    read(list(json!([{"rows": rows(10, "a")}])))
        .validate()
        .unwrap();
    assert_eq!(
        invalid_field(list(json!([{"rows": rows(11, "a")}]))),
        "list.sections"
    );
    assert_eq!(
        invalid_field(list(
            json!([{"title": "A", "rows": rows(2, "a")}, {"rows": rows(2, "b")}])
        )),
        "list.sections[1].title"
    );
    assert_eq!(
        invalid_field(list(
            json!([{"title": "A", "rows": rows(2, "a")}, {"title": "B", "rows": rows(2, "a")}])
        )),
        "list.sections[1].rows[0].id"
    );
}

#[test]
fn media_by_id_or_https_link_with_captions_only_where_meta_allows() {
    let media = |kind: &str, part: Value| with(json!({"type": kind, kind: part}));
    read(media(
        "image",
        json!({"id": "1234567890", "caption": "Look"}),
    ))
    .validate()
    .unwrap();
    assert_eq!(
        invalid_field(media("image", json!({"link": "http://x.example/a.jpg"}))),
        "image.link"
    );
    assert_eq!(
        invalid_field(media(
            "image",
            json!({"id": "1", "link": "https://x.example/a"})
        )),
        "image"
    );
    assert_eq!(invalid_field(media("video", json!({}))), "video");
    assert_eq!(
        invalid_field(media("sticker", json!({"id": "1", "caption": "no"}))),
        "sticker.caption"
    );
    assert_eq!(
        invalid_field(media("image", json!({"id": "1", "filename": "a.png"}))),
        "image.filename"
    );
}

#[test]
fn template_names_languages_buttons_and_parameters_are_checked() {
    let template = |t: Value| with(json!({"type": "template", "template": t}));
    assert_eq!(
        invalid_field(template(json!({"name": "Order Update", "language": "en"}))),
        "template.name"
    );
    assert_eq!(
        invalid_field(template(json!({"name": "order", "language": "english!"}))),
        "template.language"
    );
    assert_eq!(
        invalid_field(template(json!({"name": "x", "language": "en",
            "components": [{"type": "button", "index": 0}]}))),
        "template.components[0]"
    );
    assert_eq!(
        invalid_field(template(json!({"name": "x", "language": "en",
            "components": [{"type": "body", "parameters": [
                {"type": "currency", "fallback_value": "5", "code": "euro", "amount_1000": 5000}]}]}))),
        "template.components[0].parameters[0].code"
    );
    assert_eq!(
        invalid_field(template(json!({"name": "x", "language": "en",
            "components": [{"type": "header", "parameters": [{"type": "video", "video": {}}]}]}))),
        "template.components[0].parameters[0].video"
    );
    assert!(
        read(template(json!({"name": "x", "language": "en"})))
            .content
            .is_template()
    );
}

#[test]
fn reactions_locations_cards_and_replies_are_checked() {
    assert_eq!(
        invalid_field(with(
            json!({"type": "reaction", "reaction": {"message_id": "wamid.X", "emoji": "ok"}})
        )),
        "reaction.emoji"
    );
    read(with(
        json!({"type": "reaction", "reaction": {"message_id": "wamid.X", "emoji": ""}}),
    ))
    .validate()
    .unwrap();
    assert_eq!(
        invalid_field(with(
            json!({"type": "location", "location": {"latitude": 91.0, "longitude": 0.0}})
        )),
        "location.latitude"
    );
    assert_eq!(
        invalid_field(with(
            json!({"type": "contacts", "contacts": [{"phones": []}]})
        )),
        "contacts"
    );
    assert_eq!(
        invalid_field(with(
            json!({"type": "text", "text": {"body": "a"}, "reply_to": ""})
        )),
        "reply_to"
    );
}

#[test]
fn constructors_make_valid_messages() {
    let to = Recipient::parse("+49 151 12345678").unwrap();
    OutboundMessage::text(FROM, to.clone(), "hi")
        .validate()
        .unwrap();
    let template = OutboundMessage::template(FROM, to, "hello_world", "en_US");
    template.validate().unwrap();
    assert!(template.content.is_template());
}
