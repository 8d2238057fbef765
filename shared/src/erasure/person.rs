//! Erasing one person at a tenant's request. The request finds the person (their contacts
//! and the keyed hashes of their identifiers, read while their keys still open their
//! profiles), records the erasure and queues its job; the job, in the erasure function:
//!
//! 1. writes tombstones, so that no event about them sent before now brings them back;
//! 2. destroys their data keys: from here on nothing sealed for them opens, backups of
//!    the table included, and nothing new is sealed for them;
//! 3. deletes their identity items, their contacts' partitions (profile, messages,
//!    delivery states) with the idempotency records their messages name, the callback
//!    log's entries about them, the tenant events that name them and their exports;
//! 4. signs a receipt and marks the erasure done.
//!
//! Each step is safe to repeat: a job that fails is run again by SQS, one whose time runs
//! out queues itself again. Once done, the same job runs once more after every container's
//! cached key has expired, to delete what a writer caught half-way left behind.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::ErasureError;
use super::job::ErasureJob;
use crate::domain::erasure::{
    ErasedCounts, ErasureReceipt, PersonErasure, RECEIPT_VERSION, RequestState, SignedReceipt,
    TOMBSTONE_SECS, new_erasure_id,
};
use crate::domain::identity::IdentityKey;
use crate::domain::tenant::TenantId;
use crate::domain::timestamp::now_seconds;
use crate::export::PersonExporter;
use crate::privacy::keyring::PERSON_KEY_TTL;
use crate::privacy::receipt::ReceiptSigner;
use crate::queue::jobs::JobQueue;
use crate::store::Store;
use crate::store::table::cursor::Cursor;

/// Items a page of a contact's partition deletes at a time.
const CONTACT_PAGE_ITEMS: i32 = 500;
/// Items of the callback log or the tenant events read per page.
const LOG_PAGE_ITEMS: i32 = 1_000;

/// The job of one erasure: whom, by contact ids and keyed hashes only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonSweep {
    pub tenant: String,
    pub erasure: String,
    pub contacts: Vec<String>,
    pub blinded: Vec<String>,
    pub requested_at: i64,
    /// The pass after caches expired: deletes what late writers left; the receipt stands.
    #[serde(default)]
    pub final_pass: bool,
}

/// What one run of an erasure job did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PersonOutcome {
    /// Its time ran out; the job is queued again.
    Continued(ErasedCounts),
    /// The erasure is done and its receipt signed.
    Done(ErasedCounts),
    /// The final pass ran; it deleted this much that was written late.
    FinalPass(ErasedCounts),
    /// The erasure is no longer running (done before, failed, or its tenant is gone).
    Stale,
}

#[derive(Clone)]
pub struct PersonEraser {
    store: Store,
    queue: JobQueue,
    receipts: ReceiptSigner,
    /// Deletes the person's exports with the rest.
    exports: Option<PersonExporter>,
}

impl PersonEraser {
    pub fn new(store: Store, queue: JobQueue, receipts: ReceiptSigner) -> Self {
        Self {
            store,
            queue,
            receipts,
            exports: None,
        }
    }

    /// Also deletes the person's exports (the erasure function's eraser does; the admin
    /// API's only starts erasures).
    pub fn with_exports(mut self, exports: PersonExporter) -> Self {
        self.exports = Some(exports);
        self
    }

