// The worker future nests the SDK calls of a whole sweep; clippy needs a deeper layout
// query for it than rustc does.
#![recursion_limit = "256"]

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use aws_lambda_events::event::sqs::SqsEvent;
use erasure::config::ErasureConfig;
use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use wagate_audit::AuditLog;
use wagate_compliance::erasure::{
    BackgroundJobs, PersonEraser, RetentionAger, SealingSweeper, TenantEraser,
};
use wagate_compliance::export::{ExportBucket, PersonExporter};
use wagate_compliance::receipt::ReceiptSigner;
use wagate_compliance::s3::s3_client;
use wagate_messaging::aws::load_config;
use wagate_messaging::config::FunctionConfig;
use wagate_messaging::metrics::Metrics;
use wagate_messaging::queue::jobs::JobQueue;
use wagate_messaging::store::Store;

#[tokio::main]
async fn main() -> Result<(), Error> {
    wagate_messaging::telemetry::init();
    let config = ErasureConfig::from_env()?;
    let sdk = load_config().await;
    let metrics = Arc::new(Metrics::default());
    let store = Store::open(&sdk, &config.storage, metrics.clone());
    let receipts = ReceiptSigner::new(
        aws_sdk_kms::Client::new(&sdk),
        config.receipt_key_id,
        metrics.clone(),
    );
    let audit = AuditLog::signed_by(
        store.clone(),
        aws_sdk_kms::Client::new(&sdk),
        config.audit_key_id,
        metrics.clone(),
    );
    let queue = JobQueue::new(aws_sdk_sqs::Client::new(&sdk), config.queue_url, metrics);
    let bucket = ExportBucket {
        s3: s3_client(&sdk),
        bucket: config.export_bucket,
    };
    let exports = PersonExporter::new(store.clone(), queue.clone(), bucket);
    let jobs = Arc::new(BackgroundJobs {
        tenants: TenantEraser::new(store.clone(), queue.clone()).with_exports(exports.clone()),
        sealing: SealingSweeper::new(store.clone(), queue.clone()),
        ageing: RetentionAger::new(store.clone(), queue.clone()),
        audit: audit.with_jobs(queue.clone()),
        people: PersonEraser::new(store, queue, receipts)
            .with_exports(exports.clone())
            .with_timing(config.timing),
        exports,
    });
    run(service_fn(move |event: LambdaEvent<SqsEvent>| {
        let jobs = jobs.clone();
        let deadline = instant_of(event.context.deadline);
        async move { Ok::<_, Error>(erasure::handle_batch(&jobs, event.payload, deadline).await) }
    }))
    .await
}

/// The invocation's deadline (epoch milliseconds) as an `Instant`. One already past is not
/// a real deadline (cargo-lambda's emulator sends its timeout, 600,000, instead): then the
/// job works for the function's timeout as `template.yaml` sets it (150 s).
fn instant_of(deadline_ms: u64) -> Instant {
    const TIMEOUT: Duration = Duration::from_secs(150);
    let deadline = SystemTime::UNIX_EPOCH + Duration::from_millis(deadline_ms);
    match deadline.duration_since(SystemTime::now()) {
        Ok(left) if !left.is_zero() => Instant::now() + left,
        _ => Instant::now() + TIMEOUT,
    }
}
