//! A number at Meta's top throughput tier (1,000 messages a second), paced by the sender
//! behind its ports: the real pacer over the stack's table (the item every instance leases
//! its send slots from), the Cloud API client against the simulator (which refuses a send
//! above the number's rate with 130429, as Meta does), and in-memory stores for the rest.
//! The local emulators cannot carry a full send's writes at that rate on this machine;
//! what this measures is whether the pacing holds the rate, which is what the tier asks.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use futures_util::future::join_all;
use serde_json::json;
use wagate_messaging::cloud_api::{CloudApiClient, CloudApiConfig, SendAccepted, SendError};
use wagate_messaging::domain::outbound::{OutboundMessage, Recipient};
use wagate_messaging::domain::tenant::PhoneNumber;
use wagate_messaging::fakes::{FakeStore, phone_number, tenant};
use wagate_messaging::outbound::OutboundJob;
use wagate_messaging::outbound::job::MetaBody;
use wagate_messaging::outbound::pacer::{Pacer, now_us};
use wagate_messaging::outbound::send_port::MetaSend;
use wagate_messaging::outbound::sender::{
    Delivery, Done, JobResult, Prepared, Sender, SenderSettings,
};
use wagate_messaging::secret::Secret;
use wagate_messaging::secret_store::SecretError;

use crate::pacing::PacedRun;
use crate::{Stack, now, random_digits};

/// Meta's top tier.
pub const TOP_TIER: u32 = 1_000;
/// Worker instances sending from the number at once, each with its own leases.
const INSTANCES: usize = 4;
/// Jobs an instance takes per invocation, as the event source mapping hands them.
const BATCH: usize = 10;
const TOKEN: &str = "EAAG-top-tier-bench";

/// The simulator as Meta, through the same client the sender uses.
struct SimulatorMeta {
    api: CloudApiClient,
}

impl MetaSend for SimulatorMeta {
    async fn token(&self, _number: &PhoneNumber) -> Result<Secret, SecretError> {
        Ok(Secret::new(TOKEN.into()))
    }

    async fn send(
        &self,
        phone_number_id: &str,
        token: &Secret,
        request: &MetaBody<'_>,
    ) -> Result<SendAccepted, SendError> {
        self.api.send_request(phone_number_id, token, request).await
    }
}

type TopTierSender = Sender<FakeStore, SimulatorMeta, Pacer>;

/// A number at the top tier, registered at the simulator, and the instances that send
/// from it.
pub struct TopTierNumber {
    number: PhoneNumber,
    instances: Vec<Arc<TopTierSender>>,
}

impl TopTierNumber {
    pub async fn new(stack: &Stack) -> Self {
        let tenant = tenant(&format!("toptier{}", random_digits(8)));
        let mut number = phone_number(
            &tenant.id,
            &format!("1065{}", random_digits(11)),
            &format!("1555{}", random_digits(7)),
        );
        number.throughput_per_second = TOP_TIER;
        stack
            .sim_post(
                "/_sim/numbers",
                json!({
                    "phone_number_id": number.phone_number_id,
                    "display_phone_number": number.display_phone_number,
                    "waba_id": number.waba_id,
                    "access_token": TOKEN,
                    "app_secret": random_digits(16),
                    "webhook_url": stack.tenant_webhook_url(tenant.id.as_str()),
                    "throughput_per_second": TOP_TIER,
                    "statuses": {"final_status": "none"},
                }),
            )
            .await;
        let instances = (0..INSTANCES)
            .map(|_| {
                let store = FakeStore::with_tenant(tenant.clone());
                {
                    let mut tables = store.lock();
                    tables.numbers.push(number.clone());
                    tables.template_categories.insert(
                        (
                            tenant.id.clone(),
                            number.waba_id.clone(),
                            "order_update".to_owned(),
                            "en_US".to_owned(),
                        ),
                        "UTILITY".to_owned(),
                    );
                }
                let api = CloudApiClient::new(CloudApiConfig {
                    base_url: stack.sim_url.clone(),
                    ..CloudApiConfig::default()
                })
                .expect("a Cloud API client for the simulator");
                let pacer = Pacer::new(stack.store.clone());
                let sender = Sender::with_ports(
                    store,
                    SimulatorMeta { api },
                    pacer,
                    SenderSettings::default(),
                );
                Arc::new(sender)
            })
            .collect();
        Self { number, instances }
    }

