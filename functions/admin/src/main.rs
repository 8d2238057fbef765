use std::sync::Arc;

use admin::AdminConfig;
use admin::{AdminState, PersonalDataJobs, TenantDeletion, router};
use lambda_http::{Error, run};
use wagate_audit::AuditLog;
use wagate_compliance::erasure::{PersonEraser, RetentionAger, SealingSweeper, TenantEraser};
use wagate_compliance::export::{ExportBucket, PersonExporter};
use wagate_compliance::receipt::ReceiptSigner;
use wagate_compliance::s3::s3_client;
use wagate_messaging::aws::load_config;
use wagate_messaging::cloud_api::CloudApiClient;
use wagate_messaging::config::FunctionConfig;
use wagate_messaging::contacts::Contacts;
use wagate_messaging::metrics::Metrics;
use wagate_messaging::queue::jobs::JobQueue;
use wagate_messaging::secret_store::{SecretContext, SecretStore};
use wagate_messaging::store::Store;

#[tokio::main]
async fn main() -> Result<(), Error> {
    wagate_messaging::telemetry::init();
    let config = AdminConfig::from_env()?;
    let sdk = load_config().await;
    let metrics = Arc::new(Metrics::default());
    let store = Store::open(&sdk, &config.storage, metrics.clone());
    let secrets = SecretStore::new(
        aws_sdk_kms::Client::new(&sdk),
        config.kms_key_id.clone(),
        metrics.clone(),
    );
    let erasure_queue = JobQueue::new(
        aws_sdk_sqs::Client::new(&sdk),
        config.erasure_queue_url.clone(),
        metrics.clone(),
    );
    let sealing = SealingSweeper::new(store.clone(), erasure_queue.clone());
    let ageing = RetentionAger::new(store.clone(), erasure_queue.clone());
    let receipts = ReceiptSigner::new(
        aws_sdk_kms::Client::new(&sdk),
        config.receipt_key_id.clone(),
        metrics.clone(),
    );
    let audit = AuditLog::signed_by(
        store.clone(),
        aws_sdk_kms::Client::new(&sdk),
        config.audit_key_id.clone(),
        metrics,
    )
    .with_jobs(erasure_queue.clone());
    let erasures = PersonEraser::new(store.clone(), erasure_queue.clone(), receipts);
    let bucket = ExportBucket {
        s3: s3_client(&sdk),
        bucket: config.export_bucket.clone(),
    };
    let exports = PersonExporter::new(store.clone(), erasure_queue.clone(), bucket);
    let deletion = TenantDeletion {
        eraser: TenantEraser::new(store.clone(), erasure_queue),
        delay: config.erasure_delay,
    };
    // One KMS call per cold start: the operator key is checked on every admin request.
    let operator_key = secrets
        .decrypt(
            &config.operator_key_ciphertext,
            &SecretContext::operator_key(),
        )
        .await?;
    wagate_messaging::access::check_operator_key(operator_key.expose())?;
    let contacts = Contacts::new(store.clone());
    let state = Arc::new(AdminState::new(
        store,
        secrets,
        CloudApiClient::new(config.cloud_api.clone())?,
        &operator_key,
        config.rates,
        deletion,
        PersonalDataJobs {
            sealing,
            erasures,
            exports,
            contacts,
            ageing,
        },
        audit,
    ));
    run(router(state)).await
}
