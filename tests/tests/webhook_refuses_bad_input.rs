//! The webhook's answers to bad input, over HTTP against the local stack: nothing that is
//! refused reaches the queue.

use std::time::Duration;
use wagate_messaging::store::MessageStore;

use wagate_tests::{Stack, TestTenant, eventually, now, sign, wamid, with_sk_prefix};

const USER: &str = "4915112345001";

/// Posts a valid message from the same user after the refused ones and waits for it: FIFO
/// order within a conversation means anything refused but queued would be stored by then.
async fn assert_only_sentinel_stored(stack: &Stack, tenant: &TestTenant, refused_wamid: &str) {
    let sentinel = wamid();
    let (status, _) = stack
        .post_signed(&tenant.text_from(USER, &sentinel, now(), "sentinel"))
        .await;
    assert_eq!(status, 200);
    // Messages are keyed by their wamid's blind index.
    let keyed = |m: &&wagate_messaging::store::Item, blinded: &str| {
        wagate_tests::text(m, "sk").is_some_and(|sk| sk.ends_with(blinded))
    };
    let sentinel = stack.blind_wamid(tenant.id.as_str(), &sentinel).await;
    let refused = stack.blind_wamid(tenant.id.as_str(), refused_wamid).await;
    let items = eventually(Duration::from_secs(30), "the sentinel message", || async {
        let items = stack.tenant_items(tenant.id.as_str()).await;
        with_sk_prefix(&items, "MSG#")
            .iter()
            .any(|m| keyed(m, &sentinel))
            .then_some(items)
    })
    .await;
    let messages = with_sk_prefix(&items, "MSG#");
    assert_eq!(messages.len(), 1, "only the sentinel is stored");
    assert!(!messages.iter().any(|m| keyed(m, &refused)));
}

#[tokio::test]
async fn forged_missing_truncated_and_sha1_only_signatures_get_401_and_queue_nothing() {
    let stack = Stack::connect().await;
    let tenant = TestTenant::create(&stack).await;
    let refused = wamid();
    let body = tenant.text_from(USER, &refused, now(), "forged");
    let good = sign(&stack.platform_app_secret, body.as_bytes());
    let forged = sign("not-the-app-secret", body.as_bytes());
    let truncated = good[..good.len() - 10].to_owned();
    let sha1 = "sha1=0123456789abcdef0123456789abcdef01234567".to_owned();
    let cases: [(&str, Vec<(&str, &str)>); 4] = [
        ("forged", vec![("x-hub-signature-256", &forged)]),
        ("missing", vec![]),
        ("truncated", vec![("x-hub-signature-256", &truncated)]),
        ("sha1 only", vec![("x-hub-signature", &sha1)]),
    ];
    for (case, headers) in cases {
        let (status, answer) = stack
            .post(&stack.webhook_url, body.clone().into_bytes(), &headers)
            .await;
        assert_eq!(status, 401, "{case}: {answer}");
        let error: serde_json::Value = serde_json::from_str(&answer).expect("a JSON error");
        assert_eq!(error["error"]["code"], "invalid_signature", "{case}");
    }
    assert_only_sentinel_stored(&stack, &tenant, &refused).await;
}

