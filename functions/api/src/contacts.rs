//! Contacts: create, read, list by name, find by phone, BSUID or the start of a name, and
//! update what the business records about them (name, email, custom attributes).

use std::collections::BTreeMap;
use std::sync::Arc;
use wagate_messaging::tenants::Tenants;

use axum::Json;
use axum::extract::{Path, State};
use http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use wagate_messaging::access::needs;
use wagate_messaging::domain::contact::{DetailsChange, DetailsError, UpdateContact};
use wagate_messaging::domain::identity::{Bsuid, Phone, UserIdentity};
use wagate_messaging::domain::message_id::is_contact_id;
use wagate_messaging::domain::tenant::Tenant;
use wagate_messaging::store::contact::index::searchable_name;

pub use wagate_messaging::views::contact::ContactView;

use crate::state::{Allowed, BusinessState};
use http_api::cursor;
use http_api::error::{ApiError, ErrorBody, JsonBodyErrors, KeyedRouteErrors};
use http_api::extract::{JsonBody, QueryParams};
use http_api::unix_now;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateContact {
    /// A phone number in international form; this and/or `bsuid`.
    #[serde(default)]
    pub phone: Option<String>,
    /// A business-scoped user id.
    #[serde(default)]
    pub bsuid: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    /// Up to 50 keys (letters, digits, `_-.`) with text values.
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FindContact {
    /// The contact with this phone number (international form), if there is one.
    #[serde(default)]
    pub phone: Option<String>,
    /// The contact with this business-scoped user id, if there is one.
    #[serde(default)]
    pub bsuid: Option<String>,
    /// Contacts whose name starts with this (case and spacing aside): the name the business
    /// gave, else the user's WhatsApp profile name. Not with `phone` or `bsuid`. A page may
    /// hold fewer than `limit`, even none, while `next_cursor` says more may follow.
    #[serde(default)]
    pub name: Option<String>,
    /// Contacts per page, 1 to 100 (default 50), when listing or searching by name.
    #[serde(default)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    #[serde(default)]
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ContactList {
    pub contacts: Vec<ContactView>,
    /// Pass as `cursor` for the next page; absent on the last.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

#[utoipa::path(post, path = "/v1/contacts", tag = "contacts",
    request_body = CreateContact,
    responses(
        (status = 201, description = "Created", body = ContactView),
        JsonBodyErrors,
        (status = 409, description = "A contact with this phone or BSUID exists; the message names it", body = ErrorBody),
        KeyedRouteErrors,
    ),
    security(("bearer" = ["contacts"])))]
pub async fn create_contact(
    State(state): State<Arc<BusinessState>>,
    key: Allowed<needs::Contacts>,
    JsonBody(body): JsonBody<CreateContact>,
) -> Result<(StatusCode, Json<ContactView>), ApiError> {
    let identity = identity(body.phone.as_deref(), body.bsuid.as_deref())?
        .ok_or_else(|| ApiError::invalid("phone", "a phone number or a bsuid is required"))?;
    let change = DetailsChange {
        name: body.name.map(Some),
        email: body.email.map(Some),
        attributes: (!body.attributes.is_empty()).then_some(body.attributes),
    };
    change.validate().map_err(refused)?;
    let tenant = tenant(&state, &key).await?;
    let contact = state
        .contacts
        .create(&tenant, &identity, &change, unix_now())
        .await?;
    Ok((StatusCode::CREATED, Json(contact.into())))
}

#[utoipa::path(get, path = "/v1/contacts", tag = "contacts",
    params(FindContact),
    responses(
        (status = 200, description = "The contact with this phone or BSUID, if there is one; else the contacts (in an order that says nothing about names), in pages", body = ContactList),
        (status = 400, description = "A phone, BSUID, name, limit or cursor that is not valid, or name with phone or bsuid", body = ErrorBody),
        KeyedRouteErrors,
    ),
    security(("bearer" = ["converse"])))]
