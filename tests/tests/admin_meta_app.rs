//! A tenant's own Meta app through the admin API: once connected, `/webhook/{tenant}`
//! takes deliveries signed with the new app secret (and refuses the old one) and answers
//! the handshake with the new verify token; the secrets are never shown again.

use reqwest::Method;
use serde_json::json;
use wagate_messaging::domain::tenant::token_fingerprint;
use wagate_tests::{Stack, TestTenant, now, random_digits, sign, wamid};

#[tokio::test]
async fn a_connected_meta_app_signs_the_tenants_webhooks() {
    let stack = Stack::connect().await;
    let tenant = TestTenant::create(&stack).await;
    let path = format!("/admin/v1/tenants/{}/meta-app", tenant.id);
    let secret = format!("s{}", random_digits(31));
    let verify_token = format!("v{}", random_digits(23));
    let (status, body) = stack
        .admin(
            Method::PUT,
            &path,
            Some(&stack.operator_key),
            Some(json!({"app_id": "2000000000000002", "app_secret": secret, "verify_token": verify_token})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["secret_fingerprint"], token_fingerprint(&secret));
    assert_eq!(body["webhook_path"], format!("/webhook/{}", tenant.id));
    let (status, shown) = stack
        .admin(Method::GET, &path, Some(&stack.operator_key), None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(shown["app_id"], "2000000000000002");
    let text = shown.to_string();
    assert!(
        !text.contains(&secret) && !text.contains(&verify_token),
        "a secret was shown"
    );

    let url = stack.tenant_webhook_url(tenant.id.as_str());
    let delivery = tenant.text_from(&format!("49152{}", random_digits(8)), &wamid(), now(), "hi");
    for (key, expected) in [(&tenant.app_secret, 401), (&secret, 200)] {
        let signature = sign(key, delivery.as_bytes());
        let (status, answer) = stack
            .post(
                &url,
                delivery.clone().into_bytes(),
                &[("x-hub-signature-256", &signature)],
            )
            .await;
        assert_eq!(status, expected, "{answer}");
    }
    let handshake = stack
        .http
        .get(format!(
            "{url}?hub.mode=subscribe&hub.verify_token={verify_token}&hub.challenge=4711"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(handshake.status().as_u16(), 200);
    assert_eq!(handshake.text().await.unwrap(), "4711");

    let (status, _) = stack
        .admin(Method::DELETE, &path, Some(&stack.operator_key), None)
        .await;
    assert_eq!(status, 204);
    let (status, _) = stack
        .admin(Method::GET, &path, Some(&stack.operator_key), None)
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn bad_meta_app_requests_name_the_field() {
    let stack = Stack::connect().await;
    let tenant = TestTenant::create(&stack).await;
    let path = format!("/admin/v1/tenants/{}/meta-app", tenant.id);
    let good = json!({"app_id": "2000000000000002", "app_secret": "0123456789abcdef0123", "verify_token": "0123456789abcdef"});
    for (field, value) in [
        ("app_id", json!("app-1")),
        ("app_secret", json!("short")),
        ("verify_token", json!("has spaces in it, sadly")),
        ("app_name", json!("x")),
    ] {
        let mut body = good.clone();
        body[field] = value;
        let (status, answer) = stack
            .admin(
                Method::PUT,
                &path,
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
}
