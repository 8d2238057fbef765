//! A person's export on the local stack: a contact with 100,000 messages exported to the
//! bucket in this process, with the heap's peak above what it held before (a counting
//! allocator), against the bound the streaming writer promises: one page of messages and
//! one part of each file, whatever the history.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use futures_util::StreamExt;
use serde_json::json;
use wagate_shared::domain::erasure::RequestState;
use wagate_shared::domain::export::{EXPORT_SECS, PersonExport};
use wagate_shared::domain::message::parse_message;
use wagate_shared::export::{ExportBucket, ExportJob, ExportOutcome, PersonExporter};
use wagate_shared::metrics::Metrics;
use wagate_shared::queue::jobs::JobQueue;
use wagate_shared::store::Expiry;
use wagate_shared::store::message::inbound::NewInbound;
use wagate_tests::bench::{Row, print_table, through_inbound};
use wagate_tests::{Stack, TestTenant, now, random_digits, wamid};

const MESSAGES: usize = 100_000;
/// Two parts of 8 MiB (JSON and CSV), a page of messages and the SDK's buffers.
const BOUND_BYTES: usize = 64 * 1024 * 1024;

struct Counting;

static NOW: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let held = NOW.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
        PEAK.fetch_max(held, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        NOW.fetch_sub(layout.size(), Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

async fn contact_with_messages(stack: &Stack, tenant: &TestTenant, phone: &str) -> String {
    let first = tenant.text_from(phone, &wamid(), now() - 200_000, "hello");
    through_inbound(stack, tenant, &[first], &Arc::new(Metrics::default())).await;
    let contact = stack
        .contact_of(&tenant.id, phone)
        .await
        .expect("the contact");
    let store = stack.store_counting(Arc::new(Metrics::default()));
    let start = now() - 150_000;
    futures_util::stream::iter(1..MESSAGES)
        .map(|i| {
            let (store, contact) = (&store, &contact);
            async move {
                let raw = json!({"from": phone, "id": wamid(), "timestamp": (start + i as i64).to_string(),
                    "type": "text", "text": {"body": format!("message {i}: where is my parcel, please?")}});
                let message = parse_message(&raw).expect("a text message");
                let new = NewInbound {
                    contact_id: contact,
                    phone_number_id: Some(&tenant.phone_number_id),
                    message: &message,
                    received_at_ms: now() * 1000,
                };
                let expiry = Expiry {
                    at: now() + 86_400,
                    dedup_until: now() + 86_400,
                };
                store
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

fn main() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (outcome, took, peak) = runtime.block_on(async {
        let stack = Stack::connect().await;
        let tenant = TestTenant::create(&stack).await;
        let phone = format!("49161{}", random_digits(8));
        let contact = contact_with_messages(&stack, &tenant, &phone).await;
        let metrics = Arc::new(Metrics::default());
        let store = stack.store_counting(metrics.clone());
        let bucket = ExportBucket {
            s3: wagate_shared::aws::s3_client(&stack.sdk),
            bucket: std::env::var("EXPORT_BUCKET").expect("EXPORT_BUCKET"),
        };
        // No job is queued: this process runs it, not the stack's erasure function.
        let queue = JobQueue::new(stack.sqs.clone(), "unused".to_owned(), metrics);
        let exporter = PersonExporter::new(store.clone(), queue, bucket);
        let export = PersonExport {
            id: format!("ex_{}", random_digits(24)),
            tenant_id: tenant.id.as_str().to_owned(),
            state: RequestState::Running,
            requested_by: "bench".into(),
            requested_at: now(),
            finished_at: None,
            csv: true,
            contacts: 0,
            messages: 0,
            expires_at: now() + EXPORT_SECS,
            failure: None,
            download_url: None,
            csv_url: None,
            download_expires_at: None,
        };
        store
            .put_new_export(&export, std::slice::from_ref(&contact))
            .await
            .expect("the export's record");
        let job = ExportJob {
            tenant: tenant.id.as_str().to_owned(),
            export: export.id.clone(),
            contacts: vec![contact],
            csv: true,
        };
        let before = NOW.load(Ordering::Relaxed);
        PEAK.store(before, Ordering::Relaxed);
        let started = Instant::now();
        let outcome = exporter.run(&job).await.expect("exported");
        let took = started.elapsed();
        let peak = PEAK.load(Ordering::Relaxed).saturating_sub(before);
        (outcome, took, peak)
    });
    let ExportOutcome::Done {
        messages, bytes, ..
    } = outcome
    else {
        panic!("the export did not run: {outcome:?}");
    };
    assert_eq!(messages, MESSAGES as u64);
    print_table(&[
        Row::new(
            format!("Export of a person with {MESSAGES} messages (JSON + CSV): time"),
            format!(
                "{:.1} s ({:.1} MB of JSON)",
                took.as_secs_f64(),
                bytes as f64 / 1e6
            ),
            "-",
        ),
        Row::new(
            "The same: heap peak above the process's before the export".to_owned(),
            format!("{:.1} MB", peak as f64 / 1_048_576.0),
            &format!("≤ {} MB", BOUND_BYTES / 1_048_576),
        ),
    ]);
    assert!(
        peak <= BOUND_BYTES,
        "the export's memory is not bounded: {peak} bytes"
    );
}
