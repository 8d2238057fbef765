//! The business API's messages on the local stack: a reply in the 24-hour window is
//! accepted (202), sent, and readable with its delivery statuses; a free-form message
//! outside the window is refused with 422 before anything is queued; idempotency keys
//! replay or conflict; conversations page newest first; roles and tenant isolation hold;
//! bad requests name the field and queue nothing.

use std::time::Duration;
use wagate_messaging::store::TenantStore;
use wagate_messaging::store::tenant::SendingStop;

use reqwest::Method;
use serde_json::{Value, json};
use wagate_messaging::access::Role;
use wagate_tests::{Stack, TestTenant, eventually, random_digits};

const WAIT: Duration = Duration::from_secs(60);

struct Setup {
    stack: Stack,
    tenant: TestTenant,
    manager: String,
}

async fn setup() -> Setup {
    let stack = Stack::connect().await;
    let tenant = TestTenant::create(&stack).await;
    tenant.register_at_sim(&stack, json!({})).await;
    let manager = tenant.api_key(&stack, Role::Manager).await;
    Setup {
        stack,
        tenant,
        manager,
    }
}

fn phone() -> String {
    format!("49151{}", random_digits(8))
}

fn text_to(from: &str, to: &str, body: &str) -> Value {
    json!({"from": from, "to": to, "type": "text", "text": {"body": body}})
}

fn template_to(from: &str, to: &str) -> Value {
    json!({"from": from, "to": to, "type": "template",
        "template": {"name": "order_update", "language": "en_US",
            "components": [{"type": "body", "parameters": [{"type": "text", "text": "A-1001"}]}]}})
}

fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or_default()
}

impl Setup {
    async fn send(&self, key: &str, body: Value) -> (u16, Value) {
        self.stack
            .api(Method::POST, "/v1/messages", Some(key), Some(body), &[])
            .await
    }

    async fn get(&self, key: &str, path: &str) -> (u16, Value) {
        self.stack
            .api(Method::GET, path, Some(key), None, &[])
            .await
    }

    /// A user writes in and the pipeline has stored it: their window is open.
    async fn user_wrote_in(&self, phone: &str) -> String {
        self.tenant
            .user_writes(&self.stack, phone, "Where is my order?")
            .await;
        eventually(
            WAIT,
            "the inbound message to create the contact",
            || async { self.stack.contact_of(&self.tenant.id, phone).await },
        )
        .await
    }

    /// The operator suspends the tenant.
    async fn suspend(&self) {
        let (status, body) = self
            .stack
            .admin(
                Method::PATCH,
                &format!("/admin/v1/tenants/{}", self.tenant.id),
                Some(&self.stack.operator_key),
                Some(json!({"status": "suspended"})),
            )
            .await;
        assert_eq!(status, 200, "{body}");
    }

    async fn sends_to(&self, phone: &str) -> Vec<Value> {
        self.tenant
            .sim_received(&self.stack)
            .await
            .into_iter()
            .filter(|r| r["to"] == phone)
            .collect()
    }
}

