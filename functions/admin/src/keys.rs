//! `/admin/v1/tenants/{tenant_id}/keys`: API keys of a tenant. The secret is shown once,
//! at creation; listings show the identifying prefix only. A revoked key stops working on
//! every container within seconds (the key cache's lifetime).

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use wagate_messaging::access::{ApiKeyRecord, Role};

use crate::state::{AdminState, AdministeredTenant};
use http_api::error::{ApiError, ErrorBody, JsonBodyErrors, KeyedRouteErrors};
use http_api::extract::JsonBody;
use http_api::unix_now;

const MAX_KEY_NAME_CHARS: usize = 100;
/// Keys may be made to expire up to ten years ahead; further is a typo.
const MAX_LIFETIME_SECS: i64 = 10 * 365 * 86_400;
/// More keys than this per tenant is a leak waiting to happen, not a use case.
const MAX_KEYS_PER_TENANT: usize = 1_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum KeyRole {
    /// Everything of the tenant.
    Admin,
    /// Messages, contacts, templates and reports.
    Manager,
    /// Conversations and replies only.
    Agent,
}

impl From<KeyRole> for Role {
    fn from(role: KeyRole) -> Self {
        match role {
            KeyRole::Admin => Role::Admin,
            KeyRole::Manager => Role::Manager,
            KeyRole::Agent => Role::Agent,
        }
    }
}

impl From<Role> for KeyRole {
    fn from(role: Role) -> Self {
        match role {
            Role::Admin => KeyRole::Admin,
            Role::Manager => KeyRole::Manager,
            Role::Agent => KeyRole::Agent,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateKey {
    /// What the key is for, e.g. "CRM integration".
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    pub role: KeyRole,
    /// When the key stops working (epoch seconds); never, when absent.
    pub expires_at: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct KeyView {
    pub key_id: String,
    /// The key's identifying start, safe to show: `wg.<tenant>.<key id>`.
    pub prefix: String,
    pub name: String,
    pub role: KeyRole,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub revoked_at: Option<i64>,
    pub state: KeyState,
}

#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum KeyState {
    Active,
    Expired,
    Revoked,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedKey {
    /// The whole key. It is shown this once and cannot be read again.
    pub key: String,
    #[serde(flatten)]
    pub details: KeyView,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct KeyList {
    pub keys: Vec<KeyView>,
}

fn view(record: &ApiKeyRecord, now: i64) -> KeyView {
    let state = match record.usable_at(now) {
        Ok(()) => KeyState::Active,
        Err(wagate_messaging::access::KeyUnusable::Expired) => KeyState::Expired,
        Err(wagate_messaging::access::KeyUnusable::Revoked) => KeyState::Revoked,
    };
    KeyView {
        key_id: record.key_id.clone(),
        prefix: record.prefix(),
        name: record.name.clone(),
        role: record.role.into(),
        created_at: record.created_at,
        expires_at: record.expires_at,
        revoked_at: record.revoked_at,
        state,
    }
}

/// Creates an API key for the tenant; the answer holds the key, shown this once.
#[utoipa::path(post, path = "/admin/v1/tenants/{tenant_id}/keys", tag = "keys",
    params(("tenant_id" = String, Path, description = "The tenant's id")),
    request_body = CreateKey,
    responses(
        (status = 201, description = "Created; `key` is shown only now", body = CreatedKey),
        JsonBodyErrors,
        (status = 409, description = "The tenant has too many keys", body = ErrorBody),
        KeyedRouteErrors,
    ),
    security(("bearer" = ["tenant_admin"])))]
pub async fn create_key(
    State(state): State<Arc<AdminState>>,
    AdministeredTenant { id: tenant, .. }: AdministeredTenant,
    JsonBody(body): JsonBody<CreateKey>,
) -> Result<(StatusCode, Json<CreatedKey>), ApiError> {
    let now = unix_now();
    let name = body.name.trim();
    if name.is_empty()
        || name.chars().count() > MAX_KEY_NAME_CHARS
        || name.chars().any(char::is_control)
    {
        return Err(ApiError::invalid(
            "name",
            format!("the name must be 1 to {MAX_KEY_NAME_CHARS} printable characters"),
        ));
    }
    if let Some(at) = body.expires_at
        && !(now < at && at <= now + MAX_LIFETIME_SECS)
    {
        return Err(ApiError::invalid(
            "expires_at",
            "expires_at must be in the future and at most ten years ahead (epoch seconds)",
        ));
    }
    // Revoked and expired keys do not count (they leave the listing some time later).
    let usable = state.admin.usable_keys(&tenant, now).await?;
    if usable >= MAX_KEYS_PER_TENANT {
        return Err(ApiError::Conflict(format!(
            "the tenant has {MAX_KEYS_PER_TENANT} usable keys; revoke some first"
        )));
    }
    let made = state
        .setup
        .issue_key(&tenant, name, body.role.into(), body.expires_at, now)
        .await?;
    tracing::info!(tenant = %tenant, key = %made.record.prefix(), role = made.record.role.as_str(), "API key created");
    Ok((
        StatusCode::CREATED,
        Json(CreatedKey {
            key: made.key.expose().to_owned(),
            details: view(&made.record, now),
        }),
    ))
}

/// Lists the tenant's API keys, revoked and expired ones included, without their secrets.
#[utoipa::path(get, path = "/admin/v1/tenants/{tenant_id}/keys", tag = "keys",
    params(("tenant_id" = String, Path, description = "The tenant's id")),
    responses(
        (status = 200, description = "The keys", body = KeyList),
        KeyedRouteErrors,
    ),
    security(("bearer" = ["tenant_admin"])))]
pub async fn list_keys(
    State(state): State<Arc<AdminState>>,
    AdministeredTenant { id: tenant, .. }: AdministeredTenant,
) -> Result<Json<KeyList>, ApiError> {
    let now = unix_now();
    let mut keys: Vec<KeyView> = state
        .admin
        .api_keys(&tenant)
        .await?
        .iter()
        .map(|k| view(k, now))
        .collect();
    keys.sort_by_key(|k| std::cmp::Reverse(k.created_at));
    Ok(Json(KeyList { keys }))
}

/// Revokes an API key: it stops working within seconds everywhere.
#[utoipa::path(delete, path = "/admin/v1/tenants/{tenant_id}/keys/{key_id}", tag = "keys",
    params(
        ("tenant_id" = String, Path, description = "The tenant's id"),
        ("key_id" = String, Path, description = "The key's id"),
    ),
    responses(
        (status = 204, description = "Revoked"),
        KeyedRouteErrors,
    ),
    security(("bearer" = ["tenant_admin"])))]
pub async fn revoke_key(
    State(state): State<Arc<AdminState>>,
    AdministeredTenant { id: tenant, .. }: AdministeredTenant,
    Path((_, key_id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    if !state.admin.revoke_key(&tenant, &key_id, unix_now()).await? {
        return Err(ApiError::NotFound("key"));
    }
    state.auth.forget(&tenant, &key_id);
    tracing::info!(tenant = %tenant, key_id = %key_id, "API key revoked");
    Ok(StatusCode::NO_CONTENT)
}
