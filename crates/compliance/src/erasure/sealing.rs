//! Sealing what was written before per-person sealing existed (a one-time migration, safe
//! to run again): one sweep per scan segment, each rewriting its pages until its time runs
//! out and handing the rest on to a new job, as tenant erasure does.

use super::ErasureError;
use super::job::{ErasureJob, SealSweep};
use crate::clock::now_seconds;
use crate::queue::jobs::JobQueue;
use crate::store::SealingStore;
use crate::store::Store;
use crate::store::migration::Sealed;

/// Items a scan page reads (DynamoDB also stops at 1 MB).
const PAGE_ITEMS: i32 = 500;
/// Pages one job reads before it hands on the rest: the erasure function runs one job at a
/// time, and a tenant's deletion queued meanwhile must not wait behind a whole table.
const PAGES_PER_JOB: usize = 10;
/// Scan segments of a sealing run, swept at the same time.
pub const SEAL_SEGMENTS: u32 = 4;

/// What one sealing job did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SealOutcome {
    /// Its time ran out; a job for the rest of the segment is queued.
    Continued(Sealed),
    /// The segment is done.
    SegmentDone(Sealed),
}

pub struct SealingSweeper {
    store: Store,
    queue: JobQueue,
}

impl SealingSweeper {
    pub fn new(store: Store, queue: JobQueue) -> Self {
        Self { store, queue }
    }

    /// Queues a sealing run, one sweep per segment; answers how many.
    pub async fn start(&self) -> Result<u32, ErasureError> {
        self.queue.send(&SealSweep::all(SEAL_SEGMENTS)).await?;
        tracing::info!(
            segments = SEAL_SEGMENTS,
            "sealing of data written before sealing queued"
        );
        Ok(SEAL_SEGMENTS)
    }

    /// Runs one sweep job for up to [`PAGES_PER_JOB`] pages, while `keep_going` says there
    /// is time.
    pub async fn sweep(
        &self,
        job: &SealSweep,
        keep_going: impl Fn() -> bool,
    ) -> Result<SealOutcome, ErasureError> {
        let mut start = job.start.clone();
        let mut sealed = Sealed::default();
        let mut pages = 0;
        loop {
            pages += 1;
            let page = self
                .store
                .repo::<SealingStore>()
                .seal_page_written_before((job.segment, job.segments), start.as_ref(), PAGE_ITEMS)
                .await?;
            sealed.add(page.sealed);
            match page.next {
                None => return Ok(SealOutcome::SegmentDone(sealed)),
                Some(next) if pages < PAGES_PER_JOB && keep_going() => start = Some(next),
                Some(next) => {
                    self.queue.send(&[job.from(next)]).await?;
                    return Ok(SealOutcome::Continued(sealed));
                }
            }
        }
    }
}

/// Runs any job of the erasure queue.
pub struct BackgroundJobs {
    pub tenants: super::TenantEraser,
    pub sealing: SealingSweeper,
    pub people: super::PersonEraser,
    pub exports: crate::export::PersonExporter,
    pub ageing: super::RetentionAger,
    /// The audit log, with the erasure queue for its rest.
    pub audit: wagate_audit::AuditLog,
}

/// What a background job did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobOutcome {
    Tenant(super::SweepOutcome),
    Sealing(SealOutcome),
    Person(super::PersonOutcome),
    Export(crate::export::ExportOutcome),
    Ageing(super::AgeingOutcome),
    AuditAppend(wagate_audit::backlog::Retried),
    AuditSign(wagate_audit::Signed),
    AuditCheckpoints(wagate_audit::SignedChains),
}

impl BackgroundJobs {
    pub async fn run(
        &self,
        job: &ErasureJob,
        keep_going: impl Fn() -> bool,
    ) -> Result<JobOutcome, ErasureError> {
        match job {
            ErasureJob::TenantSweep(sweep) => Ok(JobOutcome::Tenant(
                self.tenants.sweep(sweep, keep_going).await?,
            )),
            ErasureJob::SealSweep(sweep) => Ok(JobOutcome::Sealing(
                self.sealing.sweep(sweep, keep_going).await?,
            )),
            ErasureJob::PersonSweep(sweep) => Ok(JobOutcome::Person(
                self.people.sweep(sweep, keep_going).await?,
            )),
            ErasureJob::PersonExport(export) => Ok(JobOutcome::Export(
                self.exports.run(export, keep_going).await?,
            )),
            ErasureJob::AgeingStart(start) => {
                Ok(JobOutcome::Ageing(self.ageing.begin(start).await?))
            }
            ErasureJob::AgeingSweep(sweep) => Ok(JobOutcome::Ageing(
                self.ageing.sweep(sweep, keep_going).await?,
            )),
            ErasureJob::TenantAgeing(walk) => Ok(JobOutcome::Ageing(
                self.ageing.walk(walk, keep_going).await?,
            )),
            ErasureJob::AuditAppend(append) => Ok(JobOutcome::AuditAppend(
                self.audit.retry(append, now_seconds()).await?,
            )),
            ErasureJob::AuditSign(job) => Ok(JobOutcome::AuditSign(
                self.audit
                    .sign_checkpoint(&job.chain, now_seconds())
                    .await?,
            )),
            ErasureJob::AuditCheckpoints(job) => Ok(JobOutcome::AuditCheckpoints(
                self.audit.sign_every_chain(job, keep_going).await?,
            )),
        }
    }

    /// SQS is about to give up on `job` (its last delivery failed too): an erasure of a
    /// person is marked failed, so that whoever asked for it sees it did not finish.
    pub async fn give_up(&self, job: &ErasureJob, reason: &str) -> Result<(), ErasureError> {
        match job {
            ErasureJob::PersonSweep(sweep) => self.people.give_up(sweep, reason).await,
            ErasureJob::PersonExport(export) => Ok(self.exports.give_up(export, reason).await?),
            _ => Ok(()),
        }
    }
}
