//! The record of an ageing run (`T#<tenant>`/`AGEING`, or `T#_all`/`AGEING` for the daily
//! run over every tenant): which run is current, how many of its segments are done and
//! what they changed. A newer run replaces it, and the older run's sweeps, finding another
//! run id, stop.

use crate::store::tenant::TenantStore;
use aws_sdk_dynamodb::types::AttributeValue;

use crate::domain::retention::Aged;
use crate::store::keys::tenant_pk;
use crate::store::table::{get_i64, get_s, item, n, s};
use crate::store::{EXPIRES_AT, StoreError};

const AGEING_SK: &str = "AGEING";
/// The segments whose sweeps are done, as a number set.
const SEGMENTS_DONE: &str = "segments_done";
/// The record of a finished run is kept this long after it starts.
const RECORD_SECS: i64 = 90 * 86_400;
/// The scope of the daily run over every tenant (not a tenant id: those start with a
/// letter or digit).
pub const ALL_TENANTS: &str = "_all";

/// An ageing run as its record holds it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AgeingRun {
    pub run: String,
    pub started_at: i64,
    pub segments: u32,
    pub segments_done: u32,
    pub aged: Aged,
    pub finished_at: Option<i64>,
}

impl TenantStore {
    /// Starts a run for `scope` (a tenant id or [`ALL_TENANTS`]), replacing any before.
    pub async fn start_ageing_run(
        &self,
        scope: &str,
        run: &str,
        segments: u32,
        now: i64,
    ) -> Result<(), StoreError> {
        let it = item([
            ("pk", s(tenant_pk(scope))),
            ("sk", s(AGEING_SK)),
            ("run", s(run)),
            ("started_at", n(now)),
            ("segments", n(segments)),
            ("shortened", n(0)),
            ("contents_removed", n(0)),
            (EXPIRES_AT, n(now + RECORD_SECS)),
        ]);
        self.put("PutItem ageing run", it).await
    }

    /// Adds what a page changed to its run, and marks `done_segment` done (a set: a
    /// segment marked twice, by a redelivered job, counts once); false when `run` is no
    /// longer the scope's current run.
    pub async fn record_ageing_progress(
        &self,
        scope: &str,
        run: &str,
        aged: Aged,
        done_segment: Option<u32>,
        now: i64,
    ) -> Result<bool, StoreError> {
        let pk = tenant_pk(scope);
        let mut progress = self
            .update("UpdateItem ageing progress", pk.clone(), AGEING_SK.into())
            .add("shortened", n(aged.shortened))
            .add("contents_removed", n(aged.contents_removed))
            .condition("run = :run")
            .value(":run", s(run));
        if let Some(segment) = done_segment {
            progress = progress.add(SEGMENTS_DONE, AttributeValue::Ns(vec![segment.to_string()]));
        }
        let updated = progress.send().await?;
        if updated && done_segment.is_some() {
            // Done once every segment is: whichever sweep finishes last says so.
            self.update("UpdateItem ageing done", pk, AGEING_SK.into())
                .set("finished_at", n(now))
                .condition(
                    "run = :run AND size(#done) >= #segments AND attribute_not_exists(finished_at)",
                )
                .name("#done", SEGMENTS_DONE)
                .name("#segments", "segments")
                .value(":run", s(run))
                .send()
                .await?;
        }
        Ok(updated)
    }

    /// The scope's latest run, if any.
    pub async fn ageing_run(&self, scope: &str) -> Result<Option<AgeingRun>, StoreError> {
        let Some(it) = self
            .get_consistent(tenant_pk(scope), AGEING_SK.into())
            .await?
        else {
            return Ok(None);
        };
        let count = |name| get_i64(&it, name).unwrap_or(0);
        Ok(Some(AgeingRun {
            run: get_s(&it, "run").unwrap_or_default().to_owned(),
            started_at: count("started_at"),
            segments: count("segments") as u32,
            segments_done: match it.get(SEGMENTS_DONE) {
                Some(AttributeValue::Ns(done)) => done.len() as u32,
                _ => 0,
            },
            aged: Aged {
                shortened: count("shortened") as u64,
                contents_removed: count("contents_removed") as u64,
            },
            finished_at: get_i64(&it, "finished_at"),
        }))
    }
}
