//! Sending, end to end: a simulated user writes in, a reply is queued, the outbound worker
//! sends it to the Cloud API simulator, and the simulator's status webhooks bring it to
//! `read`. Also: a redelivered job is not sent twice; a free-form message outside the 24 h
//! window is refused before any call, and one in its last minutes goes out (the exact time
//! of the newest inbound message decides); every message type passes Meta's checks.

use std::time::Duration;
use wagate_messaging::store::MessageStore;

use serde_json::Value;
use serde_json::json;
use wagate_messaging::cloud_api::request::MarkRead;
use wagate_messaging::cloud_api::{CloudApiClient, CloudApiConfig, MetaRequest, SendError};
use wagate_messaging::domain::conversation::SendOutcome;
use wagate_messaging::domain::outbound::{OutboundMessage, Recipient};
use wagate_messaging::domain::status::DeliveryStatus;
use wagate_messaging::outbound::OutboundJob;
use wagate_messaging::secret::Secret;
use wagate_tests::{Stack, TestTenant, eventually, now, random_digits, text, text_to, wamid};

const WAIT: Duration = Duration::from_secs(60);

async fn setup() -> (Stack, TestTenant) {
    let stack = Stack::connect().await;
    let tenant = TestTenant::create(&stack).await;
    tenant.register_at_sim(&stack, json!({})).await;
    (stack, tenant)
}

async fn user_wrote_in(stack: &Stack, tenant: &TestTenant, phone: &str) {
    tenant
        .user_writes(stack, phone, "Hello, is my order on its way?")
        .await;
    eventually(
        WAIT,
        "the inbound message to create the contact",
        || async { stack.contact_of(&tenant.id, phone).await },
    )
    .await;
}

async fn accepted_wamid(stack: &Stack, job: &OutboundJob) -> String {
    match stack.outcome_of(job, WAIT).await.outcome {
        SendOutcome::Accepted { wamid, .. } => wamid,
        other => panic!("the message was not accepted: {other:?}"),
    }
}

#[tokio::test]
async fn a_reply_to_a_user_who_wrote_in_is_sent_and_followed_to_read() {
    let (stack, tenant) = setup().await;
    let phone = format!("49151{}", random_digits(8));
    user_wrote_in(&stack, &tenant, &phone).await;

    let job = stack
        .outbound
        .enqueue(
            &tenant.id,
            &text_to(&tenant.phone_number_id, &phone, "Yes, it ships today."),
            None,
            now(),
        )
        .await
        .unwrap();
    let wamid = accepted_wamid(&stack, &job).await;

    let received = tenant.sim_received(&stack).await;
    let sends: Vec<_> = received
        .iter()
        .filter(|r| r["to"] == phone.as_str())
        .collect();
    assert_eq!(sends.len(), 1, "{received:?}");
    assert_eq!(sends[0]["http_status"], 200);
    assert_eq!(sends[0]["wamid"], wamid.as_str());
    assert_eq!(sends[0]["body"]["text"]["body"], "Yes, it ships today.");
    assert_eq!(sends[0]["body"]["messaging_product"], "whatsapp");

    let contact = stack.contact_of(&tenant.id, &phone).await.unwrap();
    let state = eventually(
        WAIT,
        "the status webhooks to bring the message to read",
        || async {
            let state = stack
                .store
                .repo::<MessageStore>()
                .delivery_state(&tenant.id, &contact, &wamid, now())
                .await
                .unwrap()?;
            (state.status == Some(DeliveryStatus::Read)).then_some(state)
        },
    )
    .await;
    let reached: Vec<_> = state.history.iter().map(|(s, _)| *s).collect();
    assert_eq!(
        reached,
        [
            DeliveryStatus::Sent,
            DeliveryStatus::Delivered,
            DeliveryStatus::Read
        ]
    );
    assert_eq!(state.pricing_category.as_deref(), Some("service"));
}

