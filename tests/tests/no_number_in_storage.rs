//! After a mixed workload (inbound text and media, a reply with a reply-to and an
//! idempotency key that names the number, statuses, a STOP and its confirmation, an
//! import, a template to someone new and a read receipt), no item of either table holds
//! any of the phone numbers used: not as they are, not in hex, not in base64, and not
//! inside any base64 or base64url token once decoded. A wamid is such a token: Meta's
//! embed the person's number, and the simulator mints them the same way.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use wagate_messaging::access::Role;
use wagate_tests::scan::{holders_anywhere, reveals};
use wagate_tests::{Stack, TestTenant, eventually, random_digits};

const WAIT: Duration = Duration::from_secs(60);

#[tokio::test]
async fn no_phone_number_is_readable_in_either_table_after_a_mixed_workload() {
    let stack = Stack::connect().await;
    let tenant = TestTenant::create(&stack).await;
    let admin = tenant.api_key(&stack, Role::Admin).await;
    let writer = format!("49151{}", random_digits(8));
    let stopper = format!("49152{}", random_digits(8));
    let imported = format!("49153{}", random_digits(8));

    // A person writes a text and a photo; the simulator's wamids embed their number, as
    // Meta's do.
    let first = tenant
        .user_writes(&stack, &writer, "Is my order ready?")
        .await;
    assert!(
        reveals(first.as_bytes(), &writer),
        "the simulator mints Meta-shaped wamids: {first}"
    );
    let photo = stack
        .sim_post(
            &format!("/_sim/numbers/{}/users/write", tenant.phone_number_id),
            json!({"from": writer, "message": {"type": "image", "image": {"caption": "the box"}}}),
        )
        .await;
    assert_eq!(photo["webhook_status"], 200, "{photo}");
    let contact = eventually(WAIT, "the person's contact", || async {
        stack.contact_of(&tenant.id, &writer).await
    })
    .await;
    let messages = format!("/v1/conversations/{contact}/messages");
    let inbound = eventually(WAIT, "both messages stored", || async {
        let (status, page) = stack.api_get(&messages, &admin).await;
        assert_eq!(status, 200, "{page}");
        let list = page["messages"].as_array().cloned().unwrap_or_default();
        (list.len() >= 2).then_some(list)
    })
    .await;
    assert!(
        inbound.iter().any(|m| m["wamid"] == first.as_str()),
        "the API still shows the wamid: {inbound:?}"
    );
    let first_id = inbound
        .iter()
        .find(|m| m["wamid"] == first.as_str())
        .and_then(|m| m["id"].as_str())
        .unwrap()
        .to_owned();

    // The business replies to it, with a key that names the number, and marks it read.
    let reply = json!({"from": tenant.phone_number_id, "to": writer, "type": "text",
        "reply_to": first, "text": {"body": "Yes, it ships today."}});
    let idempotency = format!("reply-to-{writer}");
    let (status, accepted) = stack
        .api(
            Method::POST,
            "/v1/messages",
            Some(&admin),
            Some(reply),
            &[("Idempotency-Key", idempotency.as_str())],
        )
        .await;
    assert_eq!(status, 202, "{accepted}");
    let (status, read) = stack
        .api(
            Method::POST,
            &format!("/v1/messages/{first_id}/read"),
            Some(&admin),
            None,
            &[],
        )
        .await;
    assert!(status < 300, "{status} {read}");
    let sent = format!("/v1/messages/{}", accepted["id"].as_str().unwrap());
    eventually(WAIT, "the reply's statuses", || async {
        let (_, view) = stack.api_get(&sent, &admin).await;
        (view["state"] == "read" || view["state"] == "delivered").then_some(())
    })
    .await;

    // Someone else stops everything; the confirmation goes out.
    tenant.user_writes(&stack, &stopper, "STOP").await;
    eventually(WAIT, "the opt-out's confirmation at Meta", || async {
        let received = tenant.sim_received(&stack).await;
        received
            .iter()
            .any(|r| r["to"] == stopper.as_str() && r["wamid"].is_string())
            .then_some(())
    })
    .await;

    // A third person is imported, then sent a template.
    let body =
        serde_json::to_vec(&json!({"contacts": [{"phone": imported, "name": "Imported Person"}]}))
            .unwrap();
    let (status, report) = stack
        .post_raw(
            &format!("{}/v1/contacts/import", stack.api_url),
            &admin,
            "application/json",
            body,
        )
        .await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["created"], 1, "{report}");
    let template = json!({"from": tenant.phone_number_id, "to": imported, "type": "template",
        "template": {"name": "order_update", "language": "en_US"}});
    let (status, accepted) = stack
        .api(
            Method::POST,
            "/v1/messages",
            Some(&admin),
            Some(template),
            &[],
        )
        .await;
    assert_eq!(status, 202, "{accepted}");
    let sent = format!("/v1/messages/{}", accepted["id"].as_str().unwrap());
    eventually(WAIT, "the template's statuses", || async {
        let (_, view) = stack.api_get(&sent, &admin).await;
        let history: Vec<Value> = view["status_history"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        (!history.is_empty()).then_some(())
    })
    .await;

    // Nothing stored anywhere shows any of the three numbers, where the scan does see the
    // person's items (their contact id is in their keys).
    assert!(!holders_anywhere(&stack, &[&contact]).await.is_empty());
    let found = holders_anywhere(&stack, &[&writer, &stopper, &imported]).await;
    assert!(
        found.is_empty(),
        "items that show a person's number: {found:#?}"
    );
}
