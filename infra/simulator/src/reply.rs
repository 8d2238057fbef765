//! What the simulator answers: a reply, and Meta's error body for a code with its title.

use serde_json::Value;
use serde_json::json;

use crate::state::random_id;

/// What the server does with a request.
pub enum Reply {
    Json(u16, Value),
    Bytes(u16, String, Vec<u8>),
    /// Close the connection without answering.
    Drop,
}

pub fn title_of(code: i64) -> &'static str {
    match code {
        100 => "Invalid parameter",
        131008 => "Required parameter is missing",
        131009 => "Parameter value is not valid",
        190 => "Invalid OAuth access token",
        130429 => "Rate limit hit",
        131056 => "(Business Account, Consumer Account) pair rate limit hit",
        131047 => "Re-engagement message",
        131026 => "Message undeliverable",
        131048 => "Spam rate limit hit",
        131000 => "Something went wrong",
        131057 => "Account in maintenance mode",
        _ => "Simulated error",
    }
}

pub fn meta_error(code: i64, details: &str) -> Reply {
    let status = if code == 190 { 401 } else { 400 };
    Reply::Json(
        status,
        json!({"error": {
            "message": format!("(#{code}) {}", title_of(code)),
            "type": "OAuthException",
            "code": code,
            "error_data": {"messaging_product": "whatsapp", "details": details},
            "is_transient": matches!(code, 130429 | 131000 | 131056),
            "fbtrace_id": random_id("A"),
        }}),
    )
}
