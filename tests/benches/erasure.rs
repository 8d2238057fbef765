//! Erasing a person on the local stack: a contact with 10,000 messages, from the admin
//! API's request to the job's `done` (the erasure function as the stack runs it), against
//! the target of 60 seconds.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::json;
use wagate_messaging::access::Role;
use wagate_tests::bench::{Row, contact_with_messages, print_table};
use wagate_tests::{Stack, TestTenant, random_digits};

const MESSAGES: usize = 10_000;
const TARGET: Duration = Duration::from_secs(60);

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
        contact_with_messages(&stack, &tenant, &phone, MESSAGES).await;
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
