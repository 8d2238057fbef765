// The worker future nests SDK calls deeply; clippy needs a deeper layout query than rustc.
#![recursion_limit = "256"]

use std::sync::Arc;
use std::time::Duration;

use aws_lambda_events::event::sqs::SqsEvent;
use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use outbound::Worker;
use outbound::config::OutboundConfig;
use wagate_shared::aws::load_config;
use wagate_shared::cloud_api::CloudApiClient;
use wagate_shared::metrics::Metrics;
use wagate_shared::outbound::Sender;
use wagate_shared::queue::EventQueue;
use wagate_shared::secrets::SecretStore;
use wagate_shared::store::Store;
use wagate_shared::tenants::TenantDirectory;

/// Time kept after a Cloud API call's timeout to record its outcome and answer.
const RECORD_MARGIN: Duration = Duration::from_secs(3);

#[tokio::main]
async fn main() -> Result<(), Error> {
    wagate_shared::telemetry::init();
    let config = OutboundConfig::from_env()?;
    let sdk = load_config().await;
    let metrics = Arc::new(Metrics::default());
    let store = Store::new(
        aws_sdk_dynamodb::Client::new(&sdk),
        config.table_name.clone(),
        metrics.clone(),
    );
    // Decrypt needs no key id: the ciphertext names its key.
    let secrets = SecretStore::new(
        aws_sdk_kms::Client::new(&sdk),
        String::new(),
        metrics.clone(),
    );
    let send_margin = config.cloud_api.timeout + RECORD_MARGIN;
    let worker_timeout = config.worker_timeout;
    let worker = Arc::new(Worker {
        sender: Sender::new(
            TenantDirectory::new(store),
            secrets,
            CloudApiClient::new(config.cloud_api.clone())?,
            config.sender,
        ),
        queue: EventQueue::new(aws_sdk_sqs::Client::new(&sdk), config.queue_url, metrics),
        send_margin,
    });
    run(service_fn(move |event: LambdaEvent<SqsEvent>| {
        let worker = worker.clone();
        let deadline_ms = outbound::invocation_deadline_ms(event.context.deadline, worker_timeout);
        async move {
            Ok::<_, Error>(outbound::handle_batch(worker, event.payload, deadline_ms).await)
        }
    }))
    .await
}
