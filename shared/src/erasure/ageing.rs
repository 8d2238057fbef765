//! Ageing what is already stored (a background job, safe to run again): every day over
//! every tenant, and at once over a tenant whose retention was changed. Each run is one
//! sweep per scan segment, each ageing its pages until its time runs out and handing the
//! rest on, as the other sweeps do; the run's record counts what they changed.
//!
//! What a sweep does to an item is its module's rule (see `store::ageing`): a shorter
//! period reaches items written before it, and content whose time has passed is let go.
//! Reads hide expired content the second it expires; the daily run removes it from
//! storage within a day and one run's length after that.

use super::ErasureError;
use super::job::{AgeingStart, AgeingSweep};
use crate::domain::tenant::TenantId;
use crate::domain::timestamp::now_seconds;
use crate::queue::jobs::JobQueue;
use crate::store::Store;
use crate::store::ageing::{Aged, RetentionCache};
use crate::store::tenant::ageing::{ALL_TENANTS, AgeingRun};

/// Items a scan page reads (DynamoDB also stops at 1 MB).
const PAGE_ITEMS: i32 = 500;
/// Pages one job reads before it hands on the rest, so that a deletion or an erasure
/// queued meanwhile does not wait behind a whole table.
const PAGES_PER_JOB: usize = 10;
/// Scan segments of a run, swept at the same time.
pub const AGEING_SEGMENTS: u32 = 4;

/// What one ageing job did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AgeingOutcome {
    /// A run was started: its sweeps are queued.
    Started { run: String },
    /// Its time ran out; a job for the rest of the segment is queued.
    Continued(Aged),
    /// The segment is done.
    SegmentDone(Aged),
    /// A newer run of the same scope replaced this one.
    Stale,
}

pub struct RetentionAger {
    store: Store,
    queue: JobQueue,
}

impl RetentionAger {
    pub fn new(store: Store, queue: JobQueue) -> Self {
        Self { store, queue }
    }

    /// Starts a run over `tenant`'s items, or every tenant's: records it, then queues its
    /// sweeps. A run started again replaces the one before.
    pub async fn start(&self, tenant: Option<&TenantId>) -> Result<String, ErasureError> {
        let run = hex::encode(rand::random::<[u8; 12]>());
        let scope = scope_of(tenant.map(TenantId::as_str));
        self.store
            .start_ageing_run(scope, &run, AGEING_SEGMENTS, now_seconds())
            .await?;
        self.queue
            .send(&AgeingSweep::all(
                tenant.map(TenantId::as_str),
                &run,
                AGEING_SEGMENTS,
            ))
            .await?;
        tracing::info!(scope, run, "ageing run queued");
        Ok(run)
    }

    /// The latest run of `tenant`, or of the daily run over every tenant.
    pub async fn latest(
        &self,
        tenant: Option<&TenantId>,
    ) -> Result<Option<AgeingRun>, ErasureError> {
        Ok(self
            .store
            .ageing_run(scope_of(tenant.map(TenantId::as_str)))
            .await?)
    }

    /// Runs a queued start.
    pub async fn begin(&self, job: &AgeingStart) -> Result<AgeingOutcome, ErasureError> {
        let tenant = match &job.tenant {
            Some(raw) => {
                Some(TenantId::parse(raw).map_err(|_| ErasureError::BadTenant(raw.clone()))?)
            }
            None => None,
        };
        let run = self.start(tenant.as_ref()).await?;
        Ok(AgeingOutcome::Started { run })
    }

    /// Runs one sweep job for up to [`PAGES_PER_JOB`] pages, while `keep_going` says there
    /// is time. Each page's changes are counted on the run's record before the next page.
    pub async fn sweep(
        &self,
        job: &AgeingSweep,
        keep_going: impl Fn() -> bool,
    ) -> Result<AgeingOutcome, ErasureError> {
        let tenant = match &job.tenant {
            Some(raw) => {
                Some(TenantId::parse(raw).map_err(|_| ErasureError::BadTenant(raw.clone()))?)
            }
            None => None,
        };
        let scope = scope_of(job.tenant.as_deref());
        let mut retention = RetentionCache::default();
        let mut start = job.start.clone();
        let mut aged = Aged::default();
        let mut pages = 0;
        loop {
            pages += 1;
            let page = self
                .store
                .age_page(
                    tenant.as_ref(),
                    (job.segment, job.segments),
                    start.as_ref(),
                    PAGE_ITEMS,
                    &mut retention,
                    now_seconds(),
                )
                .await?;
            aged.add(page.aged);
            let done = page.next.is_none().then_some(job.segment);
            if !self
                .store
                .record_ageing_progress(scope, &job.run, page.aged, done, now_seconds())
                .await?
            {
                return Ok(AgeingOutcome::Stale);
            }
            match page.next {
                None => return Ok(AgeingOutcome::SegmentDone(aged)),
                Some(next) if pages < PAGES_PER_JOB && keep_going() => start = Some(next),
                Some(next) => {
                    self.queue.send(&[job.from(next)]).await?;
                    return Ok(AgeingOutcome::Continued(aged));
                }
            }
        }
    }
}

fn scope_of(tenant: Option<&str>) -> &str {
    tenant.unwrap_or(ALL_TENANTS)
}
