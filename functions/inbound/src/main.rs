// The worker future nests the SDK calls of every event kind; clippy needs a deeper layout
// query for it than rustc does.
#![recursion_limit = "256"]

use std::sync::Arc;
use wagate_messaging::inbound::InboundTables;

use aws_lambda_events::event::sqs::SqsEvent;
use inbound::config::InboundConfig;
use inbound::subscribers::{Wiring, subscribers};
use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use wagate_audit::AuditLog;
use wagate_integrations::callbacks::emitter::{CallbackEmitter, CallbackQueue};
use wagate_messaging::aws::load_config;
use wagate_messaging::config::FunctionConfig;
use wagate_messaging::events::durable::HeldRecords;
use wagate_messaging::inbound::InboundProcessor;
use wagate_messaging::metrics::Metrics;
use wagate_messaging::outbound::OutboundQueue;
use wagate_messaging::queue::EventQueue;
use wagate_messaging::queue::ids::QueueIdKeys;
use wagate_messaging::queue::jobs::JobQueue;
use wagate_messaging::store::Store;
use wagate_messaging::tenants::TenantDirectory;

#[tokio::main]
async fn main() -> Result<(), Error> {
    wagate_messaging::telemetry::init();
    let config = InboundConfig::from_env()?;
    let sdk = load_config().await;
    let metrics = Arc::new(Metrics::default());
    let store = Store::open(&sdk, &config.storage, metrics.clone());
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let queue = CallbackQueue::new(sqs.clone(), config.callback_queue_url, metrics.clone());
    let callbacks = CallbackEmitter::new(store.clone(), queue);
    let ids = QueueIdKeys::new(
        aws_sdk_kms::Client::new(&sdk),
        config.queue_id_key_id,
        metrics.clone(),
    );
    // The consent changes people and Meta make are in their tenant's audit log.
    let audit = AuditLog::new(store.clone()).with_jobs(JobQueue::new(
        sqs.clone(),
        config.erasure_queue_url,
        metrics.clone(),
    ));
    let durable = HeldRecords::new(JobQueue::new(
        sqs.clone(),
        config.reporting_queue_url,
        metrics.clone(),
    ));
    let replies = OutboundQueue::new(
        EventQueue::new(sqs, config.outbound_queue_url, metrics),
        ids,
    );
    let processor = Arc::new(
        InboundProcessor::new(InboundTables::new(TenantDirectory::new(store), audit))
            .with_subscribers(subscribers(Wiring {
                callbacks,
                durable: durable.clone(),
            }))
            .with_replies(replies),
    );
    run(service_fn(move |event: LambdaEvent<SqsEvent>| {
        let (processor, durable) = (processor.clone(), durable.clone());
        async move {
            Ok::<_, Error>(
                inbound::handle_batch_and_flush(&processor, &durable, event.payload).await,
            )
        }
    }))
    .await
}
