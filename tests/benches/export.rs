//! A person's export on the local stack: a contact with 100,000 messages exported to the
//! bucket in this process, with the heap's peak above what it held before (a counting
//! allocator), against the bound the streaming writer promises: one page of messages and
//! one part of each file, whatever the history. Then one with 1,000,000, more than one
//! invocation's work: each run has an invocation's time (130 s, as the erasure function
//! leaves a job), pauses, and the job it queues goes on from there until the export is
//! done.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use wagate_compliance::store::PersonStore;

use wagate_compliance::erasure::ErasureJob;
use wagate_compliance::export::{ExportBucket, ExportJob, ExportOutcome, PersonExporter};
use wagate_messaging::domain::erasure::RequestState;
use wagate_messaging::domain::export::{EXPORT_SECS, PersonExport};
use wagate_messaging::metrics::Metrics;
use wagate_messaging::queue::jobs::JobQueue;
use wagate_tests::bench::{Row, contact_with_messages, print_table};
use wagate_tests::{Stack, TestTenant, now, random_digits};

const MESSAGES: usize = 100_000;
/// More than one invocation's work.
const LONG_HISTORY: usize = 1_000_000;
/// What the erasure function leaves a job of its 150 s.
const INVOCATION: Duration = Duration::from_secs(130);
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

/// What one export came to: its outcome, the invocations it took, its time, the heap's peak.
struct Measured {
    messages: u64,
    bytes: u64,
    invocations: u32,
    took: Duration,
    peak: usize,
}

/// Exports the person with `count` messages in this process: each run has `budget` (an
/// invocation's time), and the job a paused run queues is run next, until the export is
/// done.
async fn export_of(stack: &Stack, count: usize, budget: Duration) -> Measured {
    let tenant = TestTenant::create(stack).await;
    let phone = format!("49161{}", random_digits(8));
    let contact = contact_with_messages(stack, &tenant, &phone, count).await;
    let metrics = Arc::new(Metrics::default());
    let store = stack.store_counting(metrics.clone());
    let bucket = ExportBucket {
        s3: wagate_compliance::s3::s3_client(&stack.sdk),
        bucket: std::env::var("EXPORT_BUCKET").expect("EXPORT_BUCKET"),
    };
    // A queue of this process's own: the jobs a pause queues are run here, not by the
    // stack's erasure function.
    let queue_url = stack
        .sqs
        .create_queue()
        .queue_name(format!("export-bench-{}", random_digits(10)))
        .send()
        .await
        .expect("a queue")
        .queue_url
        .expect("its url");
    let queue = JobQueue::new(stack.sqs.clone(), queue_url.clone(), metrics);
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
        .repo::<PersonStore>()
        .put_new_export(&export, std::slice::from_ref(&contact), &[])
        .await
        .expect("the export's record");
    let mut job = ExportJob {
        tenant: tenant.id.as_str().to_owned(),
        export: export.id.clone(),
        contacts: vec![contact],
        csv: true,
        blinded: Vec::new(),
        progress: None,
    };
    let before = NOW.load(Ordering::Relaxed);
    PEAK.store(before, Ordering::Relaxed);
    let started = Instant::now();
    let mut invocations = 0;
    loop {
        invocations += 1;
        let deadline = Instant::now() + budget;
        let outcome = exporter
            .run(&job, || Instant::now() < deadline)
            .await
            .expect("exported");
        match outcome {
            ExportOutcome::Done {
                messages, bytes, ..
            } => {
                return Measured {
                    messages,
                    bytes,
                    invocations,
                    took: started.elapsed(),
                    peak: PEAK.load(Ordering::Relaxed).saturating_sub(before),
                };
            }
            ExportOutcome::Paused { .. } => job = next_job(stack, &queue_url).await,
            ExportOutcome::Stale => panic!("the export did not run"),
        }
    }
}

/// The job a paused run queued.
async fn next_job(stack: &Stack, url: &str) -> ExportJob {
    let out = stack
        .sqs
        .receive_message()
        .queue_url(url)
        .max_number_of_messages(1)
        .wait_time_seconds(5)
        .send()
        .await
        .expect("read the queue");
    let message = out.messages().first().expect("the job that goes on");
    stack
        .sqs
        .delete_message()
        .queue_url(url)
        .receipt_handle(message.receipt_handle().unwrap())
        .send()
        .await
        .expect("take it");
    match serde_json::from_str(message.body().unwrap()).expect("a job") {
        ErasureJob::PersonExport(job) => job,
        other => panic!("not an export: {other:?}"),
    }
}

fn main() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (one, million) = runtime.block_on(async {
        let stack = Stack::connect().await;
        let one = export_of(&stack, MESSAGES, INVOCATION).await;
        let million = export_of(&stack, LONG_HISTORY, INVOCATION).await;
        (one, million)
    });
    assert_eq!(one.messages, MESSAGES as u64);
    assert_eq!(million.messages, LONG_HISTORY as u64);
    print_table(&[
        Row::new(
            format!("Export of a person with {MESSAGES} messages (JSON + CSV): time"),
            format!(
                "{:.1} s ({:.1} MB of JSON, {} invocation)",
                one.took.as_secs_f64(),
                one.bytes as f64 / 1e6,
                one.invocations
            ),
            "-",
        ),
        Row::new(
            "The same: heap peak above the process's before the export".to_owned(),
            format!("{:.1} MB", one.peak as f64 / 1_048_576.0),
            &format!("≤ {} MB", BOUND_BYTES / 1_048_576),
        ),
        Row::new(
            format!(
                "Export of {LONG_HISTORY} messages, {} s an invocation: time",
                INVOCATION.as_secs()
            ),
            format!(
                "{:.1} s over {} invocations ({:.1} MB of JSON)",
                million.took.as_secs_f64(),
                million.invocations,
                million.bytes as f64 / 1e6
            ),
            "finishes",
        ),
        Row::new(
            "The same: heap peak".to_owned(),
            format!("{:.1} MB", million.peak as f64 / 1_048_576.0),
            &format!("≤ {} MB", BOUND_BYTES / 1_048_576),
        ),
    ]);
    for measured in [&one, &million] {
        assert!(
            measured.peak <= BOUND_BYTES,
            "the export's memory is not bounded: {} bytes",
            measured.peak
        );
    }
}
