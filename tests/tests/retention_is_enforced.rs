//! Every item carries `expires_at` from its tenant's retention, and reads hide what has
//! expired even before DynamoDB's TTL deletes it.

use std::time::Duration;

use wagate_shared::domain::message::InboundMessage;
use wagate_shared::domain::message::parse_message;
use wagate_shared::domain::retention::{ContentLife, Retention};
use wagate_shared::store::message::inbound::NewInbound;
use wagate_shared::store::{Expiry, PutOutcome};
use wagate_tests::{Stack, TestTenant, eventually, now, wamid, with_sk_prefix};

const DAY: i64 = 86_400;

fn inbound<'a>(contact_id: &'a str, message: &'a InboundMessage) -> NewInbound<'a> {
    NewInbound {
        contact_id,
        phone_number_id: None,
        message,
        received_at_ms: now() * 1000,
        content: ContentLife::Until(now() + DAY),
    }
}

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
        audit_days: 365,
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
    // The message's metadata lives 5 days, its content 3.
    let message = with_sk_prefix(&items, "MSG#")[0];
    assert!(within(message, 5), "message metadata: 5 days");
    let content_end: i64 = message["content_expires_at"]
        .as_n()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        content_end >= started + 3 * DAY && content_end <= now() + 3 * DAY,
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
    let expiry = |at| Expiry {
        at,
        dedup_until: at,
    };
    store
        .put_inbound_message(
            &tenant.id,
            &inbound(contact, &live),
            expiry(now() + DAY),
            now(),
        )
        .await
        .unwrap();
    store
        .put_inbound_message(
            &tenant.id,
            &inbound(contact, &expired),
            expiry(now() - 1),
            now(),
        )
        .await
        .unwrap();
    let read = store
        .messages_of(&tenant.id, contact, now(), 50)
        .await
        .unwrap();
    let wamids: Vec<&str> = read.iter().map(|m| m.wamid.as_str()).collect();
    assert_eq!(wamids, ["wamid.live"]);
}

#[tokio::test]
async fn content_kept_shorter_than_metas_retry_window_still_deduplicates_after_it_is_gone() {
    let stack = Stack::connect().await;
    let tenant = TestTenant::create(&stack).await;
    let contact = "c_shortretention";
    let message = parse_message(&serde_json::json!({"from": "4915112345032", "id": "wamid.short", "timestamp": now().to_string(),
        "type": "text", "text": {"body": "gone soon"}}))
    .unwrap();
    // Content lives one day, Meta may retry for seven: a key-only record covers the gap.
    let expiry = Expiry {
        at: now() + DAY,
        dedup_until: now() + 8 * DAY,
    };
    let new = inbound(contact, &message);
    let put = || {
        stack
            .store
            .put_inbound_message(&tenant.id, &new, expiry, now())
    };
    assert_eq!(put().await.unwrap(), PutOutcome::Stored);
    assert_eq!(put().await.unwrap(), PutOutcome::Duplicate);
    // TTL deletes the message after a day; a retry after that is still a duplicate.
    let sk = format!("MSG#{:010}#wamid.short", message.sent_at);
    stack
        .dynamo
        .delete_item()
        .table_name(&stack.table)
        .key(
            "pk",
            aws_sdk_dynamodb::types::AttributeValue::S(format!("T#{}#C#{contact}", tenant.id)),
        )
        .key("sk", aws_sdk_dynamodb::types::AttributeValue::S(sk))
        .send()
        .await
        .unwrap();
    assert_eq!(put().await.unwrap(), PutOutcome::Duplicate);
    let items = stack.tenant_items(tenant.id.as_str()).await;
    let dedup = with_sk_prefix(&items, "DEDUP#");
    assert_eq!(dedup.len(), 1);
    assert_eq!(
        dedup[0].len(),
        3,
        "the dedup record holds its key and expiry only"
    );
}

#[tokio::test]
async fn content_past_its_time_is_hidden_while_the_message_stays_and_no_content_is_never_written() {
    let stack = Stack::connect().await;
    let tenant = TestTenant::create(&stack).await;
    let contact = "c_ageingtest";
    let raw = |id: &str| serde_json::json!({"from": "4915112345033", "id": id, "timestamp": now().to_string(), "type": "text", "text": {"body": "aged words"}});
    let aged = parse_message(&raw("wamid.aged")).unwrap();
    let unstored = parse_message(&raw("wamid.unstored")).unwrap();
    let store = &stack.store;
    let expiry = Expiry {
        at: now() + DAY,
        dedup_until: now() + DAY,
    };
    // Content whose time passed a second ago, on a message that lives a day more.
    let mut new = inbound(contact, &aged);
    new.content = ContentLife::Until(now() - 1);
    store
        .put_inbound_message(&tenant.id, &new, expiry, now())
        .await
        .unwrap();
    // And one whose content was never to be stored.
    let mut new = inbound(contact, &unstored);
    new.content = ContentLife::NotStored;
    store
        .put_inbound_message(&tenant.id, &new, expiry, now())
        .await
        .unwrap();
    let read = store
        .messages_of(&tenant.id, contact, now(), 50)
        .await
        .unwrap();
    assert_eq!(read.len(), 2, "the messages stay");
    for message in &read {
        assert_eq!(message.message_type, "text");
        assert_eq!(message.content, "", "{}: content shown", message.wamid);
    }
    let items = stack.tenant_items(tenant.id.as_str()).await;
    let unstored_item = with_sk_prefix(&items, "MSG#")
        .into_iter()
        .find(|it| it["wamid"].as_s().unwrap() == "wamid.unstored")
        .unwrap();
    assert!(!unstored_item.contains_key("content"), "{unstored_item:?}");
}
