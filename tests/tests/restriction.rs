//! Restriction of processing on the local stack: a restricted contact gets no message
//! (409 `restricted`, and a job queued before is refused by the sender), callbacks about
//! them are recorded as withheld instead of delivered (a replay after the restriction is
//! lifted delivers them), and what they write is still stored, or dropped when the
//! business asked for that.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use wagate_messaging::access::Role;
use wagate_messaging::domain::conversation::SendOutcome;
use wagate_messaging::domain::outbound::{OutboundMessage, Recipient};
use wagate_tests::receiver::Receiver;
use wagate_tests::{Stack, TestTenant, eventually, now, random_digits};

const WAIT: Duration = Duration::from_secs(30);

async fn messages(stack: &Stack, key: &str, contact_id: &str) -> Vec<Value> {
    let (status, page) = stack
        .api(
            Method::GET,
            &format!("/v1/conversations/{contact_id}/messages"),
            Some(key),
            None,
            &[],
        )
        .await;
    assert_eq!(status, 200, "{page}");
    page["messages"].as_array().cloned().unwrap_or_default()
}

async fn deliveries(stack: &Stack, key: &str, from: i64) -> Vec<Value> {
    let (status, page) = stack
        .api(
            Method::GET,
            &format!("/v1/callbacks/deliveries?from={from}"),
            Some(key),
            None,
            &[],
        )
        .await;
    assert_eq!(status, 200, "{page}");
    page["deliveries"].as_array().cloned().unwrap_or_default()
}

#[tokio::test]
async fn a_restricted_contact_gets_nothing_its_callbacks_are_withheld_and_its_words_kept() {
    let stack = Stack::connect().await;
    let tenant = TestTenant::create(&stack).await;
    tenant.register_at_sim(&stack, json!({})).await;
    let key = tenant.api_key(&stack, Role::Admin).await;
    let agent = tenant.api_key(&stack, Role::Agent).await;
    let receiver = Receiver::of_received_messages(&stack, &key).await;
    let started = now() - 5;
    let phone = format!("49158{}", random_digits(8));
    tenant.user_writes(&stack, &phone, "First words").await;
    eventually(WAIT, "the first callback", || async {
        (receiver.events().len() == 1).then_some(())
    })
    .await;
    let contact_id = stack.contact_of(&tenant.id, &phone).await.unwrap();
    let path = format!("/v1/contacts/{contact_id}/restriction");

    // Agents may not restrict; a manager or admin may.
    let (status, _) = stack
        .api(Method::POST, &path, Some(&agent), Some(json!({})), &[])
        .await;
    assert_eq!(status, 403);
    let (status, restricted) = stack
        .api(Method::POST, &path, Some(&key), Some(json!({})), &[])
        .await;
    assert_eq!(status, 200, "{restricted}");
    assert_eq!(
        restricted["restricted"]["keep_inbound"], true,
        "{restricted}"
    );

    // No send: refused before anything is queued.
    let (status, refused) = tenant.reply(&stack, &key, &phone, "Hello?").await;
    assert_eq!(status, 409, "{refused}");
    assert_eq!(refused["error"]["code"], "restricted");
    // A job queued before the restriction is refused by the sender.
    let message = OutboundMessage::template(
        &tenant.phone_number_id,
        Recipient::parse(&phone).unwrap(),
        "order_update",
        "en_US",
    );
    let job = stack
        .outbound
        .enqueue(&tenant.id, &message, None, now() - 30)
        .await
        .unwrap();
    match stack.outcome_of(&job, WAIT).await.outcome {
        SendOutcome::Refused { reason } => assert!(reason.contains("restricted"), "{reason}"),
        other => panic!("sent or failed: {other:?}"),
    }
    assert!(
        tenant
            .sim_received(&stack)
            .await
            .iter()
            .all(|r| r["to"] != phone),
        "nothing reached Meta"
    );

    // What they write is stored; its callback is recorded as withheld, not delivered.
    tenant.user_writes(&stack, &phone, "Second words").await;
    // The refused template is in the conversation too: wait for the words themselves.
    eventually(WAIT, "the message stored", || async {
        messages(&stack, &key, &contact_id)
            .await
            .iter()
            .any(|m| m["content"]["body"] == "Second words")
            .then_some(())
    })
    .await;
    let withheld = eventually(WAIT, "the withheld delivery", || async {
        let all = deliveries(&stack, &key, started).await;
        let withheld: Vec<Value> = all
            .into_iter()
            .filter(|d| d["state"] == "withheld")
            .collect();
        (withheld.len() == 1).then_some(withheld)
    })
    .await;
    assert_eq!(receiver.events().len(), 1, "only the first was delivered");

    // Lifted, a replay delivers what was withheld.
    let (status, lifted) = stack
        .api(Method::DELETE, &path, Some(&key), None, &[])
        .await;
    assert_eq!(status, 200, "{lifted}");
    assert!(lifted.get("restricted").is_none(), "{lifted}");
    let (status, replayed) = stack
        .api(
            Method::POST,
            "/v1/callbacks/replay",
            Some(&key),
            Some(json!({"from": withheld[0]["event_created_at"], "to": now() + 1})),
            &[],
        )
        .await;
    assert_eq!(status, 202, "{replayed}");
    // The range may hold the first event too (the same second): it is sent again as well.
    eventually(WAIT, "the replayed event", || async {
        let events = receiver.events();
        events[1..]
            .iter()
            .any(|(_, _, event)| event["id"] == withheld[0]["event_id"])
            .then_some(())
    })
    .await;
}

#[tokio::test]
async fn a_business_may_drop_what_a_restricted_person_writes() {
    let stack = Stack::connect().await;
    let tenant = TestTenant::create(&stack).await;
    tenant.register_at_sim(&stack, json!({})).await;
    let key = tenant.api_key(&stack, Role::Admin).await;
    let phone = format!("49158{}", random_digits(8));
    tenant.user_writes(&stack, &phone, "Before").await;
    let contact_id = eventually(WAIT, "the contact", || async {
        stack.contact_of(&tenant.id, &phone).await
    })
    .await;
    let path = format!("/v1/contacts/{contact_id}/restriction");
    for bad in [
        json!({"keep_inbound": "no"}),
        json!({"drop": true}),
        json!([]),
    ] {
        let (status, refused) = stack
            .api(Method::POST, &path, Some(&key), Some(bad.clone()), &[])
            .await;
        assert_eq!(status, 400, "{bad}: {refused}");
    }
    let (status, _) = stack
        .api(
            Method::POST,
            "/v1/contacts/c_00000000000000000000/restriction",
            Some(&key),
            Some(json!({})),
            &[],
        )
        .await;
    assert_eq!(status, 404);
    let (status, restricted) = stack
        .api(
            Method::POST,
            &path,
            Some(&key),
            Some(json!({"keep_inbound": false})),
            &[],
        )
        .await;
    assert_eq!(status, 200, "{restricted}");
    tenant.user_writes(&stack, &phone, "Dropped words").await;
    // Their STOP, after it in their queue group, still counts: once it shows, the message
    // before it was processed.
    tenant.user_writes(&stack, &phone, "STOP").await;
    eventually(WAIT, "the opt-out", || async {
        let (_, view) = stack
            .api_get(&format!("/v1/contacts/{contact_id}/consent"), &key)
            .await;
        (view["all"]["opted_out"] == true).then_some(())
    })
    .await;
    let kept = messages(&stack, &key, &contact_id).await;
    assert_eq!(kept.len(), 1, "{kept:?}");
    let items = stack.tenant_items(tenant.id.as_str()).await;
    assert!(!format!("{items:?}").contains("Dropped words"));
}
