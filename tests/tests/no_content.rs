//! A tenant that stores no content: a conversation leaves messages with their metadata and
//! no words in the table (nor in the callback log), while callbacks still carry the words
//! to the tenant; the policy holds per number too, and bad input changes nothing.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use wagate_messaging::access::Role;
use wagate_tests::receiver::Receiver;
use wagate_tests::{Stack, TestTenant, eventually, random_digits, with_sk_prefix};

const WAIT: Duration = Duration::from_secs(30);

async fn set_policy(stack: &Stack, tenant: &TestTenant, key: &str, policy: Value) -> (u16, Value) {
    let path = format!("/admin/v1/tenants/{}/content", tenant.id);
    stack
        .admin(Method::PUT, &path, Some(key), Some(policy))
        .await
}

async fn messages(stack: &Stack, key: &str, contact_id: &str, count: usize) -> Vec<Value> {
    eventually(WAIT, "the messages", || async {
        let (_, page) = stack
            .api(
                Method::GET,
                &format!("/v1/conversations/{contact_id}/messages"),
                Some(key),
                None,
                &[],
            )
            .await;
        let messages = page["messages"].as_array().cloned().unwrap_or_default();
        (messages.len() == count
            && messages
                .iter()
                .all(|m| m["direction"] == "inbound" || m["state"] != "queued"))
        .then_some(messages)
    })
    .await
}

#[tokio::test]
async fn a_conversation_leaves_metadata_only_while_callbacks_still_carry_the_words() {
    let stack = Stack::connect().await;
    let tenant = TestTenant::create(&stack).await;
    tenant.register_at_sim(&stack, json!({})).await;
    let key = tenant.api_key(&stack, Role::Admin).await;
    // Bad input first: refused, nothing changed.
    for bad in [
        json!({"numbers": {"not-a-number": false}}),
        json!({"store_content": "no"}),
        json!({"store": false}),
    ] {
        let (status, refused) = set_policy(&stack, &tenant, &key, bad.clone()).await;
        assert_eq!(status, 400, "{bad}: {refused}");
    }
    let (status, policy) = set_policy(&stack, &tenant, &key, json!({"store_content": false})).await;
    assert_eq!(status, 200, "{policy}");
    let receiver = Receiver::of_received_messages(&stack, &key).await;

    let phone = format!("49156{}", random_digits(8));
    tenant
        .user_writes(&stack, &phone, "no trace of these words")
        .await;
    let contact_id = eventually(WAIT, "the contact", || async {
        stack.contact_of(&tenant.id, &phone).await
    })
    .await;
    let (status, sent) = tenant.reply(&stack, &key, &phone, "nor of the reply").await;
    assert_eq!(status, 202, "{sent}");

    // The API shows both messages' metadata, and no content.
    let shown = messages(&stack, &key, &contact_id, 2).await;
    for message in &shown {
        assert_eq!(message["type"], "text", "{message}");
        assert!(message["content"].is_null(), "{message}");
    }
    // The tenant's systems got the words.
    let events = eventually(WAIT, "the callback", || async {
        let events = receiver.events();
        (!events.is_empty()).then_some(events)
    })
    .await;
    assert_eq!(
        events[0].2["data"]["message"]["text"]["body"],
        "no trace of these words"
    );
    // The table holds no content: no message has any, the delivery log keeps no body.
    eventually(WAIT, "the delivery logged", || async {
        let items = stack.tenant_items(tenant.id.as_str()).await;
        let logged = items.iter().any(|it| {
            it["pk"].as_s().unwrap().ends_with("#CBLOG")
                && it
                    .get("state")
                    .and_then(|s| s.as_s().ok())
                    .map(String::as_str)
                    == Some("delivered")
        });
        logged.then_some(())
    })
    .await;
    let items = stack.tenant_items(tenant.id.as_str()).await;
    let stored = with_sk_prefix(&items, "MSG#");
    assert_eq!(stored.len(), 2);
    for item in &stored {
        for attribute in ["content", "context", "referral"] {
            assert!(!item.contains_key(attribute), "{attribute} in {item:?}");
        }
    }
    for item in items
        .iter()
        .filter(|it| it["pk"].as_s().unwrap().ends_with("#CBLOG"))
    {
        assert!(!item.contains_key("body"), "{item:?}");
    }

    // Number by number: this number stores again, the tenant's default stays off.
    let policy = json!({"store_content": false, "numbers": {tenant.phone_number_id.clone(): true}});
    let (status, stored_policy) = set_policy(&stack, &tenant, &key, policy.clone()).await;
    assert_eq!((status, &stored_policy), (200, &policy));
    // The pipeline reads tenants through a cache: a new tenant would see it at once, this
    // one within the cache's life. A later message shows it once it holds.
    let (_, read_back) = stack
        .admin(
            Method::GET,
            &format!("/admin/v1/tenants/{}/content", tenant.id),
            Some(&key),
            None,
        )
        .await;
    assert_eq!(read_back, policy);
}
