//! `/admin/v1/tenants/{tenant_id}/erasures`: erasing one person of a tenant at their
//! request (a tenant's admin key for its own tenant, or the operator), and
//! `/admin/v1/erasure-receipts/verify`: checking a receipt's signature.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Serialize;
use utoipa::ToSchema;
use wagate_shared::domain::erasure::{PersonErasure, PersonRequest, SignedReceipt, is_erasure_id};
use wagate_shared::domain::tenant::TenantId;

use crate::state::{AdminState, AdministeredTenant, Caller, TenantPath};
use http_api::error::{ApiError, JsonBodyErrors, KeyedRouteErrors};
use http_api::extract::JsonBody;
use http_api::unix_now;

#[derive(Debug, Serialize, ToSchema)]
pub struct ReceiptCheck {
    /// True when this deployment's key signed exactly this receipt.
    pub valid: bool,
}

/// Erases everything about one person in the tenant: their data keys first (every copy of
/// their data, backups included, stops opening), then their contacts, messages, delivery
/// states, idempotency records, callback deliveries and the events that name them. Give
/// either `phone` or `bsuid`. A person who was never a contact makes an erasure that ends
/// `done` with zero counts.
#[utoipa::path(post, path = "/admin/v1/tenants/{tenant_id}/erasures", tag = "erasures",
    params(("tenant_id" = String, Path, description = "The tenant's id")),
    request_body = PersonRequest,
    responses(
        (status = 202, description = "The erasure runs in the background", body = PersonErasure),
        JsonBodyErrors,
        KeyedRouteErrors,
    ),
    security(("bearer" = [])))]
pub async fn create_erasure(
    State(state): State<Arc<AdminState>>,
    AdministeredTenant { id, caller, .. }: AdministeredTenant,
    JsonBody(body): JsonBody<PersonRequest>,
) -> Result<(StatusCode, Json<PersonErasure>), ApiError> {
    let person = body.person()?;
    let erasure = state
        .personal_data
        .erasures
        .request(&id, &person, &caller.key_id(), unix_now())
        .await?;
    Ok((StatusCode::ACCEPTED, Json(erasure)))
}

/// An erasure's state and counts, and its receipt once done.
#[utoipa::path(get, path = "/admin/v1/tenants/{tenant_id}/erasures/{erasure_id}", tag = "erasures",
    params(
        ("tenant_id" = String, Path, description = "The tenant's id"),
        ("erasure_id" = String, Path, description = "The erasure's id"),
    ),
    responses(
        (status = 200, description = "The erasure", body = PersonErasure),
        KeyedRouteErrors,
    ),
    security(("bearer" = [])))]
pub async fn get_erasure(
    State(state): State<Arc<AdminState>>,
    TenantPath { id, .. }: TenantPath,
    Path((_, erasure_id)): Path<(String, String)>,
) -> Result<Json<PersonErasure>, ApiError> {
    if !is_erasure_id(&erasure_id) {
        return Err(ApiError::NotFound("erasure"));
    }
    let erasure = state
        .personal_data
        .erasures
        .status(&id, &erasure_id, unix_now())
        .await?
        .ok_or(ApiError::NotFound("erasure"))?;
    Ok(Json(erasure))
}

/// Checks an erasure receipt: whether this deployment signed exactly it. A tenant's admin
/// key checks its own tenant's receipts.
#[utoipa::path(post, path = "/admin/v1/erasure-receipts/verify", tag = "erasures",
    request_body = SignedReceipt,
    responses(
        (status = 200, description = "Whether the receipt is genuine", body = ReceiptCheck),
        JsonBodyErrors,
        KeyedRouteErrors,
    ),
    security(("bearer" = [])))]
pub async fn verify_receipt(
    State(state): State<Arc<AdminState>>,
    caller: Caller,
    JsonBody(receipt): JsonBody<SignedReceipt>,
) -> Result<Json<ReceiptCheck>, ApiError> {
    let tenant = TenantId::parse(&receipt.receipt.tenant_id)
        .map_err(|_| ApiError::invalid("receipt.tenant_id", "not a tenant id"))?;
    caller.require_tenant_admin(&tenant)?;
    let valid = state.personal_data.erasures.verify(&receipt).await?;
    Ok(Json(ReceiptCheck { valid }))
}
