//! `POST /v1/contacts/import`: contacts in bulk, as JSON or CSV, with a report of every row
//! that was left out and why.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use http::HeaderMap;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use wagate_messaging::access::needs;
use wagate_messaging::contact_import::rows::{ImportFormatError, ReadRows, read_csv, read_json};
use wagate_messaging::domain::consent::{Action, Scope};

use crate::state::{Allowed, BusinessState};
use http_api::error::{ApiError, ErrorBody, KeyedRouteErrors};
use http_api::extract::{body_error, media_type};
use http_api::unix_now;

/// An import's body: within a Lambda Function URL's 6 MB, room for 20,000 rows.
pub const MAX_IMPORT_BYTES: usize = 6 * 1024 * 1024 - 64 * 1024;

/// The JSON form of an import (CSV: a header row of `phone`, `bsuid`, `name`, `email`,
/// `attributes.<key>`, `consent.marketing`, `consent.all`, then one contact per row).
///
/// Described for the OpenAPI document only: the handler reads the rows one by one, so that
/// a bad row is reported rather than refusing the others.
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub struct ContactImport {
    /// Up to 20,000 contacts, each as in `POST /v1/contacts`, with their consent.
    contacts: Vec<ImportedContact>,
}

/// A contact of an import.
#[derive(Debug, Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct ImportedContact {
    #[serde(flatten)]
    contact: crate::contacts::CreateContact,
    /// Per scope (`marketing`, `all`): `opt_in` or `opt_out`, recorded in the contact's
    /// consent ledger with source `import` and the key's id as evidence.
    #[serde(default)]
    consent: Option<BTreeMap<Scope, Action>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ImportReportView {
    /// Data rows read.
    pub rows: usize,
    pub created: usize,
    /// Rows that matched an existing contact by phone or BSUID and set its details.
    pub updated: usize,
    pub rejected: Vec<RejectedRow>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RejectedRow {
    /// 1-based, among the data rows (a CSV's header is not counted).
    pub row: usize,
    pub field: String,
    pub message: String,
}

#[utoipa::path(post, path = "/v1/contacts/import", tag = "contacts",
    request_body(content(
        (ContactImport = "application/json"),
        (String = "text/csv"),
    )),
    responses(
        (status = 200, description = "Imported; the report lists each row left out", body = ImportReportView),
        (status = 400, description = "Not readable as an import (an unknown column or field, too many rows); nothing was written", body = ErrorBody),
        (status = 413, description = "The body is larger than 6 MB", body = ErrorBody),
        (status = 415, description = "Neither application/json nor text/csv", body = ErrorBody),
        KeyedRouteErrors,
    ),
    security(("bearer" = ["contacts"])))]
pub async fn import(
    State(state): State<Arc<BusinessState>>,
    key: Allowed<needs::Contacts>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<ImportReportView>, ApiError> {
    let read = read_body(&headers, body)?;
    let tenant = crate::contacts::tenant(&state, &key).await?;
    let report = state
        .contacts
        .import(&tenant, read, &key.0.actor.reference(), unix_now())
        .await?;
    tracing::info!(tenant = %tenant.id, rows = report.rows, created = report.created, updated = report.updated, rejected = report.rejected.len(), "contacts imported");
    Ok(Json(ImportReportView {
        rows: report.rows,
        created: report.created,
        updated: report.updated,
        rejected: report
            .rejected
            .into_iter()
            .map(|e| RejectedRow {
                row: e.row,
                field: e.field,
                message: e.message,
            })
            .collect(),
    }))
}

fn read_body(
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<ReadRows, ApiError> {
    let is_csv = match media_type(headers).as_deref() {
        Some("application/json") => false,
        Some("text/csv") => true,
        _ => {
            return Err(ApiError::UnsupportedMediaType(
                "send the import as application/json or text/csv",
            ));
        }
    };
    let bytes = body.map_err(|e| body_error(e, MAX_IMPORT_BYTES))?;
    let read = if is_csv {
        read_csv(&bytes)
    } else {
        let value: serde_json::Value =
            serde_json::from_slice(&bytes).map_err(|e| ApiError::Invalid {
                field: None,
                message: format!("the body is not valid JSON: {e}"),
            })?;
        read_json(&value)
    };
    read.map_err(|ImportFormatError { field, message }| ApiError::Invalid {
        field: Some(field),
        message,
    })
}
