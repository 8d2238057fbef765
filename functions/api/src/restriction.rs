//! A person's restriction of processing (GDPR art. 18): `POST /v1/contacts/{id}/restriction`
//! keeps their data but stops every processing of it (no sends, no callbacks, no
//! automation); `DELETE` lifts it. What they write meanwhile is stored, or dropped when
//! the business says so.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use serde::Deserialize;
use utoipa::ToSchema;
use wagate_messaging::access::needs;
use wagate_messaging::domain::contact::Restriction;
use wagate_messaging::domain::message_id::is_contact_id;

use crate::contacts::ContactView;
use crate::state::{Allowed, BusinessState};
use http_api::error::{ApiError, JsonBodyErrors, KeyedRouteErrors};
use http_api::extract::JsonBody;
use http_api::unix_now;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RestrictProcessing {
    /// Whether what the person writes while restricted is stored (the default) or
    /// dropped on arrival.
    #[serde(default = "keep")]
    pub keep_inbound: bool,
}

fn keep() -> bool {
    true
}

#[utoipa::path(post, path = "/v1/contacts/{contact_id}/restriction", tag = "contacts",
    params(("contact_id" = String, Path, description = "The contact's id")),
    request_body = RestrictProcessing,
    responses(
        (status = 200, description = "Restricted (again: the first time stands); the contact as it is now", body = ContactView),
        JsonBodyErrors,
        KeyedRouteErrors,
    ),
    security(("bearer" = ["contacts"])))]
pub async fn restrict(
    State(state): State<Arc<BusinessState>>,
    key: Allowed<needs::Contacts>,
    Path(contact_id): Path<String>,
    JsonBody(body): JsonBody<RestrictProcessing>,
) -> Result<Json<ContactView>, ApiError> {
    let now = unix_now();
    let restriction = Restriction {
        since: now,
        keep_inbound: body.keep_inbound,
    };
    set(&state, &key, &contact_id, Some(&restriction), now).await
}

#[utoipa::path(delete, path = "/v1/contacts/{contact_id}/restriction", tag = "contacts",
    params(("contact_id" = String, Path, description = "The contact's id")),
    responses(
        (status = 200, description = "Lifted; the contact as it is now", body = ContactView),
        KeyedRouteErrors,
    ),
    security(("bearer" = ["contacts"])))]
pub async fn lift(
    State(state): State<Arc<BusinessState>>,
    key: Allowed<needs::Contacts>,
    Path(contact_id): Path<String>,
) -> Result<Json<ContactView>, ApiError> {
    set(&state, &key, &contact_id, None, unix_now()).await
}

async fn set(
    state: &BusinessState,
    key: &Allowed<needs::Contacts>,
    contact_id: &str,
    restriction: Option<&Restriction>,
    now: i64,
) -> Result<Json<ContactView>, ApiError> {
    if !is_contact_id(contact_id) {
        return Err(ApiError::NotFound("contact"));
    }
    let contact = state
        .contacts
        .set_restriction(&key.0.tenant_id, contact_id, restriction, now)
        .await?
        .ok_or(ApiError::NotFound("contact"))?;
    tracing::info!(tenant = %key.0.tenant_id, restricted = restriction.is_some(), "processing restriction changed");
    Ok(Json(contact.into()))
}
