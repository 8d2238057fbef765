//! Deleting a tenant: cut it off at once, then erase every item it owns in the background.

use crate::store::TenantStore;
use std::time::Duration;

use rand::Rng;

use super::ErasureError;
use super::job::{ErasureJob, TenantSweep};
use crate::domain::tenant::{Tenant, TenantId};
use crate::export::PersonExporter;
use crate::queue::jobs::JobQueue;
use crate::store::Store;
use crate::tenants::hold_removed_number;

/// Items a scan page reads (DynamoDB also stops at 1 MB).
const PAGE_ITEMS: i32 = 1_000;
/// Scan segments of a deletion, swept at the same time.
pub const DEFAULT_SEGMENTS: u32 = 4;

/// What one sweep job did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SweepOutcome {
    /// Its time ran out; a job for the rest of the segment is queued.
    Continued { deleted: usize },
    /// The segment is done; others are still going.
    SegmentDone { deleted: usize },
    /// The last segment finished and the tenant item is gone: the tenant is erased.
    TenantErased { deleted: usize },
    /// The job belongs to an earlier request, or the tenant is gone: nothing was done.
    Stale,
}

pub struct TenantEraser {
    store: Store,
    queue: JobQueue,
    segments: u32,
    page_items: i32,
    /// Deletes the tenant's export files at the end (the erasure function's eraser does).
    exports: Option<PersonExporter>,
}

impl TenantEraser {
    pub fn new(store: Store, queue: JobQueue) -> Self {
        Self {
            store,
            queue,
            segments: DEFAULT_SEGMENTS,
            page_items: PAGE_ITEMS,
            exports: None,
        }
    }

    /// Also deletes the tenant's export files when its last segment is done.
    pub fn with_exports(mut self, exports: PersonExporter) -> Self {
        self.exports = Some(exports);
        self
    }

    /// Reads `items` (at least 1) per scan page instead of 1,000.
    pub fn with_page_items(mut self, items: i32) -> Self {
        self.page_items = items.max(1);
        self
    }

    /// Sweeps a deletion in `segments` scan segments at the same time, each by its own
    /// job (1 to 10; more is faster on a large table).
    pub fn with_segments(mut self, segments: u32) -> Self {
        self.segments = segments.clamp(1, 10);
        self
    }

    /// Marks the tenant as being deleted, deletes its key-encryption key (its contacts'
    /// sealed data no longer opens, backups included), cuts it off (numbers, WABAs, API keys, callback
    /// endpoints and templates are deleted now: its webhooks stop routing, its keys stop
    /// working, its tokens are gone, its numbers' senders are held back as when a number is
    /// disconnected) and queues the sweeps that erase the rest, to start after `delay`:
    /// long enough for every container's cached copy of the tenant to expire, so that no
    /// worker writes behind a sweep. `None` when there is no such tenant. Asking again
    /// starts a new run, which also restarts a stuck one.
    pub async fn start(
        &self,
        id: &TenantId,
        now: i64,
        delay: Duration,
    ) -> Result<Option<Tenant>, ErasureError> {
        let run = hex::encode(rand::rng().random::<[u8; 12]>());
        let Some(tenant) = self
            .store
            .repo::<TenantStore>()
            .begin_tenant_deletion(id, &run, self.segments, now)
            .await?
        else {
            return Ok(None);
        };
        // Its KEK goes first: whatever happens next, its people's data no longer opens.
        self.store
            .repo::<TenantStore>()
            .shred_tenant_keys(id)
            .await?;
        let numbers = self.store.repo::<TenantStore>().cut_off_tenant(id).await?;
        for number in &numbers {
            hold_removed_number(&self.store, id, number, now).await?;
        }
        self.queue
            .send_delayed(&TenantSweep::all(id.as_str(), &run, self.segments), delay)
            .await?;
        tracing::info!(tenant = %id, run, numbers = numbers.len(), "tenant cut off; erasure queued");
        Ok(Some(tenant))
    }

    /// Runs one sweep job: deletes the tenant's items page by page while `keep_going`
    /// says there is time, then queues the rest of the segment or records it as done.
    /// Each step is safe to repeat, so a job that fails half-way is simply run again.
    pub async fn sweep(
        &self,
        job: &TenantSweep,
        keep_going: impl Fn() -> bool,
    ) -> Result<SweepOutcome, ErasureError> {
        let id = TenantId::parse(&job.tenant)
            .map_err(|_| ErasureError::BadTenant(job.tenant.clone()))?;
        // Never touch a tenant of the same id created after this run's tenant was erased.
        if self
            .store
            .repo::<TenantStore>()
            .erasure_run(&id)
            .await?
            .as_deref()
            != Some(job.run.as_str())
        {
            return Ok(SweepOutcome::Stale);
        }
        let mut start = job.start.clone();
        let mut deleted = 0;
        loop {
            let page = self
                .store
                .repo::<TenantStore>()
                .scan_tenant_page(
                    &id,
                    job.segment,
                    job.segments,
                    start.as_ref(),
                    self.page_items,
                )
                .await?;
            self.store
                .repo::<TenantStore>()
                .delete_keys(&page.keys)
                .await?;
            deleted += page.keys.len();
            match page.next {
                None => break,
                Some(next) if keep_going() => start = Some(next),
                Some(next) => {
                    self.queue.send(&[job.from(next)]).await?;
                    return Ok(SweepOutcome::Continued { deleted });
                }
            }
        }
        match self
            .store
            .repo::<TenantStore>()
            .finish_erasure_segment(&id, &job.run, job.segment)
            .await?
        {
            None => Ok(SweepOutcome::Stale),
            Some(false) => Ok(SweepOutcome::SegmentDone { deleted }),
            Some(true) => {
                if let Some(exports) = &self.exports {
                    let files = exports.delete_tenant_files(&id).await?;
                    tracing::info!(tenant = %id, files, "export files deleted");
                }
                let keys = self
                    .store
                    .repo::<TenantStore>()
                    .delete_tenant_person_keys(&id)
                    .await?;
                tracing::info!(tenant = %id, keys, "contact keys deleted");
                if self
                    .store
                    .repo::<TenantStore>()
                    .delete_erased_tenant(&id, &job.run)
                    .await?
                {
                    tracing::info!(tenant = %id, run = job.run, "tenant erased");
                    Ok(SweepOutcome::TenantErased { deleted })
                } else {
                    Ok(SweepOutcome::Stale)
                }
            }
        }
    }

    /// Runs a tenant sweep job (the erasure function runs every kind through
    /// [`super::BackgroundJobs`]).
    pub async fn run(
        &self,
        job: &ErasureJob,
        keep_going: impl Fn() -> bool,
    ) -> Result<SweepOutcome, ErasureError> {
        match job {
            ErasureJob::TenantSweep(sweep) => self.sweep(sweep, keep_going).await,
            _ => Err(ErasureError::NotATenantSweep),
        }
    }
}
