//! The webhooks Meta would post: statuses after a send, and messages from a simulated
//! user; signed with the number's app secret and retried a few times like Meta does.

use std::time::Duration;

use serde_json::{Value, json};

use crate::signing::signature_header;
use crate::state::{NumberConfig, StatusBehaviour};

/// A change of field `messages` for `number`, with `value` filled in.
pub fn delivery(number: &NumberConfig, mut value: Value) -> Value {
    value["messaging_product"] = json!("whatsapp");
    value["metadata"] = json!({
        "display_phone_number": number.display_phone_number,
        "phone_number_id": number.phone_number_id,
    });
    json!({
        "object": "whatsapp_business_account",
        "entry": [{"id": number.waba_id, "changes": [{"field": "messages", "value": value}]}]
    })
}

/// The statuses to post after an accepted send, in the order they will go.
pub fn statuses_for(
    number: &NumberConfig,
    wamid: &str,
    to: &str,
    is_template: bool,
    sent_at: i64,
    callback_data: Option<&str>,
) -> Vec<Value> {
    let behaviour: &StatusBehaviour = &number.statuses;
    let chain: &[&str] = match behaviour.final_status.as_str() {
        "none" => &[],
        "sent" => &["sent"],
        "delivered" => &["sent", "delivered"],
        "failed" => &["failed"],
        _ => &["sent", "delivered", "read"],
    };
    let (category, kind) = if is_template {
        ("utility", "regular")
    } else {
        ("service", "free_customer_service")
    };
    let mut statuses: Vec<Value> = chain
        .iter()
        .enumerate()
        .map(|(i, status)| {
            let mut s = json!({
                "id": wamid,
                "status": status,
                "timestamp": (sent_at + i as i64).to_string(),
            });
            if to.contains('.') {
                s["recipient_user_id"] = json!(to);
            } else {
                s["recipient_id"] = json!(to);
            }
            // Meta echoes the sender's opaque data in every status of the message.
            if let Some(data) = callback_data {
                s["biz_opaque_callback_data"] = json!(data);
            }
            if *status == "failed" {
                let code = behaviour.fail_code.unwrap_or(131026);
                s["errors"] = json!([{
                    "code": code,
                    "title": crate::reply::title_of(code),
                    "message": crate::reply::title_of(code),
                    "error_data": {"details": "simulated failure"},
                }]);
            } else {
                s["pricing"] = json!({"billable": true, "pricing_model": "PMP", "category": category, "type": kind});
            }
            delivery(number, json!({"statuses": [s]}))
        })
        .collect();
    if behaviour.reorder {
        statuses.reverse();
    }
    statuses
}

/// Posts a delivery signed with the number's app secret; retries (1, 2, 4 s) unless the
/// receiver answers 200. Returns the last HTTP status, 0 if it never answered.
pub async fn post_signed(http: &reqwest::Client, number: &NumberConfig, body: &Value) -> u16 {
    let bytes = body.to_string().into_bytes();
    let signature = signature_header(&number.app_secret, &bytes);
    let mut status = 0;
    for attempt in 0..4u32 {
        if attempt > 0 {
            tokio::time::sleep(Duration::from_secs(1 << (attempt - 1))).await;
        }
        let sent = http
            .post(&number.webhook_url)
            .header("content-type", "application/json")
            .header("x-hub-signature-256", &signature)
            .body(bytes.clone())
            .send()
            .await;
        match sent {
            Ok(r) if r.status().is_success() => return r.status().as_u16(),
            Ok(r) => status = r.status().as_u16(),
            Err(e) => eprintln!("sim: webhook to {} failed: {e}", number.webhook_url),
        }
    }
    status
}

/// Posts a send's statuses in the background, spaced by the number's delay.
pub fn schedule_statuses(http: reqwest::Client, number: NumberConfig, statuses: Vec<Value>) {
    tokio::spawn(async move {
        let delay = Duration::from_millis(number.statuses.delay_ms);
        for status in statuses {
            tokio::time::sleep(delay).await;
            let copies = if number.statuses.duplicate { 2 } else { 1 };
            for _ in 0..copies {
                post_signed(&http, &number, &status).await;
            }
        }
    });
}
