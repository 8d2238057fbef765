//! `make bench`: the figures of the inbound pipeline, printed as a table.
//!
//! - webhook hot path (verify, parse, split, build queue messages; no network) for a
//!   1-event and a 100-event delivery, on one core;
//! - cold init of the release webhook binary, from process start to its first poll of the
//!   Lambda runtime API, and the stripped binary's size;
//! - DynamoDB units, SQS requests and KMS calls per inbound message, counted from real calls
//!   to the local stack (infra/bench.sh starts it).

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use wagate_audit::AuditLog;
use wagate_messaging::inbound::InboundTables;
use wagate_messaging::privacy::cipher::DataKey;
use wagate_messaging::queue::ids::QueueIdKey;

use wagate_messaging::inbound::InboundProcessor;
use wagate_messaging::metrics::Metrics;
use wagate_messaging::secret::Secret;
use wagate_messaging::signature::{sign, verify};
use wagate_messaging::tenants::TenantDirectory;
use wagate_messaging::webhook::{Arrival, split_delivery, to_queue_message};
use wagate_tests::bench::{
    Row, print_breakdown, print_table, through_inbound, through_processor, time_per_call,
};
use wagate_tests::{Stack, TestTenant, now, random_digits};

fn delivery(events: usize, phone_number_id: &str, waba: &str) -> String {
    let messages: Vec<serde_json::Value> = (0..events)
        .map(|i| {
            serde_json::json!({"from": format!("49151{:07}", i % 10), "id": format!("wamid.BENCH{}{i:06}", random_digits(8)),
                "timestamp": "1795309200", "type": "text", "text": {"body": "Hallo, ich h\u{e4}tte gern einen Termin f\u{fc}r Dienstag."}})
        })
        .collect();
    let contacts: Vec<serde_json::Value> = (0..events.min(10))
        .map(|i| serde_json::json!({"profile": {"name": format!("User {i}")}, "wa_id": format!("49151{i:07}")}))
        .collect();
    serde_json::json!({"object": "whatsapp_business_account", "entry": [{"id": waba, "changes": [{"field": "messages", "value": {
        "messaging_product": "whatsapp", "metadata": {"display_phone_number": "15550783881", "phone_number_id": phone_number_id},
        "contacts": contacts, "messages": messages}}]}]})
    .to_string()
}

/// Verify + split + queue messages, as the webhook does per delivery before SQS.
fn hot_path(secret: &Secret, body: &[u8], header: &str) -> usize {
    verify(secret, body, Some(header), false).expect("signed");
    let events = split_delivery(body).expect("valid");
    // The key each container derives once.
    let ids = QueueIdKey::of(DataKey::from_slice(&[9; 32]).expect("32 bytes"));
    events
        .iter()
        .map(|e| {
            to_queue_message(e, &Arrival::platform("demo", 1), &ids)
                .body
                .len()
        })
        .sum()
}

fn time_hot_path(events: usize) -> Duration {
    let secret = Secret::new("bench-app-secret".into());
    let body = delivery(events, "106540352242922", "102290129340398");
    let header = sign(secret.expose(), body.as_bytes());
    let iterations = if events == 1 { 20_000 } else { 500 };
    time_per_call(iterations, || {
        std::hint::black_box(hot_path(
            &secret,
            std::hint::black_box(body.as_bytes()),
            &header,
        ));
    })
}

