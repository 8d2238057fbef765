//! Meta's phone number node and a WABA's `phone_numbers` edge, as a system user's token
//! sees them: a token reaches the numbers of the WABAs it holds a number of (Meta gives a
//! system user a whole account). A token the simulator knows from no number is not a valid
//! token at all (190); a known token that cannot see the object gets Meta's code 100.

use serde_json::{Value, json};

use crate::App;
use crate::reply::{Reply, meta_error};
use crate::state::{FaultedCall, NumberConfig, SimState};

fn bearer(authorization: Option<&str>) -> Option<&str> {
    authorization.and_then(|a| a.strip_prefix("Bearer "))
}

/// Whether the token is any registered number's: Meta's 190 otherwise.
fn known_token(state: &SimState, token: Option<&str>) -> bool {
    token.is_some_and(|t| state.numbers.values().any(|n| n.config.access_token == t))
}

/// The WABAs a token reaches: those of the numbers it belongs to.
fn reaches_waba(state: &SimState, token: Option<&str>, waba_id: &str) -> bool {
    state
        .numbers
        .values()
        .any(|n| n.config.waba_id == waba_id && Some(n.config.access_token.as_str()) == token)
}

fn unseen(id: &str) -> Reply {
    meta_error(
        100,
        &format!(
            "Unsupported get request. Object with ID '{id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation."
        ),
    )
}

fn invalid_token() -> Reply {
    meta_error(190, "Error validating access token")
}

fn describe(config: &NumberConfig) -> Value {
    json!({
        "id": config.phone_number_id,
        "display_phone_number": format!("+{}", config.display_phone_number.trim_start_matches('+')),
        "verified_name": config.verified_name,
        "quality_rating": config.quality_rating,
        "code_verification_status": "VERIFIED",
        "platform_type": "CLOUD_API",
        "throughput": {"level": if config.throughput_per_second >= 1000.0 { "HIGH" } else { "STANDARD" }},
    })
}

/// `GET /{version}/{phone-number-id}`; a `lookup` fault answers instead when one matches.
pub fn number(app: &App, phone_number_id: &str, authorization: Option<&str>) -> Reply {
    let token = bearer(authorization);
    let mut state = app.lock();
    if let Some(fault) = state.take_fault(FaultedCall::Lookup, phone_number_id, None) {
        if fault.drop {
            return Reply::Drop;
        }
        if let Some(code) = fault.error_code {
            return meta_error(code, "injected fault");
        }
        let status = fault.http_status.unwrap_or(503);
        let page = b"<html><body>Service temporarily unavailable</body></html>".to_vec();
        return Reply::Bytes(status, "text/html".into(), page);
    }
    if !known_token(&state, token) {
        return invalid_token();
    }
    let Some(number) = state.numbers.get(phone_number_id) else {
        return unseen(phone_number_id);
    };
    if !reaches_waba(&state, token, &number.config.waba_id) {
        return unseen(phone_number_id);
    }
    Reply::Json(200, describe(&number.config))
}

/// `GET /{version}/{waba-id}/phone_numbers`, in pages of `limit` (default 25) from `after`.
pub fn account_numbers(
    app: &App,
    waba_id: &str,
    authorization: Option<&str>,
    query: &str,
) -> Reply {
    let token = bearer(authorization);
    let state = app.lock();
    if !known_token(&state, token) {
        return invalid_token();
    }
    if !reaches_waba(&state, token, waba_id) {
        return unseen(waba_id);
    }
    let mut numbers: Vec<&NumberConfig> = state
        .numbers
        .values()
        .map(|n| &n.config)
        .filter(|c| c.waba_id == waba_id)
        .collect();
    numbers.sort_by(|a, b| a.phone_number_id.cmp(&b.phone_number_id));
    let param = |name: &str| crate::templates::query_param(query, name);
    let limit: usize = param("limit")
        .and_then(|l| l.parse().ok())
        .unwrap_or(25)
        .clamp(1, 100);
    let start = param("after")
        .and_then(|after| numbers.iter().position(|c| c.phone_number_id == after))
        .map_or(0, |i| i + 1);
    let shown: Vec<&NumberConfig> = numbers.iter().skip(start).take(limit).copied().collect();
    let page: Vec<Value> = shown.iter().map(|c| describe(c)).collect();
    let last = shown.last().map(|c| c.phone_number_id.clone());
    let more = start + limit < numbers.len();
    let mut paging = json!({"cursors": {"before": "", "after": last.clone().unwrap_or_default()}});
    if more {
        paging["next"] = json!(format!(
            "{waba_id}/phone_numbers?after={}",
            last.unwrap_or_default()
        ));
    }
    Reply::Json(200, json!({"data": page, "paging": paging}))
}
