//! The simulator's own API under `/_sim`: register numbers, make simulated users write in,
//! inject faults, upload media, and inspect what the send API received.

use std::collections::BTreeMap;

use base64::Engine;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::App;
use crate::meta::webhook_sha256;
use crate::reply::Reply;
use crate::state::{Fault, Media, Number, NumberConfig, epoch_secs, meta_wamid, random_id};
use crate::webhooks::{delivery, post_signed};

fn bad_request(why: impl std::fmt::Display) -> Reply {
    Reply::Json(400, json!({"error": why.to_string()}))
}

fn not_found() -> Reply {
    Reply::Json(404, json!({"error": "no such phone number"}))
}

pub fn register_number(app: &App, body: &[u8]) -> Reply {
    let config: NumberConfig = match serde_json::from_slice(body) {
        Ok(c) => c,
        Err(e) => return bad_request(e),
    };
    if config.throughput_per_second <= 0.0 || config.pair_burst < 1.0 {
        return bad_request("throughput_per_second and pair_burst must be positive");
    }
    let id = config.phone_number_id.clone();
    app.lock().numbers.insert(id.clone(), Number::new(config));
    Reply::Json(200, json!({"registered": id}))
}

pub fn add_fault(app: &App, body: &[u8]) -> Reply {
    let fault: Fault = match serde_json::from_slice(body) {
        Ok(f) => f,
        Err(e) => return bad_request(e),
    };
    if fault.count == 0 {
        return bad_request("count must be at least 1");
    }
    let mut state = app.lock();
    state.faults.push(fault);
    Reply::Json(200, json!({"faults": state.faults.len()}))
}

pub fn clear_faults(app: &App) -> Reply {
    app.lock().faults.clear();
    Reply::Json(200, json!({"faults": 0}))
}

pub fn received(app: &App, phone_number_id: &str) -> Reply {
    let state = app.lock();
    match state.numbers.get(phone_number_id) {
        Some(n) => Reply::Json(200, json!({"requests": n.received})),
        None => not_found(),
    }
}

/// Accepted sends and refusals by code: what load tests check.
pub fn counters(app: &App, phone_number_id: &str) -> Reply {
    let state = app.lock();
    let Some(number) = state.numbers.get(phone_number_id) else {
        return not_found();
    };
    let mut refused: BTreeMap<String, u64> = BTreeMap::new();
    let mut accepted = 0u64;
    let mut other = 0u64;
    for r in &number.received {
        match (r.wamid.is_some(), r.error_code) {
            (true, _) => accepted += 1,
            (false, Some(code)) => *refused.entry(code.to_string()).or_default() += 1,
            (false, None) => other += 1,
        }
    }
    let first = number.received.iter().find(|r| r.wamid.is_some());
    let last = number.received.iter().rev().find(|r| r.wamid.is_some());
    Reply::Json(
        200,
        json!({
            "accepted": accepted,
            "refused": refused,
            "faults_without_meta_body": other,
            "first_accepted_at_ms": first.map(|r| r.at_ms as u64),
            "last_accepted_at_ms": last.map(|r| r.at_ms as u64),
        }),
    )
}

pub fn upload_media(app: &App, body: &[u8]) -> Reply {
    #[derive(Deserialize)]
    struct Upload {
        phone_number_id: String,
        mime_type: String,
        data_base64: String,
    }
    let upload: Upload = match serde_json::from_slice(body) {
        Ok(u) => u,
        Err(e) => return bad_request(e),
    };
    let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(&upload.data_base64) else {
        return bad_request("data_base64 is not base64");
    };
    let id = random_id("").to_lowercase();
    app.lock().media.insert(
        id.clone(),
        Media {
            phone_number_id: upload.phone_number_id,
            mime_type: upload.mime_type,
            bytes,
        },
    );
    Reply::Json(200, json!({"id": id}))
}

/// A simulated user writes in: the webhook Meta would send is built, signed and posted.
pub async fn user_writes(app: &App, phone_number_id: &str, body: &[u8]) -> Reply {
    #[derive(Deserialize)]
    struct Write {
        from: Option<String>,
        user_id: Option<String>,
        username: Option<String>,
        name: Option<String>,
        timestamp: Option<i64>,
        message: Value,
    }
    let write: Write = match serde_json::from_slice(body) {
        Ok(w) => w,
        Err(e) => return bad_request(e),
    };
    if write.from.is_none() && write.user_id.is_none() {
        return bad_request("a user needs a phone number (from) or a user_id");
    }
    let Some(kind) = write
        .message
        .get("type")
        .and_then(Value::as_str)
        .map(str::to_owned)
    else {
        return bad_request("message.type is required");
    };
    let timestamp = write.timestamp.unwrap_or_else(epoch_secs);
    let user = write
        .from
        .as_deref()
        .or(write.user_id.as_deref())
        .unwrap_or_default();
    let wamid = meta_wamid(user, false);
    let mut message = write.message.clone();
    let config = {
        let mut state = app.lock();
        let Some(number) = state.numbers.get(phone_number_id) else {
            return not_found();
        };
        let config = number.config.clone();
        if matches!(
            kind.as_str(),
            "image" | "video" | "audio" | "document" | "sticker"
        ) {
            attach_media(&mut state, phone_number_id, &kind, &mut message);
        }
        for user in [&write.from, &write.user_id].into_iter().flatten() {
            state
                .last_inbound
                .insert((phone_number_id.to_owned(), user.clone()), timestamp);
        }
        config
    };
    message["id"] = json!(wamid);
    message["timestamp"] = json!(timestamp.to_string());
    let mut contact =
        json!({"profile": {"name": write.name.unwrap_or_else(|| "Simulated User".into())}});
    if let Some(from) = &write.from {
        message["from"] = json!(from);
        contact["wa_id"] = json!(from);
    }
    if let Some(user_id) = &write.user_id {
        message["from_user_id"] = json!(user_id);
        contact["user_id"] = json!(user_id);
    }
    if let Some(username) = &write.username {
        contact["profile"]["username"] = json!(username);
    }
    let webhook = delivery(
        &config,
        json!({"contacts": [contact], "messages": [message]}),
    );
    let status = post_signed(&app.http, &config, &webhook).await;
    Reply::Json(200, json!({"wamid": wamid, "webhook_status": status}))
}

/// Gives a user's media message an id, with bytes the media endpoints serve.
fn attach_media(
    state: &mut crate::state::SimState,
    phone_number_id: &str,
    kind: &str,
    message: &mut Value,
) {
    let content = message.get(kind).cloned().unwrap_or_else(|| json!({}));
    if content.get("id").is_some() {
        return;
    }
    let mime_type = content
        .get("mime_type")
        .and_then(Value::as_str)
        .unwrap_or(match kind {
            "image" => "image/jpeg",
            "video" => "video/mp4",
            "audio" => "audio/ogg",
            "sticker" => "image/webp",
            _ => "application/pdf",
        })
        .to_owned();
    let bytes = format!("simulated {kind} {}", random_id("")).into_bytes();
    let id = random_id("").to_lowercase();
    let mut content = content;
    content["id"] = json!(id);
    content["mime_type"] = json!(mime_type);
    content["sha256"] = json!(webhook_sha256(&bytes));
    message[kind] = content;
    state.media.insert(
        id,
        Media {
            phone_number_id: phone_number_id.to_owned(),
            mime_type,
            bytes,
        },
    );
}
