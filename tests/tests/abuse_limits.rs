//! Abuse limits, in process against the local stack's table: made-up API keys cannot push
//! real ones out of the key cache, an address whose keys keep failing is refused before any
//! read, and a callback replay whose range is mostly deliveries to deleted endpoints stops
//! within its call with a cursor to go on from.

use std::net::IpAddr;
use std::sync::Arc;
use wagate_integrations::store::CallbackStore;

use futures_util::StreamExt;
use rand::Rng;
use wagate_integrations::callbacks::emitter::CallbackQueue;
use wagate_integrations::callbacks::event::{CallbackEvent, EventType};
use wagate_integrations::callbacks::log::CallbackDeliveryState;
use wagate_integrations::callbacks::registry::CallbackRegistry;
use wagate_integrations::store::callback::DeliveryAttempt;
use wagate_messaging::access::{AuthError, Authenticator, Role};
use wagate_messaging::metrics::Metrics;
use wagate_messaging::store::Store;
use wagate_tests::{Stack, TestTenant, now};

/// A key of the right shape that no tenant ever made.
fn made_up_key(tenant: &TestTenant) -> String {
    let mut rng = rand::rng();
    let key_id = hex::encode(rng.random::<[u8; 6]>());
    let secret = base64::Engine::encode(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        rng.random::<[u8; 32]>(),
    );
    format!("Bearer wg.{}.{key_id}.{secret}", tenant.id)
}

fn store_with_meter(stack: &Stack) -> (Store, Arc<Metrics>) {
    let metrics = Arc::new(Metrics::default());
    (stack.store_counting(metrics.clone()), metrics)
}

fn address(i: u32) -> Option<IpAddr> {
    Some(IpAddr::from([203, 0, (i >> 8) as u8, i as u8]))
}

#[tokio::test]
async fn a_flood_of_made_up_keys_does_not_push_a_real_key_out_of_the_cache() {
    let stack = Stack::connect().await;
    let tenant = TestTenant::create(&stack).await;
    let real = format!("Bearer {}", tenant.api_key(&stack, Role::Agent).await);
    let (store, metrics) = store_with_meter(&stack);
    let auth = Authenticator::with_capacity(store, 30);
    auth.authenticate(Some(&real), now(), address(0))
        .await
        .expect("the real key");
    // Five times the cache's size in made-up keys, each from an address of its own, well
    // within the key cache's five seconds.
    let flood: Vec<String> = (0..150).map(|_| made_up_key(&tenant)).collect();
    let refused: Vec<_> = futures_util::stream::iter(flood.iter().enumerate())
        .map(|(i, key)| auth.authenticate(Some(key), now(), address(i as u32 + 1)))
        .buffer_unordered(25)
        .collect()
        .await;
    for answer in &refused {
        assert!(matches!(answer, Err(AuthError::Unknown)), "{answer:?}");
    }
    let reads = metrics.snapshot().read_units;
    auth.authenticate(Some(&real), now(), address(0))
        .await
        .expect("the real key, still");
    assert_eq!(
        metrics.snapshot().read_units,
        reads,
        "the real key was read again: the flood pushed it out of the cache"
    );
}

