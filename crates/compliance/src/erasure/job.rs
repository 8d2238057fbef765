//! The erasure queue's messages.

use serde::{Deserialize, Serialize};

use crate::store::cursor::Cursor;
use crate::store::tenant::erasure::ScanPosition;

/// One message of the erasure queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "job", rename_all = "snake_case")]
pub enum ErasureJob {
    TenantSweep(TenantSweep),
    SealSweep(SealSweep),
    PersonSweep(PersonSweep),
    PersonExport(crate::export::job::ExportJob),
    /// Start an ageing run: the daily schedule sends it with no tenant, a retention change
    /// with the tenant's id.
    AgeingStart(AgeingStart),
    AgeingSweep(AgeingSweep),
    TenantAgeing(TenantAgeing),
    /// An audit append that failed, to retry.
    AuditAppend(wagate_audit::jobs::AuditAppend),
    /// Sign a checkpoint of one audit chain's head.
    AuditSign(wagate_audit::jobs::SignChain),
    /// Sign a checkpoint of every audit chain: the daily schedule sends
    /// `{"job":"audit_checkpoints"}`.
    AuditCheckpoints(wagate_audit::jobs::SignEveryChain),
}

/// Age one tenant's items, walking its partitions by query from `at`: a run that costs
/// what the tenant holds, not the whole table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenantAgeing {
    pub tenant: String,
    /// The run it belongs to; a newer run of the tenant makes it stale.
    pub run: String,
    #[serde(default)]
    pub at: WalkPosition,
}

impl TenantAgeing {
    /// The same walk, going on from `at`.
    pub fn from(&self, at: WalkPosition) -> ErasureJob {
        ErasureJob::TenantAgeing(TenantAgeing { at, ..self.clone() })
    }
}

/// Where a tenant's walk is: its contacts by the contact index, then its logs one by one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "phase", rename_all = "snake_case")]
pub enum WalkPosition {
    Contacts {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        after: Option<Cursor>,
    },
    /// The `log`th of `store::ageing::tenant_logs`.
    Logs {
        log: usize,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        after: Option<Cursor>,
    },
}

impl Default for WalkPosition {
    fn default() -> Self {
        Self::Contacts { after: None }
    }
}

/// Ages what is stored under the current retention: every tenant's items (the daily
/// schedule's message, `{"job":"ageing_start"}`), or one tenant's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgeingStart {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
}

/// Age every tenant's items in one segment of a parallel scan of the table, from `start`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgeingSweep {
    /// The run it belongs to; a newer daily run makes it stale.
    pub run: String,
    pub segment: u32,
    pub segments: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<ScanPosition>,
}

impl AgeingSweep {
    /// The sweeps of a new run, one per segment.
    pub fn all(run: &str, segments: u32) -> Vec<ErasureJob> {
        (0..segments)
            .map(|segment| {
                ErasureJob::AgeingSweep(AgeingSweep {
                    run: run.to_owned(),
                    segment,
                    segments,
                    start: None,
                })
            })
            .collect()
    }

    /// The same sweep, going on from `start`.
    pub fn from(&self, start: ScanPosition) -> ErasureJob {
        ErasureJob::AgeingSweep(AgeingSweep {
            start: Some(start),
            ..self.clone()
        })
    }
}

/// Seal what one segment of a parallel scan of the table holds in plaintext from before
/// per-person sealing, from `start`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SealSweep {
    pub segment: u32,
    pub segments: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<ScanPosition>,
}

impl SealSweep {
    /// The sweeps of a sealing run, one per segment.
    pub fn all(segments: u32) -> Vec<ErasureJob> {
        (0..segments)
            .map(|segment| {
                ErasureJob::SealSweep(SealSweep {
                    segment,
                    segments,
                    start: None,
                })
            })
            .collect()
    }

    /// The same sweep, going on from `start`.
    pub fn from(&self, start: ScanPosition) -> ErasureJob {
        ErasureJob::SealSweep(SealSweep {
            start: Some(start),
            ..self.clone()
        })
    }
}

/// Delete the tenant's items in one segment of a parallel scan of the table, from `start`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenantSweep {
    pub tenant: String,
    /// The deletion request this belongs to; a newer request, or a new tenant of the same
    /// id, makes it stale.
    pub run: String,
    pub segment: u32,
    pub segments: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<ScanPosition>,
}

impl TenantSweep {
    /// The sweeps of a new deletion run, one per segment.
    pub fn all(tenant: &str, run: &str, segments: u32) -> Vec<ErasureJob> {
        (0..segments)
            .map(|segment| {
                ErasureJob::TenantSweep(TenantSweep {
                    tenant: tenant.to_owned(),
                    run: run.to_owned(),
                    segment,
                    segments,
                    start: None,
                })
            })
            .collect()
    }

