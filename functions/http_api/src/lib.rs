//! The hosted HTTPS APIs as axum routers: `admin` (tenants, keys, numbers, retention) and
//! `business` (messages, conversations). The function crates run them under lambda_http;
//! every answer that is not a success is a JSON [`error::ErrorBody`].

pub mod admin;
pub mod business;
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

async fn not_found() -> ApiError {
    ApiError::NotFound("route")
}

async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}
