//! Callback endpoints: register (the signing secret is shown once), list, delete; the
//! delivery log; replay of a time range. Admin keys only: a callback URL receives every
//! conversation of the tenant.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use wagate_integrations::callbacks::endpoint::{CallbackEndpoint, is_endpoint_id};
use wagate_integrations::callbacks::event::EventType;
use wagate_integrations::callbacks::log::DeliveryRecord;
use wagate_integrations::callbacks::registry::RegistryError;
use wagate_messaging::access::needs;

use crate::state::{Allowed, BusinessState};
use http_api::cursor;
use http_api::error::{ApiError, ErrorBody, JsonBodyErrors, KeyedRouteErrors};
use http_api::extract::{JsonBody, QueryParams};
use http_api::unix_now;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCallback {
    /// An https URL of a public host.
    pub url: String,
    /// The event types to send (`message.received`, `message.status`,
    /// `contact.marketing_preference`, `template.update`, `account.update`); all when left out.
    #[serde(default)]
    pub events: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CallbackView {
    pub id: String,
    pub url: String,
    /// Empty: every event type.
    pub events: Vec<String>,
    /// The start of the signing secret's SHA-256.
    pub secret_fingerprint: String,
    pub created_at: i64,
}

#[derive(Serialize, ToSchema)]
pub struct CreatedCallback {
    #[serde(flatten)]
    pub callback: CallbackView,
    /// Verify each delivery's `Wagate-Signature` with it. Shown only now.
    pub secret: String,
}

/// Carries the signing secret: never printed.
impl std::fmt::Debug for CreatedCallback {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreatedCallback")
            .field("callback", &self.callback)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CallbackList {
    pub callbacks: Vec<CallbackView>,
}

impl From<&CallbackEndpoint> for CallbackView {
    fn from(e: &CallbackEndpoint) -> Self {
        Self {
            id: e.id.clone(),
            url: e.url.clone(),
            events: e.events.iter().map(|t| t.as_str().to_owned()).collect(),
            secret_fingerprint: e.secret_fingerprint.clone(),
            created_at: e.created_at,
        }
    }
}

#[utoipa::path(post, path = "/v1/callbacks", tag = "callbacks",
    request_body = NewCallback,
    responses(
        (status = 201, description = "Registered; the secret is shown only now", body = CreatedCallback),
        JsonBodyErrors,
        (status = 422, description = "The tenant has ten endpoints already", body = ErrorBody),
        KeyedRouteErrors,
    ),
    security(("bearer" = ["administer"])))]
pub async fn create_callback(
    State(state): State<Arc<BusinessState>>,
    key: Allowed<needs::Administer>,
    JsonBody(body): JsonBody<NewCallback>,
) -> Result<(StatusCode, Json<CreatedCallback>), ApiError> {
    let events = body
        .events
        .iter()
        .enumerate()
        .map(|(i, raw)| {
            EventType::parse(raw)
                .ok_or_else(|| ApiError::invalid(&format!("events[{i}]"), "is not an event type"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let (endpoint, secret) = state
        .callbacks
        .register(&key.0.tenant_id, &body.url, events, unix_now())
        .await
        .map_err(registry_error)?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedCallback {
            callback: (&endpoint).into(),
            secret: secret.expose().to_owned(),
        }),
    ))
}

#[utoipa::path(get, path = "/v1/callbacks", tag = "callbacks",
    responses(
        (status = 200, description = "The tenant's callback endpoints", body = CallbackList),
        KeyedRouteErrors,
    ),
    security(("bearer" = ["administer"])))]
pub async fn list_callbacks(
    State(state): State<Arc<BusinessState>>,
    key: Allowed<needs::Administer>,
) -> Result<Json<CallbackList>, ApiError> {
    let endpoints = state.callbacks.endpoints(&key.0.tenant_id).await?;
    Ok(Json(CallbackList {
        callbacks: endpoints.iter().map(CallbackView::from).collect(),
    }))
}

#[utoipa::path(delete, path = "/v1/callbacks/{callback_id}", tag = "callbacks",
    params(("callback_id" = String, Path, description = "The endpoint's id")),
    responses(
        (status = 204, description = "Deleted; deliveries still queued for it are dropped"),
        KeyedRouteErrors,
    ),
    security(("bearer" = ["administer"])))]