#[tokio::test]
async fn an_address_whose_keys_keep_failing_is_refused_before_any_read() {
    let stack = Stack::connect().await;
    let tenant = TestTenant::create(&stack).await;
    let real = format!("Bearer {}", tenant.api_key(&stack, Role::Agent).await);
    let (store, metrics) = store_with_meter(&stack);
    let auth = Authenticator::new(store);
    let attacker = address(7);
    auth.authenticate(Some(&real), now(), address(8))
        .await
        .expect("the real key, from elsewhere");
    let mut limited_after = None;
    for attempt in 1..=40 {
        match auth
            .authenticate(Some(&made_up_key(&tenant)), now(), attacker)
            .await
        {
            Err(AuthError::Unknown) => {}
            Err(AuthError::TooManyFailures(wait)) => {
                assert!(wait >= 1);
                limited_after = Some(attempt);
                break;
            }
            other => panic!("attempt {attempt}: {other:?}"),
        }
    }
    assert_eq!(
        limited_after,
        Some(wagate_messaging::access::authenticator::FAILURES_BURST + 1)
    );
    let reads = metrics.snapshot().read_units;
    for _ in 0..100 {
        let refused = auth
            .authenticate(Some(&made_up_key(&tenant)), now(), attacker)
            .await;
        assert!(matches!(refused, Err(AuthError::TooManyFailures(_))));
    }
    assert_eq!(
        metrics.snapshot().read_units,
        reads,
        "a refused address still cost reads"
    );
    // Another address goes on; the real key, cached, works from the refused one too.
    let other = auth
        .authenticate(Some(&made_up_key(&tenant)), now(), address(9))
        .await;
    assert!(matches!(other, Err(AuthError::Unknown)), "{other:?}");
    auth.authenticate(Some(&real), now(), attacker)
        .await
        .expect("a cached key from the refused address");
}

#[tokio::test]
async fn a_replay_of_deliveries_to_deleted_endpoints_stops_within_its_call_with_a_cursor() {
    let stack = Stack::connect().await;
    let tenant = TestTenant::create(&stack).await;
    let (store, metrics) = store_with_meter(&stack);
    let queue = CallbackQueue::new(
        stack.sqs.clone(),
        std::env::var("CALLBACK_QUEUE_URL").unwrap(),
        metrics.clone(),
    );
    let registry = CallbackRegistry::new(store.clone(), stack.secrets.clone(), queue, true)
        .with_replay_examined(100);
    // Nothing listens there: the replayed events are retried in the background, harmlessly.
    let (live, _secret) = registry
        .register(&tenant.id, "http://127.0.0.1:9/hook", vec![], now())
        .await
        .unwrap();
    let start = now() - 3_600;
    let log = |endpoint: String, at: i64, i: usize| {
        let store = store.clone();
        let tenant = tenant.id.clone();
        async move {
            let event = CallbackEvent::new(
                tenant.as_str(),
                EventType::MessageStatus,
                &format!("source {i}"),
                at,
                serde_json::json!({"n": i}),
            );
            let body = serde_json::to_string(&event).unwrap();
            store
                .repo::<CallbackStore>()
                .record_delivery(&DeliveryAttempt {
                    tenant: &tenant,
                    endpoint_id: &endpoint,
                    event_id: &event.id,
                    event_type: event.event_type,
                    event_created_at: at,
                    body: &body,
                    contact_id: None,
                    state: CallbackDeliveryState::Delivered,
                    attempt: 1,
                    http_status: Some(200),
                    error: None,
                    now: at,
                    expires_at: now() + 3_600,
                })
                .await
                .unwrap();
        }
    };
    // 350 deliveries to an endpoint deleted since, then 5 to the live one.
    let dead = "cb_00000000deadbeef".to_owned();
    futures_util::future::join_all((0..350).map(|i| log(dead.clone(), start + i as i64 / 10, i)))
        .await;
    futures_util::future::join_all((0..5).map(|i| log(live.id.clone(), start + 100, 1_000 + i)))
        .await;

    let mut cursor: Option<wagate_messaging::store::cursor::Cursor> = None;
    let mut calls = 0;
    let mut queued = 0;
    loop {
        let reads = metrics.snapshot().read_units;
        let replayed = registry
            .replay(&tenant.id, start, now(), None, cursor.as_ref(), now())
            .await
            .unwrap();
        calls += 1;
        // A call reads its endpoints and at most 100 small deliveries: a few units.
        assert!(metrics.snapshot().read_units - reads < 20.0, "call {calls}");
        queued += replayed.queued;
        match replayed.next {
            Some(next) => cursor = Some(next),
            None => break,
        }
        assert!(calls < 10, "the replay never ended");
    }
    assert_eq!(queued, 5);
    assert!(calls >= 4, "each call stopped at its bound: {calls} calls");
}
