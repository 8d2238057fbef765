//! Paces sends per phone number across every worker instance. Each container leases blocks
//! of send slots from the number's pacing item (one write per block) and sends at the
//! slots' times, so all instances together stay under the number's messages per second.

use crate::store::NumberStore;
use std::collections::HashMap;
use std::future::Future;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::sync::Mutex;

use crate::domain::tenant::TenantId;
use crate::store::{Store, StoreError};

/// The smallest block leased with one write: at most a tenth of a write per message.
pub const MIN_BLOCK: u32 = 10;
/// After Meta reports the number's throughput reached (130429), no instance starts a new
/// block of sends for this long. Throttles seen together impose it once, not once each:
/// adding a penalty per throttle would turn a burst of them into minutes of silence.
pub const THROTTLE_PENALTY: Duration = Duration::from_secs(1);

#[derive(Debug, Clone, Copy)]
struct Lease {
    next_us: i64,
    end_us: i64,
    interval_us: i64,
}

pub struct Pacer {
    store: Store,
    leases: Mutex<HashMap<String, Lease>>,
}

impl Pacer {
    pub fn new(store: Store) -> Self {
        Self {
            store,
            leases: Mutex::new(HashMap::new()),
        }
    }
}

pub fn now_us() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as i64)
        .unwrap_or(0)
}

/// Sleeps until the epoch-microsecond time `at`.
pub async fn sleep_until_us(at: i64) {
    let wait = at - now_us();
    if wait > 0 {
        tokio::time::sleep(Duration::from_micros(wait as u64)).await;
    }
}

/// The send slots of a number, shared by every instance that sends from it.
pub trait SendSlots: Send + Sync {
    /// The time (epoch microseconds) at which this container may send the next message
    /// from the number; `wanted` is how many it expects to send soon (the block it leases).
    fn next_slot(
        &self,
        tenant: &TenantId,
        phone_number_id: &str,
        per_second: u32,
        wanted: u32,
    ) -> impl Future<Output = Result<i64, StoreError>> + Send;

    /// Meta said the number's throughput was reached: drop this container's lease and make
    /// every instance's next block start no sooner than [`THROTTLE_PENALTY`] from now.
    fn slow_down(
        &self,
        tenant: &TenantId,
        phone_number_id: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// No instance sends from the number before `resume_us` (epoch microseconds): the
    /// number's shared next slot moves there, so every container learns of a pause at its
    /// next lease rather than when its cached copy of the number expires.
    fn hold_until(
        &self,
        tenant: &TenantId,
        phone_number_id: &str,
        resume_us: i64,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

impl SendSlots for Pacer {
    async fn next_slot(
        &self,
        tenant: &TenantId,
        phone_number_id: &str,
        per_second: u32,
        wanted: u32,
    ) -> Result<i64, StoreError> {
        let interval_us = 1_000_000 / i64::from(per_second.max(1));
        let mut leases = self.leases.lock().await;
        let now = now_us();
        let lease = leases.entry(phone_number_id.to_owned()).or_insert(Lease {
            next_us: 0,
            end_us: 0,
            interval_us,
        });
        // A slot more than one interval old is dropped: sending it now would bunch sends.
        if lease.interval_us == interval_us {
            while lease.next_us < lease.end_us && lease.next_us < now - interval_us {
                lease.next_us += interval_us;
            }
        } else {
            lease.next_us = lease.end_us;
        }
        if lease.next_us >= lease.end_us {
            let block = i64::from(wanted.max(MIN_BLOCK));
            let span = block * interval_us;
            // The lease's end is where the shared next slot stood when this container last
            // reserved; the shared slot only moves forward, so a future end means busy.
            let start = if lease.end_us < now
                && self
                    .store
                    .repo::<NumberStore>()
                    .move_pace_forward(tenant, phone_number_id, now, now + span)
                    .await?
            {
                now
            } else {
                let next = self
                    .store
                    .repo::<NumberStore>()
                    .advance_pace(tenant, phone_number_id, span)
                    .await?;
                next - span
            };
            *lease = Lease {
                next_us: start,
                end_us: start + span,
                interval_us,
            };
        }
        let slot = lease.next_us;
        lease.next_us += interval_us;
        Ok(slot)
    }

    async fn slow_down(&self, tenant: &TenantId, phone_number_id: &str) -> Result<(), StoreError> {
        let resume = now_us() + THROTTLE_PENALTY.as_micros() as i64;
        self.hold_until(tenant, phone_number_id, resume).await
    }

    async fn hold_until(
        &self,
        tenant: &TenantId,
        phone_number_id: &str,
        resume_us: i64,
    ) -> Result<(), StoreError> {
        let mut leases = self.leases.lock().await;
        leases.remove(phone_number_id);
        self.store
            .repo::<NumberStore>()
            .move_pace_forward(tenant, phone_number_id, resume_us, resume_us)
            .await?;
        Ok(())
    }
}
