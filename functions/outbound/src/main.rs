// The worker future nests SDK calls deeply; clippy needs a deeper layout query than rustc.
#![recursion_limit = "256"]

use std::sync::Arc;

use aws_lambda_events::event::sqs::SqsEvent;
use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use outbound::Worker;
use outbound::config::OutboundConfig;
use wagate_messaging::aws::load_config;
use wagate_messaging::config::FunctionConfig;
use wagate_messaging::metrics::Metrics;

#[tokio::main]
async fn main() -> Result<(), Error> {
    wagate_messaging::telemetry::init();
    let config = OutboundConfig::from_env()?;
    let sdk = load_config().await;
    let worker = Arc::new(Worker::new(&config, &sdk, Arc::new(Metrics::default()))?);
    let worker_timeout = config.worker_timeout;
    run(service_fn(move |event: LambdaEvent<SqsEvent>| {
        let worker = worker.clone();
        let deadline_ms = outbound::invocation_deadline_ms(event.context.deadline, worker_timeout);
        async move {
            Ok::<_, Error>(outbound::handle_batch(&worker, event.payload, deadline_ms).await)
        }
    }))
    .await
}
