use serde_json::json;

use super::*;
use crate::domain::outbound::{Content, TextPart};

fn text_to(from: &str, to: &str) -> OutboundMessage {
    OutboundMessage::text(from, Recipient::parse(to).unwrap(), "hi")
}

fn tenant() -> TenantId {
    TenantId::parse("acme").unwrap()
}

#[test]
fn the_same_idempotency_key_makes_the_same_job_id_and_none_makes_a_fresh_one() {
    let m = text_to("10654", "4915112345678");
    let a = OutboundJob::new(&tenant(), &m, Some("order-7"), 10).unwrap();
    let b = OutboundJob::new(&tenant(), &m, Some("order-7"), 99).unwrap();
    assert_eq!(a.job_id, b.job_id);
    let other_number = text_to("20654", "4915112345678");
    let c = OutboundJob::new(&tenant(), &other_number, Some("order-7"), 10).unwrap();
    assert_ne!(a.job_id, c.job_id);
    let d = OutboundJob::new(&tenant(), &m, None, 10).unwrap();
    let e = OutboundJob::new(&tenant(), &m, None, 10).unwrap();
    assert_ne!(d.job_id, e.job_id);
    assert_eq!(d.job_id.len(), 32);
}

#[test]
fn a_job_round_trips_through_its_body_typed_and_keeps_personal_data_out_of_its_group() {
    let job = OutboundJob::new(&tenant(), &text_to("10654", "+49 151 12345678"), None, 5).unwrap();
    assert_eq!(job.to(), "4915112345678");
    assert_eq!(job.phone_number_id(), "10654");
    assert!(job.free_form());
    let body: Value = serde_json::from_str(&job.to_body()).unwrap();
    assert_eq!(body["v"], 2);
    assert_eq!(body["message"]["text"]["body"], "hi");
    assert!(body.get("activity_recorded").is_none());
    let parsed = OutboundJob::parse(&job.to_body()).unwrap();
    assert_eq!(parsed, job);
    let mut recorded = job.clone();
    recorded.activity_recorded = true;
    assert!(
        OutboundJob::parse(&recorded.to_body())
            .unwrap()
            .activity_recorded
    );
    let ids = crate::queue::ids::QueueIdKey::of(
        crate::privacy::cipher::DataKey::from_slice(&[5; 32]).unwrap(),
    );
    assert!(!job.message_group_id(&ids).contains("4915112345678"));
    assert!(job.message_group_id(&ids).starts_with("acme:10654:"));
    let stored = job.stored_form();
    assert_eq!(stored.message_type, "text");
    assert!(!stored.content.contains("4915112345678"));
}

#[test]
fn meta_is_asked_to_echo_the_jobs_tag() {
    let job = OutboundJob::new(&tenant(), &text_to("10654", "4915112345678"), None, 1).unwrap();
    let request = serde_json::to_value(job.request_for_meta()).unwrap();
    assert_eq!(request["biz_opaque_callback_data"], job.status_tag());
    assert!(job.status_tag().ends_with(&job.job_id));
    assert_eq!(request["to"], "4915112345678");
    assert_eq!(request["text"]["body"], "hi");
}

#[test]
fn a_version_one_job_queued_before_an_upgrade_is_still_sent_as_it_was_made() {
    let body = json!({"v": 1, "job_id": "0123", "tenant_id": "acme", "phone_number_id": "10654",
        "to": "4915112345678", "enqueued_at": 7, "message_type": "interactive", "free_form": true,
        "request": {"messaging_product": "whatsapp", "recipient_type": "individual", "to": "4915112345678",
            "type": "interactive", "interactive": {"type": "button", "body": {"text": "Pick"},
            "action": {"buttons": [{"type": "reply", "reply": {"id": "a", "title": "A"}}]}}}});
    let job = OutboundJob::parse(&body.to_string()).unwrap();
    assert_eq!(
        (job.phone_number_id(), job.to(), job.free_form()),
        ("10654", "4915112345678", true)
    );
    assert_eq!(job.enqueued_at, 7);
    let request = serde_json::to_value(job.request_for_meta()).unwrap();
    assert_eq!(request["interactive"]["body"]["text"], "Pick");
    assert_eq!(request["biz_opaque_callback_data"], "wg1.0123");
    let stored = job.stored_form();
    assert_eq!(stored.message_type, "interactive");
    assert!(!stored.content.contains("4915112345678"));
    assert_eq!(OutboundJob::parse(&job.to_body()).unwrap(), job);
}

#[test]
fn an_invalid_message_makes_no_job_and_a_tampered_or_unknown_job_is_refused() {
    let mut m = text_to("10654", "4915112345678");
    m.content = Content::Text {
        text: TextPart {
            body: String::new(),
            preview_url: false,
        },
    };
    assert!(OutboundJob::new(&tenant(), &m, None, 1).is_err());
    let job = OutboundJob::new(&tenant(), &text_to("10654", "4915112345678"), None, 1).unwrap();
    let tampered = job.to_body().replace("4915112345678", "not-a-number");
    assert!(OutboundJob::parse(&tampered).is_err());
    assert!(OutboundJob::parse("{").is_err());
    let future = job.to_body().replace(r#""v":2"#, r#""v":3"#);
    assert!(matches!(
        OutboundJob::parse(&future),
        Err(JobError::Version(3))
    ));
}
