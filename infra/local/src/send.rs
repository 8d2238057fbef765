//! `wagate-local send`: enqueues one outbound text through the same function the business
//! API uses, so the local stack can be driven by hand.

use std::sync::Arc;

use wagate_messaging::domain::outbound::{OutboundMessage, Recipient};
use wagate_messaging::domain::tenant::TenantId;
use wagate_messaging::metrics::Metrics;
use wagate_messaging::outbound::OutboundQueue;
use wagate_messaging::queue::EventQueue;
use wagate_messaging::queue::ids::QueueIdKeys;

use crate::BoxError;
use crate::args::Args;

pub async fn run(sdk: &aws_config::SdkConfig, args: &Args) -> Result<(), BoxError> {
    let tenant = TenantId::parse(args.required("tenant")?)?;
    let message = OutboundMessage::text(
        args.required("phone-number-id")?,
        Recipient::parse(args.required("to")?)?,
        args.required("text")?,
    );
    let metrics = Arc::new(Metrics::default());
    let queue = OutboundQueue::new(
        EventQueue::new(
            aws_sdk_sqs::Client::new(sdk),
            args.required("queue-url")?.to_owned(),
            metrics.clone(),
        ),
        QueueIdKeys::new(
            aws_sdk_kms::Client::new(sdk),
            args.required("queue-id-key")?,
            metrics,
        ),
    );
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs() as i64;
    let job = queue
        .enqueue(&tenant, &message, args.optional("idempotency-key"), now)
        .await?;
    println!("queued job {}", job.job_id);
    Ok(())
}
