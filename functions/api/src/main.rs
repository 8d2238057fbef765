use std::sync::Arc;

use api::ApiConfig;
use api::{BusinessState, router};
use lambda_http::{Error, run};
use wagate_audit::AuditLog;
use wagate_integrations::callbacks::emitter::CallbackQueue;
use wagate_integrations::callbacks::registry::CallbackRegistry;
use wagate_messaging::aws::load_config;
use wagate_messaging::cloud_api::CloudApiClient;
use wagate_messaging::config::FunctionConfig;
use wagate_messaging::metrics::Metrics;
use wagate_messaging::outbound::{OutboundQueue, ReadReceipts};
use wagate_messaging::queue::EventQueue;
use wagate_messaging::queue::ids::QueueIdKeys;
use wagate_messaging::queue::jobs::JobQueue;
use wagate_messaging::secret_store::SecretStore;
use wagate_messaging::store::Store;
use wagate_messaging::store::cursor::CursorKeys;
use wagate_messaging::templates::TemplateManager;

#[tokio::main]
async fn main() -> Result<(), Error> {
    wagate_messaging::telemetry::init();
    let config = ApiConfig::from_env()?;
    let sdk = load_config().await;
    let metrics = Arc::new(Metrics::default());
    let store = Store::open(&sdk, &config.storage, metrics.clone());
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let kms = aws_sdk_kms::Client::new(&sdk);
    let queue = OutboundQueue::new(
        EventQueue::new(sqs.clone(), config.outbound_queue_url, metrics.clone()),
        QueueIdKeys::new(kms.clone(), config.queue_id_key_id, metrics.clone()),
    );
    // Tokens are decrypted on first use and cached: no KMS call at cold start.
    let secrets = SecretStore::new(kms.clone(), config.kms_key_id.clone(), metrics.clone());
    let cloud_api = CloudApiClient::new(config.cloud_api)?;
    let receipts = ReadReceipts::new(secrets, cloud_api.clone());
    let templates = TemplateManager::new(
        store.clone(),
        SecretStore::new(kms.clone(), config.kms_key_id.clone(), metrics.clone()),
        cloud_api,
    );
    let cursors = CursorKeys::new(
        store.clone(),
        SecretStore::new(kms.clone(), config.kms_key_id.clone(), metrics.clone()),
    );
    let audit = AuditLog::new(store.clone()).with_jobs(JobQueue::new(
        sqs.clone(),
        config.erasure_queue_url,
        metrics.clone(),
    ));
    let durable = JobQueue::new(sqs.clone(), config.reporting_queue_url, metrics.clone());
    let callbacks = CallbackRegistry::new(
        store.clone(),
        SecretStore::new(kms, config.kms_key_id, metrics.clone()),
        CallbackQueue::new(sqs, config.callback_queue_url, metrics),
        config.allow_insecure_callback_urls,
    );
    let state = BusinessState::new(
        store,
        queue,
        receipts,
        callbacks,
        templates,
        config.rates,
        cursors,
        audit,
    )
    .with_subscribers(api::subscribers::subscribers(api::subscribers::Wiring {
        durable,
    }));
    run(router(Arc::new(state))).await
}
