//! A contact's consent: `GET /v1/contacts/{id}/consent` shows where the person stands and
//! their ledger (every opt-in and opt-out, newest first); `POST` records one the business's
//! own systems know of (a form, a call centre, an import), with the key's id as evidence.
//! An opt-out the person gave themselves (a keyword, a button, in WhatsApp, or one kept
//! from before their contact) is lifted only by the person, or by the business with a
//! reference to their new consent (`source: business`, `consent_reference`), recorded as
//! such; the opt-out that outlives their contact stays either way.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use wagate_messaging::access::needs;
use wagate_messaging::domain::consent::{Action, ConsentEntry, ConsentState, Scope, Source};
use wagate_messaging::domain::message_id::is_contact_id;
use wagate_messaging::views::consent::{ConsentEntryView, ConsentMarkView};

use crate::contacts::tenant;
use crate::state::{Allowed, BusinessState};
use http_api::cursor;
use http_api::error::{ApiError, ErrorBody, JsonBodyErrors, KeyedRouteErrors};
use http_api::extract::{JsonBody, QueryParams};
use http_api::unix_now;

/// An entry may be dated this far ahead of our clock (clocks differ), no further.
const MAX_CLOCK_SKEW_SECS: i64 = 300;
/// Nothing is dated before WhatsApp Business existed (2018-01-01).
const EARLIEST_AT: i64 = 1_514_764_800;

#[derive(Debug, Serialize, ToSchema)]
pub struct ConsentView {
    pub contact_id: String,
    /// Marketing templates. Unset until the person or the business chose.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub marketing: Option<ConsentMarkView>,
    /// Every message the business sends.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub all: Option<ConsentMarkView>,
    /// The ledger, newest first (with `GET`); the entry recorded (with `POST`).
    pub entries: Vec<ConsentEntryView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ConsentQuery {
    /// Entries per page, 1 to 100 (default 50).
    #[serde(default)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    #[serde(default)]
    pub cursor: Option<String>,
}

/// A choice the business's systems know of.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordConsent {
    pub action: Action,
    pub scope: Scope,
    /// `api` (the default) or `import`, or `business` to lift an opt-out the person gave
    /// themselves with `consent_reference`; the other sources are the person's own,
    /// recorded by the gateway.
    #[serde(default)]
    pub source: Option<Source>,
    /// With `source: business` (an opt-in only): the business's reference to the new
    /// consent the person gave it, such as a form's or a call's id. 1 to 100 of letters,
    /// digits and `-_.:/#`; never personal data.
    #[serde(default)]
    pub consent_reference: Option<String>,
    /// When the person made the choice, epoch seconds (default: now); not in the future.
    #[serde(default)]
    pub at: Option<i64>,
}

#[utoipa::path(get, path = "/v1/contacts/{contact_id}/consent", tag = "contacts",
    params(("contact_id" = String, Path, description = "The contact's id"), ConsentQuery),
    responses(
        (status = 200, description = "Where the person stands and their ledger, newest first", body = ConsentView),
        (status = 400, description = "A limit or cursor that is not valid", body = ErrorBody),
        KeyedRouteErrors,
    ),
    security(("bearer" = ["converse"])))]
pub async fn get_consent(
    State(state): State<Arc<BusinessState>>,
    key: Allowed<needs::Converse>,
    Path(contact_id): Path<String>,
    QueryParams(query): QueryParams<ConsentQuery>,
) -> Result<Json<ConsentView>, ApiError> {
    if !is_contact_id(&contact_id) {
        return Err(ApiError::NotFound("contact"));
    }
    let limit = http_api::extract::page_limit(query.limit)?;
    let tenant_id = &key.0.tenant_id;
    let scope = cursor::scope(&[tenant_id.as_str(), "consent", &contact_id]);
    let after = cursor::open(&state.cursors, &scope, query.cursor.as_deref()).await?;
    let (contact, page) = state
        .contacts
        .consent(tenant_id, &contact_id, limit, after.as_ref(), unix_now())
        .await?
        .ok_or(ApiError::NotFound("contact"))?;
    let mut view = view(contact.contact_id, &contact.consent, page.entries);
    view.next_cursor = cursor::seal(&state.cursors, &scope, page.next.as_ref()).await?;
    Ok(Json(view))
}