pub async fn delete_callback(
    State(state): State<Arc<BusinessState>>,
    key: Allowed<needs::Administer>,
    Path(callback_id): Path<String>,
) -> Result<StatusCode, ApiError> {
    if !is_endpoint_id(&callback_id) {
        return Err(ApiError::NotFound("callback"));
    }
    if state
        .callbacks
        .delete(&key.0.tenant_id, &callback_id)
        .await?
    {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound("callback"))
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DeliveryParams {
    /// Events created at or after this time (epoch seconds).
    pub from: u32,
    /// Events created at or before this time (epoch seconds); now when left out.
    #[serde(default)]
    pub to: Option<u32>,
    /// Deliveries per page, 1 to 100 (default 50).
    #[serde(default)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    #[serde(default)]
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryView {
    pub callback_id: String,
    pub event_id: String,
    pub event_type: String,
    pub event_created_at: i64,
    /// `delivered`, `retrying`, `dead` (given up on after the retry period) or `withheld`
    /// (about a person who restricted processing: not sent; a replay after the restriction
    /// is lifted sends it).
    pub state: Option<String>,
    pub attempts: i64,
    /// The receiver's last HTTP status, when it answered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_status: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub updated_at: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryPage {
    pub deliveries: Vec<DeliveryView>,
    /// Pass as `cursor` for the next page; absent on the last.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

impl From<DeliveryRecord> for DeliveryView {
    fn from(r: DeliveryRecord) -> Self {
        Self {
            callback_id: r.endpoint_id,
            event_id: r.event_id,
            event_type: r.event_type,
            event_created_at: r.event_created_at,
            state: r.state.map(|s| s.as_str().to_owned()),
            attempts: r.attempts,
            http_status: r.http_status,
            error: r.error,
            updated_at: r.updated_at,
        }
    }
}

#[utoipa::path(get, path = "/v1/callbacks/deliveries", tag = "callbacks",
    params(DeliveryParams),
    responses(
        (status = 200, description = "Deliveries of the events of a time range, oldest first", body = DeliveryPage),
        (status = 400, description = "A bad range, limit or cursor", body = ErrorBody),
        KeyedRouteErrors,
    ),
    security(("bearer" = ["administer"])))]
pub async fn list_deliveries(
    State(state): State<Arc<BusinessState>>,
    key: Allowed<needs::Administer>,
    QueryParams(params): QueryParams<DeliveryParams>,
) -> Result<Json<DeliveryPage>, ApiError> {
    let now = unix_now();
    let (from, to) = range(params.from, params.to, now)?;
    let limit = http_api::extract::page_limit(params.limit)?;
    let range_text = format!("{from}-{to}");
    let scope = cursor::scope(&[key.0.tenant_id.as_str(), "deliveries", &range_text]);
    let after = cursor::open(&state.cursors, &scope, params.cursor.as_deref()).await?;
    let (records, next) = state
        .callbacks
        .deliveries(&key.0.tenant_id, from, to, after.as_ref(), limit, now)
        .await?;
    Ok(Json(DeliveryPage {
        deliveries: records.into_iter().map(DeliveryView::from).collect(),
        next_cursor: cursor::seal(&state.cursors, &scope, next.as_ref()).await?,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplayRequest {
    /// Events created at or after this time (epoch seconds).
    pub from: u32,
    /// Events created at or before this time (epoch seconds); now when left out.
    #[serde(default)]
    pub to: Option<u32>,
    /// Only the deliveries to this endpoint; all endpoints when left out.
    #[serde(default)]
    pub callback_id: Option<String>,
    /// The `next_cursor` of the previous replay of the same range.
    #[serde(default)]
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReplayView {
    /// Deliveries queued again (up to 1,000 per call).
    pub queued: usize,
    /// Pass as `cursor` with the same range to replay the rest.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

#[utoipa::path(post, path = "/v1/callbacks/replay", tag = "callbacks",
    request_body = ReplayRequest,
    responses(
        (status = 202, description = "Queued for delivery again, with new signatures", body = ReplayView),
        JsonBodyErrors,
        KeyedRouteErrors,
    ),
    security(("bearer" = ["administer"])))]
pub async fn replay(
    State(state): State<Arc<BusinessState>>,
    key: Allowed<needs::Administer>,
    JsonBody(body): JsonBody<ReplayRequest>,
) -> Result<(StatusCode, Json<ReplayView>), ApiError> {
    let now = unix_now();
    let (from, to) = range(body.from, body.to, now)?;
    if body
        .callback_id
        .as_deref()
        .is_some_and(|id| !is_endpoint_id(id))
    {
        return Err(ApiError::NotFound("callback"));
    }
    let range_text = format!("{from}-{to}");
    let scope = cursor::scope(&[
        key.0.tenant_id.as_str(),
        "replay",
        &range_text,
        body.callback_id.as_deref().unwrap_or_default(),
    ]);
    let after = cursor::open(&state.cursors, &scope, body.cursor.as_deref()).await?;
    let replayed = state
        .callbacks
        .replay(
            &key.0.tenant_id,
            from,
            to,
            body.callback_id.as_deref(),
            after.as_ref(),
            now,
        )
        .await
        .map_err(registry_error)?;
    tracing::info!(tenant = %key.0.tenant_id, queued = replayed.queued, "callback events replayed");
    Ok((
        StatusCode::ACCEPTED,
        Json(ReplayView {
            queued: replayed.queued,
            next_cursor: cursor::seal(&state.cursors, &scope, replayed.next.as_ref()).await?,
        }),
    ))
}

fn range(from: u32, to: Option<u32>, now: i64) -> Result<(i64, i64), ApiError> {
    let from = i64::from(from);
    let to = to.map_or(now, i64::from);
    if from > to {
        return Err(ApiError::invalid("from", "must not be after `to`"));
    }
    Ok((from, to))
}

fn registry_error(e: RegistryError) -> ApiError {
    match e {
        RegistryError::BadUrl(problem) => ApiError::invalid("url", problem),
        RegistryError::TooMany => ApiError::Unprocessable {
            code: "too_many_callbacks",
            field: None,
            message: e.to_string(),
        },
        RegistryError::UnknownEndpoint => ApiError::NotFound("callback"),
        RegistryError::Store(e) => e.into(),
        RegistryError::Secret(e) => e.into(),
        RegistryError::Queue(e) => e.into(),
    }
}
