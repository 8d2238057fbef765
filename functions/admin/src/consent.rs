//! `/admin/v1/tenants/{tenant_id}/consent`: the tenant's consent settings: the opt-out
//! keywords per language (added to the defaults, which always apply), the opt-in keywords
//! (instead of the defaults, never an ordinary reply), the quick-reply buttons that opt
//! out, what a keyword covers, the confirmation, and what a marketing
//! opt-out does to other messages. They reach the pipeline within its tenant cache
//! lifetime (5 minutes).

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use wagate_messaging::domain::consent::ConsentSettings;

use crate::state::{AdminState, AdministeredTenant};
use http_api::error::{ApiError, ErrorBody, JsonBodyErrors, KeyedRouteErrors};
use http_api::extract::JsonBody;

/// Reads the tenant's consent settings (the defaults until set).
#[utoipa::path(get, path = "/admin/v1/tenants/{tenant_id}/consent", tag = "consent",
    params(("tenant_id" = String, Path, description = "The tenant's id")),
    responses(
        (status = 200, description = "The settings", body = ConsentSettings),
        KeyedRouteErrors,
    ),
    security(("bearer" = ["tenant_admin"])))]
pub async fn get_consent_settings(
    State(state): State<Arc<AdminState>>,
    AdministeredTenant { id: tenant, .. }: AdministeredTenant,
) -> Result<Json<ConsentSettings>, ApiError> {
    let found = state
        .admin
        .live_tenant(&tenant)
        .await?
        .ok_or(ApiError::NotFound("tenant"))?;
    Ok(Json(found.consent))
}

/// Replaces the tenant's consent settings; fields left out take their defaults.
#[utoipa::path(put, path = "/admin/v1/tenants/{tenant_id}/consent", tag = "consent",
    params(("tenant_id" = String, Path, description = "The tenant's id")),
    request_body = ConsentSettings,
    responses(
        (status = 200, description = "The settings as stored", body = ConsentSettings),
        JsonBodyErrors,
        (status = 422, description = "`common_word`: an opt-in word is an ordinary reply", body = ErrorBody),
        KeyedRouteErrors,
    ),
    security(("bearer" = ["tenant_admin"])))]
pub async fn set_consent_settings(
    State(state): State<Arc<AdminState>>,
    AdministeredTenant { id: tenant, .. }: AdministeredTenant,
    JsonBody(body): JsonBody<ConsentSettings>,
) -> Result<Json<ConsentSettings>, ApiError> {
    body.validate()?;
    if !state.admin.set_consent_settings(&tenant, &body).await? {
        return Err(ApiError::NotFound("tenant"));
    }
    tracing::info!(tenant = %tenant, scope = body.keyword_scope.as_str(), acknowledge = body.acknowledge, "consent settings set");
    Ok(Json(body))
}
