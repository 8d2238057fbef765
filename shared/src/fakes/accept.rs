//! Accepting a send's ports in memory.

use std::sync::Mutex;

use super::FakeStore;
use crate::domain::contact::ContactProfile;
use crate::domain::conversation::OutboundRecord;
use crate::domain::identity::UserIdentity;
use crate::domain::tenant::{PhoneNumber, TenantId};
use crate::outbound::consent::{TemplateCategories, TemplateIn};
use crate::outbound::{AcceptStore, JobSink, OutboundJob};
use crate::queue::QueueError;
use crate::store::idempotency::{Claim, IdempotencyRecord};
use crate::store::message::outbound::{OutboundKey, QueuedOutbound};
use crate::store::{PutOutcome, StoreError};

impl TemplateCategories for FakeStore {
    async fn template_category(
        &self,
        tenant: &TenantId,
        template: TemplateIn<'_>,
    ) -> Result<Option<String>, StoreError> {
        self.check("template_category")?;
        let t = self.lock();
        let key = (
            tenant.clone(),
            template.waba_id.to_owned(),
            template.name.to_owned(),
            template.language.to_owned(),
        );
        Ok(t.template_categories.get(&key).cloned())
    }
}

impl AcceptStore for FakeStore {
    async fn phone_number(
        &self,
        tenant: &TenantId,
        phone_number_id: &str,
    ) -> Result<Option<PhoneNumber>, StoreError> {
        self.check("phone_number")?;
        Ok(self
            .lock()
            .numbers
            .iter()
            .find(|n| &n.tenant_id == tenant && n.phone_number_id == phone_number_id)
            .cloned())
    }

    async fn body_digest(&self, tenant: &TenantId, body: &[u8]) -> Result<String, StoreError> {
        // Keyed by the tenant, as the store's is by its index key.
        use sha2::{Digest, Sha256};
        let mut keyed = tenant.as_str().as_bytes().to_vec();
        keyed.push(0);
        keyed.extend_from_slice(body);
        Ok(hex::encode(Sha256::digest(keyed)))
    }

    async fn idempotency_key_digest(
        &self,
        tenant: &TenantId,
        key: &str,
    ) -> Result<String, StoreError> {
        self.body_digest(tenant, key.as_bytes()).await
    }

    async fn idempotency_record(
        &self,
        tenant: &TenantId,
        key: &str,
        now: i64,
    ) -> Result<Option<IdempotencyRecord>, StoreError> {
        self.check("idempotency_record")?;
        Ok(self
            .lock()
            .idempotency
            .get(&(tenant.clone(), key.to_owned()))
            .filter(|r| live_claim(r, now))
            .cloned())
    }

    async fn claim_idempotency_key(
        &self,
        tenant: &TenantId,
        key: &str,
        record: &IdempotencyRecord,
    ) -> Result<Claim, StoreError> {
        self.check("claim_idempotency_key")?;
        let mut t = self.lock();
        let slot = (tenant.clone(), key.to_owned());
        if let Some(held) = t.idempotency.get(&slot)
            && live_claim(held, record.created_at)
        {
            return Ok(Claim::Taken(held.clone()));
        }
        t.idempotency.insert(slot, record.clone());
        Ok(Claim::Claimed)
    }

    async fn outbound_record(
        &self,
        tenant: &TenantId,
        key: OutboundKey<'_>,
    ) -> Result<Option<OutboundRecord>, StoreError> {
        self.check("outbound_record")?;
        Ok(self
            .lock()
            .outbound
            .get(&outbound_slot(tenant, key))
            .cloned())
    }

    async fn find_contact(
        &self,
        tenant: &TenantId,
        identity: &UserIdentity,
        _now: i64,
    ) -> Result<Option<ContactProfile>, StoreError> {
        self.check("find_contact")?;
        Ok(self.find(tenant, identity))
    }

    async fn identifier_opt_outs(
        &self,
        tenant: &TenantId,
        identity: &UserIdentity,
        _now: i64,
    ) -> Result<crate::domain::consent::ConsentState, StoreError> {
        self.check("identifier_opt_outs")?;
        let t = self.lock();
        let mut state = crate::domain::consent::ConsentState::default();
        for key in identity.keys() {
            if let Some(found) = t.opt_outs.get(&(tenant.clone(), key.to_string())) {
                state.take_later(found);
            }
        }
        Ok(state)
    }

    async fn newest_inbound_since(
        &self,
        tenant: &TenantId,
        contact_id: &str,
        since: i64,
    ) -> Result<Option<i64>, StoreError> {
        self.check("newest_inbound_since")?;
        Ok(self
            .lock()
            .newest_inbound
            .get(&(tenant.clone(), contact_id.to_owned()))
            .copied()
            .filter(|at| *at >= since))
    }

    async fn put_queued_outbound(
        &self,
        tenant: &TenantId,
        message: &QueuedOutbound<'_>,
    ) -> Result<PutOutcome, StoreError> {
        self.check("put_queued_outbound")?;
        let mut t = self.lock();
        let slot = outbound_slot(tenant, message.key);
        if t.outbound.contains_key(&slot) {
            return Ok(PutOutcome::Duplicate);
        }
        t.outbound.insert(
            slot,
            OutboundRecord {
                job_id: message.key.job_id.to_owned(),
                phone_number_id: message.phone_number_id.to_owned(),
                message_type: message.message_type.to_owned(),
                content: message.content.to_owned(),
                sent_at: message.key.enqueued_at,
                outcome: None,
                attempts: 0,
                decided_at: None,
                expires_at: Some(message.expires_at),
            },
        );
        Ok(PutOutcome::Stored)
    }

    async fn delete_queued_outbound(
        &self,
        tenant: &TenantId,
        key: OutboundKey<'_>,
    ) -> Result<(), StoreError> {
        self.check("delete_queued_outbound")?;
        let mut t = self.lock();
        let slot = outbound_slot(tenant, key);
        if t.outbound.get(&slot).is_some_and(|r| r.outcome.is_none()) {
            t.outbound.remove(&slot);
        }
        Ok(())
    }

    async fn record_outbound_activity(
        &self,
        tenant: &TenantId,
        contact: &ContactProfile,
        _number: &str,
        _now: i64,
    ) -> Result<(), StoreError> {
        self.check("record_outbound_activity")?;
        *self
            .lock()
            .outbound_activity
            .entry((tenant.clone(), contact.contact_id.clone()))
            .or_default() += 1;
        Ok(())
    }
}

fn live_claim(record: &IdempotencyRecord, now: i64) -> bool {
    now < record.created_at + crate::store::idempotency::IDEMPOTENCY_TTL_SECS
}

fn outbound_slot(tenant: &TenantId, key: OutboundKey<'_>) -> (TenantId, String, String) {
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
        let jobs = self.jobs.lock().expect("never poisoned");
        jobs.iter().map(|j| j.job_id.clone()).collect()
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
