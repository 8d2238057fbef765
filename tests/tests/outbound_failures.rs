//! What the sender does with Meta's errors, against the simulator's fault injection:
//! throughput (130429), 5xx and dropped connections are retried until the message is sent
//! once; a closed window (131047) fails without retry; a refused token (190) stops the
//! tenant's sending, while a rotated token is picked up; a spam limit (131048) pauses the
//! number, and its later jobs wait without reaching Meta; the pair rate (131056) delays
//! only that recipient.

use std::time::Duration;
use wagate_messaging::store::NumberStore;
use wagate_messaging::store::TenantStore;

use serde_json::{Value, json};
use wagate_messaging::domain::conversation::SendOutcome;
use wagate_messaging::domain::tenant::TenantStatus;
use wagate_messaging::outbound::OutboundJob;
use wagate_messaging::secret_store::SecretContext;
use wagate_tests::{Stack, TestTenant, eventually, now, random_digits, text_to};

const WAIT: Duration = Duration::from_secs(90);

async fn setup(sim_settings: Value) -> (Stack, TestTenant) {
    let stack = Stack::connect().await;
    let tenant = TestTenant::create(&stack).await;
    tenant.register_at_sim(&stack, sim_settings).await;
    (stack, tenant)
}

/// A user who wrote in (so the window is open), with the contact stored.
async fn user(stack: &Stack, tenant: &TestTenant) -> String {
    let phone = format!("4917{}", random_digits(9));
    tenant.user_writes(stack, &phone, "hello").await;
    eventually(WAIT, "the user's contact", || async {
        stack.contact_of(&tenant.id, &phone).await
    })
    .await;
    phone
}

async fn fault(stack: &Stack, tenant: &TestTenant, recipient: &str, fault: Value) {
    let mut body = json!({"phone_number_id": tenant.phone_number_id, "recipient": recipient});
    for (k, v) in fault.as_object().unwrap() {
        body[k] = v.clone();
    }
    stack.sim_post("/_sim/faults", body).await;
}

async fn send(stack: &Stack, tenant: &TestTenant, to: &str, body: &str) -> OutboundJob {
    stack
        .outbound
        .enqueue(
            &tenant.id,
            &text_to(&tenant.phone_number_id, to, body),
            None,
            now(),
        )
        .await
        .unwrap()
}

/// The simulator's answers to requests for `to`, in order: HTTP status or Meta code.
async fn answers_for(stack: &Stack, tenant: &TestTenant, to: &str) -> Vec<String> {
    tenant
        .sim_received(stack)
        .await
        .iter()
        .filter(|r| r["to"] == to)
        .map(|r| match r["error_code"].as_i64() {
            Some(code) => code.to_string(),
            None => r["http_status"].to_string(),
        })
        .collect()
}

#[tokio::test]
async fn throughput_errors_5xx_and_dropped_connections_are_retried_until_sent_once() {
    let (stack, tenant) = setup(json!({})).await;
    let throttled = user(&stack, &tenant).await;
    let unavailable = user(&stack, &tenant).await;
    let dropped = user(&stack, &tenant).await;
    fault(
        &stack,
        &tenant,
        &throttled,
        json!({"error_code": 130429, "count": 2}),
    )
    .await;
    fault(
        &stack,
        &tenant,
        &unavailable,
        json!({"http_status": 503, "count": 2}),
    )
    .await;
    fault(&stack, &tenant, &dropped, json!({"drop": true})).await;
    let jobs = [
        send(&stack, &tenant, &throttled, "a").await,
        send(&stack, &tenant, &unavailable, "b").await,
        send(&stack, &tenant, &dropped, "c").await,
    ];
    for job in &jobs {
        let record = stack.outcome_of(job, WAIT).await;
        assert!(
            matches!(record.outcome, SendOutcome::Accepted { .. }),
            "{record:?}"
        );
    }
    assert_eq!(
        answers_for(&stack, &tenant, &throttled).await,
        ["130429", "130429", "200"]
    );
    assert_eq!(
        answers_for(&stack, &tenant, &unavailable).await,
        ["503", "503", "200"]
    );
    assert_eq!(answers_for(&stack, &tenant, &dropped).await, ["0", "200"]);
    assert_eq!(stack.outcome_of(&jobs[0], WAIT).await.attempts, 3);
}