/// Starts the release webhook binary against a listener that plays the runtime API and
/// measures the time until its first `invocation/next` request arrives.
fn cold_init(binary: &str) -> Duration {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let started = Instant::now();
    let mut child = Command::new(binary)
        .env_clear()
        .env("AWS_LAMBDA_RUNTIME_API", addr.to_string())
        .env("AWS_LAMBDA_FUNCTION_NAME", "webhook")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "1")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "bench")
        .env("AWS_SECRET_ACCESS_KEY", "bench")
        .env("TABLE_NAME", "bench")
        .env(
            "INBOUND_QUEUE_URL",
            "https://sqs.us-east-1.amazonaws.com/123456789012/bench.fifo",
        )
        .env("KMS_KEY_ID", "arn:aws:kms:us-east-1:123456789012:key/bench")
        .env(
            "QUEUE_ID_KEY_ID",
            "arn:aws:kms:us-east-1:123456789012:key/bench-queue-ids",
        )
        .env("PLATFORM_APP_SECRET_CIPHERTEXT", "AQIDBA==")
        .env("PLATFORM_VERIFY_TOKEN", "bench-verify-token")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the release webhook binary starts");
    let mut stream = first_connection(&listener, &mut child);
    let mut buffer = [0u8; 1024];
    let n = stream.read(&mut buffer).unwrap();
    let elapsed = started.elapsed();
    assert!(String::from_utf8_lossy(&buffer[..n]).contains("/runtime/invocation/next"));
    let _ = stream.write_all(b"HTTP/1.1 500 Internal Server Error\r\ncontent-length: 0\r\n\r\n");
    let _ = child.kill();
    let _ = child.wait();
    elapsed
}

/// The runtime API connection the webhook makes once its init is done. A binary that
/// exits first (a setting it now needs, say) fails the bench instead of hanging it.
fn first_connection(listener: &TcpListener, child: &mut Child) -> TcpStream {
    listener.set_nonblocking(true).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match listener.accept() {
            Ok((stream, _)) => {
                stream.set_nonblocking(false).unwrap();
                return stream;
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) => panic!("accepting the webhook's runtime poll: {e}"),
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!(
                "the release webhook exited during its init ({status}); run it with RUST_LOG=warn to see why"
            );
        }
        assert!(
            Instant::now() < deadline,
            "the release webhook did not poll within 10 s"
        );
        std::thread::sleep(Duration::from_micros(100));
    }
}

/// Each of `users` writes `rounds` messages 30 s apart, one message per delivery, through
/// the webhook's and the inbound worker's code against the local stack. Returns figures
/// per message: write units, read units, SQS requests, KMS calls, and the message count.
async fn cost_per_message(stack: &Stack, users: usize, rounds: i64) -> (f64, f64, f64, f64, usize) {
    let tenant = TestTenant::create(stack).await;
    let mut deliveries = Vec::new();
    for round in 0..rounds {
        for user in 0..users {
            deliveries.push(tenant.text_from(
                &format!("4915199{user:06}"),
                &format!("wamid.COST{round}{user}{}", random_digits(10)),
                now() + round * 30,
                "Guten Tag!",
            ));
        }
    }
    let metrics = Arc::new(Metrics::default());
    let total = through_inbound(stack, &tenant, &deliveries, &metrics).await;
    let spent = metrics.snapshot();
    let n = total as f64;
    print_breakdown(
        &format!("{users} users x {rounds}"),
        &BTreeMap::new(),
        &metrics.by_operation(),
        n,
    );
    (
        spent.write_units / n,
        spent.read_units / n,
        spent.sqs_requests as f64 / n,
        spent.kms_calls as f64 / n,
        total,
    )
}

/// The cost of a known contact's message in a warm container: each of `users` writes once
/// (not counted: the contact, its key and the tenant's keys are made and cached), then
/// `rounds` more messages each. Figures per counted message: write units, read units, KMS
/// calls.
async fn cost_per_known_message(stack: &Stack, users: usize, rounds: i64) -> (f64, f64, f64) {
    let tenant = TestTenant::create(stack).await;
    let delivery = |round: i64, user: usize| {
        tenant.text_from(
            &format!("4915198{user:06}"),
            &format!("wamid.KNOWN{round}{user}{}", random_digits(10)),
            now() + round * 30,
            "Guten Tag!",
        )
    };
    let metrics = Arc::new(Metrics::default());
    let processor = {
        let store = stack.store_counting(metrics.clone());
        let audit = AuditLog::new(store.clone());
        InboundProcessor::new(InboundTables::new(TenantDirectory::new(store), audit))
    };
    let first: Vec<String> = (0..users).map(|u| delivery(0, u)).collect();
    through_processor(stack, &tenant, &first, &metrics, &processor).await;
    let before = metrics.snapshot();
    let spent_before = metrics.by_operation();
    let later: Vec<String> = (1..=rounds)
        .flat_map(|r| (0..users).map(move |u| (r, u)))
        .map(|(r, u)| delivery(r, u))
        .collect();
    let n = through_processor(stack, &tenant, &later, &metrics, &processor).await as f64;
    let after = metrics.snapshot();
    print_breakdown(
        "a known contact's message",
        &spent_before,
        &metrics.by_operation(),
        n,
    );
    (
        (after.write_units - before.write_units) / n,
        (after.read_units - before.read_units) / n,
        (after.kms_calls - before.kms_calls) as f64 / n,
    )
}

