//! Message templates: list the gateway's copy (kept current by Meta's template webhooks),
//! create one through Meta's management API, bring the copy up to date with Meta's list,
//! delete one. Managers and admins.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use wagate_messaging::access::{AuthError, needs};
use wagate_messaging::cloud_api::templates::TemplateDefinition;
use wagate_messaging::domain::template::TemplateRecord;
use wagate_messaging::templates::TemplateError;

use crate::read::meta_refusal;
use crate::state::{Allowed, BusinessState};
use http_api::error::{ApiError, ErrorBody, JsonBodyErrors, KeyedRouteErrors};
use http_api::extract::JsonBody;
use http_api::unix_now;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTemplate {
    /// The WhatsApp Business Account; may be left out when the tenant has one.
    #[serde(default)]
    pub waba_id: Option<String>,
    /// Lowercase letters, digits and underscores.
    pub name: String,
    /// Such as `en_US` or `de`.
    pub language: String,
    /// `MARKETING`, `UTILITY` or `AUTHENTICATION`.
    pub category: String,
    /// Meta's components: exactly one `BODY`, optionally `HEADER`, `FOOTER`, `BUTTONS`.
    #[schema(value_type = Vec<Object>)]
    pub components: Vec<Value>,
    /// `POSITIONAL` or `NAMED`.
    #[serde(default)]
    pub parameter_format: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TemplateView {
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub waba_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// `PENDING`, `APPROVED`, `REJECTED`, `PAUSED`, `DISABLED`…, as Meta last reported.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quality: Option<String>,
    #[schema(value_type = Vec<Object>)]
    pub components: Vec<Value>,
    /// When the status last changed, epoch seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_at: Option<i64>,
}

impl From<TemplateRecord> for TemplateView {
    fn from(t: TemplateRecord) -> Self {
        Self {
            id: t.id,
            waba_id: t.waba_id,
            name: t.name,
            language: t.language,
            category: t.category,
            status: t.status,
            quality: t.quality,
            components: t.components,
            status_at: t.status_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TemplateList {
    pub templates: Vec<TemplateView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SyncedTemplates {
    /// Templates read from Meta.
    pub synced: usize,
}

#[utoipa::path(get, path = "/v1/templates", tag = "templates",
    responses(
        (status = 200, description = "The tenant's templates with their latest status", body = TemplateList),
        KeyedRouteErrors,
    ),
    security(("bearer" = ["templates"])))]
pub async fn list_templates(
    State(state): State<Arc<BusinessState>>,
    key: Allowed<needs::Templates>,
) -> Result<Json<TemplateList>, ApiError> {
    let templates = state.templates.list(&key.0.tenant_id).await?;
    Ok(Json(TemplateList {
        templates: templates.into_iter().map(TemplateView::from).collect(),
    }))
}

#[utoipa::path(post, path = "/v1/templates", tag = "templates",
    request_body = NewTemplate,
    responses(
        (status = 201, description = "Submitted to Meta for review (status PENDING until its webhook says more)", body = TemplateView),
        JsonBodyErrors,
        (status = 422, description = "`no_account` (no connected number in the account, or several accounts and none named) or `meta_refused` (Meta's code and message)", body = ErrorBody),
        (status = 502, description = "The Cloud API could not be reached; try again", body = ErrorBody),
        KeyedRouteErrors,
    ),
    security(("bearer" = ["templates"])))]
pub async fn create_template(
    State(state): State<Arc<BusinessState>>,
    key: Allowed<needs::Templates>,
    JsonBody(body): JsonBody<NewTemplate>,
) -> Result<(StatusCode, Json<TemplateView>), ApiError> {
    let definition = TemplateDefinition {
        name: body.name,
        language: body.language,
        category: body.category,
        components: body.components,
        parameter_format: body.parameter_format,
    };
    let created = state
        .templates
        .create(
            &key.0.tenant_id,
            body.waba_id.as_deref(),
            &definition,
            unix_now(),
        )
        .await
        .map_err(|e| template_error(e, "create the template"))?;
    Ok((StatusCode::CREATED, Json(created.into())))
}

#[utoipa::path(post, path = "/v1/templates/sync", tag = "templates",
    responses(
        (status = 200, description = "The gateway's copy now holds every template Meta lists", body = SyncedTemplates),
        (status = 422, description = "`meta_refused` (Meta's code and message)", body = ErrorBody),
        (status = 502, description = "The Cloud API could not be reached; try again", body = ErrorBody),
        KeyedRouteErrors,
    ),
    security(("bearer" = ["templates"])))]
pub async fn sync_templates(
    State(state): State<Arc<BusinessState>>,
    key: Allowed<needs::Templates>,
) -> Result<Json<SyncedTemplates>, ApiError> {
    let synced = state
        .templates
        .sync(&key.0.tenant_id, unix_now())
        .await
        .map_err(|e| template_error(e, "list the templates"))?;
    Ok(Json(SyncedTemplates { synced }))
}

#[utoipa::path(delete, path = "/v1/templates/{template_id}", tag = "templates",
    params(("template_id" = String, Path, description = "Meta's template id")),
    responses(
        (status = 204, description = "Deleted at Meta and here"),
        (status = 422, description = "`no_account` or `meta_refused`", body = ErrorBody),
        (status = 502, description = "The Cloud API could not be reached; try again", body = ErrorBody),
        KeyedRouteErrors,
    ),
    security(("bearer" = ["templates"])))]
pub async fn delete_template(
    State(state): State<Arc<BusinessState>>,
    key: Allowed<needs::Templates>,
    Path(template_id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let is_meta_id = !template_id.is_empty()
        && template_id.len() <= 32
        && template_id.bytes().all(|b| b.is_ascii_digit());
    if !is_meta_id {
        return Err(ApiError::NotFound("template"));
    }
    let deleted = state
        .templates
        .delete(&key.0.tenant_id, &template_id)
        .await
        .map_err(|e| template_error(e, "delete the template"))?;
    if deleted {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound("template"))
    }
}

fn template_error(e: TemplateError, what: &str) -> ApiError {
    match e {
        TemplateError::Invalid(e) => ApiError::invalid(&e.field, e.problem),
        TemplateError::NoAccount(message) => ApiError::Unprocessable {
            code: "no_account",
            field: Some("waba_id"),
            message,
        },
        TemplateError::Meta(e) => meta_refusal(e, what),
        TemplateError::UnknownTenant => ApiError::Unauthenticated(AuthError::Unknown),
        TemplateError::Blocked(blocked) => blocked.into(),
        TemplateError::Store(e) => e.into(),
        TemplateError::Secret(e) => e.into(),
    }
}
