//! Phone numbers through the admin API, against the local stack and the simulator: a
//! connected number's token is stored encrypted and sends work with it; a rotated token is
//! picked up; a number belongs to one tenant at a time; a disconnected number sends nothing
//! more; tokens are never shown, only their fingerprints.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use wagate_shared::cloud_api::request::{OutboundContent, OutboundMessage, Recipient, Template};
use wagate_shared::domain::tenant::{TenantId, token_fingerprint};
use wagate_shared::outbound::OutboundJob;
use wagate_shared::store::outbound::SendOutcome;
use wagate_tests::{Stack, now, random_digits};

const WAIT: Duration = Duration::from_secs(60);

async fn create_tenant(stack: &Stack) -> String {
    let id = format!("t-{}", random_digits(12));
    let (status, body) = stack
        .admin(
            Method::POST,
            "/admin/v1/tenants",
            Some(&stack.operator_key),
            Some(json!({"id": id, "name": "Numbers Ltd"})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    id
}

async fn connect(stack: &Stack, tenant: &str, number: &str, token: &str) -> (u16, Value) {
    stack
        .admin(
            Method::PUT,
            &format!("/admin/v1/tenants/{tenant}/numbers/{number}"),
            Some(&stack.operator_key),
            Some(
                json!({"waba_id": "900000000001", "display_phone_number": "+4930123456",
                        "access_token": token}),
            ),
        )
        .await
}

/// Tells the simulator which token the number takes now.
async fn register_at_sim(stack: &Stack, tenant: &str, number: &str, token: &str) {
    stack
        .sim_post(
            "/_sim/numbers",
            json!({"phone_number_id": number, "display_phone_number": "4930123456",
                   "waba_id": "900000000001", "access_token": token,
                   "app_secret": random_digits(32), "webhook_url": stack.tenant_webhook_url(tenant),
                   "statuses": {"final_status": "none"}}),
        )
        .await;
}

/// The tenant's numbers as the operator lists them: the status and the answer.
async fn numbers_of(stack: &Stack, tenant: &str) -> (u16, Value) {
    stack
        .admin(
            Method::GET,
            &format!("/admin/v1/tenants/{tenant}/numbers"),
            Some(&stack.operator_key),
            None,
        )
        .await
}

async fn send_template(stack: &Stack, tenant: &str, number: &str) -> OutboundJob {
    let message = OutboundMessage {
        to: Recipient::parse(&format!("4915{}", random_digits(9))).unwrap(),
        reply_to: None,
        content: OutboundContent::Template(Template {
            name: "order_update".into(),
            language: "en_US".into(),
            components: vec![],
        }),
    };
    stack
        .outbound
        .enqueue(
            &TenantId::parse(tenant).unwrap(),
            number,
            &message,
            None,
            now(),
        )
        .await
        .unwrap()
}

async fn accepted(stack: &Stack, number: &str) -> usize {
    let counters = stack
        .sim_get(&format!("/_sim/numbers/{number}/counters"))
        .await;
    counters["accepted"].as_u64().unwrap_or(0) as usize
}

#[tokio::test]
async fn a_connected_number_sends_with_its_token_until_disconnected() {
    let stack = Stack::connect().await;
    let tenant = create_tenant(&stack).await;
    let number = format!("10{}", random_digits(13));
    let token = format!("EAAT{}", random_digits(40));
    let (status, body) = connect(&stack, &tenant, &number, &token).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token"]["fingerprint"], token_fingerprint(&token));
    assert_eq!(body["status"], "active");
    register_at_sim(&stack, &tenant, &number, &token).await;

    let job = send_template(&stack, &tenant, &number).await;
    let record = stack.outcome_of(&job, WAIT).await;
    assert!(
        matches!(record.outcome, SendOutcome::Accepted { .. }),
        "{record:?}"
    );

    // A rotated token: Meta (the simulator) takes only the new one from now on.
    let rotated = format!("EAAT{}", random_digits(40));
    let (status, body) = stack
        .admin(
            Method::PUT,
            &format!("/admin/v1/tenants/{tenant}/numbers/{number}/token"),
            Some(&stack.operator_key),
            Some(json!({"access_token": rotated})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token"]["fingerprint"], token_fingerprint(&rotated));
    register_at_sim(&stack, &tenant, &number, &rotated).await;
    let job = send_template(&stack, &tenant, &number).await;
    let record = stack.outcome_of(&job, WAIT).await;
    assert!(
        matches!(record.outcome, SendOutcome::Accepted { .. }),
        "{record:?}"
    );

    let (status, list) = numbers_of(&stack, &tenant).await;
    assert_eq!(status, 200);
    assert_eq!(list["numbers"][0]["phone_number_id"], number.as_str());
    let shown = list.to_string();
    assert!(
        !shown.contains(&token) && !shown.contains(&rotated),
        "a token was shown"
    );

    // One tenant at a time.
    let other = create_tenant(&stack).await;
    let (status, body) = connect(&stack, &other, &number, &rotated).await;
    assert_eq!(status, 409, "{body}");

    let (status, _) = stack
        .admin(
            Method::DELETE,
            &format!("/admin/v1/tenants/{tenant}/numbers/{number}"),
            Some(&stack.operator_key),
            None,
        )
        .await;
    assert_eq!(status, 204);
    // Jobs already queued, spread over the worker instances (some still hold the number
    // in their cache), send nothing more.
    let before = accepted(&stack, &number).await;
    let mut jobs = Vec::new();
    for _ in 0..8 {
        jobs.push(send_template(&stack, &tenant, &number).await);
    }
    tokio::time::sleep(Duration::from_secs(6)).await;
    assert_eq!(
        accepted(&stack, &number).await,
        before,
        "a disconnected number sent"
    );
    for job in &jobs {
        assert!(stack.outbound_record(job).await.is_none());
    }
    let (_, list) = numbers_of(&stack, &tenant).await;
    assert_eq!(list["numbers"], json!([]));
    let (status, body) = connect(&stack, &other, &number, &rotated).await;
    assert_eq!(
        status, 200,
        "once disconnected, another tenant may connect it: {body}"
    );
}

#[tokio::test]
async fn bad_number_requests_are_refused_with_the_field_and_roles_hold() {
    let stack = Stack::connect().await;
    let tenant = create_tenant(&stack).await;
    let good = json!({"waba_id": "900000000001", "display_phone_number": "+4930123456",
                      "access_token": "EAAT0123456789012345678901"});
    let mut cases = vec![("abc".to_owned(), good.clone(), "phone_number_id")];
    for (field, value) in [
        ("waba_id", json!("12ab")),
        ("display_phone_number", json!("call me")),
        ("access_token", json!("short")),
        ("access_token", json!("EAAT with spaces in the token text")),
        ("coexistence", json!("yes")),
        ("owner", json!("x")),
    ] {
        let mut body = good.clone();
        body[field] = value;
        cases.push((format!("10{}", random_digits(13)), body, field));
    }
    for (number, body, field) in cases {
        let (status, answer) = stack
            .admin(
                Method::PUT,
                &format!("/admin/v1/tenants/{tenant}/numbers/{number}"),
                Some(&stack.operator_key),
                Some(body.clone()),
            )
            .await;
        assert_eq!(
            (status, answer["error"]["field"].as_str()),
            (400, Some(field)),
            "{body}: {answer}"
        );
    }
    let (_, list) = numbers_of(&stack, &tenant).await;
    assert_eq!(
        list["numbers"],
        json!([]),
        "a refused request connected a number"
    );

    let (status, agent) = stack
        .admin(
            Method::POST,
            &format!("/admin/v1/tenants/{tenant}/keys"),
            Some(&stack.operator_key),
            Some(json!({"name": "desk", "role": "agent"})),
        )
        .await;
    assert_eq!(status, 201);
    let (status, _) = stack
        .admin(
            Method::GET,
            &format!("/admin/v1/tenants/{tenant}/numbers"),
            agent["key"].as_str(),
            None,
        )
        .await;
    assert_eq!(status, 403);
    for (method, path) in [
        (
            Method::DELETE,
            format!("/admin/v1/tenants/{tenant}/numbers/1234567"),
        ),
        (
            Method::PUT,
            format!("/admin/v1/tenants/{tenant}/numbers/1234567/token"),
        ),
    ] {
        let body =
            (method == Method::PUT).then(|| json!({"access_token": "EAAT0123456789012345678901"}));
        let (status, answer) = stack
            .admin(method, &path, Some(&stack.operator_key), body)
            .await;
        assert_eq!(status, 404, "{path}: {answer}");
    }
}