    /// Starts erasing the person `person` names in the tenant (which the caller has found
    /// live). A person who was never a contact is an erasure like any other: it ends done
    /// with nothing deleted, and says nothing about whether they were known.
    pub async fn request(
        &self,
        tenant: &TenantId,
        person: &IdentityKey,
        requested_by: &str,
        now: i64,
    ) -> Result<PersonErasure, ErasureError> {
        let footprint = self.store.person_footprint(tenant, person, now).await?;
        let erasure = PersonErasure {
            id: new_erasure_id(),
            tenant_id: tenant.as_str().to_owned(),
            state: RequestState::Running,
            requested_by: requested_by.to_owned(),
            requested_at: now,
            finished_at: None,
            erased: ErasedCounts::default(),
            tombstone_expires_at: now + TOMBSTONE_SECS,
            failure: None,
            receipt: None,
        };
        self.store.put_new_erasure(&erasure).await?;
        let job = ErasureJob::PersonSweep(PersonSweep {
            tenant: tenant.as_str().to_owned(),
            erasure: erasure.id.clone(),
            contacts: footprint.contacts,
            blinded: footprint.blinded,
            requested_at: now,
            final_pass: false,
        });
        if let Err(e) = self.queue.send(&[job]).await {
            self.store
                .fail_erasure(
                    tenant,
                    &erasure.id,
                    "the erasure job could not be queued",
                    now,
                )
                .await?;
            return Err(e.into());
        }
        // Only this request knows these identifiers in plaintext, as their keys hold them.
        let legacy = self
            .store
            .delete_legacy_identities(tenant, &footprint.legacy)
            .await?;
        let counted = ErasedCounts {
            identities: legacy,
            ..ErasedCounts::default()
        };
        self.store.add_erased(tenant, &erasure.id, &counted).await?;
        tracing::info!(tenant = %tenant, erasure = %erasure.id, "erasure of a person queued");
        Ok(erasure)
    }

    /// The erasure `id` of the tenant; `None` for an unknown one.
    pub async fn status(
        &self,
        tenant: &TenantId,
        id: &str,
        now: i64,
    ) -> Result<Option<PersonErasure>, ErasureError> {
        Ok(self.store.erasure(tenant, id, now).await?)
    }

    /// Whether this deployment signed exactly this receipt.
    pub async fn verify(&self, receipt: &SignedReceipt) -> Result<bool, ErasureError> {
        Ok(self.receipts.verify(receipt).await?)
    }

    /// Marks the job's erasure failed: SQS gave up on it.
    pub async fn give_up(&self, job: &PersonSweep, reason: &str) -> Result<(), ErasureError> {
        let tenant = parse_tenant(&job.tenant)?;
        self.store
            .fail_erasure(&tenant, &job.erasure, reason, now_seconds())
            .await?;
        Ok(())
    }

    /// Runs the job while `keep_going` says there is time.
    pub async fn sweep(
        &self,
        job: &PersonSweep,
        keep_going: impl Fn() -> bool,
    ) -> Result<PersonOutcome, ErasureError> {
        let tenant = parse_tenant(&job.tenant)?;
        let store = &self.store;
        let running = store
            .erasure(&tenant, &job.erasure, now_seconds())
            .await?
            .is_some_and(|e| e.state == RequestState::Running);
        if !running && !job.final_pass {
            return Ok(PersonOutcome::Stale);
        }
        let mut erased = ErasedCounts::default();
        let step = self.shred(&tenant, job).await?;
        erased.add(&step);
        self.count(&tenant, job, &step).await?;
        if !self
            .delete_items(&tenant, job, &keep_going, &mut erased)
            .await?
        {
            self.queue
                .send(&[ErasureJob::PersonSweep(job.clone())])
                .await?;
            return Ok(PersonOutcome::Continued(erased));
        }
        if job.final_pass {
            if erased.total() > 0 {
                tracing::warn!(tenant = %tenant, erasure = %job.erasure, late = erased.total(), "the final pass of an erasure deleted items written late");
            }
            return Ok(PersonOutcome::FinalPass(erased));
        }
        if !self.finish(&tenant, job).await? {
            return Ok(PersonOutcome::Stale);
        }
        // Containers that cached a key before it was destroyed may still write for a few
        // minutes: one more pass after their caches expire deletes what they wrote.
        let final_pass = ErasureJob::PersonSweep(PersonSweep {
            final_pass: true,
            ..job.clone()
        });
        self.queue
            .send_delayed(&[final_pass], PERSON_KEY_TTL + Duration::from_secs(60))
            .await?;
        Ok(PersonOutcome::Done(erased))
    }