#[utoipa::path(post, path = "/v1/contacts/{contact_id}/consent", tag = "contacts",
    params(("contact_id" = String, Path, description = "The contact's id")),
    request_body = RecordConsent,
    responses(
        (status = 201, description = "Recorded (once: the same choice again is the same entry); where the person stands now", body = ConsentView),
        JsonBodyErrors,
        (status = 409, description = "`persons_opt_out`: an opt-in over an opt-out the person gave themselves, without a reference to their new consent", body = ErrorBody),
        KeyedRouteErrors,
    ),
    security(("bearer" = ["contacts"])))]
pub async fn record_consent(
    State(state): State<Arc<BusinessState>>,
    key: Allowed<needs::Contacts>,
    Path(contact_id): Path<String>,
    JsonBody(body): JsonBody<RecordConsent>,
) -> Result<(StatusCode, Json<ConsentView>), ApiError> {
    if !is_contact_id(&contact_id) {
        return Err(ApiError::NotFound("contact"));
    }
    let now = unix_now();
    let source = body.source.unwrap_or(Source::Api);
    let evidence = match (source, body.action, body.consent_reference.as_deref()) {
        (Source::Api | Source::Import, _, None) => key.0.actor.reference(),
        (Source::Business, Action::OptIn, Some(reference)) if is_reference(reference) => {
            format!("{} ref:{reference}", key.0.actor.reference())
        }
        (Source::Business, Action::OptIn, _) => {
            return Err(ApiError::invalid(
                "consent_reference",
                "must be 1 to 100 of letters, digits and -_.:/# with source business",
            ));
        }
        (Source::Business, Action::OptOut, _) => {
            return Err(ApiError::invalid(
                "source",
                "business records an opt-in over the person's own opt-out; an opt-out is api or import",
            ));
        }
        (Source::Api | Source::Import, _, Some(_)) => {
            return Err(ApiError::invalid(
                "consent_reference",
                "goes with source business only",
            ));
        }
        _ => {
            return Err(ApiError::invalid(
                "source",
                "must be api, import or business: the other sources are the person's own",
            ));
        }
    };
    let at = body.at.unwrap_or(now);
    if !(EARLIEST_AT..=now + MAX_CLOCK_SKEW_SECS).contains(&at) {
        return Err(ApiError::invalid(
            "at",
            "must be a time in epoch seconds, not in the future",
        ));
    }
    // A time a little ahead (clocks differ) is taken as now: a choice dated ahead would
    // outrank the person's next one.
    let at = at.min(now);
    let entry = ConsentEntry {
        scope: body.scope,
        action: body.action,
        source,
        evidence: Some(evidence),
        at,
        via_tenant_app: false,
    };
    let tenant = tenant(&state, &key).await?;
    let recorded = state
        .contacts
        .record_consent(&tenant, &contact_id, &entry, now)
        .await?
        .ok_or(ApiError::NotFound("contact"))?
        .map_err(|refused| ApiError::ConflictOf {
            code: "persons_opt_out",
            message: refused.to_string(),
        })?;
    Ok((
        StatusCode::CREATED,
        Json(view(contact_id, &recorded.state, vec![entry])),
    ))
}

/// A business's reference to a new consent: an id, never free text that could name someone.
fn is_reference(raw: &str) -> bool {
    (1..=100).contains(&raw.len())
        && raw
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:/#".contains(&b))
}

fn view(contact_id: String, state: &ConsentState, entries: Vec<ConsentEntry>) -> ConsentView {
    ConsentView {
        contact_id,
        marketing: state.mark(Scope::Marketing).map(ConsentMarkView::from),
        all: state.mark(Scope::All).map(ConsentMarkView::from),
        entries: entries.into_iter().map(ConsentEntryView::from).collect(),
        next_cursor: None,
    }
}
