use std::sync::Arc;

use aws_lambda_events::event::sqs::SqsEvent;
use callbacks::Worker;
use callbacks::config::CallbacksConfig;
use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use wagate_integrations::callbacks::delivery::Deliverer;
use wagate_messaging::aws::load_config;
use wagate_messaging::clock::now_seconds;
use wagate_messaging::config::FunctionConfig;
use wagate_messaging::metrics::Metrics;
use wagate_messaging::queue::EventQueue;
use wagate_messaging::secret_store::SecretStore;
use wagate_messaging::store::Store;
use wagate_messaging::tenants::TenantDirectory;

#[tokio::main]
async fn main() -> Result<(), Error> {
    wagate_messaging::telemetry::init();
    let config = CallbacksConfig::from_env()?;
    let sdk = load_config().await;
    let metrics = Arc::new(Metrics::default());
    let store = Store::open(&sdk, &config.storage, metrics.clone());
    let secrets = SecretStore::new(
        aws_sdk_kms::Client::new(&sdk),
        config.kms_key_id.clone(),
        metrics.clone(),
    );
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let worker = Arc::new(Worker {
        deliverer: Deliverer::new(
            TenantDirectory::new(store),
            secrets,
            Deliverer::http_client(config.allow_internal_urls)?,
            config.schedule,
            config.allow_internal_urls,
        ),
        queue: EventQueue::new(sqs.clone(), config.queue_url.clone(), metrics.clone()),
        sqs,
        dead_letter_queue_url: config.dead_letter_queue_url,
        metrics,
    });
    run(service_fn(move |event: LambdaEvent<SqsEvent>| {
        let worker = worker.clone();
        async move {
            Ok::<_, Error>(callbacks::handle_batch(&worker, event.payload, now_seconds()).await)
        }
    }))
    .await
}
