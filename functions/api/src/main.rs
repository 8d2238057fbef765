use std::sync::Arc;

use api::ApiConfig;
use http_api::business::{BusinessState, router};
use lambda_http::{Error, run};
use wagate_shared::aws::load_config;
use wagate_shared::cloud_api::CloudApiClient;
use wagate_shared::metrics::Metrics;
use wagate_shared::outbound::{OutboundQueue, ReadReceipts};
use wagate_shared::queue::EventQueue;
use wagate_shared::secrets::SecretStore;
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
        metrics.clone(),
    ));
    // Tokens are decrypted on first use and cached: no KMS call at cold start.
    let secrets = SecretStore::new(aws_sdk_kms::Client::new(&sdk), config.kms_key_id, metrics);
    let receipts = ReadReceipts::new(secrets, CloudApiClient::new(config.cloud_api)?);
    let state = BusinessState::new(store, queue, receipts, config.rate);
    run(router(Arc::new(state))).await
}
