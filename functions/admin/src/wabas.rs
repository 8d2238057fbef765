//! `/admin/v1/wabas/{waba_id}`: who holds a WhatsApp Business Account. A WABA belongs to the
//! tenant that connected its first number, and no other tenant may connect its numbers;
//! the operator alone can share it (an agency serving several tenants from one account),
//! naming the owner, who receives the account's own events (templates, account and quality
//! updates), and the tenants it is shared with.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use wagate_messaging::domain::tenant::TenantId;
use wagate_messaging::domain::tenant::WabaRoute;

use crate::state::{AdminState, Operator};
use http_api::error::{ApiError, ErrorBody, JsonBodyErrors, KeyedRouteErrors};
use http_api::extract::JsonBody;

/// Tenants a WABA may be shared with.
const MAX_SHARED: usize = 20;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShareWaba {
    /// The tenant that receives the account's own events and may connect its numbers.
    pub owner: String,
    /// Other tenants that may connect its numbers; empty: the owner's alone.
    #[serde(default)]
    #[schema(max_items = 20)]
    pub shared_with: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WabaView {
    pub waba_id: String,
    pub owner: String,
    pub shared_with: Vec<String>,
    /// Numbers of the account connected now, over all tenants.
    pub connected_numbers: usize,
}

impl From<WabaRoute> for WabaView {
    fn from(route: WabaRoute) -> Self {
        Self {
            waba_id: route.waba_id,
            owner: route.owner.to_string(),
            shared_with: route.shared_with.iter().map(ToString::to_string).collect(),
            connected_numbers: route.connected_numbers,
        }
    }
}

fn checked_waba(raw: &str) -> Result<(), ApiError> {
    if (5..=20).contains(&raw.len()) && raw.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(ApiError::NotFound("WABA"))
    }
}

/// Who holds a WABA (operator only).
#[utoipa::path(get, path = "/admin/v1/wabas/{waba_id}", tag = "wabas",
    params(("waba_id" = String, Path, description = "Meta's id of the WhatsApp Business Account")),
    responses(
        (status = 200, description = "The account's owner and sharing", body = WabaView),
        KeyedRouteErrors,
    ),
    security(("bearer" = ["operator"])))]
pub async fn get_waba(
    State(state): State<Arc<AdminState>>,
    _operator: Operator,
    Path(waba_id): Path<String>,
) -> Result<Json<WabaView>, ApiError> {
    checked_waba(&waba_id)?;
    let route = state
        .admin
        .waba(&waba_id)
        .await?
        .ok_or(ApiError::NotFound("WABA"))?;
    Ok(Json(route.into()))
}

/// Names a WABA's owner and the tenants it is shared with (operator only).
#[utoipa::path(put, path = "/admin/v1/wabas/{waba_id}", tag = "wabas",
    params(("waba_id" = String, Path, description = "Meta's id of the WhatsApp Business Account")),
    request_body = ShareWaba,
    responses(
        (status = 200, description = "The account's owner and sharing now", body = WabaView),
        JsonBodyErrors,
        (status = 409, description = "A tenant left out still holds numbers of the account (`waba_in_use`)", body = ErrorBody),
        (status = 422, description = "A named tenant does not exist (`unknown_tenant`)", body = ErrorBody),
        KeyedRouteErrors,
    ),
    security(("bearer" = ["operator"])))]
pub async fn share_waba(
    State(state): State<Arc<AdminState>>,
    _operator: Operator,
    Path(waba_id): Path<String>,
    JsonBody(body): JsonBody<ShareWaba>,
) -> Result<Json<WabaView>, ApiError> {
    checked_waba(&waba_id)?;
    if body.shared_with.len() > MAX_SHARED {
        return Err(ApiError::invalid(
            "shared_with",
            format!("at most {MAX_SHARED} tenants"),
        ));
    }
    let owner = tenant_id("owner", &body.owner)?;
    let mut shared_with = Vec::with_capacity(body.shared_with.len());
    for (i, raw) in body.shared_with.iter().enumerate() {
        let id = tenant_id(&format!("shared_with[{i}]"), raw)?;
        if id != owner && !shared_with.contains(&id) {
            shared_with.push(id);
        }
    }
    let route = state
        .admin
        .share_waba(&waba_id, &owner, &shared_with)
        .await?;
    tracing::info!(waba_id = %waba_id, owner = %owner, shared = shared_with.len(), "WABA sharing set by the operator");
    Ok(Json(route.into()))
}

fn tenant_id(field: &str, raw: &str) -> Result<TenantId, ApiError> {
    TenantId::parse(raw).map_err(|e| ApiError::invalid(field, e.to_string()))
}
