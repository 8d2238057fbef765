//! `/admin/v1/tenants`: the operator creates, reads, renames, suspends and resumes tenants;
//! a tenant's admin key reads its own.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use wagate_shared::domain::retention::Retention;
use wagate_shared::domain::tenant::{Tenant, TenantId, TenantStatus};
use wagate_shared::store::PutOutcome;

use super::state::{AdminState, AdministeredTenant, Caller};
use crate::error::{ApiError, ErrorBody, JsonBodyErrors, KeyedRouteErrors};
use crate::extract::JsonBody;

const MAX_NAME_CHARS: usize = 200;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTenant {
    /// 3 to 40 characters of a-z, 0-9, `_` and `-`, starting with a letter or digit; it
    /// starts every key of the tenant's data and cannot change.
    #[schema(
        min_length = 3,
        max_length = 40,
        pattern = "^[a-z0-9][a-z0-9_-]{2,39}$"
    )]
    pub id: String,
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateTenant {
    #[schema(min_length = 1, max_length = 200)]
    pub name: Option<String>,
    /// `suspended` stops the tenant's API keys' sending; `active` resumes it.
    pub status: Option<TenantState>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TenantState {
    Active,
    Suspended,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TenantView {
    pub id: String,
    pub name: String,
    pub status: TenantState,
    pub retention: RetentionDays,
    /// Why Meta refused the tenant's credentials, when it did; sending is stopped until
    /// they are replaced.
    pub sending_stopped: Option<String>,
    /// The id of the tenant's own Meta app, when it has one.
    pub meta_app_id: Option<String>,
}

/// Days each data class is kept (`/retention` also tells the tenant's limit).
#[derive(Debug, Serialize, ToSchema)]
pub struct RetentionDays {
    pub content_days: u32,
    pub metadata_days: u32,
    pub contact_days: u32,
    pub dedup_days: u32,
}

impl From<TenantStatus> for TenantState {
    fn from(status: TenantStatus) -> Self {
        match status {
            TenantStatus::Active => Self::Active,
            TenantStatus::Suspended => Self::Suspended,
        }
    }
}

impl From<TenantState> for TenantStatus {
    fn from(state: TenantState) -> Self {
        match state {
            TenantState::Active => Self::Active,
            TenantState::Suspended => Self::Suspended,
        }
    }
}

impl From<&Tenant> for TenantView {
    fn from(t: &Tenant) -> Self {
        let r = &t.retention;
        Self {
            id: t.id.to_string(),
            name: t.name.clone(),
            status: t.status.into(),
            retention: RetentionDays {
                content_days: r.content_days,
                metadata_days: r.metadata_days,
                contact_days: r.contact_days,
                dedup_days: r.dedup_days,
            },
            sending_stopped: t.sending_stopped.clone(),
            meta_app_id: t.meta_app.as_ref().map(|a| a.app_id.clone()),
        }
    }
}

fn checked_name(name: &str) -> Result<String, ApiError> {
    let trimmed = name.trim();
    if trimmed.is_empty() || trimmed.chars().count() > MAX_NAME_CHARS {
        return Err(ApiError::invalid(
            "name",
            format!("the name must be 1 to {MAX_NAME_CHARS} characters"),
        ));
    }
    if trimmed.chars().any(char::is_control) {
        return Err(ApiError::invalid(
            "name",
            "the name must not hold control characters",
        ));
    }
    Ok(trimmed.to_owned())
}

/// Creates a tenant (operator only).
#[utoipa::path(post, path = "/admin/v1/tenants", tag = "tenants",
    request_body = CreateTenant,
    responses(
        (status = 201, description = "Created", body = TenantView),
        JsonBodyErrors,
        (status = 409, description = "The id is taken", body = ErrorBody),
        KeyedRouteErrors,
    ),
    security(("bearer" = [])))]
pub async fn create_tenant(
    State(state): State<Arc<AdminState>>,
    caller: Caller,
    JsonBody(body): JsonBody<CreateTenant>,
) -> Result<(StatusCode, Json<TenantView>), ApiError> {
    caller.require_operator("create tenants")?;
    let id = TenantId::parse(&body.id).map_err(|e| ApiError::invalid("id", e.to_string()))?;
    let tenant = Tenant {
        id,
        name: checked_name(&body.name)?,
        status: TenantStatus::Active,
        retention: Retention::default(),
        meta_app: None,
        sending_stopped: None,
    };
    match state.store.create_tenant(&tenant).await? {
        PutOutcome::Stored => Ok((StatusCode::CREATED, Json(TenantView::from(&tenant)))),
        PutOutcome::Duplicate => Err(ApiError::Conflict(format!(
            "a tenant with id '{}' exists",
            tenant.id
        ))),
    }
}

/// Reads a tenant (the operator, or the tenant's admin key).
#[utoipa::path(get, path = "/admin/v1/tenants/{tenant_id}", tag = "tenants",
    params(("tenant_id" = String, Path, description = "The tenant's id")),
    responses(
        (status = 200, description = "The tenant", body = TenantView),
        KeyedRouteErrors,
    ),
    security(("bearer" = [])))]
pub async fn get_tenant(
    State(state): State<Arc<AdminState>>,
    tenant: AdministeredTenant,
) -> Result<Json<TenantView>, ApiError> {
    let tenant = state
        .store
        .get_tenant(&tenant.id)
        .await?
        .ok_or(ApiError::NotFound("tenant"))?;
    Ok(Json(TenantView::from(&tenant)))
}

/// Renames, suspends or resumes a tenant (operator only).
#[utoipa::path(patch, path = "/admin/v1/tenants/{tenant_id}", tag = "tenants",
    params(("tenant_id" = String, Path, description = "The tenant's id")),
    request_body = UpdateTenant,
    responses(
        (status = 200, description = "The tenant as updated", body = TenantView),
        JsonBodyErrors,
        KeyedRouteErrors,
    ),
    security(("bearer" = [])))]
pub async fn update_tenant(
    State(state): State<Arc<AdminState>>,
    AdministeredTenant { id, caller }: AdministeredTenant,
    JsonBody(body): JsonBody<UpdateTenant>,
) -> Result<Json<TenantView>, ApiError> {
    caller.require_operator("rename, suspend or resume tenants")?;
    let name = body.name.as_deref().map(checked_name).transpose()?;
    let status = body.status.map(TenantStatus::from);
    let tenant = state
        .store
        .update_tenant(&id, name.as_deref(), status)
        .await?
        .ok_or(ApiError::NotFound("tenant"))?;
    Ok(Json(TenantView::from(&tenant)))
}
