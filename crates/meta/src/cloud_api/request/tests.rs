//! GIVEN a message as the business API takes it, WHEN it is turned into Meta's request,
//! THEN Meta's shape comes out, field for field.

use serde_json::{Value, json};

use super::*;

fn meta(api_body: Value) -> Value {
    let message: OutboundMessage = serde_json::from_value(api_body).unwrap();
    message.validate().unwrap();
    MetaRequest::new(&message).to_value()
}

fn with_addressing(to: &str, mut content: Value) -> Value {
    let map = content.as_object_mut().unwrap();
    map.insert("messaging_product".into(), json!("whatsapp"));
    map.insert("recipient_type".into(), json!("individual"));
    map.insert("to".into(), json!(to));
    content
}

#[test]
fn a_text_reply_carries_its_context_and_a_status_tag_when_asked() {
    let message: OutboundMessage = serde_json::from_value(json!({"from": "106540352242922",
        "to": "+49 151 12345678", "reply_to": "wamid.IN", "type": "text",
        "text": {"body": "Hallo", "preview_url": true}}))
    .unwrap();
    assert_eq!(
        MetaRequest::new(&message).to_value(),
        with_addressing(
            "4915112345678",
            json!({"context": {"message_id": "wamid.IN"}, "type": "text",
                "text": {"body": "Hallo", "preview_url": true}})
        )
    );
    let tagged = MetaRequest::new(&message)
        .with_status_tag("wg1.x")
        .to_value();
    assert_eq!(tagged["biz_opaque_callback_data"], "wg1.x");
    assert_eq!(
        MetaContent::new(&message).to_value(),
        json!({"context": {"message_id": "wamid.IN"}, "type": "text",
            "text": {"body": "Hallo", "preview_url": true}})
    );
}

#[test]
fn reply_buttons_and_lists_become_interactive_messages() {
    assert_eq!(
        meta(
            json!({"from": "106540352242922", "to": "US.13491208655302741918", "type": "buttons",
            "buttons": {"body": "Pick", "header": "H", "buttons": [{"id": "a", "title": "A"}, {"id": "b", "title": "B"}]}})
        ),
        with_addressing(
            "US.13491208655302741918",
            json!({"type": "interactive", "interactive": {"type": "button",
                "header": {"type": "text", "text": "H"}, "body": {"text": "Pick"},
                "action": {"buttons": [{"type": "reply", "reply": {"id": "a", "title": "A"}},
                    {"type": "reply", "reply": {"id": "b", "title": "B"}}]}}})
        )
    );
    assert_eq!(
        meta(
            json!({"from": "106540352242922", "to": "4915112345678", "type": "list",
            "list": {"body": "Menu", "footer": "F", "button": "Choose",
                "sections": [{"title": "S", "rows": [{"id": "r1", "title": "One", "description": "first"}, {"id": "r2", "title": "Two"}]}]}})
        ),
        with_addressing(
            "4915112345678",
            json!({"type": "interactive", "interactive": {"type": "list",
                "body": {"text": "Menu"}, "footer": {"text": "F"},
                "action": {"button": "Choose", "sections": [{"title": "S", "rows": [
                    {"id": "r1", "title": "One", "description": "first"}, {"id": "r2", "title": "Two"}]}]}}})
        )
    );
}

#[test]
fn a_template_with_every_kind_of_parameter() {
    let request = meta(
        json!({"from": "106540352242922", "to": "4915112345678", "type": "template",
        "template": {"name": "order_update", "language": "en_US", "components": [
            {"type": "header", "parameters": [{"type": "image", "image": {"link": "https://img.example/p.png"}}]},
            {"type": "body", "parameters": [
                {"type": "text", "text": "Ana", "parameter_name": "first_name"},
                {"type": "currency", "fallback_value": "€12.50", "code": "EUR", "amount_1000": 12500},
                {"type": "date_time", "fallback_value": "Tuesday"}]},
            {"type": "button", "sub_type": "quick_reply", "index": 0, "parameters": [{"type": "payload", "payload": "TRACK"}]}]}}),
    );
    assert_eq!(
        request["template"],
        json!({"name": "order_update", "language": {"code": "en_US"}, "components": [
            {"type": "header", "parameters": [{"type": "image", "image": {"link": "https://img.example/p.png"}}]},
            {"type": "body", "parameters": [
                {"type": "text", "text": "Ana", "parameter_name": "first_name"},
                {"type": "currency", "currency": {"fallback_value": "€12.50", "code": "EUR", "amount_1000": 12500}},
                {"type": "date_time", "date_time": {"fallback_value": "Tuesday"}}]},
            {"type": "button", "sub_type": "quick_reply", "index": "0", "parameters": [{"type": "payload", "payload": "TRACK"}]}]})
    );
    let bare = meta(
        json!({"from": "106540352242922", "to": "4915112345678", "type": "template",
        "template": {"name": "hello_world", "language": "en_US"}}),
    );
    assert_eq!(
        bare["template"],
        json!({"name": "hello_world", "language": {"code": "en_US"}})
    );
}

#[test]
fn media_reactions_locations_and_cards_keep_metas_shape() {
    assert_eq!(
        meta(
            json!({"from": "106540352242922", "to": "4915112345678", "type": "document",
            "document": {"link": "https://files.example/invoice.pdf", "filename": "invoice.pdf"}})
        )["document"],
        json!({"link": "https://files.example/invoice.pdf", "filename": "invoice.pdf"})
    );
    assert_eq!(
        meta(
            json!({"from": "106540352242922", "to": "4915112345678", "type": "reaction",
            "reaction": {"message_id": "wamid.X"}})
        )["reaction"],
        json!({"message_id": "wamid.X", "emoji": ""})
    );
    assert_eq!(
        meta(
            json!({"from": "106540352242922", "to": "4915112345678", "type": "location",
            "location": {"latitude": 52.5, "longitude": 13.4, "name": "Office"}})
        )["location"],
        json!({"latitude": 52.5, "longitude": 13.4, "name": "Office"})
    );
    let cards = json!([{"name": {"formatted_name": "Ann"}, "phones": [{"phone": "+1"}]}]);
    assert_eq!(
        meta(
            json!({"from": "106540352242922", "to": "4915112345678", "type": "contacts", "contacts": cards})
        )["contacts"],
        cards
    );
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
