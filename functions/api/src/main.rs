use std::sync::Arc;

use api::ApiConfig;
use http_api::business::{BusinessState, router};
use lambda_http::{Error, run};
use wagate_shared::aws::load_config;
use wagate_shared::metrics::Metrics;
use wagate_shared::outbound::OutboundQueue;
use wagate_shared::queue::EventQueue;
use wagate_shared::store::Store;

#[tokio::main]
async fn main() -> Result<(), Error> {
    wagate_shared::telemetry::init();
    let config = ApiConfig::from_env()?;
    let sdk = load_config().await;
    let metrics = Arc::new(Metrics::default());
    let store = Store::new(
        aws_sdk_dynamodb::Client::new(&sdk),
        &config.table_name,
        metrics.clone(),
    );
    let queue = OutboundQueue::new(EventQueue::new(
        aws_sdk_sqs::Client::new(&sdk),
        config.outbound_queue_url,
        metrics,
    ));
    run(router(Arc::new(BusinessState::new(
        store,
        queue,
        config.rate,
    ))))
    .await
}
