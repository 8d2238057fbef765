//! `/admin/v1/tenants/{tenant_id}/meta-app`: the tenant's own Meta app, whose webhooks come
//! to `/webhook/{tenant_id}`. Its app secret and verify token are stored KMS-encrypted under
//! the tenant's context and never shown again; reads show the app id, the secret's
//! fingerprint and when it was set. The webhook takes a changed secret within its secrets
//! cache's five minutes.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use wagate_messaging::domain::tenant::{MetaApp, TenantId};
use wagate_messaging::secret::Secret;
use wagate_messaging::tenant_setup::MetaAppSecrets;

use crate::state::{AdminState, AdministeredTenant};
use http_api::error::{ApiError, JsonBodyErrors, KeyedRouteErrors};
use http_api::extract::JsonBody;
use http_api::unix_now;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConnectMetaApp {
    /// The Meta app's id (digits).
    #[schema(pattern = "^[0-9]{5,20}$")]
    pub app_id: String,
    /// The app secret that signs the app's webhooks. Stored encrypted; never returned.
    #[schema(min_length = 16, max_length = 256)]
    pub app_secret: String,
    /// The verify token entered in the app's webhook settings. Stored encrypted.
    #[schema(min_length = 16, max_length = 256)]
    pub verify_token: String,
}

/// Carries a secret and a token: never printed.
impl std::fmt::Debug for ConnectMetaApp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectMetaApp")
            .field("app_id", &self.app_id)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MetaAppView {
    pub app_id: String,
    /// The first 12 hex digits of the app secret's SHA-256.
    pub secret_fingerprint: Option<String>,
    /// When the app was connected (epoch seconds).
    pub set_at: Option<i64>,
    /// Where the app's webhooks go, after the webhook function's URL.
    pub webhook_path: String,
}

fn view(tenant: &TenantId, app: &MetaApp) -> MetaAppView {
    MetaAppView {
        app_id: app.app_id.clone(),
        secret_fingerprint: app.secret_fingerprint.clone(),
        set_at: app.set_at,
        webhook_path: format!("/webhook/{tenant}"),
    }
}

fn checked_secret(field: &str, value: &str) -> Result<(), ApiError> {
    if (16..=256).contains(&value.len()) && value.bytes().all(|b| b.is_ascii_graphic()) {
        Ok(())
    } else {
        Err(ApiError::invalid(
            field,
            format!("{field} must be 16 to 256 printable characters without spaces"),
        ))
    }
}

/// Connects the tenant's own Meta app, or replaces it.
#[utoipa::path(put, path = "/admin/v1/tenants/{tenant_id}/meta-app", tag = "meta app",
    params(("tenant_id" = String, Path, description = "The tenant's id")),
    request_body = ConnectMetaApp,
    responses(
        (status = 200, description = "Connected", body = MetaAppView),
        JsonBodyErrors,
        KeyedRouteErrors,
    ),
    security(("bearer" = ["tenant_admin"])))]
pub async fn connect_meta_app(
    State(state): State<Arc<AdminState>>,
    AdministeredTenant { id: tenant, .. }: AdministeredTenant,
    JsonBody(body): JsonBody<ConnectMetaApp>,
) -> Result<Json<MetaAppView>, ApiError> {
    let digits = body.app_id.bytes().all(|b| b.is_ascii_digit());
    if !(5..=20).contains(&body.app_id.len()) || !digits {
        return Err(ApiError::invalid("app_id", "app_id must be 5 to 20 digits"));
    }
    checked_secret("app_secret", &body.app_secret)?;
    checked_secret("verify_token", &body.verify_token)?;
    let app_secret = Secret::new(body.app_secret.clone());
    let verify_token = Secret::new(body.verify_token.clone());
    let secrets = MetaAppSecrets {
        app_id: &body.app_id,
        app_secret: &app_secret,
        verify_token: &verify_token,
    };
    let app = state
        .setup
        .connect_meta_app(&tenant, &secrets, unix_now())
        .await?;
    tracing::info!(tenant = %tenant, app_id = %app.app_id, "Meta app connected");
    Ok(Json(view(&tenant, &app)))
}

/// The tenant's Meta app: its id and the secret's fingerprint.
#[utoipa::path(get, path = "/admin/v1/tenants/{tenant_id}/meta-app", tag = "meta app",
    params(("tenant_id" = String, Path, description = "The tenant's id")),
    responses(
        (status = 200, description = "The app", body = MetaAppView),
        KeyedRouteErrors,
    ),
    security(("bearer" = ["tenant_admin"])))]
pub async fn get_meta_app(
    AdministeredTenant {
        id: tenant,
        tenant: found,
        ..
    }: AdministeredTenant,
) -> Result<Json<MetaAppView>, ApiError> {
    let app = found.meta_app.ok_or(ApiError::NotFound("Meta app"))?;
    Ok(Json(view(&tenant, &app)))
}

/// Disconnects the tenant's Meta app: `/webhook/{tenant_id}` stops accepting its webhooks.
#[utoipa::path(delete, path = "/admin/v1/tenants/{tenant_id}/meta-app", tag = "meta app",
    params(("tenant_id" = String, Path, description = "The tenant's id")),
    responses(
        (status = 204, description = "Disconnected"),
        KeyedRouteErrors,
    ),
    security(("bearer" = ["tenant_admin"])))]
pub async fn disconnect_meta_app(
    State(state): State<Arc<AdminState>>,
    AdministeredTenant { id: tenant, .. }: AdministeredTenant,
) -> Result<StatusCode, ApiError> {
    if !state.admin.disconnect_meta_app(&tenant).await? {
        return Err(ApiError::NotFound("tenant"));
    }
    tracing::info!(tenant = %tenant, "Meta app disconnected");
    Ok(StatusCode::NO_CONTENT)
}
