//! Erasing a person on the local stack: a contact with 10,000 messages, from the admin
//! API's request to the job's `done` (the erasure function as the stack runs it), against
//! the target of 60 seconds.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use reqwest::Method;
use serde_json::json;
use wagate_shared::access::Role;
use wagate_shared::domain::message::parse_message;
use wagate_shared::metrics::Metrics;
use wagate_shared::store::Expiry;
use wagate_shared::store::message::inbound::NewInbound;
use wagate_tests::bench::{Row, print_table, through_inbound};
use wagate_tests::{Stack, TestTenant, now, random_digits, wamid};

const MESSAGES: usize = 10_000;
const TARGET: Duration = Duration::from_secs(60);

/// A contact who wrote once through the pipeline, then `MESSAGES - 1` times more written
/// straight to the table (as the pipeline writes them, sealed), to save the time of SQS.
async fn contact_with_messages(stack: &Stack, tenant: &TestTenant, phone: &str) -> String {
    let first = tenant.text_from(phone, &wamid(), now() - 86_400, "hello");
    through_inbound(stack, tenant, &[first], &Arc::new(Metrics::default())).await;
    let contact = stack
        .contact_of(&tenant.id, phone)
        .await
        .expect("the contact");
    let store = stack.store_counting(Arc::new(Metrics::default()));
    let start = now() - 80_000;
    futures_util::stream::iter(1..MESSAGES)
        .map(|i| {
            let (store, contact) = (&store, &contact);
            async move {
                let raw = json!({"from": phone, "id": wamid(), "timestamp": (start + i as i64).to_string(),
                    "type": "text", "text": {"body": format!("message {i} of a long conversation")}});
                let message = parse_message(&raw).expect("a text message");
                let new = NewInbound {
                    contact_id: contact,
                    phone_number_id: Some(&tenant.phone_number_id),
                    message: &message,
                    received_at_ms: now() * 1000,
                };
                let expiry = Expiry {
                    at: now() + 86_400,
                    dedup_until: now() + 86_400,
                };
                store
                    .put_inbound_message(&tenant.id, &new, expiry, now())
                    .await
                    .expect("stored");
            }
        })
        .buffer_unordered(16)
        .collect::<Vec<()>>()
        .await;
    contact
}

async fn erase(
    stack: &Stack,
    tenant: &TestTenant,
    key: &str,
    phone: &str,
) -> (Duration, serde_json::Value) {
    let started = Instant::now();
    let (status, erasure) = stack
        .admin(
            Method::POST,
            &format!("/admin/v1/tenants/{}/erasures", tenant.id),
            Some(key),
            Some(json!({"phone": phone})),
        )
        .await;
    assert_eq!(status, 202, "{erasure}");
    let path = format!(
        "/admin/v1/tenants/{}/erasures/{}",
        tenant.id,
        erasure["id"].as_str().unwrap()
    );
    loop {
        let (_, view) = stack.admin(Method::GET, &path, Some(key), None).await;
        match view["state"].as_str() {
            Some("done") => return (started.elapsed(), view),
            Some("running") if started.elapsed() < Duration::from_secs(600) => {
                tokio::time::sleep(Duration::from_millis(200)).await
            }
            _ => panic!("the erasure did not finish: {view}"),
        }
    }
}

fn main() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (took, view) = runtime.block_on(async {
        let stack = Stack::connect().await;
        let tenant = TestTenant::create(&stack).await;
        let key = tenant.api_key(&stack, Role::Admin).await;
        let phone = format!("49160{}", random_digits(8));
        contact_with_messages(&stack, &tenant, &phone).await;
        erase(&stack, &tenant, &key, &phone).await
    });
    let messages = view["erased"]["messages"].as_u64().unwrap_or(0);
    assert_eq!(messages, MESSAGES as u64, "{view}");
    print_table(&[Row::new(
        format!("Erasure of a person with {MESSAGES} messages: request to done"),
        format!("{:.1} s ({messages} messages erased)", took.as_secs_f64()),
        &format!("< {} s", TARGET.as_secs()),
    )]);
}
