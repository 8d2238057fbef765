//! Accepting a message with an Idempotency-Key when the store or the queue fails, or the
//! function dies, at each step: the claim of the key, the message's record, the job's
//! queueing, the conversation's activity. Faults are injected into the SDK clients of an
//! outbox built for the purpose, against the local stack's real DynamoDB and SQS; a crash
//! is a panic at that step, so no line of the call runs after it. The next call with the
//! same key, on a healthy outbox, must answer with the message, which the stack's senders
//! then send exactly once; every id any call answered with must be readable.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use wagate_messaging::store::MessageStore;
use wagate_messaging::store::message::delivery::DeliveryStates;

use aws_sdk_dynamodb::config::interceptors::BeforeSerializationInterceptorContextRef;
use aws_sdk_dynamodb::config::{ConfigBag, Intercept};
use aws_sdk_dynamodb::error::BoxError;
use aws_sdk_dynamodb::operation::put_item::PutItemInput;
use aws_sdk_dynamodb::operation::update_item::UpdateItemInput;
use aws_sdk_sqs::operation::send_message_batch::SendMessageBatchInput;
use reqwest::Method;
use wagate_messaging::access::Role;
use wagate_messaging::domain::outbound::{OutboundMessage, Recipient};
use wagate_messaging::metrics::Metrics;
use wagate_messaging::outbound::{
    AcceptError, AcceptedMessage, IdempotencyKey, OutboundQueue, Outbox, SendCommand,
};
use wagate_messaging::queue::EventQueue;
use wagate_messaging::tenants::TenantDirectory;
use wagate_tests::{Stack, TestTenant, eventually, now, random_digits};

const WAIT: Duration = Duration::from_secs(60);

/// Where a fault strikes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    /// Reading whether the key is held.
    ReadKey,
    ClaimKey,
    RecordMessage,
    QueueJob,
    RecordActivity,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// The call fails there and runs its error path.
    Fail,
    /// The function dies there: nothing after it runs.
    Crash,
}

/// Strikes once, at the first request of its step.
#[derive(Debug, Clone)]
struct Fault {
    step: Step,
    mode: Mode,
    fired: Arc<AtomicBool>,
}

impl Fault {
    fn new(step: Step, mode: Mode) -> Self {
        Self {
            step,
            mode,
            fired: Arc::new(AtomicBool::new(false)),
        }
    }

    fn strikes(&self, context: &BeforeSerializationInterceptorContextRef<'_>) -> bool {
        let input = context.input();
        let put_sk = input
            .downcast_ref::<PutItemInput>()
            .and_then(|put| put.item())
            .and_then(|item| item.get("sk"))
            .and_then(|sk| sk.as_s().ok())
            .cloned();
        // The sender records a job's outcome over its queued record with an update.
        let updated_sk = input
            .downcast_ref::<UpdateItemInput>()
            .and_then(|update| update.key())
            .and_then(|key| key.get("sk"))
            .and_then(|sk| sk.as_s().ok())
            .cloned();
        match self.step {
            Step::ReadKey => input
                .downcast_ref::<aws_sdk_dynamodb::operation::get_item::GetItemInput>()
                .and_then(|get| get.key())
                .and_then(|key| key.get("sk"))
                .is_some_and(|sk| sk.as_s().is_ok_and(|sk| sk == "IDEM")),
            Step::ClaimKey => put_sk.as_deref() == Some("IDEM"),
            Step::RecordMessage => put_sk
                .or(updated_sk)
                .is_some_and(|sk| sk.starts_with("MSG#")),
            Step::QueueJob => input.downcast_ref::<SendMessageBatchInput>().is_some(),
            Step::RecordActivity => input
                .downcast_ref::<UpdateItemInput>()
                .and_then(|update| update.expression_attribute_names())
                .is_some_and(|names| names.values().any(|n| n == "last_outbound_at")),
        }
    }
}

impl Intercept for Fault {
    fn name(&self) -> &'static str {
        "injected fault"
    }

    fn read_before_execution(
        &self,
        context: &BeforeSerializationInterceptorContextRef<'_>,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if self.strikes(context) && !self.fired.swap(true, Ordering::SeqCst) {
            match self.mode {
                Mode::Fail => return Err(format!("injected failure at {:?}", self.step).into()),
                Mode::Crash => panic!("injected crash at {:?}", self.step),
            }
        }
        Ok(())
    }
}

