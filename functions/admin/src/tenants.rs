//! `/admin/v1/tenants`: the operator creates, lists, reads, renames, suspends, resumes and
//! deletes tenants; a tenant's admin key reads its own.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use wagate_messaging::domain::retention::Retention;
use wagate_messaging::domain::tenant::{Tenant, TenantId, TenantStatus};

use crate::state::{AdminState, AdministeredTenant, Operator, TenantPath};
use http_api::cursor;
use http_api::error::{ApiError, ErrorBody, JsonBodyErrors, KeyedRouteErrors};
use http_api::extract::{JsonBody, QueryParams, page_limit};
use http_api::unix_now;

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
    /// `suspended` stops the tenant's API keys' sending; `active` resumes it. (`deleting`
    /// is `DELETE`'s to set.)
    pub status: Option<TenantState>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TenantState {
    Active,
    Suspended,
    /// Cut off, its data being erased; the tenant is gone once that is done.
    Deleting,
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
            TenantStatus::Deleting => Self::Deleting,
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
    security(("bearer" = ["operator"])))]
pub async fn create_tenant(
    State(state): State<Arc<AdminState>>,
    _operator: Operator,
    JsonBody(body): JsonBody<CreateTenant>,
) -> Result<(StatusCode, Json<TenantView>), ApiError> {
    let id = TenantId::parse(&body.id).map_err(|e| ApiError::invalid("id", e.to_string()))?;
    let name = checked_name(&body.name)?;
    let tenant = state.setup.create(&id, &name, Retention::default()).await?;
    Ok((StatusCode::CREATED, Json(TenantView::from(&tenant))))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListTenants {
    /// Tenants per page, 1 to 100 (default 50).
    #[serde(default)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    #[serde(default)]
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TenantList {
    /// By id.
    pub tenants: Vec<TenantView>,
    /// Pass as `cursor` for the next page; absent on the last.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// Lists every tenant by id, those being deleted too (operator only).
#[utoipa::path(get, path = "/admin/v1/tenants", tag = "tenants",
    params(ListTenants),
    responses(
        (status = 200, description = "A page of tenants", body = TenantList),
        (status = 400, description = "A limit or cursor that is not valid", body = ErrorBody),
        KeyedRouteErrors,
    ),
    security(("bearer" = ["operator"])))]
pub async fn list_tenants(
    State(state): State<Arc<AdminState>>,
    _operator: Operator,
    QueryParams(query): QueryParams<ListTenants>,
) -> Result<Json<TenantList>, ApiError> {
    let limit = page_limit(query.limit)?;
    let scope = cursor::scope(&["operator", "tenants"]);
    let after = cursor::open(&state.cursors, &scope, query.cursor.as_deref()).await?;
    let page = state.admin.list(after.as_ref(), limit).await?;
    Ok(Json(TenantList {
        tenants: page.tenants.iter().map(TenantView::from).collect(),
        next_cursor: cursor::seal(&state.cursors, &scope, page.next.as_ref()).await?,
    }))
}

/// Reads a tenant (the operator, or the tenant's admin key).
#[utoipa::path(get, path = "/admin/v1/tenants/{tenant_id}", tag = "tenants",
    params(("tenant_id" = String, Path, description = "The tenant's id")),
    responses(
        (status = 200, description = "The tenant", body = TenantView),
        KeyedRouteErrors,
    ),
    security(("bearer" = ["tenant_admin"])))]
pub async fn get_tenant(
    State(state): State<Arc<AdminState>>,
    tenant: TenantPath,
) -> Result<Json<TenantView>, ApiError> {
    let tenant = state
        .admin
        .tenant(&tenant.id)
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
    security(("bearer" = ["operator"])))]
pub async fn update_tenant(
    State(state): State<Arc<AdminState>>,
    // The tenant first: another tenant's key is told it does not exist.
    AdministeredTenant { id, .. }: AdministeredTenant,
    _operator: Operator,
    JsonBody(body): JsonBody<UpdateTenant>,
) -> Result<Json<TenantView>, ApiError> {
    let name = body.name.as_deref().map(checked_name).transpose()?;
    let status = match body.status {
        None => None,
        Some(TenantState::Active) => Some(TenantStatus::Active),
        Some(TenantState::Suspended) => Some(TenantStatus::Suspended),
        Some(TenantState::Deleting) => {
            return Err(ApiError::invalid(
                "status",
                "a tenant is deleted with DELETE /admin/v1/tenants/{tenant_id}",
            ));
        }
    };
    let tenant = state
        .admin
        .update(&id, name.as_deref(), status)
        .await?
        .ok_or(ApiError::NotFound("tenant"))?;
    Ok(Json(TenantView::from(&tenant)))
}

/// Deletes a tenant (operator only). At once: its numbers (its webhooks are no longer
/// accepted, their tokens are gone), API keys, callback endpoints and templates are
/// deleted, and the tenant reads as `deleting`. Then, in the background, every other item
/// it owns (contacts, messages, logs) is erased, and last the tenant itself: reading it
/// answers 404 from then on. Asking again restarts the erasure.
#[utoipa::path(delete, path = "/admin/v1/tenants/{tenant_id}", tag = "tenants",
    params(("tenant_id" = String, Path, description = "The tenant's id")),
    responses(
        (status = 202, description = "Cut off; its data is being erased", body = TenantView),
        KeyedRouteErrors,
    ),
    security(("bearer" = ["operator"])))]
pub async fn delete_tenant(
    State(state): State<Arc<AdminState>>,
    // The tenant first: another tenant's key is told it does not exist.
    TenantPath { id, .. }: TenantPath,
    _operator: Operator,
) -> Result<(StatusCode, Json<TenantView>), ApiError> {
    let deletion = &state.deletion;
    let tenant = deletion
        .eraser
        .start(&id, unix_now(), deletion.delay)
        .await?
        .ok_or(ApiError::NotFound("tenant"))?;
    Ok((StatusCode::ACCEPTED, Json(TenantView::from(&tenant))))
}