    /// Tombstones, then the data keys, then the identity items: from here on no event
    /// from before the erasure reaches them, nothing of theirs opens, and nothing new is
    /// sealed for them.
    async fn shred(
        &self,
        tenant: &TenantId,
        job: &PersonSweep,
    ) -> Result<ErasedCounts, ErasureError> {
        let store = &self.store;
        store
            .put_tombstones(
                tenant,
                &job.blinded,
                job.requested_at,
                job.requested_at + TOMBSTONE_SECS,
            )
            .await?;
        let mut erased = ErasedCounts::default();
        for contact in &job.contacts {
            if store
                .erase_contact_key(tenant, contact, job.requested_at)
                .await?
            {
                erased.data_keys += 1;
            }
        }
        erased.identities = store
            .delete_identities(tenant, &job.blinded, &job.contacts)
            .await?;
        Ok(erased)
    }

    /// Deletes the contacts' partitions, the callback log's entries about them and the
    /// events that name them; false when time ran out first.
    async fn delete_items(
        &self,
        tenant: &TenantId,
        job: &PersonSweep,
        keep_going: &impl Fn() -> bool,
        erased: &mut ErasedCounts,
    ) -> Result<bool, ErasureError> {
        let store = &self.store;
        for contact in &job.contacts {
            loop {
                let step = store
                    .delete_contact_page(tenant, contact, CONTACT_PAGE_ITEMS)
                    .await?;
                erased.add(&step.erased);
                self.count(tenant, job, &step.erased).await?;
                if step.next.is_none() {
                    break;
                }
                if !keep_going() {
                    return Ok(false);
                }
            }
        }
        if let Some(exports) = &self.exports {
            let deleted = ErasedCounts {
                exports: exports.delete_about(tenant, &job.contacts).await?,
                ..ErasedCounts::default()
            };
            erased.add(&deleted);
            self.count(tenant, job, &deleted).await?;
        }
        let mut start: Option<Cursor> = None;
        loop {
            let step = store
                .delete_callback_log_page(tenant, &job.contacts, start.as_ref(), LOG_PAGE_ITEMS)
                .await?;
            erased.add(&step.erased);
            self.count(tenant, job, &step.erased).await?;
            match step.next {
                None => break,
                Some(_) if !keep_going() => return Ok(false),
                next => start = next,
            }
        }
        let mut start: Option<Cursor> = None;
        loop {
            let step = store
                .delete_events_naming_page(tenant, &job.blinded, start.as_ref(), LOG_PAGE_ITEMS)
                .await?;
            erased.add(&step.erased);
            self.count(tenant, job, &step.erased).await?;
            match step.next {
                None => return Ok(true),
                Some(_) if !keep_going() => return Ok(false),
                next => start = next,
            }
        }
    }

    /// Adds a step's counts to the record (not on the final pass: the receipt is signed).
    async fn count(
        &self,
        tenant: &TenantId,
        job: &PersonSweep,
        erased: &ErasedCounts,
    ) -> Result<(), ErasureError> {
        if !job.final_pass {
            self.store.add_erased(tenant, &job.erasure, erased).await?;
        }
        Ok(())
    }

    /// Signs the receipt and marks the erasure done; false when it was no longer running.
    async fn finish(&self, tenant: &TenantId, job: &PersonSweep) -> Result<bool, ErasureError> {
        let Some(record) = self
            .store
            .erasure(tenant, &job.erasure, now_seconds())
            .await?
        else {
            return Ok(false);
        };
        let receipt = ErasureReceipt {
            version: RECEIPT_VERSION,
            erasure_id: record.id.clone(),
            tenant_id: record.tenant_id.clone(),
            requested_by: record.requested_by.clone(),
            requested_at: record.requested_at,
            completed_at: now_seconds(),
            erased: record.erased,
            tombstone_expires_at: record.tombstone_expires_at,
        };
        let signed = self.receipts.sign(receipt).await?;
        let done = self
            .store
            .finish_erasure(tenant, &job.erasure, &signed)
            .await?;
        if done {
            tracing::info!(tenant = %tenant, erasure = %job.erasure, items = record.erased.total(), "erasure of a person done");
        }
        Ok(done)
    }
}

fn parse_tenant(raw: &str) -> Result<TenantId, ErasureError> {
    TenantId::parse(raw).map_err(|_| ErasureError::BadTenant(raw.to_owned()))
}
