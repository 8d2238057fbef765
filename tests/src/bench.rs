//! What the benchmarks share: the printed table, timing a hot loop, and running webhook
//! deliveries through the inbound worker's processor against the local stack.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use wagate_audit::AuditLog;
use wagate_messaging::domain::retention::ContentLife;
use wagate_messaging::inbound::InboundTables;
use wagate_messaging::store::MessageStore;
use wagate_messaging::store::message::inbound::InboundMessages;

use aws_sdk_sqs::types::{DeleteMessageBatchRequestEntry, QueueAttributeName};
use wagate_messaging::inbound::InboundProcessor;
use wagate_messaging::metrics::{Metrics, OperationSpend};
use wagate_messaging::queue::EventQueue;
use wagate_messaging::tenants::TenantDirectory;
use wagate_messaging::webhook::{Arrival, split_delivery, to_queue_message};

use crate::{Stack, TestTenant, now, random_digits};

pub struct Row {
    pub what: String,
    pub measured: String,
    pub target: String,
}

impl Row {
    pub fn new(what: impl Into<String>, measured: String, target: &str) -> Self {
        Self {
            what: what.into(),
            measured,
            target: target.into(),
        }
    }
}

pub fn print_table(rows: &[Row]) {
    let width = rows
        .iter()
        .map(|r| r.what.chars().count())
        .max()
        .unwrap_or(10);
    println!(
        "\n| {:width$} | {:>24} | {:>10} |",
        "benchmark", "measured", "target"
    );
    println!(
        "|{}|{}|{}|",
        "-".repeat(width + 2),
        "-".repeat(26),
        "-".repeat(12)
    );
    for r in rows {
        println!(
            "| {:width$} | {:>24} | {:>10} |",
            r.what, r.measured, r.target
        );
    }
}

/// The median of five timings of `iterations` calls, per call (after a warm-up).
pub fn time_per_call(iterations: u32, mut call: impl FnMut()) -> Duration {
    for _ in 0..iterations / 10 {
        call();
    }
    let mut samples: Vec<Duration> = (0..5)
        .map(|_| {
            let started = Instant::now();
            for _ in 0..iterations {
                call();
            }
            started.elapsed() / iterations
        })
        .collect();
    samples.sort();
    samples[2]
}

/// A FIFO queue of the bench's own, which no poller of the stack drains.
pub async fn private_fifo_queue(stack: &Stack, name: &str) -> String {
    stack
        .sqs
        .create_queue()
        .queue_name(format!("bench-{name}-{}.fifo", random_digits(8)))
        .attributes(QueueAttributeName::FifoQueue, "true")
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap()
}

/// Runs webhook deliveries as the webhook and inbound worker would: split and queued (as
/// the webhook handler does, without HTTP), then drained in batches of ten through the
/// worker's processor, all DynamoDB, SQS and KMS calls counted in `metrics`. Returns how
/// many events were processed.
pub async fn through_inbound(
    stack: &Stack,
    tenant: &TestTenant,
    deliveries: &[String],
    metrics: &Arc<Metrics>,
) -> usize {
    // A new container: its own caches of tenants and keys.
    let processor = {
        let store = stack.store_counting(metrics.clone());
        let audit = AuditLog::new(store.clone());
        InboundProcessor::new(InboundTables::new(TenantDirectory::new(store), audit))
    };
    through_processor(stack, tenant, deliveries, metrics, &processor).await
}

/// As [`through_inbound`], through `processor` (a warm container of the caller's, whose
/// store counts into `metrics`).
pub async fn through_processor(
    stack: &Stack,
    tenant: &TestTenant,
    deliveries: &[String],
    metrics: &Arc<Metrics>,
    processor: &InboundProcessor<InboundTables<AuditLog>>,
) -> usize {
    let queue_url = private_fifo_queue(stack, "inbound").await;
    let queue = EventQueue::new(stack.sqs.clone(), queue_url.clone(), metrics.clone());
    let mut total = 0;
    let ids = stack.queue_ids.key().await.unwrap();
    for body in deliveries {
        let events = split_delivery(body.as_bytes()).unwrap();
        let messages: Vec<_> = events
            .iter()
            .map(|e| to_queue_message(e, &Arrival::platform(tenant.id.as_str(), now() * 1000), ids))
            .collect();
        total += messages.len();
        queue.send_all(messages).await.unwrap();
    }
    let mut processed = 0;
    while processed < total {
        metrics.add_sqs_request();
        let received = stack
            .sqs
            .receive_message()
            .queue_url(&queue_url)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .send()
            .await
            .unwrap();
        let mut handles = Vec::new();
        for m in received.messages() {
            processor
                .process(m.body().unwrap())
                .await
                .expect("processed");
            handles.push(m.receipt_handle().unwrap().to_owned());
            processed += 1;
        }
        delete_all(stack, &queue_url, &handles, metrics).await;
    }
    total
}