pub async fn list_contacts(
    State(state): State<Arc<BusinessState>>,
    key: Allowed<needs::Converse>,
    QueryParams(query): QueryParams<FindContact>,
) -> Result<Json<ContactList>, ApiError> {
    let now = unix_now();
    if let Some(identity) = identity(query.phone.as_deref(), query.bsuid.as_deref())? {
        if query.name.is_some() {
            return Err(ApiError::invalid(
                "name",
                "search by phone or bsuid, or by name, not both",
            ));
        }
        let found = state
            .contacts
            .find(&key.0.tenant_id, &identity, now)
            .await?;
        return Ok(Json(ContactList {
            contacts: found.into_iter().map(ContactView::from).collect(),
            next_cursor: None,
        }));
    }
    let prefix = query
        .name
        .as_deref()
        .map(|name| {
            let searched = searchable_name(name);
            if searched.is_empty() || name.chars().count() > MAX_SEARCHED_NAME_CHARS {
                Err(ApiError::invalid(
                    "name",
                    format!("give 1 to {MAX_SEARCHED_NAME_CHARS} characters"),
                ))
            } else {
                Ok(searched)
            }
        })
        .transpose()?;
    let limit = http_api::extract::page_limit(query.limit)?;
    let searched = prefix
        .as_deref()
        .map_or(String::new(), |p| format!("name:{p}"));
    let scope = cursor::scope(&[key.0.tenant_id.as_str(), "contacts", &searched]);
    let after = cursor::open(&state.cursors, &scope, query.cursor.as_deref()).await?;
    let page = state
        .contacts
        .list(
            &key.0.tenant_id,
            prefix.as_deref(),
            after.as_ref(),
            limit,
            now,
        )
        .await?;
    Ok(Json(ContactList {
        contacts: page.contacts.into_iter().map(ContactView::from).collect(),
        next_cursor: cursor::seal(&state.cursors, &scope, page.next.as_ref()).await?,
    }))
}

const MAX_SEARCHED_NAME_CHARS: usize = 200;

#[utoipa::path(get, path = "/v1/contacts/{contact_id}", tag = "contacts",
    params(("contact_id" = String, Path, description = "The contact's id")),
    responses(
        (status = 200, description = "The contact", body = ContactView),
        KeyedRouteErrors,
    ),
    security(("bearer" = ["converse"])))]
pub async fn get_contact(
    State(state): State<Arc<BusinessState>>,
    key: Allowed<needs::Converse>,
    Path(contact_id): Path<String>,
) -> Result<Json<ContactView>, ApiError> {
    if !is_contact_id(&contact_id) {
        return Err(ApiError::NotFound("contact"));
    }
    let contact = state
        .contacts
        .get(&key.0.tenant_id, &contact_id, unix_now())
        .await?
        .ok_or(ApiError::NotFound("contact"))?;
    Ok(Json(contact.into()))
}

#[utoipa::path(patch, path = "/v1/contacts/{contact_id}", tag = "contacts",
    params(("contact_id" = String, Path, description = "The contact's id")),
    request_body = UpdateContact,
    responses(
        (status = 200, description = "The contact as it is now", body = ContactView),
        JsonBodyErrors,
        KeyedRouteErrors,
    ),
    security(("bearer" = ["contacts"])))]
pub async fn update_contact(
    State(state): State<Arc<BusinessState>>,
    key: Allowed<needs::Contacts>,
    Path(contact_id): Path<String>,
    JsonBody(body): JsonBody<UpdateContact>,
) -> Result<Json<ContactView>, ApiError> {
    if !is_contact_id(&contact_id) {
        return Err(ApiError::NotFound("contact"));
    }
    let change = body.into_change();
    change.validate().map_err(refused)?;
    let tenant = tenant(&state, &key).await?;
    let contact = state
        .contacts
        .change(&tenant, &contact_id, &change, unix_now())
        .await?
        .ok_or(ApiError::NotFound("contact"))?;
    Ok(Json(contact.into()))
}

/// The key's tenant, as the API's cache holds it.
pub(super) async fn tenant<N>(state: &BusinessState, key: &Allowed<N>) -> Result<Tenant, ApiError> {
    state
        .tenants
        .tenant(&key.0.tenant_id)
        .await?
        .ok_or(ApiError::Unauthenticated(
            wagate_messaging::access::AuthError::Unknown,
        ))
}

/// A phone and/or a BSUID, each checked; `None` when neither was given.
fn identity(phone: Option<&str>, bsuid: Option<&str>) -> Result<Option<UserIdentity>, ApiError> {
    let phone = phone
        .map(|p| Phone::parse(p).map_err(|e| ApiError::invalid("phone", e.to_string())))
        .transpose()?;
    let bsuid = bsuid
        .map(|b| Bsuid::parse(b).map_err(|e| ApiError::invalid("bsuid", e.to_string())))
        .transpose()?;
    Ok((phone.is_some() || bsuid.is_some()).then_some(UserIdentity { phone, bsuid }))
}

fn refused(e: DetailsError) -> ApiError {
    ApiError::invalid(&e.field, e.problem)
}