/// An outbox like the business API's, whose clients carry `fault`.
fn outbox(stack: &Stack, fault: Option<Fault>) -> Outbox {
    let metrics = Arc::new(Metrics::default());
    let mut dynamo = aws_sdk_dynamodb::config::Builder::from(&stack.sdk);
    let mut sqs = aws_sdk_sqs::config::Builder::from(&stack.sdk);
    if let Some(fault) = fault {
        dynamo = dynamo.interceptor(fault.clone());
        sqs = sqs.interceptor(fault);
    }
    let store = stack.store_over(
        aws_sdk_dynamodb::Client::from_conf(dynamo.build()),
        metrics.clone(),
    );
    let queue = OutboundQueue::new(
        EventQueue::new(
            aws_sdk_sqs::Client::from_conf(sqs.build()),
            std::env::var("OUTBOUND_QUEUE_URL").expect("the stack's outbound queue"),
            metrics,
        ),
        stack.queue_ids.clone(),
    );
    Outbox::new(TenantDirectory::new(store), queue)
}

fn template_to(tenant: &TestTenant, phone: &str) -> OutboundMessage {
    let to = Recipient::parse(phone).unwrap();
    OutboundMessage::template(&tenant.phone_number_id, to, "order_update", "en_US")
}

/// One call of `outbox` with `key`, run as a task so that a crash ends it alone.
async fn call(
    outbox: Arc<Outbox>,
    tenant: Arc<TestTenant>,
    phone: String,
    key: Option<String>,
) -> Result<Result<AcceptedMessage, AcceptError>, tokio::task::JoinError> {
    tokio::spawn(async move {
        let message = template_to(&tenant, &phone);
        outbox
            .accept(SendCommand {
                tenant: &tenant.id,
                message: &message,
                idempotency: key.as_deref().map(|key| IdempotencyKey {
                    key,
                    body: b"the same body",
                }),
                now: now(),
            })
            .await
    })
    .await
}

/// Requests the simulator received from the tenant's number to `phone`.
async fn sends_to(stack: &Stack, tenant: &TestTenant, phone: &str) -> usize {
    tenant
        .sim_received(stack)
        .await
        .iter()
        .filter(|r| r["to"] == phone && r["wamid"].is_string())
        .count()
}

#[tokio::test]
async fn the_next_call_with_the_key_sends_exactly_once_whatever_step_failed_or_crashed() {
    let stack = Stack::connect().await;
    let tenant = Arc::new(TestTenant::create(&stack).await);
    let api_key = tenant.api_key(&stack, Role::Admin).await;
    let healthy = Arc::new(outbox(&stack, None));
    let steps = [
        Step::ReadKey,
        Step::ClaimKey,
        Step::RecordMessage,
        Step::QueueJob,
        Step::RecordActivity,
    ];
    let mut cases = Vec::new();
    for step in steps {
        for mode in [Mode::Fail, Mode::Crash] {
            cases.push((step, mode, format!("4917{}", random_digits(9))));
        }
    }
    let mut answered = Vec::new();
    for (step, mode, phone) in &cases {
        let key = format!("order-{}", random_digits(10));
        let faulty = Arc::new(outbox(&stack, Some(Fault::new(*step, *mode))));
        let first = call(faulty, tenant.clone(), phone.clone(), Some(key.clone())).await;
        match (mode, &first) {
            (Mode::Crash, Err(e)) => assert!(e.is_panic(), "{step:?}: {e}"),
            // The queue sends its batches from tasks of their own: a crash there ends that
            // task, and the call sees it as the queue's failure (with a key, nothing runs
            // after it, as after a crash).
            (Mode::Crash, Ok(Err(AcceptError::Queue(_)))) if *step == Step::QueueJob => {}
            // The activity is recorded after the job is queued: a failure there is logged.
            (Mode::Fail, Ok(Ok(_))) if *step == Step::RecordActivity => {}
            (Mode::Fail, Ok(Err(_))) => {}
            other => panic!("{step:?} {mode:?}: unexpected first outcome {other:?}"),
        }
        if let Ok(Ok(accepted)) = &first {
            answered.push(accepted.message.encode());
        }
        let second = call(
            healthy.clone(),
            tenant.clone(),
            phone.clone(),
            Some(key.clone()),
        )
        .await
        .unwrap()
        .unwrap_or_else(|e| panic!("{step:?} {mode:?}: the retry failed: {e}"));
        let third = call(healthy.clone(), tenant.clone(), phone.clone(), Some(key))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(second.message, third.message, "{step:?} {mode:?}");
        assert!(third.replayed);
        answered.push(second.message.encode());
    }

    // Every id answered is a message that can be read.
    for id in &answered {
        let (status, body) = stack
            .api(
                Method::GET,
                &format!("/v1/messages/{id}"),
                Some(&api_key),
                None,
                &[],
            )
            .await;
        assert_eq!(status, 200, "{id}: {body}");
    }
    // Each message reaches Meta once, and no second time.
    for (step, mode, phone) in &cases {
        eventually(WAIT, "the send", || async {
            (sends_to(&stack, &tenant, phone).await >= 1).then_some(())
        })
        .await;
        let _ = (step, mode);
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    for (step, mode, phone) in &cases {
        assert_eq!(
            sends_to(&stack, &tenant, phone).await,
            1,
            "{step:?} {mode:?}: not sent exactly once"
        );
    }
}

#[tokio::test]
async fn without_a_key_a_job_that_could_not_be_queued_leaves_no_message_behind() {
    let stack = Stack::connect().await;
    let tenant = Arc::new(TestTenant::create(&stack).await);
    let api_key = tenant.api_key(&stack, Role::Admin).await;
    let phone = format!("4917{}", random_digits(9));
    let faulty = Arc::new(outbox(&stack, Some(Fault::new(Step::QueueJob, Mode::Fail))));
    let first = call(faulty, tenant.clone(), phone.clone(), None)
        .await
        .unwrap();
    assert!(matches!(first, Err(AcceptError::Queue(_))), "{first:?}");
    let contact = eventually(WAIT, "the contact", || async {
        stack.contact_of(&tenant.id, &phone).await
    })
    .await;
    let (status, page) = stack
        .api(
            Method::GET,
            &format!("/v1/conversations/{contact}/messages"),
            Some(&api_key),
            None,
            &[],
        )
        .await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["messages"], serde_json::json!([]), "{page}");
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(sends_to(&stack, &tenant, &phone).await, 0);
}

