//! Callbacks to the tenant on the local stack: a registered URL receives the user's message
//! and its reply's statuses, signed so that the receiver can verify them; the delivery log
//! shows them; a replay sends them again; a failing receiver is retried until it answers,
//! and one that never does ends in the dead-letter queue (the test stack retries for 8 s,
//! not a day). Admin keys only.

use std::time::Duration;

use aws_sdk_dynamodb::types::AttributeValue;
use reqwest::Method;
use serde_json::{Value, json};
use wagate_integrations::callbacks::signature::verify;
use wagate_messaging::access::Role;
use wagate_tests::receiver::Receiver;
use wagate_tests::{Stack, TestTenant, eventually, now, random_digits};

const WAIT: Duration = Duration::from_secs(30);

async fn register(stack: &Stack, key: &str, body: Value) -> (u16, Value) {
    stack
        .api(Method::POST, "/v1/callbacks", Some(key), Some(body), &[])
        .await
}

#[tokio::test]
async fn a_registered_url_receives_signed_events_which_are_logged_and_replayed() {
    let stack = Stack::connect().await;
    let tenant = TestTenant::create(&stack).await;
    tenant.register_at_sim(&stack, json!({})).await;
    let admin = tenant.api_key(&stack, Role::Admin).await;
    let manager = tenant.api_key(&stack, Role::Manager).await;
    let receiver = Receiver::start(0).await;
    let started = now();

    let (status, _) = register(&stack, &manager, json!({"url": receiver.url})).await;
    assert_eq!(status, 403, "a manager may not register callbacks");
    for (body, field) in [
        (json!({"url": "https://user:pw@hooks.example.com/"}), "url"),
        (json!({"url": "ftp://hooks.example.com/"}), "url"),
        (
            json!({"url": receiver.url, "events": ["message.deleted"]}),
            "events[0]",
        ),
    ] {
        let (status, answer) = register(&stack, &admin, body).await;
        assert_eq!(status, 400, "{answer}");
        assert_eq!(answer["error"]["field"], field);
    }
    let (status, created) = register(&stack, &admin, json!({"url": receiver.url})).await;
    assert_eq!(status, 201, "{created}");
    let secret = created["secret"].as_str().unwrap().to_owned();
    let callback_id = created["id"].as_str().unwrap().to_owned();
    let (_, listed) = stack
        .api(Method::GET, "/v1/callbacks", Some(&admin), None, &[])
        .await;
    assert_eq!(listed["callbacks"][0]["id"], callback_id.as_str());
    assert!(
        listed["callbacks"][0].get("secret").is_none(),
        "never shown again"
    );

    // The user writes; the receiver gets the message, signed with the endpoint's secret.
    let phone = format!("49151{}", random_digits(8));
    tenant
        .user_writes(&stack, &phone, "Is my order on its way?")
        .await;
    let message = eventually(WAIT, "the message to reach the callback URL", || async {
        receiver
            .events()
            .into_iter()
            .find(|(_, _, e)| e["type"] == "message.received")
    })
    .await;
    let (signature, body, event) = message;
    assert!(verify(&secret, &signature, &body, now()), "{signature}");
    assert!(!verify("whsec_wrong", &signature, &body, now()));
    assert_eq!(event["tenant_id"], tenant.id.as_str());
    assert_eq!(event["data"]["from"], phone.as_str());
    assert_eq!(
        event["data"]["message"]["text"]["body"],
        "Is my order on its way?"
    );

    // A reply: its statuses follow.
    let (status, sent) = stack
        .api(
            Method::POST,
            "/v1/messages",
            Some(&admin),
            Some(
                json!({"from": tenant.phone_number_id, "to": phone, "type": "text",
                        "text": {"body": "Yes, it ships today."}}),
            ),
            &[],
        )
        .await;
    assert_eq!(status, 202, "{sent}");
    eventually(
        WAIT,
        "the reply's read status at the callback URL",
        || async {
            receiver
                .events()
                .into_iter()
                .any(|(_, _, e)| {
                    e["type"] == "message.status" && e["data"]["status"]["status"] == "read"
                })
                .then_some(())
        },
    )
    .await;

    // The log shows every delivery; a replay sends them again with the same ids.
    let path = format!("/v1/callbacks/deliveries?from={started}&limit=100");
    // The message and its sent, delivered and read statuses; each logged after its answer.
    let deliveries = eventually(WAIT, "four deliveries in the log", || async {
        let (status, log) = stack.api(Method::GET, &path, Some(&admin), None, &[]).await;
        assert_eq!(status, 200, "{log}");
        let deliveries = log["deliveries"].as_array().cloned().unwrap_or_default();
        (deliveries.len() >= 4).then_some(deliveries)
    })
    .await;
    assert!(
        deliveries
            .iter()
            .all(|d| d["state"] == "delivered" && d["callback_id"] == callback_id.as_str()),
        "{deliveries:?}"
    );
    // At rest, each logged body is sealed under the key of the contact it is about.
    let items = stack.tenant_items(tenant.id.as_str()).await;
    let logged: Vec<_> = items
        .iter()
        .filter(|it| wagate_tests::text(it, "pk").is_some_and(|pk| pk.ends_with("#CBLOG")))
        .collect();
    assert!(logged.len() >= 4, "{logged:?}");
    for it in &logged {
        assert!(
            matches!(it.get("body"), Some(AttributeValue::B(_))),
            "sealed: {it:?}"
        );
        assert!(wagate_tests::text(it, "contact_id").is_some(), "{it:?}");
    }
    let before = receiver.events().len();
    let (status, replayed) = stack
        .api(
            Method::POST,
            "/v1/callbacks/replay",
            Some(&admin),
            Some(json!({"from": started})),
            &[],
        )
        .await;
    assert_eq!(status, 202, "{replayed}");
    let queued = replayed["queued"].as_u64().unwrap() as usize;
    assert_eq!(queued, deliveries.len());
    let again = eventually(WAIT, "the replayed events", || async {
        let events = receiver.events();
        (events.len() >= before + queued).then_some(events)
    })
    .await;
    let replayed_message = again[before..]
        .iter()
        .find(|(_, _, e)| e["id"] == event["id"])
        .expect("the message was replayed under its id");
    assert!(verify(
        &secret,
        &replayed_message.0,
        &replayed_message.1,
        now()
    ));

    // Bad ranges and cursors; then the endpoint is deleted.
    for bad in [
        format!(
            "/v1/callbacks/deliveries?from={}&to={started}",
            started + 10
        ),
        format!("/v1/callbacks/deliveries?from={started}&cursor=bm9wZQ"),
        "/v1/callbacks/deliveries".to_owned(),
    ] {
        let (status, answer) = stack.api(Method::GET, &bad, Some(&admin), None, &[]).await;
        assert_eq!(status, 400, "{bad}: {answer}");
    }
    let delete = format!("/v1/callbacks/{callback_id}");
    let (status, _) = stack
        .api(Method::DELETE, &delete, Some(&admin), None, &[])
        .await;
    assert_eq!(status, 204);
    let (status, _) = stack
        .api(Method::DELETE, &delete, Some(&admin), None, &[])
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn a_failing_receiver_is_retried_and_one_that_never_answers_is_given_up_on() {
    let stack = Stack::connect().await;
    let tenant = TestTenant::create(&stack).await;
    tenant.register_at_sim(&stack, json!({})).await;
    let admin = tenant.api_key(&stack, Role::Admin).await;
    let flaky = Receiver::start(2).await;
    let broken = Receiver::start(usize::MAX).await;
    let started = now();
    for url in [&flaky.url, &broken.url] {
        let (status, answer) = register(
            &stack,
            &admin,
            json!({"url": url, "events": ["message.received"]}),
        )
        .await;
        assert_eq!(status, 201, "{answer}");
    }

    tenant
        .user_writes(&stack, &format!("49152{}", random_digits(8)), "Hello?")
        .await;
    eventually(
        WAIT,
        "the flaky receiver to get it on the third try",
        || async { (flaky.events().len() == 3).then_some(()) },
    )
    .await;
    let ids: Vec<Value> = flaky
        .events()
        .iter()
        .map(|(_, _, e)| e["id"].clone())
        .collect();
    assert!(
        ids.iter().all(|id| *id == ids[0]),
        "the same event each time"
    );

    let path = format!("/v1/callbacks/deliveries?from={started}");
    let log = eventually(
        WAIT,
        "the broken receiver's delivery to be given up",
        || async {
            let (_, log) = stack.api(Method::GET, &path, Some(&admin), None, &[]).await;
            let deliveries = log["deliveries"].as_array().cloned().unwrap_or_default();
            deliveries
                .iter()
                .any(|d| d["state"] == "dead")
                .then_some(deliveries)
        },
    )
    .await;
    let delivered = log.iter().find(|d| d["state"] == "delivered").unwrap();
    assert_eq!(delivered["attempts"], 3);
    let dead = log.iter().find(|d| d["state"] == "dead").unwrap();
    assert_eq!(dead["http_status"], 500);
    assert!(dead["attempts"].as_u64().unwrap() >= 3, "{dead}");
    assert!(broken.events().len() >= 3);

    // The dead-letter queue holds it, with the reason.
    let dlq = std::env::var("CALLBACK_DLQ_URL").expect("the stack names the callback DLQ");
    let found = eventually(WAIT, "the job in the dead-letter queue", || async {
        let out = stack
            .sqs
            .receive_message()
            .queue_url(&dlq)
            .max_number_of_messages(10)
            .message_attribute_names("All")
            .send()
            .await
            .unwrap();
        out.messages()
            .iter()
            .find(|m| m.body().is_some_and(|b| b.contains(tenant.id.as_str())))
            .cloned()
    })
    .await;
    let reason = found
        .message_attributes()
        .and_then(|a| a.get("reason"))
        .and_then(|v| v.string_value())
        .unwrap_or_default()
        .to_owned();
    assert!(reason.contains("500"), "{reason}");
}
