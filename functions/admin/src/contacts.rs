//! `/admin/v1/tenants/{tenant_id}/contacts/{contact_id}`: correcting a contact's details at
//! the person's request, by a tenant's admin key or the operator (the business API's
//! `PATCH /v1/contacts/{contact_id}` does the same for the tenant's own systems).

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use wagate_messaging::domain::contact::UpdateContact;
use wagate_messaging::domain::message_id::is_contact_id;
use wagate_messaging::views::contact::ContactView;

use crate::state::{AdminState, AdministeredTenant};
use http_api::error::{ApiError, JsonBodyErrors, KeyedRouteErrors};
use http_api::extract::JsonBody;
use http_api::unix_now;

/// Corrects what the tenant records about a contact (name, email, attributes): fields left
/// out stay, `null` removes one, `attributes` replaces them all. The phone and BSUID are
/// the person's own: they change when the person's number does (Meta tells), not here.
#[utoipa::path(patch, path = "/admin/v1/tenants/{tenant_id}/contacts/{contact_id}", tag = "contacts",
    params(
        ("tenant_id" = String, Path, description = "The tenant's id"),
        ("contact_id" = String, Path, description = "The contact's id"),
    ),
    request_body = UpdateContact,
    responses(
        (status = 200, description = "The contact as it is now", body = ContactView),
        JsonBodyErrors,
        KeyedRouteErrors,
    ),
    security(("bearer" = ["tenant_admin"])))]
pub async fn correct_contact(
    State(state): State<Arc<AdminState>>,
    AdministeredTenant { tenant, .. }: AdministeredTenant,
    Path((_, contact_id)): Path<(String, String)>,
    JsonBody(body): JsonBody<UpdateContact>,
) -> Result<Json<ContactView>, ApiError> {
    if !is_contact_id(&contact_id) {
        return Err(ApiError::NotFound("contact"));
    }
    let change = body.into_change();
    change
        .validate()
        .map_err(|e| ApiError::invalid(&e.field, e.problem))?;
    let contact = state
        .personal_data
        .contacts
        .change(&tenant, &contact_id, &change, unix_now())
        .await?
        .ok_or(ApiError::NotFound("contact"))?;
    Ok(Json(contact.into()))
}