#[tokio::test]
async fn a_sender_that_dies_after_meta_accepted_is_not_sent_again_on_redelivery() {
    use wagate_messaging::cloud_api::{CloudApiClient, CloudApiConfig};
    use wagate_messaging::domain::conversation::SendOutcome;
    use wagate_messaging::outbound::sender::{Delivery, Done, JobResult, Sender, SenderSettings};

    let stack = Stack::connect().await;
    let tenant = TestTenant::create(&stack).await;
    let phone = format!("4917{}", random_digits(9));
    let job = wagate_messaging::outbound::OutboundJob::new(
        &tenant.id,
        &template_to(&tenant, &phone),
        None,
        now(),
    )
    .unwrap();
    let sender = |fault: Option<Fault>| {
        let mut dynamo = aws_sdk_dynamodb::config::Builder::from(&stack.sdk);
        if let Some(fault) = fault {
            dynamo = dynamo.interceptor(fault);
        }
        let store = stack.store_over(
            aws_sdk_dynamodb::Client::from_conf(dynamo.build()),
            Arc::new(Metrics::default()),
        );
        let api = CloudApiClient::new(CloudApiConfig {
            base_url: std::env::var("SIM_URL").unwrap(),
            ..CloudApiConfig::default()
        })
        .unwrap();
        Arc::new(Sender::new(
            TenantDirectory::new(store),
            stack.secrets.clone(),
            api,
            SenderSettings::default(),
        ))
    };
    let delivery = |attempt| Delivery {
        attempt,
        now: now(),
        send_by_us: wagate_messaging::outbound::pacer::now_us() + 20_000_000,
    };

    // The first delivery sends, then dies writing the message's record.
    let dying = sender(Some(Fault::new(Step::RecordMessage, Mode::Crash)));
    let first = {
        let job = job.clone();
        tokio::spawn(async move { dying.process(&job, delivery(1), 1).await }).await
    };
    assert!(first.unwrap_err().is_panic());
    assert_eq!(sends_to(&stack, &tenant, &phone).await, 1);
    // Meta's statuses for the message come back through the pipeline, carrying the job's tag.
    let contact = eventually(WAIT, "the contact", || async {
        stack.contact_of(&tenant.id, &phone).await
    })
    .await;
    eventually(WAIT, "the message's statuses", || async {
        stack
            .store
            .repo::<MessageStore>()
            .wamid_with_callback_data(&tenant.id, &contact, &job.status_tag())
            .await
            .unwrap()
    })
    .await;

    // The redelivery finds them: it records the fate and sends nothing.
    let healthy = sender(None);
    let second = healthy.process(&job, delivery(2), 1).await.unwrap();
    assert_eq!(second, JobResult::Done(Done::AlreadyHandled));
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(sends_to(&stack, &tenant, &phone).await, 1, "sent twice");
    let record = stack.outbound_record(&job).await.expect("the job's record");
    assert!(
        matches!(record.outcome, Some(SendOutcome::Accepted { .. })),
        "{record:?}"
    );
}
