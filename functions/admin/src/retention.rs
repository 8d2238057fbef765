//! `/admin/v1/tenants/{tenant_id}/retention`: how long each class of the tenant's data is
//! kept. The tenant's admin sets the days within bounds; message content is capped at the
//! operator's ceiling (90 days unless the operator raises it). New items take the settings
//! within the pipeline's tenant cache lifetime (5 minutes); items already stored keep the
//! `expires_at` they were written with.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use wagate_shared::domain::retention::RetentionSettings;
use wagate_shared::domain::retention::{Retention, RetentionError};

use crate::state::{AdminState, AdministeredTenant};
use http_api::error::{ApiError, JsonBodyErrors, KeyedRouteErrors};
use http_api::extract::JsonBody;

/// The highest ceiling the operator may set for content: ten years.
const MAX_CEILING_DAYS: u32 = 3650;

#[derive(Debug, Serialize, ToSchema)]
pub struct RetentionView {
    /// Message bodies, captions, media references.
    pub content_days: u32,
    /// Content-free facts: statuses, pricing, tenant events.
    pub metadata_days: u32,
    /// Contact profiles, counted from the contact's last activity.
    pub contact_days: u32,
    /// Records that make processing idempotent (at least 8: Meta retries for 7 days).
    pub dedup_days: u32,
    /// The audit log (90 to 3,650 days).
    pub audit_days: u32,
    /// The most `content_days` may be; only the operator changes it.
    pub content_days_limit: u32,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetRetention {
    #[schema(minimum = 1, maximum = 3650)]
    pub content_days: u32,
    #[schema(minimum = 1, maximum = 3650)]
    pub metadata_days: u32,
    #[schema(minimum = 1, maximum = 3650)]
    pub contact_days: u32,
    #[schema(minimum = 8, maximum = 3650)]
    pub dedup_days: u32,
    /// The audit log's days (90 to 3,650); unchanged when left out.
    #[schema(minimum = 90, maximum = 3650)]
    #[serde(default)]
    pub audit_days: Option<u32>,
    /// Operator only: the ceiling for `content_days`.
    #[schema(minimum = 1, maximum = 3650)]
    pub content_days_limit: Option<u32>,
}

fn view(settings: &RetentionSettings) -> RetentionView {
    let r = &settings.retention;
    RetentionView {
        content_days: r.content_days,
        metadata_days: r.metadata_days,
        contact_days: r.contact_days,
        dedup_days: r.dedup_days,
        audit_days: r.audit_days,
        content_days_limit: settings.content_ceiling_days,
    }
}

/// Reads the tenant's retention settings.
#[utoipa::path(get, path = "/admin/v1/tenants/{tenant_id}/retention", tag = "retention",
    params(("tenant_id" = String, Path, description = "The tenant's id")),
    responses(
        (status = 200, description = "The settings", body = RetentionView),
        KeyedRouteErrors,
    ),
    security(("bearer" = [])))]
pub async fn get_retention(
    State(state): State<Arc<AdminState>>,
    AdministeredTenant { id: tenant, .. }: AdministeredTenant,
) -> Result<Json<RetentionView>, ApiError> {
    let settings = state
        .admin
        .retention(&tenant)
        .await?
        .ok_or(ApiError::NotFound("tenant"))?;
    Ok(Json(view(&settings)))
}

/// Replaces the tenant's retention settings, within their bounds.
#[utoipa::path(put, path = "/admin/v1/tenants/{tenant_id}/retention", tag = "retention",
    params(("tenant_id" = String, Path, description = "The tenant's id")),
    request_body = SetRetention,
    responses(
        (status = 200, description = "The settings as stored", body = RetentionView),
        JsonBodyErrors,
        KeyedRouteErrors,
    ),
    security(("bearer" = [])))]
pub async fn set_retention(
    State(state): State<Arc<AdminState>>,
    AdministeredTenant {
        id: tenant, caller, ..
    }: AdministeredTenant,
    JsonBody(body): JsonBody<SetRetention>,
) -> Result<Json<RetentionView>, ApiError> {
    let current = state
        .admin
        .retention(&tenant)
        .await?
        .ok_or(ApiError::NotFound("tenant"))?;
    let ceiling = match body.content_days_limit {
        Some(limit) => {
            caller.require_operator("change the content retention limit")?;
            if !(1..=MAX_CEILING_DAYS).contains(&limit) {
                return Err(ApiError::invalid(
                    "content_days_limit",
                    format!("content_days_limit must be between 1 and {MAX_CEILING_DAYS} days"),
                ));
            }
            limit
        }
        None => current.content_ceiling_days,
    };
    let retention = Retention {
        content_days: body.content_days,
        metadata_days: body.metadata_days,
        contact_days: body.contact_days,
        dedup_days: body.dedup_days,
        audit_days: body.audit_days.unwrap_or(current.retention.audit_days),
    };
    retention.validate(ceiling).map_err(|e| match e {
        RetentionError::OutOfBounds { field, .. } => ApiError::invalid(field, e.to_string()),
    })?;
    let settings = RetentionSettings {
        retention,
        content_ceiling_days: ceiling,
    };
    if !state.admin.set_retention(&tenant, &settings).await? {
        return Err(ApiError::NotFound("tenant"));
    }
    tracing::info!(tenant = %tenant, content_days = retention.content_days, metadata_days = retention.metadata_days, contact_days = retention.contact_days, dedup_days = retention.dedup_days, audit_days = retention.audit_days, ceiling, "retention set");
    Ok(Json(view(&settings)))
}
