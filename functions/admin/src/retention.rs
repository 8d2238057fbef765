//! `/admin/v1/tenants/{tenant_id}/retention`: how long each class of the tenant's data is
//! kept. The tenant's admin sets the days within bounds; message content is capped at the
//! operator's ceiling (90 days unless the operator raises it). New items take the settings
//! within the pipeline's tenant cache lifetime (5 minutes). A shorter period reaches the
//! items already stored through an ageing run the change starts (its progress is in the
//! view); a longer one applies to items written from then on.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use wagate_messaging::domain::retention::Retention;
use wagate_messaging::domain::retention::RetentionSettings;
use wagate_messaging::store::tenant::ageing::AgeingRun;

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
    /// The latest run that brought stored items under a shorter period, if any.
    pub ageing: Option<AgeingView>,
}

/// An ageing run: the background sweep that brings what is stored under the retention.
#[derive(Debug, Serialize, ToSchema)]
pub struct AgeingView {
    pub run: String,
    /// `running` or `done`.
    pub state: &'static str,
    pub started_at: i64,
    pub finished_at: Option<i64>,
    /// Segments done, of `segments`: the daily run's scan segments, or 1 for a tenant's
    /// walk.
    pub segments_done: u32,
    pub segments: u32,
    /// Items whose end came sooner.
    pub shortened: u64,
    /// Messages whose content was let go, its time having passed.
    pub contents_removed: u64,
}

impl From<AgeingRun> for AgeingView {
    fn from(run: AgeingRun) -> Self {
        Self {
            state: if run.finished_at.is_some() {
                "done"
            } else {
                "running"
            },
            run: run.run,
            started_at: run.started_at,
            finished_at: run.finished_at,
            segments_done: run.segments_done,
            segments: run.segments,
            shortened: run.aged.shortened,
            contents_removed: run.aged.contents_removed,
        }
    }
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

fn view(settings: &RetentionSettings, ageing: Option<AgeingRun>) -> RetentionView {
    let r = &settings.retention;
    RetentionView {
        content_days: r.content_days,
        metadata_days: r.metadata_days,
        contact_days: r.contact_days,
        dedup_days: r.dedup_days,
        audit_days: r.audit_days,
        content_days_limit: settings.content_ceiling_days,
        ageing: ageing.map(AgeingView::from),
    }
}

/// Whether any class is kept for less time than before.
fn shortened(before: &Retention, after: &Retention) -> bool {
    after.content_days < before.content_days
        || after.metadata_days < before.metadata_days
        || after.contact_days < before.contact_days
        || after.dedup_days < before.dedup_days
        || after.audit_days < before.audit_days
}

/// Reads the tenant's retention settings.
#[utoipa::path(get, path = "/admin/v1/tenants/{tenant_id}/retention", tag = "retention",
    params(("tenant_id" = String, Path, description = "The tenant's id")),
    responses(
        (status = 200, description = "The settings", body = RetentionView),
        KeyedRouteErrors,
    ),
    security(("bearer" = ["tenant_admin"])))]
pub async fn get_retention(
    State(state): State<Arc<AdminState>>,
    AdministeredTenant { id: tenant, .. }: AdministeredTenant,
) -> Result<Json<RetentionView>, ApiError> {
    let settings = state
        .admin
        .retention(&tenant)
        .await?
        .ok_or(ApiError::NotFound("tenant"))?;
    let ageing = state.personal_data.ageing.latest(Some(&tenant)).await?;
    Ok(Json(view(&settings, ageing)))
}

/// Replaces the tenant's retention settings, within their bounds.
#[utoipa::path(put, path = "/admin/v1/tenants/{tenant_id}/retention", tag = "retention",
    params(("tenant_id" = String, Path, description = "The tenant's id")),
    request_body = SetRetention,
    responses(
        (status = 200, description = "The settings as stored; when a class got shorter, the ageing run that brings stored items under it", body = RetentionView),
        JsonBodyErrors,
        KeyedRouteErrors,
    ),
    security(("bearer" = ["tenant_admin"])))]
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
    retention.validate(ceiling)?;
    let settings = RetentionSettings {
        retention,
        content_ceiling_days: ceiling,
    };
    if !state.admin.set_retention(&tenant, &settings).await? {
        return Err(ApiError::NotFound("tenant"));
    }
    tracing::info!(tenant = %tenant, content_days = retention.content_days, metadata_days = retention.metadata_days, contact_days = retention.contact_days, dedup_days = retention.dedup_days, audit_days = retention.audit_days, ceiling, "retention set");
    // A shorter period reaches what is already stored: an ageing run starts now (the
    // settings stand if queueing it fails; the daily run then applies them).
    let ageing = if shortened(&current.retention, &retention) {
        Some(state.personal_data.ageing.start(Some(&tenant)).await?)
    } else {
        state.personal_data.ageing.latest(Some(&tenant)).await?
    };
    Ok(Json(view(&settings, ageing)))
}
