//! What the two hosted APIs share: errors and their one mapping to HTTP (every answer that
//! is not a success is a JSON [`error::ErrorBody`]), extractors, rate limits, cursors and
//! OpenAPI helpers. The `api` and `admin` function crates own their routers.

pub mod audit;
pub mod cursor;
pub mod error;
pub mod extract;
pub mod openapi;
pub mod rate_limit;
pub mod source;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::get;
use error::ApiError;

/// The largest request body the APIs read.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// The time the handlers read: the process's clock (see `now_seconds`).
pub fn unix_now() -> i64 {
    wagate_messaging::clock::now_seconds()
}

/// The answer to a route neither API has.
pub async fn not_found() -> ApiError {
    ApiError::NotFound("route")
}

/// The answer to a method a route does not take.
pub async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}

/// What every API router ends with: its OpenAPI document at `openapi_path`, a JSON 404
/// for unknown routes and 405 for unknown methods, and the body limit.
pub fn finish_router<S>(
    routes: Router<S>,
    openapi_path: &str,
    document: utoipa::openapi::OpenApi,
) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    let document = std::sync::Arc::new(document);
    routes
        .route(openapi_path, get(move || openapi::serve(document.clone())))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
}
