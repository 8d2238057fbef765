//! `/admin/v1/tenants/{tenant_id}/exports`: a copy of everything the tenant holds about one
//! person (a tenant's admin key for its own tenant, or the operator).

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use wagate_messaging::domain::export::{ExportRequest, PersonExport, is_export_id};

use crate::erasures::RequestsQuery;
use crate::state::{AdminState, AdministeredTenant, TenantPath};
use http_api::cursor;
use http_api::error::{ApiError, ErrorBody, JsonBodyErrors, KeyedRouteErrors};
use http_api::extract::{JsonBody, QueryParams};
use http_api::unix_now;
use serde::Serialize;
use utoipa::ToSchema;

/// Exports what the tenant holds about one person as one JSON document (schema
/// `wagate.person-export/1`: their contacts, every message with its content, type,
/// direction, times and status history, the callback deliveries about them) and, with
/// `"csv": true`, a CSV of the messages. Give either `phone` or `bsuid`. The files are kept
/// encrypted for 7 days; a person who was never a contact gets a document without contacts.
#[utoipa::path(post, path = "/admin/v1/tenants/{tenant_id}/exports", tag = "exports",
    params(("tenant_id" = String, Path, description = "The tenant's id")),
    request_body = ExportRequest,
    responses(
        (status = 202, description = "The export runs in the background", body = PersonExport),
        JsonBodyErrors,
        KeyedRouteErrors,
    ),
    security(("bearer" = ["tenant_admin"])))]
pub async fn create_export(
    State(state): State<Arc<AdminState>>,
    AdministeredTenant { id, caller, .. }: AdministeredTenant,
    JsonBody(body): JsonBody<ExportRequest>,
) -> Result<(StatusCode, Json<PersonExport>), ApiError> {
    let person = body.person()?;
    let export = state
        .personal_data
        .exports
        .request(&id, &person, body.csv, &caller.reference(), unix_now())
        .await?;
    Ok((StatusCode::ACCEPTED, Json(export)))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ExportsPage {
    /// Newest first, without links (an export's own GET makes them). None names a person.
    pub exports: Vec<PersonExport>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// The tenant's exports, newest first, with their states and counts: the register of
/// access requests. None names a person.
#[utoipa::path(get, path = "/admin/v1/tenants/{tenant_id}/exports", tag = "exports",
    params(("tenant_id" = String, Path, description = "The tenant's id"), RequestsQuery),
    responses(
        (status = 200, description = "A page of the tenant's exports", body = ExportsPage),
        (status = 400, description = "A limit or cursor that is not valid", body = ErrorBody),
        KeyedRouteErrors,
    ),
    security(("bearer" = ["tenant_admin"])))]
pub async fn list_exports(
    State(state): State<Arc<AdminState>>,
    TenantPath { id, .. }: TenantPath,
    QueryParams(query): QueryParams<RequestsQuery>,
) -> Result<Json<ExportsPage>, ApiError> {
    let limit = http_api::extract::page_limit(query.limit)?;
    let scope = cursor::scope(&[id.as_str(), "exports"]);
    let after = cursor::open(&state.cursors, &scope, query.cursor.as_deref()).await?;
    let (exports, next) = state
        .personal_data
        .exports
        .list(&id, limit, after.as_ref(), unix_now())
        .await?;
    Ok(Json(ExportsPage {
        exports,
        next_cursor: cursor::seal(&state.cursors, &scope, next.as_ref()).await?,
    }))
}

/// An export's state; once `done`, links to its files valid for an hour at most.
#[utoipa::path(get, path = "/admin/v1/tenants/{tenant_id}/exports/{export_id}", tag = "exports",
    params(
        ("tenant_id" = String, Path, description = "The tenant's id"),
        ("export_id" = String, Path, description = "The export's id"),
    ),
    responses(
        (status = 200, description = "The export", body = PersonExport),
        KeyedRouteErrors,
    ),
    security(("bearer" = ["tenant_admin"])))]
pub async fn get_export(
    State(state): State<Arc<AdminState>>,
    TenantPath { id, .. }: TenantPath,
    Path((_, export_id)): Path<(String, String)>,
) -> Result<Json<PersonExport>, ApiError> {
    if !is_export_id(&export_id) {
        return Err(ApiError::NotFound("export"));
    }
    let export = state
        .personal_data
        .exports
        .status(&id, &export_id, unix_now())
        .await?
        .ok_or(ApiError::NotFound("export"))?;
    Ok(Json(export))
}
