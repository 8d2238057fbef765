//! Erasing one person at a tenant's request. The request writes the tombstone of the
//! identifier it names before anything else, then finds the person (their contacts and
//! the keyed hashes of their identifiers, read while their keys still open their
//! profiles), tombstones those too, records the erasure and queues its job. Every write
//! that makes a contact or links an identifier checks the tombstones in its transaction
//! (`store::contact::resolve`), so from the request on, nothing sent before it makes or
//! grows a contact of theirs. The job, in the erasure function:
//!
//! 1. finds the person again and wholly (`Store::person_closure`): every contact their
//!    tombstoned identifiers lead to that was not made after the erasure, and every
//!    identifier those contacts list, including one first seen while the erasure ran;
//!    tombstones each and destroys each contact's data key, then looks again until
//!    nothing new turns up. Once a key is marked, no transaction links anything to its
//!    contact, so the last look is complete;
//! 2. deletes their identity items, their contacts' partitions (profile, messages,
//!    delivery states, consent lines) with the idempotency records their messages name,
//!    their exports (records, uploads under way, files), the callback log's entries about
//!    them and the tenant events that name them;
//! 3. waits for the final pass: a writer that read the person before the tombstones, or
//!    holds their key from its cache, may still write for a while
//!    ([`ErasureTiming::final_pass_delay`]). The final pass runs 1 and 2 again, then signs
//!    the receipt, covering both passes, and marks the erasure done.
//!
//! Each step is safe to repeat: a job that fails is run again by SQS, one whose time runs
//! out queues itself again (with what it found).

use crate::store::ContactStore;
use crate::store::PersonStore;
use std::time::Duration;

use super::ErasureError;
use super::job::{ErasureJob, PersonSweep};
use crate::clock::now_seconds;
use crate::domain::erasure::{
    ErasedCounts, ErasureReceipt, PersonErasure, RECEIPT_VERSION, RequestState, SignedReceipt,
    TOMBSTONE_SECS, new_erasure_id,
};
use crate::domain::identity::IdentityKey;
use crate::domain::tenant::TenantId;
use crate::export::PersonExporter;
use crate::privacy::keyring::PERSON_KEY_TTL;
use crate::queue::jobs::JobQueue;
use crate::receipt::ReceiptSigner;
use crate::store::Store;
use crate::store::person::{Opening, PersonFootprint};
use crate::store::table::cursor::Cursor;

/// Items a page of a contact's partition deletes at a time.
const CONTACT_PAGE_ITEMS: i32 = 500;
/// Items of the callback log or the tenant events read per page.
const LOG_PAGE_ITEMS: i32 = 1_000;
/// Rounds of finding, tombstoning and destroying keys before the job gives up on growing
/// the person further (each round follows every identifier found in the one before).
const CLOSURE_ROUNDS: usize = 4;

/// What one run of an erasure job did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PersonOutcome {
    /// Its time ran out; the job is queued again.
    Continued(ErasedCounts),
    /// The first pass is done; the final pass is queued for later.
    FirstPassDone(ErasedCounts),
    /// The final pass ran; the erasure is done and its receipt signed.
    Done(ErasedCounts),
    /// The erasure is no longer running (done before, failed, or its tenant is gone).
    Stale,
}

/// How the erasure function times an erasure, and what its receipt promises of backups.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErasureTiming {
    /// How long after the first pass the final pass runs: past every container's cached
    /// key ([`PERSON_KEY_TTL`]) and every invocation that read the person before.
    pub final_pass_delay: Duration,
    /// The key table's point-in-time recovery window: once it has passed, no backup holds
    /// the person's data keys, and so nothing of theirs opens in any backup.
    pub key_recovery_days: u32,
}

/// The data table's point-in-time recovery window (`template.yaml` sets it).
pub const DATA_TABLE_RECOVERY_DAYS: u32 = 30;

/// When no backup holds anything readable of the person: once the key table's window has
/// passed, their data keys are in none; but a tenant event that named them beside others,
/// or when they were no contact, was sealed under the tenant's key, which backups keep, so
/// an erasure that deleted events waits for the data table's window too.
fn backups_unreadable_after(timing: &ErasureTiming, erased: &ErasedCounts, at: i64) -> i64 {
    let days = if erased.tenant_events > 0 {
        timing.key_recovery_days.max(DATA_TABLE_RECOVERY_DAYS)
    } else {
        timing.key_recovery_days
    };
    at + i64::from(days) * 86_400
}

impl Default for ErasureTiming {
    fn default() -> Self {
        Self {
            final_pass_delay: PERSON_KEY_TTL + Duration::from_secs(60),
            key_recovery_days: 7,
        }
    }
}

#[derive(Clone)]
pub struct PersonEraser {
    store: Store,
    queue: JobQueue,
    receipts: ReceiptSigner,
    /// Deletes the person's exports with the rest.
    exports: Option<PersonExporter>,
    timing: ErasureTiming,
}