#[tokio::test]
async fn a_reply_in_the_window_is_accepted_sent_and_read_back_with_its_statuses() {
    let s = setup().await;
    let phone = phone();
    let contact = s.user_wrote_in(&phone).await;
    let agent = s.tenant.api_key(&s.stack, Role::Agent).await;

    let (status, accepted) = s
        .send(
            &agent,
            text_to(&s.tenant.phone_number_id, &phone, "It ships today."),
        )
        .await;
    assert_eq!(status, 202, "{accepted}");
    assert_eq!(accepted["state"], "queued");
    assert_eq!(accepted["contact_id"], contact.as_str());
    assert_eq!(accepted["replayed"], false);
    let id = accepted["id"].as_str().unwrap().to_owned();

    // Readable at once, then followed through Meta's statuses.
    let (status, message) = s.get(&agent, &format!("/v1/messages/{id}")).await;
    assert_eq!(status, 200, "{message}");
    assert_eq!(message["direction"], "outbound");
    assert_eq!(message["content"]["text"]["body"], "It ships today.");
    let read = eventually(WAIT, "the message to be read", || async {
        let (_, m) = s.get(&agent, &format!("/v1/messages/{id}")).await;
        (m["state"] == "read").then_some(m)
    })
    .await;
    let history: Vec<&str> = read["status_history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["status"].as_str().unwrap())
        .collect();
    assert_eq!(history, ["sent", "delivered", "read"], "{read}");
    let sends = s.sends_to(&phone).await;
    assert_eq!(sends.len(), 1, "{sends:?}");
    assert_eq!(read["wamid"], sends[0]["wamid"]);

    // The conversation holds both sides, newest first.
    let (status, page) = s
        .get(&agent, &format!("/v1/conversations/{contact}/messages"))
        .await;
    assert_eq!(status, 200, "{page}");
    let messages = page["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 2, "{page}");
    // Both may carry the same second; within it the order is not defined.
    assert!(messages[0]["created_at"].as_i64() >= messages[1]["created_at"].as_i64());
    let reply = messages.iter().find(|m| m["id"] == id.as_str()).unwrap();
    assert_eq!(reply["state"], "read");
    let question = messages.iter().find(|m| m["id"] != id.as_str()).unwrap();
    assert_eq!(question["direction"], "inbound");
    assert_eq!(question["state"], "received");
    assert_eq!(question["content"]["body"], "Where is my order?");
    assert!(page.get("next_cursor").is_none(), "{page}");
}

#[tokio::test]
async fn free_form_outside_the_window_is_refused_before_queueing_and_a_template_goes_out() {
    let s = setup().await;
    let stranger = phone();
    let (status, body) = s
        .send(
            &s.manager,
            text_to(&s.tenant.phone_number_id, &stranger, "Hi!"),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(code(&body), "window_closed");
    assert_eq!(body["error"]["field"], "to");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("template")
    );
    assert!(s.stack.contact_of(&s.tenant.id, &stranger).await.is_none());

    let (status, accepted) = s
        .send(
            &s.manager,
            template_to(&s.tenant.phone_number_id, &stranger),
        )
        .await;
    assert_eq!(status, 202, "{accepted}");
    let id = accepted["id"].as_str().unwrap();
    eventually(WAIT, "the template to be accepted by Meta", || async {
        let (_, m) = s.get(&s.manager, &format!("/v1/messages/{id}")).await;
        m["wamid"].is_string().then_some(())
    })
    .await;
    let sends = s.sends_to(&stranger).await;
    assert_eq!(sends.len(), 1, "only the template reached Meta: {sends:?}");
    assert_eq!(sends[0]["body"]["type"], "template");
}

#[tokio::test]
async fn an_idempotency_key_replays_the_same_message_and_refuses_another_body() {
    let s = setup().await;
    let to = phone();
    let key = format!("order-{}", random_digits(8));
    let body = template_to(&s.tenant.phone_number_id, &to);
    let headers = [("Idempotency-Key", key.as_str())];
    let call = |body: Value| {
        let s = &s;
        async move {
            s.stack
                .api(
                    Method::POST,
                    "/v1/messages",
                    Some(&s.manager),
                    Some(body),
                    &headers,
                )
                .await
        }
    };
    let (first_status, first) = call(body.clone()).await;
    assert_eq!(first_status, 202, "{first}");
    let (again_status, again) = call(body.clone()).await;
    assert_eq!(again_status, 202, "{again}");
    assert_eq!(again["id"], first["id"]);
    assert_eq!(again["replayed"], true);

    let mut other = body.clone();
    other["template"]["name"] = json!("other_template");
    let (status, conflict) = call(other).await;
    assert_eq!(status, 409, "{conflict}");
    assert_eq!(code(&conflict), "conflict");

    let id = first["id"].as_str().unwrap();
    eventually(WAIT, "the message to be accepted by Meta", || async {
        let (_, m) = s.get(&s.manager, &format!("/v1/messages/{id}")).await;
        m["wamid"].is_string().then_some(())
    })
    .await;
    let (status, late) = call(body).await;
    assert_eq!(status, 202);
    assert_eq!(late["id"], first["id"]);
    assert_ne!(
        late["state"], "queued",
        "a replay tells the state now: {late}"
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(s.sends_to(&to).await.len(), 1, "sent once");

    let long_key = "k".repeat(256);
    let (status, bad) = s
        .stack
        .api(
            Method::POST,
            "/v1/messages",
            Some(&s.manager),
            Some(template_to(&s.tenant.phone_number_id, &to)),
            &[("Idempotency-Key", &long_key)],
        )
        .await;
    assert_eq!(status, 400, "{bad}");
    assert_eq!(bad["error"]["field"], "Idempotency-Key");
}

#[tokio::test]
async fn a_conversation_pages_newest_first_without_gaps_or_repeats() {
    let s = setup().await;
    let phone = phone();
    let contact = s.user_wrote_in(&phone).await;
    let mut sent = Vec::new();
    for i in 0..5 {
        let (status, accepted) = s
            .send(
                &s.manager,
                text_to(&s.tenant.phone_number_id, &phone, &format!("part {i}")),
            )
            .await;
        assert_eq!(status, 202, "{accepted}");
        sent.push(accepted["id"].as_str().unwrap().to_owned());
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..10 {
        let mut path = format!("/v1/conversations/{contact}/messages?limit=2");
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let (status, page) = s.get(&s.manager, &path).await;
        assert_eq!(status, 200, "{page}");
        let messages = page["messages"].as_array().unwrap();
        assert!(messages.len() <= 2);
        seen.extend(messages.iter().map(|m| {
            (
                m["id"].as_str().unwrap().to_owned(),
                m["created_at"].as_i64().unwrap(),
            )
        }));
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(
        seen.len(),
        6,
        "five replies and the user's message: {seen:?}"
    );
    let mut ids: Vec<&String> = seen.iter().map(|(id, _)| id).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 6, "no message twice");
    assert!(
        seen.windows(2).all(|w| w[0].1 >= w[1].1),
        "newest first: {seen:?}"
    );
    for id in &sent {
        assert!(seen.iter().any(|(seen_id, _)| seen_id == id));
    }
}

#[tokio::test]
async fn roles_and_tenants_are_kept_apart() {
    let s = setup().await;
    let phone = phone();
    let contact = s.user_wrote_in(&phone).await;
    let (_, accepted) = s
        .send(
            &s.manager,
            text_to(&s.tenant.phone_number_id, &phone, "Hello"),
        )
        .await;
    let id = accepted["id"].as_str().unwrap().to_owned();

    let agent = s.tenant.api_key(&s.stack, Role::Agent).await;
    let (status, body) = s
        .send(&agent, template_to(&s.tenant.phone_number_id, &phone))
        .await;
    assert_eq!(status, 403, "an agent only replies: {body}");

    let other = TestTenant::create(&s.stack).await;
    let foreign = other.api_key(&s.stack, Role::Admin).await;
    for path in [
        format!("/v1/messages/{id}"),
        format!("/v1/conversations/{contact}/messages"),
    ] {
        let (status, body) = s.get(&foreign, &path).await;
        assert_eq!(status, 404, "{path}: {body}");
        assert_eq!(code(&body), "not_found");
    }
    let (status, body) = s
        .send(&foreign, template_to(&s.tenant.phone_number_id, &phone))
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(code(&body), "unknown_number");
    assert_eq!(body["error"]["field"], "from");

    let (status, _) = s
        .stack
        .api(Method::GET, &format!("/v1/messages/{id}"), None, None, &[])
        .await;
    assert_eq!(status, 401);
    let (status, _) = s.get(&s.manager, "/v1/messages/not-an-id").await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn bad_requests_name_the_field_and_queue_nothing() {
    let s = setup().await;
    let phone = phone();
    let contact = s.user_wrote_in(&phone).await;
    let from = s.tenant.phone_number_id.clone();
    let cases = [
        (json!({"from": from, "to": phone, "type": "text"}), "text"),
        (
            json!({"from": from, "to": "12", "type": "text", "text": {"body": "a"}}),
            "to",
        ),
        (
            json!({"from": from, "to": phone, "type": "text", "text": {"body": 5}}),
            "text.body",
        ),
        (
            json!({"from": from, "to": phone, "type": "text", "text": {"body": "a"}, "priority": 1}),
            "priority",
        ),
        (
            json!({"from": from, "to": phone, "type": "text", "text": {"body": "x".repeat(4097)}}),
            "text.body",
        ),
        (
            json!({"from": from, "to": phone, "type": "buttons", "buttons": {"body": "b",
            "buttons": [{"id": "1", "title": "a"}, {"id": "2", "title": "b"}, {"id": "3", "title": "c"}, {"id": "4", "title": "d"}]}}),
            "buttons.buttons",
        ),
        (
            json!({"to": phone, "type": "text", "text": {"body": "a"}}),
            "from",
        ),
    ];
    for (body, field) in cases {
        let (status, answer) = s.send(&s.manager, body.clone()).await;
        assert_eq!(status, 400, "{body}: {answer}");
        assert_eq!(code(&answer), "invalid_request");
        assert_eq!(answer["error"]["field"], field, "{body}: {answer}");
    }

    let url = format!("{}/v1/messages", s.stack.api_url);
    let raw = |body: Vec<u8>, content_type: &'static str| {
        let (s, url) = (&s, url.clone());
        async move { s.stack.post_raw(&url, &s.manager, content_type, body).await }
    };
    let (status, body) = raw(b"{\"from\": ".to_vec(), "application/json").await;
    assert_eq!((status, code(&body)), (400, "invalid_request"), "{body}");
    let (status, body) = raw(b"[\"from\", \"to\"]".to_vec(), "application/json").await;
    assert_eq!((status, code(&body)), (400, "invalid_request"), "{body}");
    let (status, body) = raw(vec![b' '; 300 * 1024], "application/json").await;
    assert_eq!((status, code(&body)), (413, "payload_too_large"), "{body}");
    let (status, body) = raw(b"from=1".to_vec(), "application/x-www-form-urlencoded").await;
    assert_eq!((status, code(&body)), (415, "not_json"), "{body}");

    for (query, field) in [
        ("limit=1000", "limit"),
        ("limit=abc", "limit"),
        ("cursor=xyz", "cursor"),
        ("sort=asc", "sort"),
    ] {
        let (status, body) = s
            .get(
                &s.manager,
                &format!("/v1/conversations/{contact}/messages?{query}"),
            )
            .await;
        assert_eq!(status, 400, "{query}: {body}");
        assert_eq!(body["error"]["field"], field, "{query}: {body}");
    }

    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(s.sends_to(&phone).await.is_empty(), "nothing was sent");
    let (_, page) = s
        .get(&s.manager, &format!("/v1/conversations/{contact}/messages"))
        .await;
    assert_eq!(
        page["messages"].as_array().unwrap().len(),
        1,
        "only the user's message: {page}"
    );
}

#[tokio::test]
async fn a_suspended_tenant_may_not_send() {
    let s = setup().await;
    s.suspend().await;
    let to = phone();
    let (status, body) = s
        .send(&s.manager, template_to(&s.tenant.phone_number_id, &to))
        .await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(code(&body), "tenant_suspended");
    assert!(s.sends_to(&to).await.is_empty());
}

/// The id of the inbound message `wamid` of the contact, read from the table (no API call:
/// the API would cache the tenant before the test changes it).
async fn inbound_id(s: &Setup, contact: &str, wamid: &str) -> String {
    let blinded = s.stack.blind_wamid(s.tenant.id.as_str(), wamid).await;
    let items = s.stack.tenant_items(s.tenant.id.as_str()).await;
    let sk = items
        .iter()
        .filter(|it| wagate_tests::text(it, "pk").is_some_and(|pk| pk.ends_with(contact)))
        .filter_map(|it| wagate_tests::text(it, "sk"))
        .find(|sk| sk.starts_with("MSG#") && sk.ends_with(&blinded))
        .expect("the stored inbound message")
        .to_owned();
    // The stored key is MSG#<sent_at>#<the wamid's blind index>: the id of the message.
    let sent_at = sk
        .split('#')
        .nth(1)
        .and_then(|t| t.parse().ok())
        .expect("a time");
    wagate_messaging::domain::message_id::MessageId::inbound(contact, sent_at, &blinded).encode()
}

/// What a blocked tenant's calls to Meta's routes answer: read receipts and templates.
async fn meta_routes(s: &Setup, admin: &str, message: &str) -> Vec<(u16, Value)> {
    let template = json!({"name": "blocked_check", "language": "en_US", "category": "UTILITY",
                          "components": [{"type": "BODY", "text": "Hello"}]});
    vec![
        s.stack
            .api(
                Method::POST,
                &format!("/v1/messages/{message}/read"),
                Some(admin),
                Some(json!({"typing_indicator": true})),
                &[],
            )
            .await,
        s.stack
            .api(
                Method::POST,
                "/v1/templates",
                Some(admin),
                Some(template),
                &[],
            )
            .await,
        s.stack
            .api(Method::POST, "/v1/templates/sync", Some(admin), None, &[])
            .await,
    ]
}

#[tokio::test]
async fn a_suspended_or_stopped_tenant_calls_meta_on_no_route() {
    for stopped in [false, true] {
        let s = setup().await;
        let admin = s.tenant.api_key(&s.stack, Role::Admin).await;
        let phone = phone();
        let wamid = s
            .tenant
            .user_writes(&s.stack, &phone, "Where is my order?")
            .await;
        let contact = eventually(WAIT, "the contact", || async {
            s.stack.contact_of(&s.tenant.id, &phone).await
        })
        .await;
        let blinded = s.stack.blind_wamid(s.tenant.id.as_str(), &wamid).await;
        eventually(WAIT, "the stored message", || async {
            let items = s.stack.tenant_items(s.tenant.id.as_str()).await;
            items
                .iter()
                .any(|it| wagate_tests::text(it, "sk").is_some_and(|sk| sk.ends_with(&blinded)))
                .then_some(())
        })
        .await;
        let id = inbound_id(&s, &contact, &wamid).await;
        let before = s.tenant.sim_received(&s.stack).await.len();
        let expected = if stopped {
            s.stack
                .store
                .repo::<TenantStore>()
                .stop_sending(&s.tenant.id, "Meta refused the access token (code 190)")
                .await
                .unwrap();
            (422, "sending_stopped")
        } else {
            s.suspend().await;
            (403, "tenant_suspended")
        };
        for (status, body) in meta_routes(&s, &admin, &id).await {
            assert_eq!((status, code(&body)), expected, "{body}");
        }
        // No read receipt went out (the simulator records them with the sends).
        assert_eq!(
            s.tenant.sim_received(&s.stack).await.len(),
            before,
            "a blocked tenant's call reached Meta"
        );
    }
}

#[tokio::test]
async fn a_key_past_its_rate_gets_429_with_retry_after_and_other_keys_go_on() {
    let s = setup().await;
    let busy = s.tenant.api_key(&s.stack, Role::Agent).await;
    let url = format!("{}/v1/messages/not-a-message", s.stack.api_url);
    // The local stack keeps the template's defaults: a burst of 40, then 20 a second. Calls
    // one after another drain the bucket as long as each takes under 50 ms. (One at a time:
    // the local Lambda emulator stalls under a hundred concurrent calls.)
    let mut served = 0;
    let mut limited = None;
    for _ in 0..1000 {
        let response = s
            .stack
            .http
            .get(&url)
            .bearer_auth(&busy)
            .send()
            .await
            .unwrap();
        match response.status().as_u16() {
            404 => served += 1,
            429 => {
                let retry_after = response
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.parse::<u64>().ok());
                let body: Value = response.json().await.unwrap();
                limited = Some((retry_after, body));
                break;
            }
            other => panic!("unexpected status {other}"),
        }
    }
    let (retry_after, body) = limited.expect("past the burst, calls are limited");
    assert!(served >= 40, "the burst is served: {served}");
    assert_eq!(code(&body), "rate_limited");
    assert!(matches!(retry_after, Some(1..=2)), "{retry_after:?}");

    let (status, _) = s.get(&s.manager, "/v1/messages/not-a-message").await;
    assert_eq!(status, 404, "another key is not held back");
    tokio::time::sleep(Duration::from_secs(retry_after.unwrap())).await;
    let (status, _) = s.get(&busy, "/v1/messages/not-a-message").await;
    assert_eq!(status, 404, "the key works again after Retry-After");
}
