//! A person's export on the local stack: a contact with 100,000 messages exported to the
//! bucket in this process, with the heap's peak above what it held before (a counting
//! allocator), against the bound the streaming writer promises: one page of messages and
//! one part of each file, whatever the history.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use wagate_shared::domain::erasure::RequestState;
use wagate_shared::domain::export::{EXPORT_SECS, PersonExport};
use wagate_shared::export::{ExportBucket, ExportJob, ExportOutcome, PersonExporter};
use wagate_shared::metrics::Metrics;
use wagate_shared::queue::jobs::JobQueue;
use wagate_tests::bench::{Row, contact_with_messages, print_table};
use wagate_tests::{Stack, TestTenant, now, random_digits};

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

fn main() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (outcome, took, peak) = runtime.block_on(async {
        let stack = Stack::connect().await;
        let tenant = TestTenant::create(&stack).await;
        let phone = format!("49161{}", random_digits(8));
        let contact = contact_with_messages(&stack, &tenant, &phone, MESSAGES).await;
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
