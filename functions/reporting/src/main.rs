use std::sync::Arc;

use aws_lambda_events::event::sqs::SqsEvent;
use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use reporting::Worker;
use reporting::config::ReportingConfig;
use wagate_platform::aws::load_config;
use wagate_platform::clock::now_seconds;
use wagate_platform::config::FunctionConfig;
use wagate_platform::metrics::Metrics;
use wagate_reporting::store::UsageStore;
use wagate_storage::store::Store;
use wagate_tenancy::tenants::TenantDirectory;

#[tokio::main]
async fn main() -> Result<(), Error> {
    wagate_platform::telemetry::init();
    let config = ReportingConfig::from_env()?;
    let sdk = load_config().await;
    let metrics = Arc::new(Metrics::default());
    let store = Store::new(
        aws_sdk_dynamodb::Client::new(&sdk),
        config.table_name,
        metrics,
    );
    let worker = Arc::new(Worker {
        usage: store.repo::<UsageStore>(),
        tenants: TenantDirectory::new(store),
    });
    run(service_fn(move |event: LambdaEvent<SqsEvent>| {
        let worker = worker.clone();
        async move {
            Ok::<_, Error>(reporting::handle_batch(&worker, event.payload, now_seconds()).await)
        }
    }))
    .await
}