#[tokio::test]
async fn a_closed_window_reported_by_meta_fails_the_message_without_retry() {
    let (stack, tenant) = setup(json!({})).await;
    let phone = user(&stack, &tenant).await;
    fault(&stack, &tenant, &phone, json!({"error_code": 131047})).await;
    let job = send(&stack, &tenant, &phone, "too late").await;
    let record = stack.outcome_of(&job, WAIT).await;
    match &record.outcome {
        SendOutcome::Failed { code, title, .. } => {
            assert_eq!(*code, Some(131047));
            assert!(title.contains("131047"), "{title}");
        }
        other => panic!("{other:?}"),
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(answers_for(&stack, &tenant, &phone).await, ["131047"]);
}

#[tokio::test]
async fn a_refused_token_stops_the_tenants_sending_and_later_jobs_fail_fast() {
    let (stack, tenant) = setup(json!({"access_token": "EAAsomeoneelse"})).await;
    let phone = user(&stack, &tenant).await;
    let first = send(&stack, &tenant, &phone, "one").await;
    let record = stack.outcome_of(&first, WAIT).await;
    assert!(
        matches!(
            record.outcome,
            SendOutcome::Failed {
                code: Some(190),
                ..
            }
        ),
        "{record:?}"
    );
    let stored = stack
        .store
        .repo::<TenantStore>()
        .get_tenant(&tenant.id)
        .await
        .unwrap()
        .unwrap();
    let reason = stored.sending_stopped.expect("sending is stopped");
    assert!(reason.contains("190"), "{reason}");

    let second = send(&stack, &tenant, &phone, "two").await;
    let record = stack.outcome_of(&second, WAIT).await;
    match &record.outcome {
        SendOutcome::Failed { title, .. } => assert!(title.contains("stopped"), "{title}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(answers_for(&stack, &tenant, &phone).await, ["190"]);
}

#[tokio::test]
async fn a_rotated_token_is_picked_up_without_stopping_the_tenant() {
    let (stack, tenant) = setup(json!({})).await;
    let phone = user(&stack, &tenant).await;
    let before = send(&stack, &tenant, &phone, "before").await;
    assert!(matches!(
        stack.outcome_of(&before, WAIT).await.outcome,
        SendOutcome::Accepted { .. }
    ));

    // Rotate: Meta now knows only the new token, and the store holds it.
    let rotated = format!("EAAROTATED{}", random_digits(10));
    tenant
        .register_at_sim(&stack, json!({"access_token": rotated}))
        .await;
    let ciphertext = stack
        .secrets
        .encrypt(
            &rotated,
            &SecretContext::phone_number(tenant.id.as_str(), &tenant.phone_number_id),
        )
        .await
        .unwrap();
    let rotated_here = stack
        .store
        .repo::<NumberStore>()
        .rotate_access_token(
            &tenant.id,
            &tenant.phone_number_id,
            ciphertext,
            "test",
            now(),
        )
        .await
        .unwrap();
    assert!(rotated_here);

    let after = send(&stack, &tenant, &phone, "after").await;
    let record = stack.outcome_of(&after, WAIT).await;
    assert!(
        matches!(record.outcome, SendOutcome::Accepted { .. }),
        "{record:?}"
    );
    let stored = stack
        .store
        .repo::<TenantStore>()
        .get_tenant(&tenant.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.sending_stopped, None);
}

#[tokio::test]
async fn a_suspended_tenants_jobs_fail_with_the_reason_and_never_reach_meta() {
    let (stack, tenant) = setup(json!({})).await;
    let suspended = stack
        .store
        .repo::<TenantStore>()
        .update_tenant(&tenant.id, None, Some(TenantStatus::Suspended))
        .await
        .unwrap();
    assert!(suspended.is_some());
    let phone = format!("4917{}", random_digits(9));
    let job = send(&stack, &tenant, &phone, "hello").await;
    let record = stack.outcome_of(&job, WAIT).await;
    match &record.outcome {
        SendOutcome::Failed { code, title, .. } => {
            assert_eq!(*code, None);
            assert!(title.contains("suspended"), "{title}");
        }
        other => panic!("{other:?}"),
    }
    assert!(answers_for(&stack, &tenant, &phone).await.is_empty());
}

#[tokio::test]
async fn a_spam_limit_pauses_the_number_and_its_later_jobs_wait_without_reaching_meta() {
    let (stack, tenant) = setup(json!({})).await;
    let limited = user(&stack, &tenant).await;
    let other = user(&stack, &tenant).await;
    fault(&stack, &tenant, &limited, json!({"error_code": 131048})).await;
    let first = send(&stack, &tenant, &limited, "one").await;
    let number = eventually(WAIT, "the number paused", || async {
        stack
            .store
            .repo::<NumberStore>()
            .get_phone_number(&tenant.id, &tenant.phone_number_id)
            .await
            .unwrap()
            .filter(|n| n.paused_until.is_some())
    })
    .await;
    let paused_for = number.paused_until.unwrap() - now();
    assert!((3400..=3600).contains(&paused_for), "{paused_for}");
    let reason = number.pause_reason.unwrap_or_default();
    assert!(reason.contains("131048"), "{reason}");

    // A later job, to someone else and whichever instance takes it, waits for the pause.
    let second = send(&stack, &tenant, &other, "two").await;
    tokio::time::sleep(Duration::from_secs(6)).await;
    assert_eq!(answers_for(&stack, &tenant, &limited).await, ["131048"]);
    assert!(answers_for(&stack, &tenant, &other).await.is_empty());
    // Neither has a fate yet: both are back in the queue until the number may send again.
    assert!(stack.outbound_record(&first).await.is_none());
    assert!(stack.outbound_record(&second).await.is_none());
}

#[tokio::test]
async fn the_pair_rate_delays_only_that_recipient() {
    let (stack, tenant) = setup(json!({})).await;
    let limited = user(&stack, &tenant).await;
    let other = user(&stack, &tenant).await;
    fault(&stack, &tenant, &limited, json!({"error_code": 131056})).await;
    let limited_job = send(&stack, &tenant, &limited, "to the busy pair").await;
    let other_job = send(&stack, &tenant, &other, "to someone else").await;
    for job in [&limited_job, &other_job] {
        let record = stack.outcome_of(job, WAIT).await;
        assert!(
            matches!(record.outcome, SendOutcome::Accepted { .. }),
            "{record:?}"
        );
    }
    let received = tenant.sim_received(&stack).await;
    let at = |to: &str, accepted: bool| {
        received
            .iter()
            .find(|r| r["to"] == to && r["wamid"].is_string() == accepted)
            .and_then(|r| r["at_ms"].as_u64())
            .unwrap()
    };
    let refused_at = at(&limited, false);
    let limited_sent_at = at(&limited, true);
    let other_sent_at = at(&other, true);
    assert!(
        limited_sent_at - refused_at >= 3000,
        "the recipient was retried after {} ms, sooner than Meta's 4 s",
        limited_sent_at - refused_at
    );
    assert!(
        other_sent_at < limited_sent_at,
        "the other recipient waited"
    );
    assert_eq!(
        answers_for(&stack, &tenant, &limited).await,
        ["131056", "200"]
    );
}
