//! Sending messages and reading them back: `POST /v1/messages`, `GET /v1/messages/{id}`
//! and `GET /v1/conversations/{contact_id}/messages`.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use http::{HeaderMap, StatusCode};
use serde::Deserialize;
use serde_json::Value;
use utoipa::IntoParams;
use wagate_messaging::access::{AuthError, Permission};
use wagate_messaging::domain::conversation::QUEUED;
use wagate_messaging::domain::message_id::MessageId;
use wagate_messaging::domain::outbound::OutboundMessage;
use wagate_messaging::outbound::{AcceptError, IdempotencyKey, SendCommand};

use crate::state::{Allowed, BusinessState};
use crate::views::{AcceptedView, MessagePageView, MessageView};
use http_api::cursor;
use http_api::error::{ApiError, ErrorBody, JsonBodyErrors, KeyedRouteErrors};
use http_api::extract::{JsonObjectBytes, QueryParams, parse_json};
use http_api::unix_now;
use wagate_messaging::access::needs;

const IDEMPOTENCY_HEADER: &str = "idempotency-key";
const MAX_IDEMPOTENCY_KEY_CHARS: usize = 255;

/// Sends a message.
///
/// Every role may reply in an open 24-hour window (`converse`). A template, which may
/// start a conversation, also needs `message` (a manager's or an admin's key): since
/// that depends on the message, an agent's template is refused with 403 once the body
/// has been read, so a malformed body answers 400 first.
#[utoipa::path(post, path = "/v1/messages", tag = "messages",
    params(("Idempotency-Key" = Option<String>, Header,
        description = "Makes the call safe to repeat for 24 hours: the same key and body answer with the same message; the same key with another body is a 409")),
    request_body = OutboundMessage,
    responses(
        (status = 202, description = "Accepted and queued (or, for a repeated idempotency key, accepted before)", body = AcceptedView),
        JsonBodyErrors,
        (status = 409, description = "The idempotency key was used with another body", body = ErrorBody),
        (status = 422, description = "Cannot be sent: `window_closed` (free-form outside the 24-hour window: send a template), `unknown_number`, `sending_stopped`", body = ErrorBody),
        KeyedRouteErrors,
    ),
    security(("bearer" = ["converse"])))]
pub async fn send_message(
    State(state): State<Arc<BusinessState>>,
    key: Allowed<needs::Converse>,
    headers: HeaderMap,
    JsonObjectBytes(body): JsonObjectBytes,
) -> Result<(StatusCode, Json<AcceptedView>), ApiError> {
    let idempotency_key = idempotency_key(&headers)?;
    // Read from the bytes, in the body's own key order, so that a refusal names the field
    // that broke the rule where the caller wrote it.
    let message: OutboundMessage = parse_json(&body)?;
    // The canonical form (keys sorted) decides whether a repeated key has the same body.
    let canonical: Value = serde_json::from_slice(&body).unwrap_or_default();
    let canonical = serde_json::to_vec(&canonical).unwrap_or_default();
    // Replies are every agent's work; templates start conversations, a manager's.
    if message.content.is_template() {
        key.require(Permission::Message)?;
    }
    let tenant = &key.0.tenant_id;
    let accepted = state
        .outbox
        .accept(SendCommand {
            tenant,
            message: &message,
            idempotency: idempotency_key.map(|key| IdempotencyKey {
                key,
                body: &canonical,
            }),
            now: unix_now(),
        })
        .await
        .map_err(refusal)?;
    let state_now = if accepted.replayed {
        let reference = &accepted.message;
        state
            .conversations
            .message(tenant, reference, unix_now())
            .await?
            .map(|m| MessageView::new(reference, m, &HashMap::new()).state)
            .unwrap_or_else(|| QUEUED.into())
    } else {
        QUEUED.into()
    };
    Ok((
        StatusCode::ACCEPTED,
        Json(AcceptedView {
            id: accepted.message.encode(),
            contact_id: accepted.message.contact_id.clone(),
            state: state_now,
            replayed: accepted.replayed,
        }),
    ))
}

#[utoipa::path(get, path = "/v1/messages/{message_id}", tag = "messages",
    params(("message_id" = String, Path, description = "A message id from a send or a listing")),
    responses(
        (status = 200, description = "The message, its state and delivery history", body = MessageView),
        KeyedRouteErrors,
    ),
    security(("bearer" = ["converse"])))]
