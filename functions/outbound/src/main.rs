// The worker future nests SDK calls deeply; clippy needs a deeper layout query than rustc.
#![recursion_limit = "256"]

use std::sync::Arc;

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
    let worker = Arc::new(Worker {
        sender: Sender::new(
            TenantDirectory::new(store),
            secrets,
            CloudApiClient::new(config.cloud_api.clone())?,
            config.sender,
        ),
        queue: EventQueue::new(aws_sdk_sqs::Client::new(&sdk), config.queue_url, metrics),
    });
    run(service_fn(move |event: LambdaEvent<SqsEvent>| {
        let worker = worker.clone();
        async move { Ok::<_, Error>(outbound::handle_batch(worker, event.payload).await) }
    }))
    .await
}
