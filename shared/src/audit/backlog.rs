//! Appends that failed, queued on the erasure queue and retried by its worker: the change
//! they record was made, so the record of it waits rather than being dropped. A retry
//! first looks for the entry among those appended since its time, since the append that
//! failed may have been stored before its answer was lost.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{AuditError, AuditLog};
use crate::domain::audit::AuditFact;
use crate::erasure::ErasureJob;
use crate::queue::jobs::JobQueue;
use crate::store::audit::AuditFilter;

/// A queued append is tried again after this, when what failed may have passed.
const RETRY_AFTER: Duration = Duration::from_secs(30);
/// Entries written up to this long before the fact's own time are searched for it
/// (writers' clocks differ a little).
const CLOCK_SKEW_SECS: i64 = 60;

/// An append to retry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditAppend {
    pub chain: String,
    pub fact: AuditFact,
    /// The end the writer meant it to have; none: the chain's retention.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
}

/// What a retry did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retried {
    Appended(u64),
    /// The failed append had been stored after all.
    AlreadyThere(u64),
}

pub(super) async fn queue(
    queue: &JobQueue,
    chain: &str,
    fact: AuditFact,
    expires_at: Option<i64>,
) -> Result<(), AuditError> {
    let job = ErasureJob::AuditAppend(AuditAppend {
        chain: chain.to_owned(),
        fact,
        expires_at,
    });
    Ok(queue.send_delayed(&[job], RETRY_AFTER).await?)
}

impl AuditLog {
    /// Appends a queued fact unless the chain holds it already.
    pub async fn retry(&self, job: &AuditAppend, now: i64) -> Result<Retried, AuditError> {
        if let Some(seq) = self.find(&job.chain, &job.fact, now).await? {
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

    /// The entry that records `fact`, among those from its time on (newest first).
    async fn find(
        &self,
        chain: &str,
        fact: &AuditFact,
        now: i64,
    ) -> Result<Option<u64>, AuditError> {
        let mut after = None;
        loop {
            let page = self
                .store
                .audit_entries(
                    chain,
                    &AuditFilter::default(),
                    true,
                    100,
                    after.as_ref(),
                    now,
                )
                .await?;
            for entry in &page.entries {
                if entry.at < fact.at - CLOCK_SKEW_SECS {
                    return Ok(None);
                }
                if entry.records(fact) {
                    return Ok(Some(entry.seq));
                }
            }
            match page.next {
                Some(next) => after = Some(next),
                None => return Ok(None),
            }
        }
    }
}
