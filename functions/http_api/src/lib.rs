//! What the two hosted APIs share: errors and their one mapping to HTTP (every answer that
//! is not a success is a JSON [`error::ErrorBody`]), extractors, rate limits, cursors and
//! OpenAPI helpers. The `api` and `admin` function crates own their routers.

pub mod cursor;
pub mod error;
pub mod extract;
pub mod openapi;
pub mod rate_limit;
pub mod source;

use std::time::{SystemTime, UNIX_EPOCH};

use error::ApiError;

/// The largest request body the APIs read.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

pub fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// The answer to a route neither API has.
pub async fn not_found() -> ApiError {
    ApiError::NotFound("route")
}

/// The answer to a method a route does not take.
pub async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}
