//! A contact's consent as the business API shows it and a person's export holds it.

use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::consent::{Action, ConsentEntry, ConsentMark, Scope, Source};

/// Where a person stands in one scope: their latest choice.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConsentMarkView {
    pub opted_out: bool,
    /// When they made the choice, epoch seconds.
    pub at: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<Source>,
}

impl From<&ConsentMark> for ConsentMarkView {
    fn from(m: &ConsentMark) -> Self {
        Self {
            opted_out: m.opted_out,
            at: m.at,
            source: m.source,
        }
    }
}

/// One line of the consent ledger.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConsentEntryView {
    pub scope: Scope,
    pub action: Action,
    pub source: Source,
    /// The id of the person's message (as `GET /v1/messages/{id}` takes it), or `key:`
    /// and the id of the API key that recorded it; never what the person wrote, nor a
    /// wamid (Meta's embed the person's number).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evidence: Option<String>,
    pub at: i64,
    /// `tenant_app` when the person's message or Meta's event came through the tenant's
    /// own Meta app, whose secret the tenant holds (absent: the platform's app, or the
    /// business's own record).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub via: Option<&'static str>,
}

impl From<ConsentEntry> for ConsentEntryView {
    fn from(e: ConsentEntry) -> Self {
        Self {
            scope: e.scope,
            action: e.action,
            source: e.source,
            evidence: e.evidence,
            at: e.at,
            via: e.via_tenant_app.then_some("tenant_app"),
        }
    }
}
