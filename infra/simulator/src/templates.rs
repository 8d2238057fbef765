//! Meta's template management for a WABA: `POST /{version}/{waba-id}/message_templates`
//! (checked; answered `PENDING`, then approved by a signed `message_template_status_update`
//! webhook after the number's status delay), `GET` the same edge in pages of `limit` with
//! `after` cursors, and `DELETE` it by `name` (and `hsm_id`). Any registered number's token
//! of the WABA is accepted, as a system user's token is for all its numbers at Meta.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};

use crate::App;
use crate::reply::{Reply, meta_error};
use crate::state::{NumberConfig, SimTemplate, epoch_secs};
use crate::webhooks::post_signed;

impl SimTemplate {
    fn to_json(&self) -> Value {
        json!({"id": self.id, "name": self.name, "language": self.language,
               "status": self.status, "category": self.category, "components": self.components})
    }
}

/// A number of the WABA whose token the request carries; else Meta's 190.
fn authorised(
    app: &App,
    waba_id: &str,
    authorization: Option<&str>,
) -> Result<NumberConfig, Reply> {
    let token = authorization.and_then(|a| a.strip_prefix("Bearer "));
    let state = app.lock();
    state
        .numbers
        .values()
        .map(|n| &n.config)
        .find(|c| c.waba_id == waba_id && Some(c.access_token.as_str()) == token)
        .cloned()
        .ok_or_else(|| {
            meta_error(
                190,
                "The access token is not valid for this WhatsApp Business Account",
            )
        })
}

pub async fn create(
    app: &Arc<App>,
    waba_id: &str,
    authorization: Option<&str>,
    body: &[u8],
) -> Reply {
    let number = match authorised(app, waba_id, authorization) {
        Ok(n) => n,
        Err(reply) => return reply,
    };
    let Ok(request) = serde_json::from_slice::<Value>(body) else {
        return meta_error(100, "The request body is not JSON");
    };
    let text = |name: &str| request.get(name).and_then(Value::as_str).map(str::to_owned);
    let (Some(name), Some(language), Some(category)) =
        (text("name"), text("language"), text("category"))
    else {
        return meta_error(100, "name, language and category are required");
    };
    let name_ok = name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if !name_ok || !["MARKETING", "UTILITY", "AUTHENTICATION"].contains(&category.as_str()) {
        return meta_error(100, "Invalid parameter: name or category");
    }
    let Some(components) = request.get("components").filter(|c| {
        c.as_array().is_some_and(|list| {
            list.iter()
                .filter(|x| x.get("type").and_then(Value::as_str) == Some("BODY"))
                .count()
                == 1
        })
    }) else {
        return meta_error(100, "components need exactly one BODY");
    };
    let template = {
        let mut state = app.lock();
        let templates = state.templates.entry(waba_id.to_owned()).or_default();
        if templates
            .iter()
            .any(|t| t.name == name && t.language == language)
        {
            return meta_error(100, "Content in this language already exists");
        }
        let template = SimTemplate {
            id: rand::Rng::random_range(&mut rand::rng(), 10u64.pow(14)..10u64.pow(15)).to_string(),
            name,
            language,
            category,
            status: "PENDING".into(),
            components: components.clone(),
        };
        templates.push(template.clone());
        template
    };
    approve_later(app.clone(), number, waba_id.to_owned(), template.clone());
    Reply::Json(
        200,
        json!({"id": template.id, "status": template.status, "category": template.category}),
    )
}

/// Approves the template after the number's status delay and tells the webhook, as Meta's
/// review does (in minutes there, in milliseconds here).
fn approve_later(app: Arc<App>, number: NumberConfig, waba_id: String, template: SimTemplate) {
    let delay = Duration::from_millis(number.statuses.delay_ms.max(50));
    tokio::spawn(async move {
        tokio::time::sleep(delay).await;
        let approved = {
            let mut state = app.lock();
            let found = state
                .templates
                .get_mut(&waba_id)
                .and_then(|list| list.iter_mut().find(|t| t.id == template.id));
            match found {
                Some(t) => {
                    t.status = "APPROVED".into();
                    true
                }
                None => false,
            }
        };
        if !approved {
            return;
        }
        let id: u64 = template.id.parse().unwrap_or(0);
        let body = json!({
            "object": "whatsapp_business_account",
            "entry": [{"id": waba_id, "time": epoch_secs(), "changes": [{
                "field": "message_template_status_update",
                "value": {"event": "APPROVED", "message_template_id": id,
                          "message_template_name": template.name,
                          "message_template_language": template.language, "reason": "NONE"},
            }]}]
        });
        post_signed(&app.http, &number, &body).await;
    });
}

pub fn list(app: &App, waba_id: &str, authorization: Option<&str>, query: &str) -> Reply {
    if let Err(reply) = authorised(app, waba_id, authorization) {
        return reply;
    }
    let param = |name: &str| query_param(query, name);
    let limit: usize = param("limit")
        .and_then(|l| l.parse().ok())
        .unwrap_or(25)
        .clamp(1, 100);
    let start: usize = param("after").and_then(|a| a.parse().ok()).unwrap_or(0);
    let state = app.lock();
    let all = state.templates.get(waba_id).cloned().unwrap_or_default();
    let page: Vec<Value> = all
        .iter()
        .skip(start)
        .take(limit)
        .map(SimTemplate::to_json)
        .collect();
    let end = start + page.len();
    let mut paging = json!({"cursors": {"before": start.to_string(), "after": end.to_string()}});
    if end < all.len() {
        paging["next"] = json!(format!("/{waba_id}/message_templates?after={end}"));
    }
    Reply::Json(200, json!({"data": page, "paging": paging}))
}

pub fn delete(app: &App, waba_id: &str, authorization: Option<&str>, query: &str) -> Reply {
    if let Err(reply) = authorised(app, waba_id, authorization) {
        return reply;
    }
    let param = |name: &str| query_param(query, name);
    let Some(name) = param("name") else {
        return meta_error(100, "name is required");
    };
    let id = param("hsm_id");
    let mut state = app.lock();
    let templates = state.templates.entry(waba_id.to_owned()).or_default();
    let before = templates.len();
    templates.retain(|t| !(t.name == name && id.as_deref().is_none_or(|i| i == t.id)));
    if templates.len() == before {
        return meta_error(100, "Message template not found");
    }
    Reply::Json(200, json!({"success": true}))
}

/// The value of `name` in a query string (the values used here need no decoding).
pub(crate) fn query_param(query: &str, name: &str) -> Option<String> {
    query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}