    /// The same sweep, going on from `start`.
    pub fn from(&self, start: ScanPosition) -> ErasureJob {
        ErasureJob::TenantSweep(TenantSweep {
            start: Some(start),
            ..self.clone()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wagate_audit::jobs::AuditJob;

    #[test]
    fn what_the_audit_log_queues_is_what_this_worker_reads() {
        let fact = crate::domain::audit::AuditFact {
            actor: "operator".into(),
            action: "consent.changed".into(),
            target: "contacts/c1".into(),
            status: 200,
            request_id: "r1".into(),
            at: 1_700_000_000,
        };
        let queued = [
            AuditJob::AuditAppend(wagate_audit::AuditAppend {
                chain: "acme".into(),
                fact: fact.clone(),
                expires_at: Some(7),
                after_seq: Some(3),
            }),
            AuditJob::AuditSign(wagate_audit::SignChain {
                chain: "acme".into(),
            }),
            AuditJob::AuditCheckpoints(wagate_audit::SignEveryChain {
                after: None,
                adopt: true,
            }),
        ];
        for job in queued {
            let text = serde_json::to_string(&job).unwrap();
            let read: ErasureJob = serde_json::from_str(&text).unwrap();
            let expected = match job {
                AuditJob::AuditAppend(a) => ErasureJob::AuditAppend(a),
                AuditJob::AuditSign(a) => ErasureJob::AuditSign(a),
                AuditJob::AuditCheckpoints(a) => ErasureJob::AuditCheckpoints(a),
            };
            assert_eq!(read, expected, "{text}");
            assert_eq!(serde_json::to_string(&read).unwrap(), text);
        }
    }

    #[test]
    fn a_run_has_one_sweep_per_segment_from_the_start() {
        let jobs = TenantSweep::all("acme", "r1", 4);
        assert_eq!(jobs.len(), 4);
        for (i, job) in jobs.iter().enumerate() {
            let ErasureJob::TenantSweep(sweep) = job else {
                panic!("{job:?}");
            };
            assert_eq!((sweep.segment, sweep.segments), (i as u32, 4));
            assert_eq!(sweep.start, None);
        }
    }

    #[test]
    fn a_continuation_round_trips_through_json() {
        let ErasureJob::TenantSweep(first) = TenantSweep::all("acme", "r1", 2).remove(1) else {
            panic!("a tenant sweep");
        };
        let next = first.from(ScanPosition {
            pk: "T#acme#C#c1".into(),
            sk: "MSG#0000000001#w".into(),
        });
        let text = serde_json::to_string(&next).unwrap();
        assert!(
            text.starts_with(r#"{"job":"tenant_sweep","tenant":"acme""#),
            "{text}"
        );
        assert_eq!(serde_json::from_str::<ErasureJob>(&text).unwrap(), next);
    }

    #[test]
    fn the_daily_schedules_message_starts_an_ageing_run_over_every_tenant() {
        // The body template.yaml's schedule sends, as it is written there.
        let job: ErasureJob = serde_json::from_str(r#"{"job":"ageing_start"}"#).unwrap();
        assert_eq!(job, ErasureJob::AgeingStart(AgeingStart { tenant: None }));
        let ErasureJob::AgeingSweep(sweep) = AgeingSweep::all("r1", 2).remove(1) else {
            panic!("an ageing sweep");
        };
        let next = sweep.from(ScanPosition {
            pk: "T#acme#C#c1".into(),
            sk: "MSG#0000000001#w".into(),
        });
        let text = serde_json::to_string(&next).unwrap();
        assert_eq!(serde_json::from_str::<ErasureJob>(&text).unwrap(), next);
        // A tenant's walk starts at its contacts and goes on from where it stopped.
        let walk: ErasureJob =
            serde_json::from_str(r#"{"job":"tenant_ageing","tenant":"acme","run":"r2"}"#).unwrap();
        let ErasureJob::TenantAgeing(walk) = walk else {
            panic!("a tenant's walk");
        };
        assert_eq!(walk.at, WalkPosition::Contacts { after: None });
        let next = walk.from(WalkPosition::Logs {
            log: 1,
            after: None,
        });
        let text = serde_json::to_string(&next).unwrap();
        assert_eq!(serde_json::from_str::<ErasureJob>(&text).unwrap(), next);
    }

    #[test]
    fn an_unknown_job_is_refused() {
        let text = r#"{"job":"export","tenant":"acme"}"#;
        assert!(serde_json::from_str::<ErasureJob>(text).is_err());
    }

    #[test]
    fn a_sealing_run_has_one_sweep_per_segment_and_goes_on_from_where_it_stopped() {
        let jobs = SealSweep::all(3);
        assert_eq!(jobs.len(), 3);
        let ErasureJob::SealSweep(first) = &jobs[0] else {
            panic!("{jobs:?}");
        };
        let next = first.from(ScanPosition {
            pk: "T#acme#C#c1".into(),
            sk: "PROFILE".into(),
        });
        let text = serde_json::to_string(&next).unwrap();
        assert!(
            text.starts_with(r#"{"job":"seal_sweep","segment":0"#),
            "{text}"
        );
        assert_eq!(serde_json::from_str::<ErasureJob>(&text).unwrap(), next);
    }
}

/// The job of one erasure: whom, by contact ids and keyed hashes only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonSweep {
    pub tenant: String,
    pub erasure: String,
    pub contacts: Vec<String>,
    pub blinded: Vec<String>,
    pub requested_at: i64,
    /// The pass after every late writer has stopped: deletes what they left, then signs
    /// the receipt.
    #[serde(default)]
    pub final_pass: bool,
}
