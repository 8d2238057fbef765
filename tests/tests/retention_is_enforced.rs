//! Every item carries `expires_at` from its tenant's retention, and reads hide what has
//! expired even before DynamoDB's TTL deletes it.

use std::time::Duration;

use wagate_shared::domain::message::parse_message;
use wagate_shared::domain::retention::Retention;
use wagate_tests::{Stack, TestTenant, eventually, now, wamid, with_sk_prefix};

const DAY: i64 = 86_400;

fn expires_at(item: &wagate_shared::store::Item) -> i64 {
    item.get("expires_at")
        .and_then(|v| v.as_n().ok())
        .and_then(|n| n.parse().ok())
        .expect("expires_at")
}

#[tokio::test]
async fn items_expire_by_the_tenants_retention_for_their_data_class() {
    let stack = Stack::connect().await;
    let retention = Retention {
        content_days: 3,
        metadata_days: 5,
        contact_days: 30,
        dedup_days: 8,
    };
    let tenant = TestTenant::create_with(&stack, retention).await;
    let user = "4915112345030";
    let started = now();
    assert_eq!(
        stack
            .post_signed(&tenant.text_from(user, &wamid(), now(), "short-lived"))
            .await
            .0,
        200
    );
    assert_eq!(
        stack
            .post_signed(&tenant.status_of(user, &wamid(), "sent", now()))
            .await
            .0,
        200
    );
    let items = eventually(
        Duration::from_secs(30),
        "the message and the status",
        || async {
            let items = stack.tenant_items(tenant.id.as_str()).await;
            (!with_sk_prefix(&items, "MSG#").is_empty()
                && !with_sk_prefix(&items, "WAMID#").is_empty())
            .then_some(items)
        },
    )
    .await;
    let within = |item: &wagate_shared::store::Item, days: i64| {
        let at = expires_at(item);
        at >= started + days * DAY && at <= now() + days * DAY
    };
    assert!(
        within(with_sk_prefix(&items, "MSG#")[0], 3),
        "content: 3 days"
    );
    assert!(
        within(with_sk_prefix(&items, "WAMID#")[0], 5),
        "metadata: 5 days"
    );
    assert!(
        within(with_sk_prefix(&items, "PROFILE")[0], 30),
        "contact profile: 30 days"
    );
}

#[tokio::test]
async fn reads_hide_items_whose_expires_at_has_passed() {
    let stack = Stack::connect().await;
    let tenant = TestTenant::create(&stack).await;
    let contact = "c_expirytest";
    let raw = |id: &str| serde_json::json!({"from": "4915112345031", "id": id, "timestamp": now().to_string(), "type": "text", "text": {"body": "x"}});
    let live = parse_message(&raw("wamid.live")).unwrap();
    let expired = parse_message(&raw("wamid.expired")).unwrap();
    let store = &stack.store;
    store
        .put_inbound_message(&tenant.id, contact, None, &live, now() * 1000, now() + DAY)
        .await
        .unwrap();
    store
        .put_inbound_message(&tenant.id, contact, None, &expired, now() * 1000, now() - 1)
        .await
        .unwrap();
    let read = store
        .messages_of(&tenant.id, contact, now(), 50)
        .await
        .unwrap();
    let wamids: Vec<&str> = read.iter().map(|m| m.wamid.as_str()).collect();
    assert_eq!(wamids, ["wamid.live"]);
}
