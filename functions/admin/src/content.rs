//! `/admin/v1/tenants/{tenant_id}/content`: whether the tenant stores message content, for
//! all its numbers and number by number. Without it, messages keep type, direction,
//! times, statuses and pricing only; the content is used for routing and callbacks, then
//! let go. New messages follow a change within the pipeline's tenant cache lifetime.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use wagate_messaging::domain::retention::ContentPolicy;

use crate::state::{AdminState, AdministeredTenant};
use http_api::error::{ApiError, JsonBodyErrors, KeyedRouteErrors};
use http_api::extract::JsonBody;

/// Reads the tenant's content policy (content stored, unless set otherwise).
#[utoipa::path(get, path = "/admin/v1/tenants/{tenant_id}/content", tag = "retention",
    params(("tenant_id" = String, Path, description = "The tenant's id")),
    responses(
        (status = 200, description = "The policy", body = ContentPolicy),
        KeyedRouteErrors,
    ),
    security(("bearer" = ["tenant_admin"])))]
pub async fn get_content_policy(
    AdministeredTenant { tenant, .. }: AdministeredTenant,
) -> Result<Json<ContentPolicy>, ApiError> {
    Ok(Json(tenant.content))
}

/// Replaces the tenant's content policy.
#[utoipa::path(put, path = "/admin/v1/tenants/{tenant_id}/content", tag = "retention",
    params(("tenant_id" = String, Path, description = "The tenant's id")),
    request_body = ContentPolicy,
    responses(
        (status = 200, description = "The policy as stored", body = ContentPolicy),
        JsonBodyErrors,
        KeyedRouteErrors,
    ),
    security(("bearer" = ["tenant_admin"])))]
pub async fn set_content_policy(
    State(state): State<Arc<AdminState>>,
    AdministeredTenant { id: tenant, .. }: AdministeredTenant,
    JsonBody(body): JsonBody<ContentPolicy>,
) -> Result<Json<ContentPolicy>, ApiError> {
    body.validate()
        .map_err(|problem| ApiError::invalid("numbers", problem))?;
    if !state.admin.set_content_policy(&tenant, &body).await? {
        return Err(ApiError::NotFound("tenant"));
    }
    tracing::info!(tenant = %tenant, store_content = body.store_content, numbers = body.numbers.len(), "content policy set");
    Ok(Json(body))
}