    /// `count` templates from the number, each to a new recipient.
    fn campaign(&self, count: usize) -> Vec<OutboundJob> {
        let prefix = format!("4917{}", random_digits(6));
        (0..count)
            .map(|i| {
                let to = Recipient::parse(&format!("{prefix}{i:05}")).unwrap();
                let message = OutboundMessage::template(
                    &self.number.phone_number_id,
                    to,
                    "order_update",
                    "en_US",
                );
                OutboundJob::new(&self.number.tenant_id, &message, None, now()).unwrap()
            })
            .collect()
    }

    /// Sends `count` templates through every instance at once, each taking batches of ten
    /// as its event source mapping would, and measures the rate Meta accepted them at:
    /// first to last accepted send. A job told to wait goes back on the queue.
    pub async fn run(&self, stack: &Stack, count: usize) -> PacedRun {
        let queue = Arc::new(Mutex::new(VecDeque::from(self.campaign(count))));
        let sent = Arc::new(Mutex::new(Vec::with_capacity(count)));
        let throttled_before = self.throttled(stack).await;
        join_all(self.instances.iter().map(|sender| {
            let (queue, sent) = (queue.clone(), sent.clone());
            async move {
                loop {
                    let batch: Vec<OutboundJob> = {
                        let mut queue = queue.lock().unwrap();
                        let n = queue.len().min(BATCH);
                        queue.drain(..n).collect()
                    };
                    if batch.is_empty() {
                        return;
                    }
                    for (job, result) in batch.iter().zip(invocation(sender, &batch).await) {
                        match result {
                            JobResult::Done(Done::Sent { .. }) => {
                                sent.lock().unwrap().push(now_us());
                            }
                            JobResult::RetryAfter { .. } => {
                                queue.lock().unwrap().push_back(job.clone());
                            }
                            JobResult::Done(other) => panic!("a job did not go out: {other:?}"),
                        }
                    }
                }
            }
        }))
        .await;
        let mut sent = sent.lock().unwrap().clone();
        assert_eq!(sent.len(), count, "every job sent once");
        sent.sort_unstable();
        let span = (sent[count - 1] - sent[0]) as f64 / 1e6;
        PacedRun {
            rate: (count - 1) as f64 / span,
            throttled: self.throttled(stack).await - throttled_before,
        }
    }

    /// How many sends from the number the simulator refused with 130429 so far.
    async fn throttled(&self, stack: &Stack) -> usize {
        let path = format!("/_sim/numbers/{}/received", self.number.phone_number_id);
        let received = stack.sim_get(&path).await;
        received["requests"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|r| r["error_code"] == json!(130429))
            .count()
    }
}

/// One invocation's batch, as the worker handles it: every job prepared, then the ready
/// ones sent at their slots, the number's count of them leased as one block.
async fn invocation(sender: &TopTierSender, batch: &[OutboundJob]) -> Vec<JobResult> {
    let delivery = Delivery {
        attempt: 1,
        now: now(),
        send_by_us: i64::MAX,
    };
    let prepared = join_all(batch.iter().map(|job| sender.prepare(job, delivery))).await;
    let ready = prepared
        .iter()
        .filter(|p| matches!(p, Ok(Prepared::Ready(_))))
        .count() as u32;
    join_all(prepared.into_iter().map(|prepared| async move {
        match prepared.expect("a job prepared") {
            Prepared::Ready(job) => sender
                .send_ready(*job, ready)
                .await
                .expect("a job sent or told to wait"),
            Prepared::Finished(result) => result,
        }
    }))
    .await
}