impl PersonEraser {
    pub fn new(store: Store, queue: JobQueue, receipts: ReceiptSigner) -> Self {
        Self {
            store,
            queue,
            receipts,
            exports: None,
            timing: ErasureTiming::default(),
        }
    }

    /// Also deletes the person's exports (the erasure function's eraser does; the admin
    /// API's only starts erasures).
    pub fn with_exports(mut self, exports: PersonExporter) -> Self {
        self.exports = Some(exports);
        self
    }

    pub fn with_timing(mut self, timing: ErasureTiming) -> Self {
        self.timing = timing;
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
        let store = &self.store;
        let until = now + TOMBSTONE_SECS;
        // The tombstone first: from here no event sent before now makes a contact for the
        // identifier or links it to one, so what is read next is all there will be (but
        // for writers already past that check, whom the job finds).
        let asked = store
            .repo::<ContactStore>()
            .blind_identifier(tenant, person)
            .await?;
        store
            .repo::<ContactStore>()
            .put_tombstones(tenant, std::slice::from_ref(&asked), now, until)
            .await?;
        let footprint = store
            .repo::<PersonStore>()
            .person_footprint(tenant, person, now)
            .await?;
        store
            .repo::<ContactStore>()
            .put_tombstones(tenant, &footprint.blinded, now, until)
            .await?;
        let erasure = PersonErasure {
            id: new_erasure_id(now),
            tenant_id: tenant.as_str().to_owned(),
            state: RequestState::Running,
            requested_by: requested_by.to_owned(),
            requested_at: now,
            finished_at: None,
            erased: ErasedCounts::default(),
            tombstone_expires_at: until,
            failure: None,
            subject: Some(
                store
                    .repo::<ContactStore>()
                    .erasure_subject(tenant, person)
                    .await?,
            ),
            final_pass_due_at: None,
            receipt: None,
        };
        store
            .repo::<PersonStore>()
            .put_new_erasure(&erasure)
            .await?;
        let job = ErasureJob::PersonSweep(PersonSweep {
            tenant: tenant.as_str().to_owned(),
            erasure: erasure.id.clone(),
            contacts: footprint.contacts,
            blinded: footprint.blinded,
            requested_at: now,
            final_pass: false,
        });
        if let Err(e) = self.queue.send(&[job]).await {
            store
                .repo::<PersonStore>()
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
        let legacy = store
            .repo::<PersonStore>()
            .delete_legacy_identities(tenant, &footprint.legacy)
            .await?;
        let counted = ErasedCounts {
            identities: legacy,
            ..ErasedCounts::default()
        };
        store
            .repo::<PersonStore>()
            .add_erased(tenant, &erasure.id, &counted)
            .await?;
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
        Ok(self
            .store
            .repo::<PersonStore>()
            .erasure(tenant, id, now)
            .await?)
    }

    /// A page of the tenant's erasures, newest first.
    pub async fn list(
        &self,
        tenant: &TenantId,
        limit: i32,
        after: Option<&Cursor>,
        now: i64,
    ) -> Result<(Vec<PersonErasure>, Option<Cursor>), ErasureError> {
        Ok(self
            .store
            .repo::<PersonStore>()
            .erasures_page(tenant, limit, after, now)
            .await?)
    }

    /// Whether this deployment signed exactly this receipt.
    pub async fn verify(&self, receipt: &SignedReceipt) -> Result<bool, ErasureError> {
        Ok(self.receipts.verify(receipt).await?)
    }

    /// Whether the receipt's subject is `person` in the tenant (the keyed digest of their
    /// identifier): what lets a person see that a receipt covers them.
    pub async fn covers(
        &self,
        receipt: &ErasureReceipt,
        person: &IdentityKey,
    ) -> Result<bool, ErasureError> {
        let Ok(tenant) = TenantId::parse(&receipt.tenant_id) else {
            return Ok(false);
        };
        let subject = self
            .store
            .repo::<ContactStore>()
            .erasure_subject(&tenant, person)
            .await?;
        Ok(receipt.subject.as_deref() == Some(subject.as_str()))
    }

    /// Marks the job's erasure failed: SQS gave up on it.
    pub async fn give_up(&self, job: &PersonSweep, reason: &str) -> Result<(), ErasureError> {
        let tenant = parse_tenant(&job.tenant)?;
        self.store
            .repo::<PersonStore>()
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
        let running = self
            .store
            .repo::<PersonStore>()
            .erasure(&tenant, &job.erasure, now_seconds())
            .await?
            .is_some_and(|e| e.state == RequestState::Running);
        if !running {
            return Ok(PersonOutcome::Stale);
        }
        let mut erased = ErasedCounts::default();
        let (job, shredded) = self.shred(&tenant, job).await?;
        erased.add(&shredded);
        self.count(&tenant, &job, &shredded).await?;
        if !self
            .delete_items(&tenant, &job, &keep_going, &mut erased)
            .await?
        {
            self.queue.send(&[ErasureJob::PersonSweep(job)]).await?;
            return Ok(PersonOutcome::Continued(erased));
        }
        if !job.final_pass {
            let due = now_seconds() + self.timing.final_pass_delay.as_secs() as i64;
            self.store
                .repo::<PersonStore>()
                .await_final_pass(&tenant, &job.erasure, due)
                .await?;
            let final_pass = ErasureJob::PersonSweep(PersonSweep {
                final_pass: true,
                ..job
            });
            self.queue
                .send_delayed(&[final_pass], self.timing.final_pass_delay)
                .await?;
            return Ok(PersonOutcome::FirstPassDone(erased));
        }
        if erased.total() > 0 {
            tracing::warn!(tenant = %tenant, erasure = %job.erasure, late = erased.total(), "the final pass of an erasure deleted items written late");
        }
        if !self.finish(&tenant, &job).await? {
            return Ok(PersonOutcome::Stale);
        }
        Ok(PersonOutcome::Done(erased))
    }

    /// Finds the person wholly, tombstones every identifier and destroys every contact's
    /// key, looking again after each round of destroyed keys until nothing new turns up;
    /// then deletes their identity items. Answers the job as it now knows the person.
    async fn shred(
        &self,
        tenant: &TenantId,
        job: &PersonSweep,
    ) -> Result<(PersonSweep, ErasedCounts), ErasureError> {
        let store = &self.store;
        let mut found = PersonFootprint {
            contacts: job.contacts.clone(),
            blinded: job.blinded.clone(),
            legacy: Vec::new(),
        };
        let mut erased = ErasedCounts::default();
        let mut marked: Vec<String> = Vec::new();
        for round in 0..CLOSURE_ROUNDS {
            // Profiles written before they listed their identifiers open only until their
            // key is destroyed: the first look opens them.
            let opening = match round {
                0 => Opening::OldProfiles,
                _ => Opening::ListsOnly,
            };
            store
                .repo::<PersonStore>()
                .person_closure(tenant, &mut found, Some(job.requested_at), opening)
                .await?;
            store
                .repo::<ContactStore>()
                .put_tombstones(
                    tenant,
                    &found.blinded,
                    job.requested_at,
                    job.requested_at + TOMBSTONE_SECS,
                )
                .await?;
            let unmarked: Vec<String> = found
                .contacts
                .iter()
                .filter(|c| !marked.contains(c))
                .cloned()
                .collect();
            if unmarked.is_empty() && round > 0 {
                break;
            }
            for contact in unmarked {
                if store
                    .repo::<ContactStore>()
                    .erase_contact_key(tenant, &contact, job.requested_at)
                    .await?
                {
                    erased.data_keys += 1;
                }
                marked.push(contact);
            }
        }
        erased.identities = store
            .repo::<PersonStore>()
            .delete_identities(tenant, &found.blinded, &found.contacts)
            .await?;
        let job = PersonSweep {
            contacts: found.contacts,
            blinded: found.blinded,
            ..job.clone()
        };
        Ok((job, erased))
    }

    /// Deletes the contacts' partitions, their exports, the callback log's entries about
    /// them and the events that name them; false when time ran out first.
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
                    .repo::<PersonStore>()
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
                exports: exports
                    .delete_about(tenant, (&job.contacts, &job.blinded), job.final_pass)
                    .await?,
                ..ErasedCounts::default()
            };
            erased.add(&deleted);
            self.count(tenant, job, &deleted).await?;
        }
        let mut start: Option<Cursor> = None;
        loop {
            let step = store
                .repo::<PersonStore>()
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
                .repo::<PersonStore>()
                .delete_events_naming_page(
                    tenant,
                    (&job.blinded, &job.contacts),
                    start.as_ref(),
                    LOG_PAGE_ITEMS,
                )
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

    /// Adds a step's counts to the record: the receipt, signed after the final pass,
    /// covers both passes.
    async fn count(
        &self,
        tenant: &TenantId,
        job: &PersonSweep,
        erased: &ErasedCounts,
    ) -> Result<(), ErasureError> {
        self.store
            .repo::<PersonStore>()
            .add_erased(tenant, &job.erasure, erased)
            .await?;
        Ok(())
    }

    /// Signs the receipt and marks the erasure done; false when it was no longer running.
    async fn finish(&self, tenant: &TenantId, job: &PersonSweep) -> Result<bool, ErasureError> {
        let Some(record) = self
            .store
            .repo::<PersonStore>()
            .erasure(tenant, &job.erasure, now_seconds())
            .await?
        else {
            return Ok(false);
        };
        let completed_at = now_seconds();
        let receipt = ErasureReceipt {
            version: RECEIPT_VERSION,
            erasure_id: record.id.clone(),
            tenant_id: record.tenant_id.clone(),
            requested_by: record.requested_by.clone(),
            requested_at: record.requested_at,
            completed_at,
            erased: record.erased,
            tombstone_expires_at: record.tombstone_expires_at,
            subject: record.subject.clone(),
            backups_unreadable_after: Some(backups_unreadable_after(
                &self.timing,
                &record.erased,
                completed_at,
            )),
        };
        let signed = self.receipts.sign(receipt).await?;
        let done = self
            .store
            .repo::<PersonStore>()
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
