//! Accepting a send's ports in memory.

use std::sync::Mutex;

use crate::domain::tenant::TenantId;
use crate::outbound::{JobSink, OutboundJob};
use crate::queue::QueueError;
use crate::store::idempotency::IdempotencyRecord;
use crate::store::message::outbound::OutboundKey;

pub(super) fn live_claim(record: &IdempotencyRecord, now: i64) -> bool {
    now < record.created_at + crate::store::idempotency::IDEMPOTENCY_TTL_SECS
}

pub(super) fn outbound_slot(tenant: &TenantId, key: OutboundKey<'_>) -> (TenantId, String, String) {
    (
        tenant.clone(),
        key.contact_id.to_owned(),
        key.job_id.to_owned(),
    )
}

/// Keeps the jobs queued, in order, and can refuse the next one.
#[derive(Default)]
pub struct FakeQueue {
    pub jobs: Mutex<Vec<OutboundJob>>,
    pub fail_next: Mutex<bool>,
}

impl FakeQueue {
    pub fn fail_once(&self) {
        *self.fail_next.lock().expect("never poisoned") = true;
    }

    pub fn job_ids(&self) -> Vec<String> {
        self.jobs().into_iter().map(|j| j.job_id).collect()
    }

    pub fn jobs(&self) -> Vec<OutboundJob> {
        self.jobs.lock().expect("never poisoned").clone()
    }
}

impl JobSink for FakeQueue {
    async fn enqueue(&self, job: &OutboundJob) -> Result<(), QueueError> {
        if std::mem::take(&mut *self.fail_next.lock().expect("never poisoned")) {
            return Err(QueueError::Refused {
                failed: 1,
                code: "the fake queue was told to fail".into(),
            });
        }
        self.jobs.lock().expect("never poisoned").push(job.clone());
        Ok(())
    }
}