#[tokio::test]
async fn a_body_over_3_mb_gets_413_and_a_body_that_is_not_json_gets_400() {
    let stack = Stack::connect().await;
    let tenant = TestTenant::create(&stack).await;
    let huge = format!(
        "{{\"object\":\"whatsapp_business_account\",\"pad\":\"{}\"}}",
        "x".repeat(3 * 1024 * 1024)
    );
    let signature = sign(&stack.platform_app_secret, huge.as_bytes());
    let (status, answer) = stack
        .post(
            &stack.webhook_url,
            huge.into_bytes(),
            &[("x-hub-signature-256", &signature)],
        )
        .await;
    assert_eq!(status, 413, "{answer}");

    let (status, answer) = stack
        .post_signed("{\"object\": \"whatsapp_business_account\", \"entry\": [")
        .await;
    assert_eq!(status, 400, "{answer}");
    assert!(answer.contains("invalid_payload"));

    let (status, answer) = stack.post_signed(r#"{"object":"page","entry":[]}"#).await;
    assert_eq!(status, 400, "{answer}");

    let refused = wamid();
    let not_whatsapp = tenant
        .text_from(USER, &refused, now(), "x")
        .replace("whatsapp_business_account", "instagram");
    assert_eq!(stack.post_signed(&not_whatsapp).await.0, 400);
    assert_only_sentinel_stored(&stack, &tenant, &refused).await;
}

#[tokio::test]
async fn escaped_non_ascii_verifies_on_the_raw_bytes_and_a_reserialised_copy_does_not() {
    let stack = Stack::connect().await;
    let tenant = TestTenant::create(&stack).await;
    let id = wamid();
    // Built by hand so the bytes carry Meta's escapes: \u00e4 and \/.
    let body = format!(
        r#"{{"object":"whatsapp_business_account","entry":[{{"id":"{waba}","changes":[{{"field":"messages","value":{{"messaging_product":"whatsapp","metadata":{{"display_phone_number":"{display}","phone_number_id":"{pn}"}},"contacts":[{{"profile":{{"name":"J\u00e4rvi"}},"wa_id":"{USER}"}}],"messages":[{{"from":"{USER}","id":"{id}","timestamp":"{ts}","type":"text","text":{{"body":"Gr\u00fc\u00dfe, see https:\/\/example.com\/x"}}}}]}}}}]}}]}}"#,
        waba = tenant.waba_id,
        display = tenant.display_phone_number,
        pn = tenant.phone_number_id,
        ts = now(),
    );
    assert!(body.contains(r"\u00e4") && body.contains(r"\/"));
    let signature = sign(&stack.platform_app_secret, body.as_bytes());

    let reserialised =
        serde_json::to_string(&serde_json::from_str::<serde_json::Value>(&body).unwrap()).unwrap();
    assert_ne!(reserialised, body);
    let (status, _) = stack
        .post(
            &stack.webhook_url,
            reserialised.into_bytes(),
            &[("x-hub-signature-256", &signature)],
        )
        .await;
    assert_eq!(status, 401, "a re-serialised body must not verify");

    let (status, answer) = stack
        .post(
            &stack.webhook_url,
            body.into_bytes(),
            &[("x-hub-signature-256", &signature)],
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    // Read through the store: the stored content is sealed.
    let content = eventually(Duration::from_secs(30), "the message", || async {
        let contact = stack.contact_of(&tenant.id, USER).await?;
        let messages = stack
            .store
            .repo::<MessageStore>()
            .messages_of(&tenant.id, &contact, now(), 10)
            .await
            .unwrap();
        messages.first().map(|m| m.content.clone())
    })
    .await;
    assert!(
        content.contains("Grüße, see https://example.com/x"),
        "{content}"
    );
}

#[tokio::test]
async fn the_handshake_echoes_the_challenge_only_for_the_right_token() {
    let stack = Stack::connect().await;
    let tenant = TestTenant::create(&stack).await;
    let get = |url: String| {
        let http = stack.http.clone();
        async move {
            let r = http.get(url).send().await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    let platform = format!(
        "{}?hub.mode=subscribe&hub.verify_token={}&hub.challenge=1158201444",
        stack.webhook_url, stack.platform_verify_token
    );
    assert_eq!(get(platform).await, (200, "1158201444".to_owned()));
    let own = format!(
        "{}?hub.mode=subscribe&hub.verify_token={}&hub.challenge=abc%20123",
        stack.tenant_webhook_url(tenant.id.as_str()),
        tenant.verify_token
    );
    assert_eq!(get(own).await, (200, "abc 123".to_owned()));

    let wrong_token = format!(
        "{}?hub.mode=subscribe&hub.verify_token=nope&hub.challenge=1",
        stack.webhook_url
    );
    assert_eq!(get(wrong_token).await.0, 403);
    let wrong_mode = format!(
        "{}?hub.mode=unsubscribe&hub.verify_token={}&hub.challenge=1",
        stack.webhook_url, stack.platform_verify_token
    );
    assert_eq!(get(wrong_mode).await.0, 403);
    // One tenant's token does not open another tenant's door, nor the platform's.
    let crossed = format!(
        "{}?hub.mode=subscribe&hub.verify_token={}&hub.challenge=1",
        stack.webhook_url, tenant.verify_token
    );
    assert_eq!(get(crossed).await.0, 403);
}

#[tokio::test]
async fn an_unknown_tenant_door_is_404_and_a_tenant_app_cannot_post_for_another_tenant() {
    let stack = Stack::connect().await;
    let a = TestTenant::create(&stack).await;
    let b = TestTenant::create(&stack).await;
    let body = a.text_from(USER, &wamid(), now(), "hi");
    let signature = sign(&b.app_secret, body.as_bytes());
    let (status, _) = stack
        .post(
            &stack.tenant_webhook_url("t-does-not-exist"),
            body.clone().into_bytes(),
            &[("x-hub-signature-256", &signature)],
        )
        .await;
    assert_eq!(status, 404);

    // B's own app signs a delivery for A's number: accepted (Meta must not retry it), not queued.
    let (status, answer) = stack
        .post(
            &stack.tenant_webhook_url(b.id.as_str()),
            body.clone().into_bytes(),
            &[("x-hub-signature-256", &signature)],
        )
        .await;
    assert_eq!(status, 200);
    let answer: serde_json::Value = serde_json::from_str(&answer).unwrap();
    assert_eq!(
        (answer["queued"].as_u64(), answer["unroutable"].as_u64()),
        (Some(0), Some(1))
    );

    // A's own app, through A's door: queued and stored.
    let signature = sign(&a.app_secret, body.as_bytes());
    let (status, _) = stack
        .post(
            &stack.tenant_webhook_url(a.id.as_str()),
            body.into_bytes(),
            &[("x-hub-signature-256", &signature)],
        )
        .await;
    assert_eq!(status, 200);
    eventually(Duration::from_secs(30), "A's message", || async {
        let items = stack.tenant_items(a.id.as_str()).await;
        (!with_sk_prefix(&items, "MSG#").is_empty()).then_some(())
    })
    .await;
    assert!(
        stack
            .tenant_items(b.id.as_str())
            .await
            .iter()
            .all(|it| wagate_tests::text(it, "sk") != Some("PROFILE"))
    );
}
