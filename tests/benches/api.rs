//! The business API's figures on the local stack:
//! - p50/p99 latency of `POST /v1/messages` (a reply in an open window) and of
//!   `GET /v1/conversations`, over HTTP through the local Function URL, one call at a time;
//! - DynamoDB units and SQS requests per call, from the same router run in this process
//!   (a warm container: keys, tenant and number cached), every call counted.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use http::Request;
use serde_json::json;
use tower::ServiceExt;
use wagate_messaging::access::Role;
use wagate_messaging::metrics::{Metrics, MetricsSnapshot};
use wagate_tests::bench::{Row, print_table, through_inbound};
use wagate_tests::{Stack, TestTenant, now, random_digits, wamid};

const CALLS: usize = 300;

struct Setup {
    stack: Stack,
    tenant: TestTenant,
    phones: Vec<String>,
    /// Several keys, so that one key's rate limit does not shape the figures.
    keys: Vec<String>,
}

async fn setup() -> Setup {
    let stack = Stack::connect().await;
    let tenant = TestTenant::create(&stack).await;
    tenant
        .register_at_sim(&stack, json!({"throughput_per_second": 1000.0}))
        .await;
    let phones: Vec<String> = (0..30)
        .map(|u| format!("4917{u:04}{}", random_digits(5)))
        .collect();
    let greetings: Vec<String> = phones
        .iter()
        .map(|p| tenant.text_from(p, &wamid(), now(), "Hallo!"))
        .collect();
    through_inbound(&stack, &tenant, &greetings, &Arc::new(Metrics::default())).await;
    let mut keys = Vec::new();
    for _ in 0..20 {
        keys.push(tenant.api_key(&stack, Role::Manager).await);
    }
    Setup {
        stack,
        tenant,
        phones,
        keys,
    }
}

fn reply(setup: &Setup, i: usize) -> serde_json::Value {
    json!({"from": setup.tenant.phone_number_id, "to": setup.phones[i % setup.phones.len()],
        "type": "text", "text": {"body": "Danke, wir melden uns gleich."}})
}

fn percentiles(mut samples: Vec<Duration>) -> String {
    samples.sort();
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
    format!(
        "p50 {:.1} ms, p99 {:.1} ms",
        at(0.5).as_secs_f64() * 1e3,
        at(0.99).as_secs_f64() * 1e3
    )
}

async fn http_latency(setup: &Setup, send: bool) -> Vec<Duration> {
    let mut samples = Vec::with_capacity(CALLS);
    for i in 0..CALLS {
        let key = &setup.keys[i % setup.keys.len()];
        let started = Instant::now();
        let response = if send {
            setup
                .stack
                .http
                .post(format!("{}/v1/messages", setup.stack.api_url))
                .bearer_auth(key)
                .json(&reply(setup, i))
                .send()
                .await
        } else {
            setup
                .stack
                .http
                .get(format!("{}/v1/conversations?limit=50", setup.stack.api_url))
                .bearer_auth(key)
                .send()
                .await
        }
        .unwrap();
        let status = response.status().as_u16();
        response.bytes().await.unwrap();
        samples.push(started.elapsed());
        assert_eq!(status, if send { 202 } else { 200 });
    }
    samples
}

/// Units per call of the router in this process, after one warm-up call.
async fn cost_per_call(setup: &Setup, send: bool) -> MetricsSnapshot {
    let metrics = Arc::new(Metrics::default());
    let router = wagate_tests::in_process::business_api(&setup.stack, metrics.clone());
    let call = |i: usize| {
        let mut request =
            Request::builder().header("authorization", format!("Bearer {}", setup.keys[0]));
        request = if send {
            request
                .method("POST")
                .uri("/v1/messages")
                .header("content-type", "application/json")
        } else {
            request.method("GET").uri("/v1/conversations?limit=50")
        };
        let body = if send {
            Body::from(reply(setup, i).to_string())
        } else {
            Body::empty()
        };
        router.clone().oneshot(request.body(body).unwrap())
    };
    call(0).await.unwrap();
    let before = metrics.snapshot();
    for i in 1..=100 {
        let response = call(i).await.unwrap();
        assert!(response.status().is_success(), "{}", response.status());
    }
    let after = metrics.snapshot();
    MetricsSnapshot {
        write_units: (after.write_units - before.write_units) / 100.0,
        read_units: (after.read_units - before.read_units) / 100.0,
        sqs_requests: after.sqs_requests - before.sqs_requests,
        kms_calls: after.kms_calls - before.kms_calls,
    }
}

fn main() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let setup = runtime.block_on(setup());
    let mut rows = Vec::new();
    let sends = runtime.block_on(http_latency(&setup, true));
    rows.push(Row::new(
        format!("POST /v1/messages, reply in the window ({CALLS} calls, HTTP)"),
        percentiles(sends),
        "-",
    ));
    let lists = runtime.block_on(http_latency(&setup, false));
    rows.push(Row::new(
        format!("GET /v1/conversations?limit=50 ({CALLS} calls, HTTP)"),
        percentiles(lists),
        "-",
    ));
    for (send, what) in [
        (true, "POST /v1/messages"),
        (false, "GET /v1/conversations"),
    ] {
        let cost = runtime.block_on(cost_per_call(&setup, send));
        rows.push(Row::new(
            format!("{what}: DynamoDB write / read units per call"),
            format!("{:.2} / {:.2}", cost.write_units, cost.read_units),
            "-",
        ));
        if send {
            rows.push(Row::new(
                format!("{what}: SQS requests per call"),
                format!("{:.2}", cost.sqs_requests as f64 / 100.0),
                "1",
            ));
        }
    }
    print_table(&rows);
}
