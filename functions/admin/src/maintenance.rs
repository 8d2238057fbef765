//! The operator's maintenance of the whole deployment: sealing what was written before
//! per-person sealing existed (a one-time migration after an upgrade, safe to repeat).

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;
use utoipa::ToSchema;

use crate::state::{AdminState, Caller};
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
    security(("bearer" = [])))]
pub async fn seal_personal_data(
    State(state): State<Arc<AdminState>>,
    caller: Caller,
) -> Result<(StatusCode, Json<SealingStarted>), ApiError> {
    caller.require_operator("seal data written before sealing")?;
    let segments = state.personal_data.sealing.start().await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(SealingStarted {
            state: "queued",
            segments,
        }),
    ))
}
