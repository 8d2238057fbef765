//! The worker with the sample SQS events of `events/inbound/`: every record it cannot read
//! is reported in `batchItemFailures`, none is acknowledged silently.

use std::path::PathBuf;
use std::sync::Arc;
use wagate_audit::AuditLog;
use wagate_messaging::inbound::InboundTables;

use aws_lambda_events::event::sqs::SqsEvent;
use wagate_messaging::inbound::InboundProcessor;
use wagate_messaging::metrics::Metrics;
use wagate_messaging::store::Store;
use wagate_messaging::tenants::TenantDirectory;

fn offline_processor() -> inbound::Processor {
    let sdk = aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .endpoint_url("http://127.0.0.1:9")
        .build();
    let store = Store::new(
        aws_sdk_dynamodb::Client::new(&sdk),
        "unused",
        Arc::new(Metrics::default()),
    );
    let audit = AuditLog::new(store.clone());
    InboundProcessor::new(InboundTables::new(TenantDirectory::new(store), audit))
}

#[tokio::test]
async fn every_record_of_the_unreadable_sample_batch_is_reported_failed() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../events/inbound/batch-of-unreadable-records-all-fail.json");
    let event: SqsEvent = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let ids: Vec<String> = event
        .records
        .iter()
        .map(|r| r.message_id.clone().unwrap())
        .collect();
    let response = inbound::handle_batch(&offline_processor(), event).await;
    let failed: Vec<String> = response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.clone())
        .collect();
    // 1: not JSON; 2: valid, but behind 1 in the same group; 3: unknown version; 4: bad tenant id.
    assert_eq!(failed, ids);
}
