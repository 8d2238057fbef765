// The worker future nests the SDK calls of every event kind; clippy needs a deeper layout
// query for it than rustc does.
#![recursion_limit = "256"]

use std::sync::Arc;

use aws_lambda_events::event::sqs::SqsEvent;
use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use wagate_shared::aws::load_config;
use wagate_shared::config::{Settings, environment};
use wagate_shared::inbound::InboundProcessor;
use wagate_shared::metrics::Metrics;
use wagate_shared::store::Store;
use wagate_shared::tenants::TenantDirectory;

#[tokio::main]
async fn main() -> Result<(), Error> {
    wagate_shared::telemetry::init();
    let table = Settings::new(environment).required("TABLE_NAME")?;
    let sdk = load_config().await;
    let store = Store::new(
        aws_sdk_dynamodb::Client::new(&sdk),
        table,
        Arc::new(Metrics::default()),
    );
    let processor = Arc::new(InboundProcessor::new(TenantDirectory::new(store)));
    run(service_fn(move |event: LambdaEvent<SqsEvent>| {
        let processor = processor.clone();
        async move { Ok::<_, Error>(inbound::handle_batch(&processor, event.payload).await) }
    }))
    .await
}
