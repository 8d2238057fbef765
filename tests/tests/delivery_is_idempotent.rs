//! Meta retries and duplicates never create a second message, and statuses merge
//! monotonically however they arrive.

use std::time::Duration;

use wagate_tests::{Stack, TestTenant, eventually, now, text, wamid, with_sk_prefix};

#[tokio::test]
async fn the_same_delivery_posted_three_times_stores_one_message() {
    let stack = Stack::connect().await;
    let tenant = TestTenant::create(&stack).await;
    let body = tenant.text_from("4915112345010", &wamid(), now(), "once");
    for _ in 0..3 {
        assert_eq!(stack.post_signed(&body).await.0, 200);
    }
    eventually(Duration::from_secs(30), "the message", || async {
        let items = stack.tenant_items(tenant.id.as_str()).await;
        (!with_sk_prefix(&items, "MSG#").is_empty()).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let items = stack.tenant_items(tenant.id.as_str()).await;
    assert_eq!(with_sk_prefix(&items, "MSG#").len(), 1);
    assert_eq!(with_sk_prefix(&items, "PROFILE").len(), 1, "one contact");
}

#[tokio::test]
async fn read_before_delivered_ends_read_with_both_in_the_history() {
    let stack = Stack::connect().await;
    let tenant = TestTenant::create(&stack).await;
    let user = "4915112345011";
    // A status is about a message to a contact.
    stack.make_contact(&tenant.id, user).await;
    let id = wamid();
    let t = now();
    let state = |wanted: &'static str| {
        let stack = &stack;
        let tenant = &tenant;
        async move {
            let items = stack.tenant_items(tenant.id.as_str()).await;
            with_sk_prefix(&items, "WAMID#")
                .first()
                .filter(|it| it.contains_key(wanted))
                .map(|it| (*it).clone())
        }
    };
    assert_eq!(
        stack
            .post_signed(&tenant.status_of(user, &id, "read", t + 2))
            .await
            .0,
        200
    );
    eventually(Duration::from_secs(30), "read", || state("at_read")).await;
    assert_eq!(
        stack
            .post_signed(&tenant.status_of(user, &id, "delivered", t + 1))
            .await
            .0,
        200
    );
    assert_eq!(
        stack
            .post_signed(&tenant.status_of(user, &id, "read", t + 2))
            .await
            .0,
        200
    );
    let item = eventually(Duration::from_secs(30), "delivered in the history", || {
        state("at_delivered")
    })
    .await;
    assert_eq!(
        text(&item, "status"),
        Some("read"),
        "a late delivered never moves the message back"
    );
    assert!(
        text(&item, "pricing").is_some_and(|p| p.contains("utility")),
        "pricing is kept"
    );
    assert_eq!(
        with_sk_prefix(&stack.tenant_items(tenant.id.as_str()).await, "WAMID#").len(),
        1
    );
}

#[tokio::test]
async fn a_failed_status_keeps_metas_error_code_and_title() {
    let stack = Stack::connect().await;
    let tenant = TestTenant::create(&stack).await;
    stack.make_contact(&tenant.id, "4915112345012").await;
    let id = wamid();
    let body = tenant.delivery(
        "messages",
        serde_json::json!({
            "messaging_product": "whatsapp",
            "metadata": tenant.metadata(),
            "statuses": [{"id": id, "status": "failed", "timestamp": now().to_string(), "recipient_id": "4915112345012",
                "errors": [{"code": 131047, "title": "Re-engagement message", "error_data": {"details": "More than 24 hours have passed"}}]}]
        }),
    );
    assert_eq!(stack.post_signed(&body).await.0, 200);
    let item = eventually(Duration::from_secs(30), "the failure", || async {
        let items = stack.tenant_items(tenant.id.as_str()).await;
        with_sk_prefix(&items, "WAMID#")
            .first()
            .map(|it| (*it).clone())
    })
    .await;
    assert_eq!(text(&item, "status"), Some("failed"));
    assert_eq!(
        item.get("error_code")
            .and_then(|v| v.as_n().ok())
            .map(String::as_str),
        Some("131047")
    );
    assert_eq!(text(&item, "error_title"), Some("Re-engagement message"));
}
