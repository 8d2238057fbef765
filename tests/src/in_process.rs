//! The business API's router run in the test's own process, over the stack's table and
//! queues: for figures a remote call hides (units per call) and for tests that move this
//! process's clock.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use http::Request;
use tower::ServiceExt;
use wagate_integrations::callbacks::emitter::CallbackQueue;
use wagate_integrations::callbacks::registry::CallbackRegistry;
use wagate_messaging::cloud_api::{CloudApiClient, CloudApiConfig};
use wagate_messaging::metrics::Metrics;
use wagate_messaging::outbound::{OutboundQueue, ReadReceipts};
use wagate_messaging::queue::EventQueue;
use wagate_messaging::secret_store::SecretStore;
use wagate_messaging::store::cursor::CursorKeys;
use wagate_messaging::templates::TemplateManager;
use wagate_messaging::token_bucket::Rate;

use crate::Stack;

/// The business API with no rate limit, every call counted in `metrics`.
pub fn business_api(stack: &Stack, metrics: Arc<Metrics>) -> Router {
    let store = stack.store_counting(metrics.clone());
    let secrets = || {
        SecretStore::new(
            aws_sdk_kms::Client::new(&stack.sdk),
            stack.kms_key_id.clone(),
            metrics.clone(),
        )
    };
    let queue = OutboundQueue::new(
        EventQueue::new(
            stack.sqs.clone(),
            std::env::var("OUTBOUND_QUEUE_URL").expect("OUTBOUND_QUEUE_URL"),
            metrics.clone(),
        ),
        stack.queue_ids.clone(),
    );
    let cloud_api = || CloudApiClient::new(CloudApiConfig::default()).expect("a client");
    let unlimited = Rate::per_second(100_000, 100_000);
    let rates = http_api::rate_limit::Rates {
        key: unlimited,
        tenant: unlimited,
    };
    let callbacks = CallbackRegistry::new(
        store.clone(),
        secrets(),
        CallbackQueue::new(
            stack.sqs.clone(),
            std::env::var("CALLBACK_QUEUE_URL").expect("CALLBACK_QUEUE_URL"),
            metrics.clone(),
        ),
        false,
    );
    let state = api::BusinessState::new(
        store.clone(),
        queue,
        ReadReceipts::new(secrets(), cloud_api()),
        callbacks,
        TemplateManager::new(store.clone(), secrets(), cloud_api()),
        rates,
        CursorKeys::new(store.clone(), secrets()),
        stack.audit_log(store),
    );
    api::router(Arc::new(state))
}

/// A GET through `router` with `key`: the status and the JSON answer.
pub async fn get(router: &Router, path: &str, key: &str) -> (u16, serde_json::Value) {
    let request = Request::builder()
        .method("GET")
        .uri(path)
        .header("authorization", format!("Bearer {key}"))
        .body(Body::empty())
        .expect("a request");
    let response = router.clone().oneshot(request).await.expect("an answer");
    let status = response.status().as_u16();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("a body");
    (status, serde_json::from_slice(&bytes).unwrap_or_default())
}
