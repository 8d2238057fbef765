//! `POST /v1/messages/{id}/read`: blue ticks for a user's message, now.

use std::sync::Arc;

use axum::extract::{Path, State};
use http::StatusCode;
use serde::Deserialize;
use utoipa::ToSchema;
use wagate_messaging::access::AuthError;
use wagate_messaging::access::needs;
use wagate_messaging::cloud_api::{ErrorClass, SendError};
use wagate_messaging::domain::message_id::MessageId;
use wagate_messaging::outbound::ReadError;
use wagate_messaging::telemetry::error_chain;

use crate::state::{Allowed, BusinessState};
use http_api::error::{ApiError, ErrorBody, JsonBodyErrors, KeyedRouteErrors};
use http_api::extract::OptionalJsonBody;
use http_api::unix_now;

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MarkReadRequest {
    /// Also show the user a typing indicator (until the reply, or 25 seconds).
    #[serde(default)]
    pub typing_indicator: bool,
}

#[utoipa::path(post, path = "/v1/messages/{message_id}/read", tag = "messages",
    params(("message_id" = String, Path, description = "The id of a message the user sent")),
    request_body(content = Option<MarkReadRequest>, description = "Optional"),
    responses(
        (status = 204, description = "Marked read at Meta; the conversation counts as read up to this message"),
        JsonBodyErrors,
        (status = 422, description = "`not_inbound` (only the user's messages), `number_disconnected`, or `meta_refused` (Meta's code in the message)", body = ErrorBody),
        (status = 502, description = "The Cloud API could not be reached; try again", body = ErrorBody),
        KeyedRouteErrors,
    ),
    security(("bearer" = ["converse"])))]
pub async fn mark_read(
    State(state): State<Arc<BusinessState>>,
    key: Allowed<needs::Converse>,
    Path(message_id): Path<String>,
    OptionalJsonBody(request): OptionalJsonBody<MarkReadRequest>,
) -> Result<StatusCode, ApiError> {
    let message = MessageId::decode(&message_id).ok_or(ApiError::NotFound("message"))?;
    state
        .receipts
        .mark_read(
            &state.tenants,
            &key.0.tenant_id,
            &message,
            request.typing_indicator,
            unix_now(),
        )
        .await
        .map_err(refusal)?;
    Ok(StatusCode::NO_CONTENT)
}

fn refusal(error: ReadError) -> ApiError {
    match error {
        ReadError::NotFound => ApiError::NotFound("message"),
        e @ ReadError::NotInbound => ApiError::Unprocessable {
            code: "not_inbound",
            field: None,
            message: e.to_string(),
        },
        e @ ReadError::NumberGone => ApiError::Unprocessable {
            code: "number_disconnected",
            field: None,
            message: e.to_string(),
        },
        ReadError::Meta(e) => meta_refusal(e, "mark the message read"),
        ReadError::UnknownTenant => ApiError::Unauthenticated(AuthError::Unknown),
        ReadError::Blocked(blocked) => blocked.into(),
        ReadError::Store(e) => ApiError::Store(e),
        ReadError::Secret(e) => ApiError::Secret(e),
    }
}

/// Meta's refusals that a repeat would not change are the caller's to see; the rest are
/// Meta being unavailable for now.
pub(super) fn meta_refusal(error: SendError, what: &str) -> ApiError {
    let lasting = matches!(
        error.class(),
        ErrorClass::Permanent(_)
            | ErrorClass::PauseNumber
            | ErrorClass::StopTenantCredential
            | ErrorClass::StopAccount
    );
    match error {
        SendError::Refused { error, .. } if lasting => ApiError::Unprocessable {
            code: "meta_refused",
            field: None,
            message: format!(
                "Meta refused to {what} (code {}): {}",
                error.code,
                error.message.unwrap_or_default()
            ),
        },
        other => {
            tracing::warn!(error = %error_chain(&other), what, "a Cloud API call failed");
            ApiError::MetaUnavailable
        }
    }
}
