//! Every sample event in `events/webhook/` gets the status its file name ends with
//! (`<scenario>.<status>.json`). These are refusals and handshakes, decided before any
//! AWS call, so the clients here point at a closed port.

use std::path::PathBuf;
use std::sync::Arc;

use wagate_messaging::metrics::Metrics;
use wagate_messaging::secret::Secret;
use wagate_messaging::store::Store;
use webhook::{AppState, WebhookConfig};

const FIXTURE_APP_SECRET: &str = "fixture-app-secret";
const FIXTURE_VERIFY_TOKEN: &str = "fixture-verify-token";

async fn offline_state() -> AppState {
    let sdk = aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .endpoint_url("http://127.0.0.1:9")
        .build();
    let config = WebhookConfig {
        table_name: "unused".into(),
        inbound_queue_url: "http://127.0.0.1:9/queue.fifo".into(),
        queue_id_key_id: "unused".into(),
        kms_key_id: "unused".into(),
        platform_app_secret_ciphertext: vec![1, 2, 3],
        platform_verify_token: wagate_messaging::secret::Secret::new(FIXTURE_VERIFY_TOKEN.into()),
        max_body_bytes: webhook::config::DEFAULT_MAX_BODY_BYTES,
    };
    let metrics = Arc::new(Metrics::default());
    AppState::with_clients(
        config,
        Store::new(
            aws_sdk_dynamodb::Client::new(&sdk),
            "unused",
            metrics.clone(),
        ),
        aws_sdk_sqs::Client::new(&sdk),
        aws_sdk_kms::Client::new(&sdk),
        metrics,
    )
    .with_platform_app_secret(Secret::new(FIXTURE_APP_SECRET.into()))
}

fn sample_events() -> Vec<(String, u16, String)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../events/webhook");
    let mut events: Vec<_> = std::fs::read_dir(&dir)
        .expect("events/webhook exists")
        .flatten()
        .map(|e| e.path())
        .filter_map(|path| {
            let name = path.file_name()?.to_str()?.to_owned();
            let status = name
                .strip_suffix(".json")?
                .rsplit('.')
                .next()?
                .parse()
                .ok()?;
            Some((name, status, std::fs::read_to_string(&path).ok()?))
        })
        .collect();
    events.sort();
    events
}

#[tokio::test]
async fn every_sample_event_gets_the_status_its_name_promises() {
    let state = offline_state().await;
    let events = sample_events();
    assert!(events.len() >= 10, "sample events found: {}", events.len());
    for (name, expected, json) in events {
        let request =
            lambda_http::request::from_str(&json).unwrap_or_else(|e| panic!("{name}: {e}"));
        let response = webhook::handle(&state, request).await;
        assert_eq!(response.status().as_u16(), expected, "{name}");
        if expected >= 400 {
            let body = std::str::from_utf8(response.body().as_ref())
                .unwrap()
                .to_owned();
            let error: serde_json::Value =
                serde_json::from_str(&body).unwrap_or_else(|_| panic!("{name}: JSON error body"));
            assert!(error["error"]["code"].is_string(), "{name}: {body}");
        }
    }
}

#[tokio::test]
async fn the_handshake_echoes_the_challenge_verbatim() {
    let state = offline_state().await;
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../events/webhook");
    let json = std::fs::read_to_string(dir.join("get-handshake-right-token.200.json")).unwrap();
    let response = webhook::handle(&state, lambda_http::request::from_str(&json).unwrap()).await;
    assert_eq!(response.body().as_ref(), b"1158201444");
}

#[tokio::test]
async fn a_body_over_the_limit_is_refused_before_its_signature_is_checked() {
    let state = offline_state().await;
    let body = "x".repeat(webhook::config::DEFAULT_MAX_BODY_BYTES + 1);
    let request = http::Request::builder()
        .method("POST")
        .uri("/webhook")
        .body(lambda_http::Body::Text(body))
        .unwrap();
    assert_eq!(
        webhook::handle(&state, request).await.status().as_u16(),
        413
    );
}
