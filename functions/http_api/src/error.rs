//! The APIs' errors and the one place that maps them to HTTP answers: a JSON body
//! `{"error": {"code", "message", "field"?}}`; server faults answer an opaque 5xx and log
//! their cause chain.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;
#[cfg(feature = "compliance")]
use wagate_compliance::erasure::ErasureError;
#[cfg(feature = "compliance")]
use wagate_compliance::export::ExportError;
use wagate_messaging::access::{AuthError, KeyUnusable};
use wagate_messaging::contacts::CreateContactError;
use wagate_messaging::domain::consent::settings::SettingsError;
use wagate_messaging::domain::consent::{OptedOut, Scope, Source};
use wagate_messaging::domain::retention::RetentionError;
use wagate_messaging::domain::tenant::MetaCallsBlocked;
use wagate_messaging::numbers::ConnectError;
use wagate_messaging::queue::QueueError;
use wagate_messaging::secret_store::SecretError;
use wagate_messaging::store::StoreError;
use wagate_messaging::telemetry::error_chain;
use wagate_messaging::tenant_admin::AdminError;
use wagate_messaging::tenant_setup::SetupError;
use wagate_reporting::usage::SpanError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The request is wrong; `field` names what is wrong in it, when one field is.
    #[error("{message}")]
    Invalid {
        field: Option<String>,
        message: String,
    },
    #[error("the body is larger than {limit} bytes")]
    TooLarge { limit: usize },
    #[error("the body must be JSON (Content-Type: application/json)")]
    NotJson,
    /// The body's Content-Type is not one the route reads; the message names those it does.
    #[error("{0}")]
    UnsupportedMediaType(&'static str),
    #[error(transparent)]
    Unauthenticated(#[from] AuthError),
    #[error("this key's role may not {0}")]
    Forbidden(&'static str),
    /// Also the answer for another tenant's ids: their existence is not revealed.
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{0}")]
    Conflict(String),
    /// A conflict the client may act on by its `code` (`number_taken`, `waba_taken`…).
    #[error("{message}")]
    ConflictOf { code: &'static str, message: String },
    /// Well-formed, but not something that can be done now (a closed 24-hour window, a
    /// number that is not the tenant's); `code` says which.
    #[error("{message}")]
    Unprocessable {
        code: &'static str,
        field: Option<&'static str>,
        message: String,
    },
    /// The recipient opted out of what is being sent: 409 `opted_out`, with the entry of
    /// their consent ledger that says so.
    #[error(transparent)]
    OptedOut(#[from] OptedOut),
    #[error("the tenant is suspended")]
    TenantSuspended,
    /// Meta could not be reached or failed for now; the call may be repeated.
    #[error("the Cloud API is unavailable; try again")]
    MetaUnavailable,
    #[error("too many requests with this key: try again in {retry_after} s")]
    RateLimited { retry_after: u64 },
    #[error("the route does not take this method")]
    MethodNotAllowed,
    #[error("data could not be read or written")]
    Store(#[from] StoreError),
    #[error("a secret could not be protected")]
    Secret(#[from] SecretError),
    #[error("the message could not be queued")]
    Queue(#[from] QueueError),
    #[error("the erasure receipt could not be signed or checked")]
    Receipt(#[from] wagate_messaging::privacy::mac::MacError),
    #[cfg(feature = "compliance")]
    #[error("the export could not be written or read")]
    Export(#[from] ExportError),
    #[error("the audit log could not be read, written or checked")]
    Audit(#[from] wagate_audit::AuditError),
}

impl From<MetaCallsBlocked> for ApiError {
    fn from(blocked: MetaCallsBlocked) -> Self {
        match blocked {
            MetaCallsBlocked::Suspended => Self::TenantSuspended,
            e @ MetaCallsBlocked::SendingStopped(_) => Self::Unprocessable {
                code: "sending_stopped",
                field: None,
                message: e.to_string(),
            },
        }
    }
}

impl From<ConnectError> for ApiError {
    fn from(e: ConnectError) -> Self {
        match e {
            ConnectError::NotOwned(what) => ApiError::Unprocessable {
                code: "not_owned",
                field: Some(what.field()),
                message: what.explanation().to_owned(),
            },
            ConnectError::TokenInvalid { .. } => ApiError::Unprocessable {
                code: "token_invalid",
                field: Some("access_token"),
                message: e.to_string(),
            },
            ConnectError::MetaUnreachable(source) => {
                tracing::warn!(error = %wagate_messaging::telemetry::error_chain(&source), "Meta could not confirm a number");
                ApiError::MetaUnavailable
            }
            ConnectError::NumberTaken => ApiError::ConflictOf {
                code: "number_taken",
                message: e.to_string(),
            },
            ConnectError::WabaTaken => ApiError::ConflictOf {
                code: "waba_taken",
                message: "the WhatsApp Business Account is held by another tenant; the operator can share it".into(),
            },
            ConnectError::TenantGone => ApiError::NotFound("tenant"),
            ConnectError::Store(e) => e.into(),
            ConnectError::Secret(e) => e.into(),
        }
    }
}

impl From<SetupError> for ApiError {
    fn from(e: SetupError) -> Self {
        match e {
            SetupError::TenantTaken(_) => ApiError::Conflict(e.to_string()),
            SetupError::NoTenant => ApiError::NotFound("tenant"),
            SetupError::Store(e) => e.into(),
            SetupError::Secret(e) => e.into(),
        }
    }
}

impl From<CreateContactError> for ApiError {
    fn from(e: CreateContactError) -> Self {
        match e {
            CreateContactError::Exists(_) => ApiError::Conflict(e.to_string()),
            CreateContactError::Gone => ApiError::NotFound("contact"),
            CreateContactError::Store(e) => e.into(),
        }
    }
}

impl From<AdminError> for ApiError {
    fn from(e: AdminError) -> Self {
        match e {
            AdminError::UnknownTenant(_) => ApiError::Unprocessable {
                code: "unknown_tenant",
                field: None,
                message: e.to_string(),
            },
            AdminError::WabaInUse(_) => ApiError::ConflictOf {
                code: "waba_in_use",
                message: e.to_string(),
            },
            AdminError::Store(e) => e.into(),
            AdminError::Secret(e) => e.into(),
        }
    }
}

#[cfg(feature = "compliance")]
impl From<ErasureError> for ApiError {
    fn from(e: ErasureError) -> Self {
        match e {
            ErasureError::Store(e) => Self::Store(e),
            ErasureError::Queue(e) => Self::Queue(e),
            ErasureError::Receipt(e) => Self::Receipt(e),
            ErasureError::Export(e) => e.into(),
            ErasureError::Audit(e) => Self::Audit(e),
            ErasureError::BadTenant(_) => Self::NotFound("tenant"),
            // A wiring mistake of ours, never a caller's.
            ErasureError::NotATenantSweep => {
                Self::Store(wagate_messaging::store::StoreError::Corrupt {
                    key: "erasure job".into(),
                    problem: "a job of another kind reached the tenant eraser".into(),
                })
            }
        }
    }
}

/// A day range that is not one (`GET /v1/usage`).
impl From<SpanError> for ApiError {
    fn from(e: SpanError) -> Self {
        Self::invalid(e.field(), e.to_string())
    }
}

impl From<RetentionError> for ApiError {
    fn from(e: RetentionError) -> Self {
        match e {
            RetentionError::OutOfBounds { field, .. } => Self::invalid(field, e.to_string()),
        }
    }
}

/// A tenant's consent settings: an opt-in word that is an ordinary reply is well-formed
/// but refused (422 `common_word`); anything else names its field.
impl From<SettingsError> for ApiError {
    fn from(e: SettingsError) -> Self {
        if e.common_word {
            Self::Unprocessable {
                code: "common_word",
                field: Some("opt_in_keywords"),
                message: e.to_string(),
            }
        } else {
            Self::invalid(&e.field, e.to_string())
        }
    }
}

/// A person's request (erasure, export) that names no one, or two, or someone malformed.
impl From<wagate_messaging::domain::erasure::PersonRequestError> for ApiError {
    fn from(e: wagate_messaging::domain::erasure::PersonRequestError) -> Self {
        Self::Invalid {
            field: e.field().map(str::to_owned),
            message: e.to_string(),
        }
    }
}

/// The JSON error body every failing call answers with.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// A stable, machine-readable code, e.g. `invalid_request`, `not_found`.
    pub code: String,
    /// What went wrong, for a person.
    pub message: String,
    /// The request field at fault, as a path (`retention.content_days`), when one is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// With `opted_out`: the recipient's opt-out that refused the message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub opt_out: Option<OptOutView>,
}

/// The consent ledger entry behind a refusal.
#[derive(Debug, Serialize, ToSchema)]
pub struct OptOutView {
    pub scope: Scope,
    /// When the person opted out, epoch seconds.
    pub at: i64,
    /// How: `keyword`, `button`, `api`, `import` or `meta`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<Source>,
}

/// What any route behind a key may answer besides its own outcomes, for the OpenAPI
/// documents.
#[derive(utoipa::IntoResponses)]
pub enum KeyedRouteErrors {
    /// No key, or one that is malformed, unknown, revoked or expired.
    #[response(status = 401)]
    Unauthenticated(ErrorBody),
    /// The key's role may not do this.
    #[response(status = 403)]
    Forbidden(ErrorBody),
    /// No such item; also the answer for every id of another tenant.
    #[response(status = 404)]
    NotFound(ErrorBody),
    /// The key made too many calls; `Retry-After` says when to try again.
    #[response(status = 429, headers(("Retry-After" = u64, description = "Seconds to wait")))]
    RateLimited(ErrorBody),
}

/// What any route with a JSON body may answer about the body itself.
#[derive(utoipa::IntoResponses)]
pub enum JsonBodyErrors {
    /// Not JSON, or not the request's shape; `field` names what is wrong.
    #[response(status = 400)]
    Invalid(ErrorBody),
    /// The body is larger than 256 KiB.
    #[response(status = 413)]
    TooLarge(ErrorBody),
    /// The body is not sent as `application/json`.
    #[response(status = 415)]
    NotJson(ErrorBody),
}

impl ApiError {
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        Self::Invalid {
            field: Some(field.to_owned()),
            message: message.into(),
        }
    }

    fn status_and_code(&self) -> (StatusCode, &'static str) {
        if let Self::Invalid { .. } = self {
            return (StatusCode::BAD_REQUEST, "invalid_request");
        }
        match self {
            Self::Invalid { .. } => (StatusCode::BAD_REQUEST, "invalid_request"),
            Self::TooLarge { .. } => (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
            Self::NotJson => (StatusCode::UNSUPPORTED_MEDIA_TYPE, "not_json"),
            Self::UnsupportedMediaType(_) => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
            }
            Self::Unauthenticated(AuthError::Store(_)) => {
                (StatusCode::SERVICE_UNAVAILABLE, "unavailable")
            }
            Self::Unauthenticated(AuthError::TooManyFailures(_)) => {
                (StatusCode::TOO_MANY_REQUESTS, "rate_limited")
            }
            Self::Unauthenticated(AuthError::Unusable(KeyUnusable::Revoked)) => {
                (StatusCode::UNAUTHORIZED, "key_revoked")
            }
            Self::Unauthenticated(AuthError::Unusable(KeyUnusable::Expired)) => {
                (StatusCode::UNAUTHORIZED, "key_expired")
            }
            Self::Unauthenticated(_) => (StatusCode::UNAUTHORIZED, "unauthenticated"),
            Self::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            Self::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            Self::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
            Self::ConflictOf { code, .. } => (StatusCode::CONFLICT, code),
            Self::OptedOut(_) => (StatusCode::CONFLICT, "opted_out"),
            Self::Unprocessable { code, .. } => (StatusCode::UNPROCESSABLE_ENTITY, code),
            Self::TenantSuspended => (StatusCode::FORBIDDEN, "tenant_suspended"),
            Self::MetaUnavailable => (StatusCode::BAD_GATEWAY, "meta_unavailable"),
            Self::RateLimited { .. } => (StatusCode::TOO_MANY_REQUESTS, "rate_limited"),
            Self::MethodNotAllowed => (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"),
            // A contact erased while the call was under way.
            Self::Store(StoreError::PersonErased) => (StatusCode::NOT_FOUND, "not_found"),
            Self::Store(_)
            | Self::Secret(_)
            | Self::Queue(_)
            | Self::Receipt(_)
            | Self::Audit(_) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
            #[cfg(feature = "compliance")]
            Self::Export(_) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        let message = if status.is_server_error() {
            tracing::error!(error = %error_chain(&self), "request failed");
            "the service could not complete the request; try again".to_owned()
        } else {
            self.to_string()
        };
        let retry_after = match self {
            Self::RateLimited { retry_after } => Some(retry_after),
            Self::Unauthenticated(AuthError::TooManyFailures(seconds)) => Some(seconds),
            _ => None,
        };
        let opt_out = match &self {
            Self::OptedOut(o) => Some(OptOutView {
                scope: o.scope,
                at: o.at,
                source: o.origin,
            }),
            _ => None,
        };
        let field = match self {
            Self::Invalid { field, .. } => field,
            Self::Unprocessable { field, .. } => field.map(str::to_owned),
            _ => None,
        };
        let body = ErrorBody {
            error: ErrorDetail {
                code: code.to_owned(),
                message,
                field,
                opt_out,
            },
        };
        let mut response = (status, Json(body)).into_response();
        if let Some(seconds) = retry_after {
            response
                .headers_mut()
                .insert(http::header::RETRY_AFTER, http::HeaderValue::from(seconds));
        }
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                http::header::WWW_AUTHENTICATE,
                http::HeaderValue::from_static("Bearer"),
            );
        }
        response
    }
}
