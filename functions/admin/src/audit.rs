//! The audit log through the admin API: a tenant's chain (`/admin/v1/tenants/{t}/audit`,
//! the tenant's admin keys or the operator) and the operator's own (`/admin/v1/audit`,
//! the operator only), listed newest first with filters, and walked to find the first
//! broken link.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use wagate_audit::ChainReport;
use wagate_audit::store::audit::AuditFilter;
use wagate_messaging::domain::audit::{AuditEntry, OPERATOR_CHAIN};

use crate::state::{AdminState, Operator, TenantPath};
use http_api::cursor;
use http_api::error::{ApiError, ErrorBody, KeyedRouteErrors};
use http_api::extract::QueryParams;
use http_api::unix_now;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Entries per page, 1 to 100 (default 50).
    #[serde(default)]
    pub limit: Option<u32>,
    #[serde(default)]
    pub cursor: Option<String>,
    /// Only this action, e.g. `PUT /admin/v1/tenants/{tenant_id}/retention`.
    #[serde(default)]
    pub action: Option<String>,
    /// Only this caller: `key:<id>` or `operator`.
    #[serde(default)]
    pub actor: Option<String>,
    /// Only entries at or after this time (epoch seconds).
    #[serde(default)]
    pub since: Option<i64>,
    /// Only entries at or before this time (epoch seconds).
    #[serde(default)]
    pub until: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditPageView {
    /// Newest first. A filtered page may hold fewer than `limit` while `next_cursor`
    /// remains.
    pub entries: Vec<AuditEntry>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// Filters no longer than this; a longer one matches nothing anyway.
const MAX_FILTER_CHARS: usize = 300;

#[utoipa::path(get, path = "/admin/v1/tenants/{tenant_id}/audit", tag = "audit",
    params(("tenant_id" = String, Path, description = "The tenant's id"), AuditQuery),
    responses(
        (status = 200, description = "The tenant's audit log, newest first", body = AuditPageView),
        (status = 400, description = "A limit, cursor or filter that is not valid", body = ErrorBody),
        KeyedRouteErrors,
    ),
    security(("bearer" = ["tenant_admin"])))]
pub async fn list_tenant_audit(
    State(state): State<Arc<AdminState>>,
    TenantPath { id, .. }: TenantPath,
    QueryParams(query): QueryParams<AuditQuery>,
) -> Result<Json<AuditPageView>, ApiError> {
    list(&state, id.as_str(), query).await.map(Json)
}

#[utoipa::path(post, path = "/admin/v1/tenants/{tenant_id}/audit/verify", tag = "audit",
    params(("tenant_id" = String, Path, description = "The tenant's id")),
    responses(
        (status = 200, description = "The walk of the chain against its signed checkpoints: valid, or where it first breaks", body = ChainReport),
        KeyedRouteErrors,
    ),
    security(("bearer" = ["tenant_admin"])))]
pub async fn verify_tenant_audit(
    State(state): State<Arc<AdminState>>,
    TenantPath { id, .. }: TenantPath,
) -> Result<Json<ChainReport>, ApiError> {
    Ok(Json(state.audit.verify(id.as_str(), unix_now()).await?))
}

#[utoipa::path(get, path = "/admin/v1/audit", tag = "audit",
    params(AuditQuery),
    responses(
        (status = 200, description = "The operator's audit log (tenants made and deleted, WABAs shared, maintenance), newest first", body = AuditPageView),
        (status = 400, description = "A limit, cursor or filter that is not valid", body = ErrorBody),
        KeyedRouteErrors,
    ),
    security(("bearer" = ["operator"])))]
pub async fn list_operator_audit(
    State(state): State<Arc<AdminState>>,
    _operator: Operator,
    QueryParams(query): QueryParams<AuditQuery>,
) -> Result<Json<AuditPageView>, ApiError> {
    list(&state, OPERATOR_CHAIN, query).await.map(Json)
}

#[utoipa::path(post, path = "/admin/v1/audit/verify", tag = "audit",
    responses(
        (status = 200, description = "The walk of the operator's chain", body = ChainReport),
        KeyedRouteErrors,
    ),
    security(("bearer" = ["operator"])))]
pub async fn verify_operator_audit(
    State(state): State<Arc<AdminState>>,
    _operator: Operator,
) -> Result<Json<ChainReport>, ApiError> {
    Ok(Json(state.audit.verify(OPERATOR_CHAIN, unix_now()).await?))
}

async fn list(
    state: &AdminState,
    chain: &str,
    query: AuditQuery,
) -> Result<AuditPageView, ApiError> {
    let limit = http_api::extract::page_limit(query.limit)?;
    for (field, value) in [("action", &query.action), ("actor", &query.actor)] {
        if value
            .as_ref()
            .is_some_and(|v| v.is_empty() || v.len() > MAX_FILTER_CHARS)
        {
            return Err(ApiError::invalid(
                field,
                format!("must be 1 to {MAX_FILTER_CHARS} characters"),
            ));
        }
    }
    if let (Some(since), Some(until)) = (query.since, query.until)
        && since > until
    {
        return Err(ApiError::invalid("since", "must not be after until"));
    }
    let filter = AuditFilter {
        action: query.action.as_deref(),
        actor: query.actor.as_deref(),
        since: query.since,
        until: query.until,
    };
    let scope = cursor::scope(&[
        chain,
        "audit",
        filter.action.unwrap_or(""),
        filter.actor.unwrap_or(""),
        &filter.since.map(|s| s.to_string()).unwrap_or_default(),
        &filter.until.map(|u| u.to_string()).unwrap_or_default(),
    ]);
    let after = cursor::open(&state.cursors, &scope, query.cursor.as_deref()).await?;
    let page = state
        .audit
        .entries(chain, &filter, limit, after.as_ref(), unix_now())
        .await?;
    Ok(AuditPageView {
        entries: page.entries,
        next_cursor: cursor::seal(&state.cursors, &scope, page.next.as_ref()).await?,
    })
}
