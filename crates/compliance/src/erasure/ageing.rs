//! Ageing what is already stored (a background job, safe to run again): every day over
//! every tenant, and at once over a tenant whose retention was changed. The daily run is
//! one sweep per segment of a scan of the table; a tenant's run walks its own partitions
//! by query (its contacts, then its logs), so it costs what the tenant holds. Each job
//! works until its time runs out and hands the rest on, as the other sweeps do; the run's
//! record counts what they changed.
//!
//! What a sweep does to an item is its module's rule (see `store::ageing`): a shorter
//! period reaches items written before it, and content whose time has passed is let go.
//! Reads hide expired content the second it expires; the daily run removes it from
//! storage within a day and one run's length after that.

use super::ErasureError;
use super::job::{AgeingStart, AgeingSweep, ErasureJob, TenantAgeing, WalkPosition};
use crate::clock::now_seconds;
use crate::domain::retention::Aged;
use crate::domain::tenant::TenantId;
use crate::queue::jobs::JobQueue;
use crate::store::AgeingStore;
use crate::store::Store;
use crate::store::TenantStore;
use crate::store::ageing::{RetentionCache, tenant_logs};
use crate::store::tenant::ageing::{ALL_TENANTS, AgeingRun};

/// Items a scan page reads (DynamoDB also stops at 1 MB).
const PAGE_ITEMS: i32 = 500;
/// Pages one job reads before it hands on the rest, so that a deletion or an erasure
/// queued meanwhile does not wait behind a whole table.
const PAGES_PER_JOB: usize = 10;
/// A run over every tenant not done after this long is taken for stalled: asking again
/// starts a new one.
const STALLED_RUN_SECS: i64 = 6 * 3_600;
/// Scan segments of a daily run, swept at the same time.
pub const AGEING_SEGMENTS: u32 = 4;
/// Contacts one step of a tenant's walk ages, each with its whole partition.
const CONTACTS_PER_STEP: i32 = 25;
/// Steps one job of a tenant's walk takes before it hands on the rest.
const STEPS_PER_JOB: usize = 20;

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
    /// jobs. A tenant's run started again replaces the one before (its settings changed).
    /// A run over every tenant asked for while one is under way is that one: each reads
    /// the whole table, and a second would only double the reading.
    pub async fn start(&self, tenant: Option<&TenantId>) -> Result<AgeingRun, ErasureError> {
        let scope = scope_of(tenant.map(TenantId::as_str));
        let now = now_seconds();
        if tenant.is_none()
            && let Some(under_way) = self.store.repo::<TenantStore>().ageing_run(scope).await?
            && under_way.finished_at.is_none()
            && under_way.started_at > now - STALLED_RUN_SECS
        {
            return Ok(under_way);
        }
        let run = hex::encode(rand::random::<[u8; 12]>());
        let (segments, jobs) = match tenant {
            None => (AGEING_SEGMENTS, AgeingSweep::all(&run, AGEING_SEGMENTS)),
            Some(t) => (
                1,
                vec![ErasureJob::TenantAgeing(TenantAgeing {
                    tenant: t.as_str().to_owned(),
                    run: run.clone(),
                    at: WalkPosition::default(),
                })],
            ),
        };
        self.store
            .repo::<TenantStore>()
            .start_ageing_run(scope, &run, segments, now)
            .await?;
        self.queue.send(&jobs).await?;
        tracing::info!(scope, run, "ageing run queued");
        Ok(AgeingRun {
            run,
            started_at: now,
            segments,
            segments_done: 0,
            aged: Aged::default(),
            finished_at: None,
        })
    }

    /// The latest run of `tenant`, or of the daily run over every tenant.
    pub async fn latest(
        &self,
        tenant: Option<&TenantId>,
    ) -> Result<Option<AgeingRun>, ErasureError> {
        Ok(self
            .store
            .repo::<TenantStore>()
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
        let started = self.start(tenant.as_ref()).await?;
        Ok(AgeingOutcome::Started { run: started.run })
    }

    /// Runs one sweep job for up to [`PAGES_PER_JOB`] pages, while `keep_going` says there
    /// is time. Each page's changes are counted on the run's record before the next page.
    pub async fn sweep(
        &self,
        job: &AgeingSweep,
        keep_going: impl Fn() -> bool,
    ) -> Result<AgeingOutcome, ErasureError> {
        let scope = ALL_TENANTS;
        let mut retention = RetentionCache::default();
        let mut start = job.start.clone();
        let mut aged = Aged::default();
        let mut pages = 0;
        loop {
            pages += 1;
            let page = self
                .store
                .repo::<AgeingStore>()
                .age_page(
                    (job.segment, job.segments),
                    start.as_ref(),
                    PAGE_ITEMS,
                    &mut retention,
                    now_seconds(),
                )
                .await?;
            aged.add(page.aged);
            let run = RunStep {
                scope,
                run: &job.run,
                segment: job.segment,
                step: page.aged,
                total: aged,
                may_go_on: pages < PAGES_PER_JOB && keep_going(),
            };
            match self.settle(run, page.next, |next| job.from(next)).await? {
                Settled::GoOn(next) => start = Some(next),
                Settled::Finished(outcome) => return Ok(outcome),
            }
        }
    }

    /// Runs one job of a tenant's walk for up to [`STEPS_PER_JOB`] steps, while
    /// `keep_going` says there is time. Each step's changes are counted on the run's record
    /// before the next.
    pub async fn walk(
        &self,
        job: &TenantAgeing,
        keep_going: impl Fn() -> bool,
    ) -> Result<AgeingOutcome, ErasureError> {
        let tenant = TenantId::parse(&job.tenant)
            .map_err(|_| ErasureError::BadTenant(job.tenant.clone()))?;
        let logs = tenant_logs(&tenant);
        let mut retention = RetentionCache::default();
        let mut at = job.at.clone();
        let mut aged = Aged::default();
        let mut steps = 0;
        loop {
            steps += 1;
            let now = now_seconds();
            let (step, next) = match &at {
                WalkPosition::Contacts { after } => {
                    let (step, next) = self
                        .store
                        .repo::<AgeingStore>()
                        .age_contacts_page(
                            &tenant,
                            after.as_ref(),
                            CONTACTS_PER_STEP,
                            &mut retention,
                            now,
                        )
                        .await?;
                    let next = match next {
                        Some(after) => WalkPosition::Contacts { after: Some(after) },
                        None => WalkPosition::Logs {
                            log: 0,
                            after: None,
                        },
                    };
                    (step, Some(next))
                }
                WalkPosition::Logs { log, after } => match logs.get(*log) {
                    None => (Aged::default(), None),
                    Some(pk) => {
                        let (step, next) = self
                            .store
                            .repo::<AgeingStore>()
                            .age_partition_page(pk, after.as_ref(), &mut retention, now)
                            .await?;
                        let next = match next {
                            Some(after) => Some(WalkPosition::Logs {
                                log: *log,
                                after: Some(after),
                            }),
                            None if log + 1 < logs.len() => Some(WalkPosition::Logs {
                                log: log + 1,
                                after: None,
                            }),
                            None => None,
                        };
                        (step, next)
                    }
                },
            };
            aged.add(step);
            let run = RunStep {
                scope: &job.tenant,
                run: &job.run,
                segment: 0,
                step,
                total: aged,
                may_go_on: steps < STEPS_PER_JOB && keep_going(),
            };
            match self.settle(run, next, |next| job.from(next)).await? {
                Settled::GoOn(next) => at = next,
                Settled::Finished(outcome) => return Ok(outcome),
            }
        }
    }

    /// After one step of a job: counts it on the run's record, then goes on from `next`,
    /// hands the rest on as a new job, or ends the job (its segment done, or its run
    /// replaced by a newer one).
    async fn settle<P>(
        &self,
        step: RunStep<'_>,
        next: Option<P>,
        rest: impl FnOnce(P) -> ErasureJob,
    ) -> Result<Settled<P>, ErasureError> {
        let done = next.is_none().then_some(step.segment);
        if !self
            .store
            .repo::<TenantStore>()
            .record_ageing_progress(step.scope, step.run, step.step, done, now_seconds())
            .await?
        {
            return Ok(Settled::Finished(AgeingOutcome::Stale));
        }
        Ok(match next {
            None => Settled::Finished(AgeingOutcome::SegmentDone(step.total)),
            Some(next) if step.may_go_on => Settled::GoOn(next),
            Some(next) => {
                self.queue.send(&[rest(next)]).await?;
                Settled::Finished(AgeingOutcome::Continued(step.total))
            }
        })
    }
}

/// One step of a job, as its run's record counts it.
struct RunStep<'a> {
    scope: &'a str,
    run: &'a str,
    /// The segment the job sweeps (a tenant's walk is segment 0 of 1).
    segment: u32,
    step: Aged,
    /// The job's changes so far, this step's included.
    total: Aged,
    /// Whether the job has steps and time left for the next.
    may_go_on: bool,
}

enum Settled<P> {
    GoOn(P),
    Finished(AgeingOutcome),
}

fn scope_of(tenant: Option<&str>) -> &str {
    tenant.unwrap_or(ALL_TENANTS)
}