pub async fn get_message(
    State(state): State<Arc<BusinessState>>,
    key: Allowed<needs::Converse>,
    Path(message_id): Path<String>,
) -> Result<Json<MessageView>, ApiError> {
    let reference = MessageId::decode(&message_id).ok_or(ApiError::NotFound("message"))?;
    let found = state
        .conversations
        .message_with_deliveries(&key.0.tenant_id, &reference, unix_now())
        .await?
        .ok_or(ApiError::NotFound("message"))?;
    Ok(Json(MessageView::new(
        &reference,
        found.message,
        &found.deliveries,
    )))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Messages per page, 1 to 100 (default 50).
    #[serde(default)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    #[serde(default)]
    pub cursor: Option<String>,
}

#[utoipa::path(get, path = "/v1/conversations/{contact_id}/messages", tag = "conversations",
    params(("contact_id" = String, Path, description = "The contact's id"), PageParams),
    responses(
        (status = 200, description = "The conversation's messages, newest first; expired ones are never returned", body = MessagePageView),
        (status = 400, description = "Invalid limit or cursor", body = ErrorBody),
        KeyedRouteErrors,
    ),
    security(("bearer" = ["converse"])))]
pub async fn conversation_messages(
    State(state): State<Arc<BusinessState>>,
    key: Allowed<needs::Converse>,
    Path(contact_id): Path<String>,
    QueryParams(params): QueryParams<PageParams>,
) -> Result<Json<MessagePageView>, ApiError> {
    let limit = http_api::extract::page_limit(params.limit)?;
    let tenant = &key.0.tenant_id;
    let scope = cursor::scope(&[tenant.as_str(), "messages", &contact_id]);
    let after = cursor::open(&state.cursors, &scope, params.cursor.as_deref()).await?;
    // Another tenant's contact ids, and unknown ones, are not found.
    let page = state
        .conversations
        .messages(tenant, &contact_id, after.as_ref(), limit, unix_now())
        .await?
        .ok_or(ApiError::NotFound("contact"))?;
    let messages = page
        .messages
        .into_iter()
        .map(|(reference, m)| MessageView::new(&reference, m, &page.deliveries))
        .collect();
    Ok(Json(MessagePageView {
        messages,
        next_cursor: cursor::seal(&state.cursors, &scope, page.next.as_ref()).await?,
    }))
}

fn idempotency_key(headers: &HeaderMap) -> Result<Option<&str>, ApiError> {
    let Some(raw) = headers.get(IDEMPOTENCY_HEADER) else {
        return Ok(None);
    };
    let bad = || {
        ApiError::invalid(
            "Idempotency-Key",
            format!("must be 1 to {MAX_IDEMPOTENCY_KEY_CHARS} visible ASCII characters"),
        )
    };
    let key = raw.to_str().map_err(|_| bad())?;
    let valid = !key.is_empty()
        && key.len() <= MAX_IDEMPOTENCY_KEY_CHARS
        && key.bytes().all(|b| b.is_ascii_graphic());
    if valid { Ok(Some(key)) } else { Err(bad()) }
}

/// What the outbox refused, as the API says it.
fn refusal(error: AcceptError) -> ApiError {
    match error {
        AcceptError::Invalid(e) => ApiError::invalid(&e.field, e.problem),
        AcceptError::UnknownTenant => ApiError::Unauthenticated(AuthError::Unknown),
        AcceptError::Blocked(blocked) => blocked.into(),
        AcceptError::UnknownNumber => ApiError::Unprocessable {
            code: "unknown_number",
            field: Some("from"),
            message: "the phone number id is not one of the tenant's numbers".into(),
        },
        e @ AcceptError::WindowClosed => ApiError::Unprocessable {
            code: "window_closed",
            field: Some("to"),
            message: format!("{e}; use type template"),
        },
        AcceptError::OptedOut(o) => o.into(),
        e @ AcceptError::Restricted(_) => ApiError::ConflictOf {
            code: "restricted",
            message: e.to_string(),
        },
        AcceptError::IdempotencyConflict => ApiError::Conflict(
            "the Idempotency-Key was used with a different request in the last 24 hours".into(),
        ),
        AcceptError::TooLarge(_) => ApiError::TooLarge {
            limit: http_api::MAX_BODY_BYTES,
        },
        AcceptError::Store(e) => ApiError::Store(e),
        AcceptError::Queue(e) => ApiError::Queue(e),
    }
}