#[tokio::test]
async fn a_job_redelivered_after_its_send_succeeded_is_not_sent_again() {
    let (stack, tenant) = setup().await;
    let phone = format!("49152{}", random_digits(8));
    user_wrote_in(&stack, &tenant, &phone).await;
    let job = stack
        .outbound
        .enqueue(
            &tenant.id,
            &text_to(&tenant.phone_number_id, &phone, "first"),
            Some("order-1"),
            now(),
        )
        .await
        .unwrap();
    accepted_wamid(&stack, &job).await;

    // The same job again, past SQS's own five-minute deduplication, as a redelivery after a
    // lost acknowledgement would bring it; then a second job behind it in the same group.
    stack
        .sqs
        .send_message()
        .queue_url(std::env::var("OUTBOUND_QUEUE_URL").unwrap())
        .message_body(job.to_body())
        .message_group_id(job.message_group_id(stack.queue_ids.key().await.unwrap()))
        .message_deduplication_id(format!("{}-again", job.job_id))
        .send()
        .await
        .unwrap();
    let next = stack
        .outbound
        .enqueue(
            &tenant.id,
            &text_to(&tenant.phone_number_id, &phone, "second"),
            None,
            now(),
        )
        .await
        .unwrap();
    accepted_wamid(&stack, &next).await;

    let bodies: Vec<String> = tenant
        .sim_received(&stack)
        .await
        .iter()
        .filter(|r| r["to"] == phone.as_str())
        .map(|r| {
            r["body"]["text"]["body"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect();
    assert_eq!(
        bodies,
        ["first", "second"],
        "the redelivered job was sent again"
    );
}

#[tokio::test]
async fn a_free_form_message_outside_the_window_is_refused_before_calling_meta() {
    let (stack, tenant) = setup().await;
    let phone = format!("49153{}", random_digits(8));
    let job = stack
        .outbound
        .enqueue(
            &tenant.id,
            &text_to(&tenant.phone_number_id, &phone, "Hi!"),
            None,
            now(),
        )
        .await
        .unwrap();
    let record = stack.outcome_of(&job, WAIT).await;
    assert!(
        matches!(&record.outcome, SendOutcome::Refused { reason } if reason.contains("24-hour")),
        "{record:?}"
    );
    assert!(
        tenant.sim_received(&stack).await.is_empty(),
        "Meta was called"
    );

    // A template needs no window.
    let to = Recipient::parse(&phone).unwrap();
    let template = OutboundMessage::template(&tenant.phone_number_id, to, "order_update", "en_US");
    let job = stack
        .outbound
        .enqueue(&tenant.id, &template, None, now())
        .await
        .unwrap();
    accepted_wamid(&stack, &job).await;
}

/// The contact profile's `last_inbound_at` moves only in steps of five minutes, so near the
/// window's end the sender reads the newest inbound message: a user who wrote 24 h + 1 min
/// ago and again 2 min later (the profile still says the first) may get a free-form reply;
/// one who wrote only 24 h + 1 min ago may not.
#[tokio::test]
async fn in_the_windows_last_minutes_the_newest_inbound_message_decides() {
    let stack = Stack::connect().await;
    let tenant = TestTenant::create(&stack).await;
    // The simulator did not see these messages (they come straight to our webhook), so it
    // leaves the window to us.
    tenant
        .register_at_sim(&stack, json!({"enforce_window": false}))
        .await;
    let first_at = now() - 24 * 3600 - 60;
    let still_open = format!("49155{}", random_digits(8));
    let closed = format!("49156{}", random_digits(8));
    for (phone, at) in [
        (&still_open, first_at),
        (&still_open, first_at + 120),
        (&closed, first_at),
    ] {
        let (status, body) = stack
            .post_signed(&tenant.text_from(phone, &wamid(), at, "hello"))
            .await;
        assert_eq!(status, 200, "{body}");
    }
    eventually(WAIT, "the three inbound messages stored", || async {
        let items = stack.tenant_items(tenant.id.as_str()).await;
        let inbound = items
            .iter()
            .filter(|it| text(it, "sk").is_some_and(|sk| sk.starts_with("MSG#")))
            .filter(|it| text(it, "direction") == Some("in"))
            .count();
        (inbound == 3).then_some(())
    })
    .await;

    let enqueue = |to: &str| {
        let message = text_to(&tenant.phone_number_id, to, "Sorry for the wait!");
        let stack = &stack;
        let tenant = &tenant;
        async move {
            stack
                .outbound
                .enqueue(&tenant.id, &message, None, now())
                .await
                .unwrap()
        }
    };
    let open_job = enqueue(&still_open).await;
    let closed_job = enqueue(&closed).await;
    accepted_wamid(&stack, &open_job).await;
    let record = stack.outcome_of(&closed_job, WAIT).await;
    assert!(
        matches!(&record.outcome, SendOutcome::Refused { reason } if reason.contains("24-hour")),
        "{record:?}"
    );
    let sent_to: Vec<_> = tenant
        .sim_received(&stack)
        .await
        .iter()
        .map(|r| r["to"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(sent_to, [still_open]);
}

/// Every type and part the API takes, as a business would write them (without `from`,
/// `to` and `reply_to`).
fn every_kind_of_message() -> Vec<Value> {
    vec![
        json!({"type": "text", "text": {"body": "Plain text https://example.com", "preview_url": true}}),
        json!({"type": "image", "image": {"id": "1234567890", "caption": "A photo"}}),
        json!({"type": "video", "video": {"link": "https://example.com/v.mp4", "caption": "A clip"}}),
        json!({"type": "audio", "audio": {"link": "https://example.com/a.ogg"}}),
        json!({"type": "document", "document": {"link": "https://example.com/d.pdf",
            "caption": "Invoice", "filename": "invoice.pdf"}}),
        json!({"type": "sticker", "sticker": {"id": "998877"}}),
        json!({"type": "buttons", "buttons": {"body": "Pick one", "header": "Choice",
            "footer": "Thanks", "buttons": [{"id": "b1", "title": "Option 1"},
            {"id": "b2", "title": "Option 2"}, {"id": "b3", "title": "Option 3"}]}}),
        json!({"type": "list", "list": {"body": "Our menu", "button": "See all", "sections": [
            {"title": "Drinks", "rows": [{"id": "tea", "title": "Tea", "description": "Hot"}]},
            {"title": "Food", "rows": [{"id": "cake", "title": "Cake"}]}]}}),
        json!({"type": "reaction", "reaction": {"message_id": "wamid.ABC", "emoji": "👍"}}),
        json!({"type": "reaction", "reaction": {"message_id": "wamid.ABC"}}),
        json!({"type": "location", "location": {"latitude": 52.52, "longitude": 13.405,
            "name": "Office", "address": "Berlin"}}),
        json!({"type": "contacts", "contacts": [{"name": {"formatted_name": "Ana Lima",
            "first_name": "Ana"}, "phones": [{"phone": "+4915112345678", "type": "CELL"}]}]}),
        json!({"type": "template", "template": {"name": "order_shipped", "language": "de",
            "components": [
                {"type": "header", "parameters": [{"type": "image",
                    "image": {"link": "https://example.com/h.png"}}]},
                {"type": "body", "parameters": [
                    {"type": "text", "text": "Ana", "parameter_name": "customer"},
                    {"type": "currency", "fallback_value": "€12.50", "code": "EUR", "amount_1000": 12_500},
                    {"type": "date_time", "fallback_value": "May 1"}]},
                {"type": "button", "sub_type": "quick_reply", "index": 0,
                    "parameters": [{"type": "payload", "payload": "track"}]}]}}),
    ]
}

/// `content` sent from the tenant's number to `to`.
fn message(
    tenant: &TestTenant,
    to: &str,
    reply_to: Option<&str>,
    mut content: Value,
) -> OutboundMessage {
    content["from"] = json!(tenant.phone_number_id);
    content["to"] = json!(to);
    if let Some(reply_to) = reply_to {
        content["reply_to"] = json!(reply_to);
    }
    serde_json::from_value(content).expect("a message the API takes")
}

#[tokio::test]
async fn every_message_type_the_client_builds_passes_metas_checks_and_a_bad_one_never_leaves() {
    let (stack, tenant) = setup().await;
    let phone = format!("49154{}", random_digits(8));
    let inbound = tenant.user_writes(&stack, &phone, "hi").await;
    let client = CloudApiClient::new(CloudApiConfig {
        base_url: stack.sim_url.clone(),
        ..CloudApiConfig::default()
    })
    .unwrap();
    let token = Secret::new(tenant.access_token.clone());
    for content in every_kind_of_message() {
        let message = message(&tenant, &phone, Some(&inbound), content);
        let accepted = client.send(&token, &message).await;
        assert!(accepted.is_ok(), "{message:?}: {accepted:?}");
    }
    client
        .mark_read(
            &tenant.phone_number_id,
            &token,
            &MarkRead {
                message_id: inbound,
                typing_indicator: true,
            },
        )
        .await
        .unwrap();
    let sent = tenant.sim_received(&stack).await.len();

    let buttons: Vec<Value> = (1..=4)
        .map(|i| json!({"id": format!("b{i}"), "title": "x"}))
        .collect();
    let four_buttons = message(
        &tenant,
        &phone,
        None,
        json!({"type": "buttons", "buttons": {"body": "Too many", "buttons": buttons}}),
    );
    let error = client.send(&token, &four_buttons).await.unwrap_err();
    assert!(matches!(error, SendError::Invalid(_)), "{error:?}");
    assert_eq!(
        tenant.sim_received(&stack).await.len(),
        sent,
        "an invalid request reached Meta"
    );

    // And the simulator refuses what Meta refuses, with Meta's codes.
    let mut raw = MetaRequest::new(&four_buttons).to_value();
    raw["interactive"]["action"]["buttons"] = json!([]);
    let response = stack
        .http
        .post(format!(
            "{}/v25.0/{}/messages",
            stack.sim_url, tenant.phone_number_id
        ))
        .bearer_auth(&tenant.access_token)
        .json(&raw)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], 131009);
}