/// Deletes received messages with one batch request, counted in `metrics`.
pub async fn delete_all(stack: &Stack, queue_url: &str, handles: &[String], metrics: &Metrics) {
    if handles.is_empty() {
        return;
    }
    metrics.add_sqs_request();
    let entries = handles
        .iter()
        .enumerate()
        .map(|(i, h)| {
            DeleteMessageBatchRequestEntry::builder()
                .id(i.to_string())
                .receipt_handle(h)
                .build()
                .unwrap()
        })
        .collect();
    stack
        .sqs
        .delete_message_batch()
        .queue_url(queue_url)
        .set_entries(Some(entries))
        .send()
        .await
        .unwrap();
}

/// A contact who wrote once through the pipeline, then `count - 1` times more written
/// straight to the table as the pipeline writes them (sealed), 16 at a time: a long
/// history without the time of SQS. Answers the contact's id.
pub async fn contact_with_messages(
    stack: &Stack,
    tenant: &TestTenant,
    phone: &str,
    count: usize,
) -> String {
    use futures_util::StreamExt;
    use wagate_messaging::domain::message::parse_message;
    use wagate_messaging::store::Expiry;
    use wagate_messaging::store::message::inbound::NewInbound;

    let start = now() - 2 * count as i64 - 100;
    let first = tenant.text_from(phone, &crate::wamid(), start, "hello");
    through_inbound(stack, tenant, &[first], &Arc::new(Metrics::default())).await;
    let contact = stack
        .contact_of(&tenant.id, phone)
        .await
        .expect("the contact");
    let store = stack.store_counting(Arc::new(Metrics::default()));
    futures_util::stream::iter(1..count)
        .map(|i| {
            let (store, contact) = (&store, &contact);
            async move {
                let raw = serde_json::json!({"from": phone, "id": crate::wamid(),
                    "timestamp": (start + i as i64).to_string(), "type": "text",
                    "text": {"body": format!("message {i}: where is my parcel, please?")}});
                let message = parse_message(&raw).expect("a text message");
                let new = NewInbound {
                    contact_id: contact,
                    phone_number_id: Some(&tenant.phone_number_id),
                    message: &message,
                    received_at_ms: now() * 1000,
                    content: ContentLife::Until(now() + 86_400),
                };
                let expiry = Expiry {
                    at: now() + 86_400,
                    dedup_until: now() + 86_400,
                };
                store
                    .repo::<MessageStore>()
                    .put_inbound_message(&tenant.id, &new, expiry, now())
                    .await
                    .expect("stored");
            }
        })
        .buffer_unordered(16)
        .collect::<Vec<()>>()
        .await;
    contact
}

/// Where a figure's DynamoDB units went, per counted message, by operation: printed
/// under the table when `WAGATE_BENCH_BREAKDOWN` is set, to find what moved a figure.
pub fn print_breakdown(
    what: &str,
    before: &BTreeMap<String, OperationSpend>,
    after: &BTreeMap<String, OperationSpend>,
    messages: f64,
) {
    if std::env::var_os("WAGATE_BENCH_BREAKDOWN").is_none() {
        return;
    }
    println!("\n{what}, per message:");
    for (operation, spend) in after {
        let was = before.get(operation).copied().unwrap_or_default();
        let calls = (spend.calls - was.calls) as f64 / messages;
        let (w, r) = (
            (spend.write_units - was.write_units) / messages,
            (spend.read_units - was.read_units) / messages,
        );
        let ms = (spend.time - was.time).as_secs_f64() * 1e3 / messages;
        if calls > 0.0 {
            println!(
                "  {operation:<48} calls {calls:>5.2}  write {w:>5.2}  read {r:>5.2}  {ms:>6.2} ms"
            );
        }
    }
}
