//! The webhook's errors and the one place that maps them to HTTP answers.

use lambda_http::{Body, Response};
use wagate_messaging::queue::QueueError;
use wagate_messaging::secret_store::SecretError;
use wagate_messaging::signature::SignatureError;
use wagate_messaging::store::StoreError;
use wagate_messaging::telemetry::error_chain;
use wagate_messaging::webhook::WebhookBodyError;

#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    #[error("the body is larger than {limit} bytes")]
    TooLarge { limit: usize },
    #[error("no such webhook")]
    NotFound,
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("verification failed: the mode or verify token is wrong")]
    VerificationFailed,
    #[error(transparent)]
    Signature(#[from] SignatureError),
    #[error(transparent)]
    Delivery(#[from] WebhookBodyError),
    #[error("the events could not be queued")]
    Queue(#[from] QueueError),
    #[error("tenant data could not be read")]
    Store(#[from] StoreError),
    #[error("a secret could not be decrypted")]
    Secret(#[from] SecretError),
}

impl WebhookError {
    fn status_and_code(&self) -> (u16, &'static str) {
        match self {
            Self::TooLarge { .. } => (413, "payload_too_large"),
            Self::NotFound => (404, "not_found"),
            Self::MethodNotAllowed => (405, "method_not_allowed"),
            Self::VerificationFailed => (403, "verification_failed"),
            Self::Signature(_) => (401, "invalid_signature"),
            Self::Delivery(_) => (400, "invalid_payload"),
            // Meta retries anything but 200, which is what a passing fault needs.
            Self::Queue(_) => (503, "unavailable"),
            Self::Store(_) | Self::Secret(_) => (500, "internal_error"),
        }
    }

    /// The HTTP answer. Server-side failures get an opaque body; their cause chain is
    /// logged here, once.
    pub fn into_response(self) -> Response<Body> {
        let (status, code) = self.status_and_code();
        let message = if status >= 500 {
            tracing::error!(error = %error_chain(&self), status, "webhook failed");
            "the delivery could not be accepted; retry later".to_owned()
        } else {
            tracing::warn!(error = %self, status, "webhook request refused");
            self.to_string()
        };
        json_response(
            status,
            &serde_json::json!({"error": {"code": code, "message": message}}),
        )
    }
}

pub(crate) fn json_response(status: u16, body: &serde_json::Value) -> Response<Body> {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Body::Text(body.to_string()))
        .expect("a response with a valid status and header builds")
}
