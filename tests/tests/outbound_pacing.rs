//! Pacing across worker instances: with the simulator limiting a number to 80 messages a
//! second, the stack's two outbound instances send 2,000 messages at that rate, each
//! exactly once, and Meta's throughput error is (almost) never seen.

use std::collections::HashSet;
use std::time::Duration;

use serde_json::json;
use wagate_shared::cloud_api::request::{OutboundContent, OutboundMessage, Recipient, Template};
use wagate_shared::outbound::OutboundJob;
use wagate_tests::{Stack, TestTenant, eventually, now, random_digits};

// The issue asks for 2,000 messages at 80/s. On this 2-core machine the local emulators
// (DynamoDB Local, moto's SQS) saturate well below that, so the test runs the same pacing
// at a limit they can carry; see the note.
const MESSAGES: usize = 400;
const LIMIT: f64 = 20.0;
/// Jobs queued ahead of what the simulator accepted: three seconds of sending.
const AHEAD: usize = 60;

#[tokio::test]
#[ignore = "fails today: under load the sender's sends bunch and the simulator answers 130429 (issue 3's note); run with --ignored"]
async fn two_thousand_messages_go_out_once_each_at_the_numbers_throughput() {
    let stack = Stack::connect().await;
    let tenant = TestTenant::create(&stack).await;
    // No status webhooks: this test is about the send path alone.
    tenant
        .register_at_sim(
            &stack,
            json!({"throughput_per_second": LIMIT, "statuses": {"final_status": "none"}}),
        )
        .await;
    let prefix = format!("4916{}", random_digits(4));
    let jobs: Vec<OutboundJob> = (0..MESSAGES)
        .map(|i| {
            let message = OutboundMessage {
                to: Recipient::parse(&format!("{prefix}{i:06}")).unwrap(),
                reply_to: None,
                content: OutboundContent::Template(Template {
                    name: "order_update".into(),
                    language: "en_US".into(),
                    components: vec![],
                }),
            };
            OutboundJob::new(&tenant.id, &tenant.phone_number_id, &message, None, now()).unwrap()
        })
        .collect();
    let path = format!("/_sim/numbers/{}/counters", tenant.phone_number_id);
    // A producer that keeps a few seconds of work queued ahead of the senders, as a
    // campaign feeder would (the local SQS emulator slows down with deep queues).
    let mut enqueued = 0;
    while enqueued < MESSAGES {
        let accepted = stack.sim_get(&path).await["accepted"].as_u64().unwrap_or(0) as usize;
        let target = (accepted + AHEAD).min(MESSAGES);
        if target > enqueued {
            stack
                .outbound
                .enqueue_jobs(&jobs[enqueued..target])
                .await
                .unwrap();
            enqueued = target;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let counters = eventually(Duration::from_secs(120), "every send accepted", || async {
        let counters = stack.sim_get(&path).await;
        (counters["accepted"].as_u64() == Some(MESSAGES as u64)).then_some(counters)
    })
    .await;
    // Nothing more arrives: no job was sent twice.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let received = tenant.sim_received(&stack).await;
    let accepted: Vec<_> = received.iter().filter(|r| r["wamid"].is_string()).collect();
    assert_eq!(accepted.len(), MESSAGES, "a message was sent twice");
    let recipients: HashSet<_> = accepted.iter().map(|r| r["to"].as_str().unwrap()).collect();
    assert_eq!(recipients.len(), MESSAGES, "a recipient got two messages");

    let throttled = counters["refused"]["130429"].as_u64().unwrap_or(0);
    assert!(
        throttled <= 5,
        "{throttled} sends hit the throughput limit: {counters}"
    );
    let first = counters["first_accepted_at_ms"].as_u64().unwrap();
    let last = counters["last_accepted_at_ms"].as_u64().unwrap();
    let rate = (MESSAGES - 1) as f64 / ((last - first) as f64 / 1000.0);
    println!(
        "achieved {rate:.1} messages/s against a limit of {LIMIT}; 130429 seen {throttled} times"
    );
    assert!(
        (rate - LIMIT).abs() <= LIMIT * 0.1,
        "achieved {rate:.1} messages/s, not within 10% of {LIMIT}"
    );
}
