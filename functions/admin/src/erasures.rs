//! `/admin/v1/tenants/{tenant_id}/erasures`: erasing one person of a tenant at their
//! request (a tenant's admin key for its own tenant, or the operator), and
//! `/admin/v1/erasure-receipts/verify`: checking a receipt's signature.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use wagate_messaging::domain::erasure::{
    ErasureReceipt, PersonErasure, PersonRequest, SignedReceipt, is_erasure_id,
};
use wagate_messaging::domain::tenant::TenantId;

use crate::state::{AdminState, AdministeredTenant, Administrator, TenantPath};
use http_api::cursor;
use http_api::error::{ApiError, ErrorBody, JsonBodyErrors, KeyedRouteErrors};
use http_api::extract::{JsonBody, QueryParams};
use http_api::unix_now;

#[derive(Debug, Serialize, ToSchema)]
pub struct ReceiptCheck {
    /// True when this deployment's key signed exactly this receipt.
    pub valid: bool,
    /// When a `phone` or `bsuid` was given: whether the receipt covers that person (its
    /// `subject` is the keyed digest of that identifier). Version 1 receipts name no one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub covers: Option<bool>,
}

/// A signed receipt as an erasure gave it, and optionally the person it should cover: the
/// business can show someone that a receipt is theirs without the receipt naming them.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReceiptToVerify {
    pub receipt: ErasureReceipt,
    pub signature: String,
    pub algorithm: String,
    pub key_id: String,
    /// The person's phone number, to check that the receipt covers them.
    #[serde(default)]
    pub phone: Option<String>,
    /// Or their BSUID.
    #[serde(default)]
    pub bsuid: Option<String>,
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
    security(("bearer" = ["tenant_admin"])))]
pub async fn create_erasure(
    State(state): State<Arc<AdminState>>,
    AdministeredTenant { id, caller, .. }: AdministeredTenant,
    JsonBody(body): JsonBody<PersonRequest>,
) -> Result<(StatusCode, Json<PersonErasure>), ApiError> {
    let person = body.person()?;
    let erasure = state
        .personal_data
        .erasures
        .request(&id, &person, &caller.reference(), unix_now())
        .await?;
    Ok((StatusCode::ACCEPTED, Json(erasure)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RequestsQuery {
    /// Requests per page, 1 to 100 (default 50).
    #[serde(default)]
    pub limit: Option<u32>,
    #[serde(default)]
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErasuresPage {
    /// Newest first. None names a person.
    pub erasures: Vec<PersonErasure>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// The tenant's erasures, newest first, with their states, counts and receipts: the
/// register of erasure requests. None names a person.
#[utoipa::path(get, path = "/admin/v1/tenants/{tenant_id}/erasures", tag = "erasures",
    params(("tenant_id" = String, Path, description = "The tenant's id"), RequestsQuery),
    responses(
        (status = 200, description = "A page of the tenant's erasures", body = ErasuresPage),
        (status = 400, description = "A limit or cursor that is not valid", body = ErrorBody),
        KeyedRouteErrors,
    ),
    security(("bearer" = ["tenant_admin"])))]
pub async fn list_erasures(
    State(state): State<Arc<AdminState>>,
    TenantPath { id, .. }: TenantPath,
    QueryParams(query): QueryParams<RequestsQuery>,
) -> Result<Json<ErasuresPage>, ApiError> {
    let limit = http_api::extract::page_limit(query.limit)?;
    let scope = cursor::scope(&[id.as_str(), "erasures"]);
    let after = cursor::open(&state.cursors, &scope, query.cursor.as_deref()).await?;
    let (erasures, next) = state
        .personal_data
        .erasures
        .list(&id, limit, after.as_ref(), unix_now())
        .await?;
    Ok(Json(ErasuresPage {
        erasures,
        next_cursor: cursor::seal(&state.cursors, &scope, next.as_ref()).await?,
    }))
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
    security(("bearer" = ["tenant_admin"])))]
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

/// Checks an erasure receipt: whether this deployment signed exactly it, and, given the
/// person's `phone` or `bsuid`, whether it covers them. A tenant's admin key checks its
/// own tenant's receipts.
#[utoipa::path(post, path = "/admin/v1/erasure-receipts/verify", tag = "erasures",
    request_body = ReceiptToVerify,
    responses(
        (status = 200, description = "Whether the receipt is genuine", body = ReceiptCheck),
        JsonBodyErrors,
        KeyedRouteErrors,
    ),
    security(("bearer" = ["tenant_admin"])))]
pub async fn verify_receipt(
    State(state): State<Arc<AdminState>>,
    Administrator(caller): Administrator,
    JsonBody(body): JsonBody<ReceiptToVerify>,
) -> Result<Json<ReceiptCheck>, ApiError> {
    let tenant = TenantId::parse(&body.receipt.tenant_id)
        .map_err(|_| ApiError::invalid("receipt.tenant_id", "not a tenant id"))?;
    caller.require_tenant_admin(&tenant)?;
    let person = match (&body.phone, &body.bsuid) {
        (None, None) => None,
        (phone, bsuid) => Some(
            PersonRequest {
                phone: phone.clone(),
                bsuid: bsuid.clone(),
            }
            .person()?,
        ),
    };
    let signed = SignedReceipt {
        receipt: body.receipt,
        signature: body.signature,
        algorithm: body.algorithm,
        key_id: body.key_id,
    };
    let erasures = &state.personal_data.erasures;
    let valid = erasures.verify(&signed).await?;
    let covers = match &person {
        Some(person) => Some(valid && erasures.covers(&signed.receipt, person).await?),
        None => None,
    };
    Ok(Json(ReceiptCheck { valid, covers }))
}
