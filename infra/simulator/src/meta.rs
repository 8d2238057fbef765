//! Meta's side of the Cloud API: `POST /{version}/{phone-number-id}/messages` with Meta's
//! checks, limits and errors, and the media lookup and download.

use std::time::Duration;

use base64::Engine;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::App;
use crate::reply::{Reply, meta_error};
use crate::state::{FaultedCall, Received, epoch_ms, epoch_secs, meta_wamid};
use crate::validate::{Refusal, check_mark_read, check_message, is_mark_read};
use crate::webhooks::{schedule_statuses, statuses_for};

const WINDOW_SECS: i64 = 24 * 3600;

fn refused(r: Refusal) -> Reply {
    meta_error(r.code, &r.details)
}

fn bearer(authorization: Option<&str>) -> Option<&str> {
    authorization.and_then(|a| a.strip_prefix("Bearer "))
}

pub async fn send(
    app: &App,
    phone_number_id: &str,
    authorization: Option<&str>,
    body: &[u8],
) -> Reply {
    let Ok(request) = serde_json::from_slice::<Value>(body) else {
        return meta_error(100, "The request body is not JSON");
    };
    let to = request.get("to").and_then(Value::as_str).map(str::to_owned);
    let kind = request
        .get("type")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let fault = app
        .lock()
        .take_fault(FaultedCall::Send, phone_number_id, to.as_deref());
    if let Some(latency) = fault.as_ref().and_then(|f| f.latency_ms) {
        tokio::time::sleep(Duration::from_millis(latency)).await;
    }
    let (reply, wamid) = decide(app, phone_number_id, authorization, &request, fault);
    let (http_status, error_code) = match &reply {
        Reply::Json(status, body) => (*status, body["error"]["code"].as_i64()),
        Reply::Bytes(status, ..) => (*status, None),
        Reply::Drop => (0, None),
    };
    let mut state = app.lock();
    if let Some(number) = state.numbers.get_mut(phone_number_id) {
        number.received.push(Received {
            at_ms: epoch_ms(),
            to,
            kind,
            body: request,
            http_status,
            error_code,
            wamid,
        });
    }
    reply
}

fn decide(
    app: &App,
    phone_number_id: &str,
    authorization: Option<&str>,
    request: &Value,
    fault: Option<crate::state::Fault>,
) -> (Reply, Option<String>) {
    if let Some(fault) = fault {
        if fault.drop {
            return (Reply::Drop, None);
        }
        if let Some(status) = fault.http_status {
            let page = b"<html><body>Service temporarily unavailable</body></html>".to_vec();
            return (Reply::Bytes(status, "text/html".into(), page), None);
        }
        if let Some(code) = fault.error_code {
            return (meta_error(code, "injected fault"), None);
        }
    }
    let mut state = app.lock();
    let now = epoch_secs();
    let last_inbound = request.get("to").and_then(Value::as_str).and_then(|to| {
        state
            .last_inbound
            .get(&(phone_number_id.to_owned(), to.to_owned()))
            .copied()
    });
    let Some(number) = state.numbers.get_mut(phone_number_id) else {
        let details = format!("Object with ID '{phone_number_id}' does not exist");
        return (meta_error(100, &details), None);
    };
    if bearer(authorization) != Some(number.config.access_token.as_str()) {
        return (meta_error(190, "Error validating access token"), None);
    }
    if is_mark_read(request) {
        return match check_mark_read(request) {
            Ok(()) => (Reply::Json(200, json!({"success": true})), None),
            Err(r) => (refused(r), None),
        };
    }
    let kind = match check_message(request) {
        Ok(kind) => kind,
        Err(r) => return (refused(r), None),
    };
    let to = request["to"].as_str().unwrap_or_default().to_owned();
    let is_template = kind == "template";
    if number.config.enforce_window
        && !is_template
        && last_inbound.is_none_or(|at| now >= at + WINDOW_SECS)
    {
        let details = "Message failed to send because more than 24 hours have passed since the customer last replied to this number.";
        return (meta_error(131047, details), None);
    }
    if !number.throughput.take() {
        return (meta_error(130429, "Message throughput reached"), None);
    }
    if !number.pair(&to).take() {
        return (meta_error(131056, "Too many messages to this user"), None);
    }
    let wamid = meta_wamid(&to, true);
    let callback_data = request
        .get("biz_opaque_callback_data")
        .and_then(Value::as_str);
    let statuses = statuses_for(&number.config, &wamid, &to, is_template, now, callback_data);
    schedule_statuses(app.http.clone(), number.config.clone(), statuses);
    let contact = if to.contains('.') {
        json!({"input": to, "user_id": to})
    } else {
        json!({"input": to, "wa_id": to})
    };
    let body = json!({
        "messaging_product": "whatsapp",
        "contacts": [contact],
        "messages": [{"id": wamid, "message_status": "accepted"}],
    });
    (Reply::Json(200, body), Some(wamid))
}

/// Whether `id` names a media object the simulator holds.
pub fn is_media(app: &App, id: &str) -> bool {
    app.lock().media.contains_key(id)
}

/// `GET /{version}/{media-id}`: where to download a media object, for its owner's token.
pub fn media_info(app: &App, media_id: &str, authorization: Option<&str>) -> Reply {
    let state = app.lock();
    let Some(media) = state.media.get(media_id) else {
        return meta_error(100, "Unsupported get request: the media does not exist");
    };
    let owner_token = state
        .numbers
        .get(&media.phone_number_id)
        .map(|n| n.config.access_token.as_str());
    if bearer(authorization).is_none() || bearer(authorization) != owner_token {
        return meta_error(190, "Error validating access token");
    }
    Reply::Json(
        200,
        json!({
            "messaging_product": "whatsapp",
            "url": format!("{}/_sim/media/{media_id}/download", app.base_url),
            "mime_type": media.mime_type,
            "sha256": hex::encode(Sha256::digest(&media.bytes)),
            "file_size": media.bytes.len(),
            "id": media_id,
        }),
    )
}

/// The media download: the bytes, for the owner's token only.
pub fn media_download(app: &App, media_id: &str, authorization: Option<&str>) -> Reply {
    let state = app.lock();
    let Some(media) = state.media.get(media_id) else {
        return Reply::Json(404, json!({"error": "no such media"}));
    };
    let owner_token = state
        .numbers
        .get(&media.phone_number_id)
        .map(|n| n.config.access_token.as_str());
    if bearer(authorization).is_none() || bearer(authorization) != owner_token {
        return Reply::Json(401, json!({"error": "a valid Bearer token is required"}));
    }
    Reply::Bytes(200, media.mime_type.clone(), media.bytes.clone())
}

/// sha256 as webhooks carry it: base64.
pub fn webhook_sha256(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(Sha256::digest(bytes))
}
