//! The operator's maintenance of the whole deployment: sealing what was written before
//! per-person sealing existed (a one-time migration after an upgrade, safe to repeat), the
//! ageing run over every tenant that the daily schedule also starts, and the adoption of
//! audit chains that have no signed checkpoint.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;
use utoipa::ToSchema;

use crate::retention::AgeingView;
use crate::state::{AdminState, Operator};
use http_api::error::{ApiError, KeyedRouteErrors};

/// A sealing run, queued.
#[derive(Debug, Serialize, ToSchema)]
pub struct SealingStarted {
    /// Always `queued`: the sweeps run in the erasure function, and log what they sealed.
    pub state: &'static str,
    /// Sweeps queued, one per segment of a parallel scan of the table.
    pub segments: u32,
}

/// Seals every message, profile and identity written before per-person sealing, and moves
/// names and phone numbers out of keys (operator only). Runs in the background; asking
/// again is safe and rewrites nothing twice.
#[utoipa::path(post, path = "/admin/v1/maintenance/seal-personal-data", tag = "maintenance",
    responses(
        (status = 202, description = "The sweeps are queued", body = SealingStarted),
        KeyedRouteErrors,
    ),
    security(("bearer" = ["operator"])))]
pub async fn seal_personal_data(
    State(state): State<Arc<AdminState>>,
    _operator: Operator,
) -> Result<(StatusCode, Json<SealingStarted>), ApiError> {
    let segments = state.personal_data.sealing.start().await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(SealingStarted {
            state: "queued",
            segments,
        }),
    ))
}

/// The adoption of unanchored audit chains, queued.
#[derive(Debug, Serialize, ToSchema)]
pub struct AdoptionQueued {
    /// Always `queued`: the erasure function signs each chain whose walk holds, and logs
    /// those it refused (alert `audit_chain_tampered`).
    pub state: &'static str,
}

/// Signs a first checkpoint of every audit chain that has none though one was due
/// (operator only): after an upgrade from before checkpoints, or after signing failed for
/// a day. Each chain is walked whole first and signed only if it holds. The daily signing
/// never signs such a chain by itself, since its checkpoints may have been deleted and the
/// chain rewritten: check the chains (`audit/verify`) before adopting them.
#[utoipa::path(post, path = "/admin/v1/maintenance/audit-checkpoints", tag = "maintenance",
    responses(
        (status = 202, description = "The adoption is queued", body = AdoptionQueued),
        KeyedRouteErrors,
    ),
    security(("bearer" = ["operator"])))]
pub async fn adopt_audit_chains(
    State(state): State<Arc<AdminState>>,
    _operator: Operator,
) -> Result<(StatusCode, Json<AdoptionQueued>), ApiError> {
    state.audit.adopt_unanchored_chains().await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(AdoptionQueued { state: "queued" }),
    ))
}

/// Starts an ageing run over every tenant now, as the daily schedule does (operator only):
/// stored items come under their tenant's current retention and content whose time has
/// passed is let go. Asked again while a run is under way (six hours at most), it answers
/// that run and starts nothing.
#[utoipa::path(post, path = "/admin/v1/maintenance/ageing", tag = "maintenance",
    responses(
        (status = 202, description = "The run is queued", body = AgeingView),
        KeyedRouteErrors,
    ),
    security(("bearer" = ["operator"])))]
pub async fn start_ageing(
    State(state): State<Arc<AdminState>>,
    _operator: Operator,
) -> Result<(StatusCode, Json<AgeingView>), ApiError> {
    let run = state.personal_data.ageing.start(None).await?;
    Ok((StatusCode::ACCEPTED, Json(AgeingView::from(run))))
}

/// The latest ageing run over every tenant (operator only); 404 before the first.
#[utoipa::path(get, path = "/admin/v1/maintenance/ageing", tag = "maintenance",
    responses(
        (status = 200, description = "The latest run", body = AgeingView),
        KeyedRouteErrors,
    ),
    security(("bearer" = ["operator"])))]
pub async fn latest_ageing(
    State(state): State<Arc<AdminState>>,
    _operator: Operator,
) -> Result<Json<AgeingView>, ApiError> {
    let run = state.personal_data.ageing.latest(None).await?;
    Ok(Json(
        run.map(AgeingView::from)
            .ok_or(ApiError::NotFound("ageing run"))?,
    ))
}
