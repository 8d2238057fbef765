//! A paced campaign through the stack's outbound instances, for the pacing test (which
//! checks that every message goes out exactly once and never above the number's limit)
//! and for `make bench` (which reports how close to the limit the stack sends).

use std::collections::HashSet;
use std::time::Duration;
use wagate_messaging::store::NumberStore;
use wagate_messaging::store::number::NumberRecords;

use serde_json::{Value, json};
use wagate_messaging::outbound::OutboundJob;

use crate::{Stack, TestTenant};

/// Messages per measured run.
pub const MESSAGES: usize = 2_000;
/// Sent first and not measured: the local emulators (DynamoDB Local's JVM above all) run
/// slowly until warmed up, which a deployed stack does not.
pub const WARM_UP: usize = 600;

/// What one measured run achieved.
#[derive(Debug, Clone, Copy)]
pub struct PacedRun {
    /// Messages per second, first to last accepted send.
    pub rate: f64,
    /// Sends Meta's simulator refused with 130429 (throughput reached).
    pub throttled: usize,
}

/// A number that we and the simulator both limit to `limit` messages a second (as after a
/// THROUGHPUT_UPGRADE event), sending from warm emulators. No status webhooks: this is
/// about the send path alone.
pub struct PacedNumber<'a> {
    stack: &'a Stack,
    tenant: TestTenant,
    limit: u32,
    accepted_before: usize,
}

impl<'a> PacedNumber<'a> {
    pub async fn warmed_up(stack: &'a Stack, limit: u32) -> Self {
        let tenant = TestTenant::create(stack).await;
        stack
            .store
            .repo::<NumberStore>()
            .set_throughput(&tenant.id, &tenant.phone_number_id, limit)
            .await
            .unwrap();
        tenant
            .register_at_sim(
                stack,
                json!({"throughput_per_second": limit, "statuses": {"final_status": "none"}}),
            )
            .await;
        let mut number = Self {
            stack,
            tenant,
            limit,
            accepted_before: 0,
        };
        let warm_up = number.tenant.template_campaign(WARM_UP);
        number.send_all(&warm_up).await;
        number
    }

    /// Sends [`MESSAGES`] templates to new recipients and checks that each went out exactly
    /// once; what the run achieved.
    pub async fn measured_run(&mut self) -> PacedRun {
        let jobs = self.tenant.template_campaign(MESSAGES);
        let throttled_before = throttles(&self.tenant.sim_received(self.stack).await);
        self.send_all(&jobs).await;
        // Nothing more arrives: no job was sent twice.
        tokio::time::sleep(Duration::from_secs(3)).await;

        let received = self.tenant.sim_received(self.stack).await;
        let measured: HashSet<String> = jobs.iter().map(|j| j.to().to_owned()).collect();
        let this_run: Vec<Value> = received
            .iter()
            .filter(|r| measured.contains(r["to"].as_str().unwrap_or_default()))
            .cloned()
            .collect();
        println!("accepted/refused per second: {}", timeline(&this_run));
        let accepted: Vec<&Value> = this_run.iter().filter(|r| r["wamid"].is_string()).collect();
        assert_eq!(accepted.len(), MESSAGES, "a message was sent twice");
        let recipients: HashSet<_> = accepted.iter().map(|r| r["to"].as_str().unwrap()).collect();
        assert_eq!(recipients.len(), MESSAGES, "a recipient got two messages");

        let at = |r: &Value| r["at_ms"].as_u64().unwrap();
        let first = accepted.iter().map(|r| at(r)).min().unwrap();
        let last = accepted.iter().map(|r| at(r)).max().unwrap();
        let run = PacedRun {
            rate: (MESSAGES - 1) as f64 / ((last - first) as f64 / 1000.0),
            throttled: throttles(&received) - throttled_before,
        };
        println!(
            "achieved {:.1} messages/s against a limit of {}; 130429 seen {} times",
            run.rate, self.limit, run.throttled
        );
        run
    }

    /// Queues the jobs as a campaign feeder would, keeping three seconds of sending ahead of
    /// the senders (the local SQS emulator slows down with deep queues), and waits until the
    /// simulator accepted them all.
    async fn send_all(&mut self, jobs: &[OutboundJob]) {
        let path = format!("/_sim/numbers/{}/counters", self.tenant.phone_number_id);
        let ahead = 3 * self.limit as usize;
        let mut enqueued = 0;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(180);
        loop {
            let counters = self.stack.sim_get(&path).await;
            let accepted = counters["accepted"].as_u64().unwrap_or(0) as usize;
            let done = accepted.saturating_sub(self.accepted_before);
            if done >= jobs.len() {
                self.accepted_before = accepted;
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "only {done} of {} sends accepted in time",
                jobs.len()
            );
            let target = (done + ahead).min(jobs.len());
            if target > enqueued {
                self.stack
                    .outbound
                    .enqueue_jobs(&jobs[enqueued..target])
                    .await
                    .unwrap();
                enqueued = target;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

fn throttles(received: &[Value]) -> usize {
    received
        .iter()
        .filter(|r| r["error_code"] == json!(130429))
        .count()
}

/// Sends per second as the simulator saw them (accepted/refused), for tuning the pacing.
fn timeline(received: &[Value]) -> String {
    let Some(start) = received.first().and_then(|r| r["at_ms"].as_u64()) else {
        return String::new();
    };
    let mut seconds: Vec<(u32, u32)> = Vec::new();
    for r in received {
        let second = ((r["at_ms"].as_u64().unwrap_or(start) - start) / 1000) as usize;
        if seconds.len() <= second {
            seconds.resize(second + 1, (0, 0));
        }
        if r["wamid"].is_string() {
            seconds[second].0 += 1;
        } else {
            seconds[second].1 += 1;
        }
    }
    let line: Vec<String> = seconds.iter().map(|(a, r)| format!("{a}/{r}")).collect();
    line.join(" ")
}
