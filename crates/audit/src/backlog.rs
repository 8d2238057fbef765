//! Appends that failed, queued on the erasure queue and retried by its worker: the change
//! they record was made, so the record of it waits rather than being dropped. A retry
//! first looks for the entry among those after the head the failed append found (it may
//! have been stored before its answer was lost, and a queued job may be delivered twice).

use crate::store::AuditStore;
use std::time::Duration;

use crate::jobs::AuditAppend;
use crate::jobs::AuditJob;
use crate::queue::jobs::JobQueue;
use crate::store::audit::AuditFilter;
use crate::{AuditError, AuditLog};

/// A queued append is tried again after this, when what failed may have passed.
const RETRY_AFTER: Duration = Duration::from_secs(30);
/// Entries searched for the fact when the failed append found no head (it could not read
/// the chain, so it stored nothing; only a retry delivered twice may have).
const UNANCHORED_SEARCH: usize = 1_000;

/// What a retry did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retried {
    Appended(u64),
    /// The failed append had been stored after all.
    AlreadyThere(u64),
}

pub(super) async fn queue(queue: &JobQueue, job: AuditAppend) -> Result<(), AuditError> {
    let job = AuditJob::AuditAppend(job);
    Ok(queue.send_delayed(&[job], RETRY_AFTER).await?)
}

impl AuditLog {
    /// Appends a queued fact unless the chain holds it already.
    pub async fn retry(&self, job: &AuditAppend, now: i64) -> Result<Retried, AuditError> {
        if let Some(seq) = self.find(job, now).await? {
            return Ok(Retried::AlreadyThere(seq));
        }
        let appended = match job.expires_at {
            Some(ends) => {
                self.append_until(&job.chain, job.fact.clone(), ends)
                    .await?
            }
            None => self.append(&job.chain, job.fact.clone()).await?,
        };
        Ok(Retried::Appended(appended.seq))
    }

    /// The entry that records the job's fact, newest first down to the head the failed
    /// append found.
    async fn find(&self, job: &AuditAppend, now: i64) -> Result<Option<u64>, AuditError> {
        let mut after = None;
        let mut searched = 0;
        loop {
            let page = self
                .store
                .repo::<AuditStore>()
                .audit_entries(
                    &job.chain,
                    &AuditFilter::default(),
                    true,
                    100,
                    after.as_ref(),
                    now,
                )
                .await?;
            for entry in &page.entries {
                if job.after_seq.is_some_and(|seq| entry.seq <= seq) {
                    return Ok(None);
                }
                if entry.records(&job.fact) {
                    return Ok(Some(entry.seq));
                }
                searched += 1;
                if job.after_seq.is_none() && searched >= UNANCHORED_SEARCH {
                    return Ok(None);
                }
            }
            match page.next {
                Some(next) => after = Some(next),
                None => return Ok(None),
            }
        }
    }
}