fn main() {
    let mut rows = Vec::new();
    let one = time_hot_path(1);
    rows.push(Row {
        what: "webhook hot path, 1-event delivery".into(),
        measured: format!("{:.1} µs", one.as_secs_f64() * 1e6),
        target: "≤ 20 µs".into(),
    });
    let hundred = time_hot_path(100);
    rows.push(Row {
        what: "webhook hot path, 100-event delivery".into(),
        measured: format!("{:.0} µs", hundred.as_secs_f64() * 1e6),
        target: "≤ 1000 µs".into(),
    });

    let binary = format!("{}/../target/release/webhook", env!("CARGO_MANIFEST_DIR"));
    let mut inits: Vec<Duration> = (0..21).map(|_| cold_init(&binary)).collect();
    inits.sort();
    rows.push(Row {
        what: "webhook cold init to first runtime poll (median of 21)".into(),
        measured: format!(
            "{:.1} ms (p90 {:.1} ms)",
            inits[10].as_secs_f64() * 1e3,
            inits[18].as_secs_f64() * 1e3
        ),
        target: "≤ 25 ms".into(),
    });
    let size = std::fs::metadata(&binary).map(|m| m.len()).unwrap_or(0);
    rows.push(Row {
        what: "webhook release binary, stripped".into(),
        measured: format!("{:.2} MB", size as f64 / 1e6),
        target: "≤ 8 MB".into(),
    });

    let runtime = tokio::runtime::Runtime::new().unwrap();
    let stack = runtime.block_on(Stack::connect());
    let (wcu, rcu, sqs, kms, n) = runtime.block_on(cost_per_message(&stack, 20, 5));
    rows.push(Row {
        what: format!("DynamoDB write units per inbound message ({n} msgs: 20 users x 5)"),
        measured: format!("{wcu:.2}"),
        target: "≤ 1.5".into(),
    });
    rows.push(Row {
        what: "DynamoDB read units per inbound message".into(),
        measured: format!("{rcu:.2}"),
        target: "-".into(),
    });
    rows.push(Row {
        what: "SQS requests per inbound message (send, receive, delete)".into(),
        measured: format!("{sqs:.2}"),
        target: "-".into(),
    });
    rows.push(Row {
        what: "KMS calls per inbound message (a new container: one per tenant)".into(),
        measured: format!("{kms:.2}"),
        target: "≤ 0.01".into(),
    });
    let (wcu, rcu, _, kms, n) = runtime.block_on(cost_per_message(&stack, 50, 1));
    rows.push(Row {
        what: format!(
            "DynamoDB write / read units, first message of a new user ({n} users; profile, identity, message, data key)"
        ),
        measured: format!("{wcu:.2} / {rcu:.2}"),
        target: "-".into(),
    });
    rows.push(Row {
        what: "KMS calls per new user's first message (one per tenant per container)".into(),
        measured: format!("{kms:.2}"),
        target: "-".into(),
    });
    let (wcu, rcu, kms) = runtime.block_on(cost_per_known_message(&stack, 20, 4));
    rows.push(Row {
        what: "DynamoDB write / read units per message of a known contact, warm container (20 users x 4)"
            .into(),
        measured: format!("{wcu:.2} / {rcu:.2}"),
        target: "write ≤ 1.0".into(),
    });
    rows.push(Row {
        what: "KMS calls per message of a known contact, warm container".into(),
        measured: format!("{kms:.2}"),
        target: "0".into(),
    });

    print_table(&rows);
}
