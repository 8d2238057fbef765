//! Request handling: the GET handshake and the POST delivery, for the platform's Meta app
//! (`/webhook`) and for a tenant's own app (`/webhook/{tenant_id}`).

use lambda_http::{Body, Request, RequestExt, Response};
use subtle::ConstantTimeEq;
use wagate_messaging::clock::now_millis;
use wagate_messaging::domain::tenant::{TenantId, TenantStatus};
use wagate_messaging::queue::event::Door as QueuedDoor;
use wagate_messaging::queue::{MAX_BATCH_BYTES, QueueError};
use wagate_messaging::secret::Secret;
use wagate_messaging::secret_store::{SecretContext, SecretPurpose};
use wagate_messaging::signature::{LEGACY_SIGNATURE_HEADER, SIGNATURE_HEADER, verify};
use wagate_messaging::tenants::Tenants;
use wagate_messaging::webhook::{Arrival, QueueMessage, Route, split_delivery, to_queue_message};

use crate::error::{WebhookError, json_response};
use crate::state::AppState;

/// Which Meta app a request is for.
enum Door {
    Platform,
    Tenant(TenantId),
}

pub async fn handle(state: &AppState, request: Request) -> Response<Body> {
    match route(state, request).await {
        Ok(response) => response,
        Err(e) => e.into_response(),
    }
}

async fn route(state: &AppState, request: Request) -> Result<Response<Body>, WebhookError> {
    let door = door_of(request.uri().path())?;
    match *request.method() {
        http::Method::GET => handshake(state, &door, &request).await,
        http::Method::POST => deliver(state, &door, &request).await,
        _ => Err(WebhookError::MethodNotAllowed),
    }
}

fn door_of(path: &str) -> Result<Door, WebhookError> {
    let path = path.trim_end_matches('/');
    match path.strip_prefix("/webhook") {
        Some("") => Ok(Door::Platform),
        Some(rest) => {
            let tenant = rest.strip_prefix('/').ok_or(WebhookError::NotFound)?;
            TenantId::parse(tenant)
                .map(Door::Tenant)
                .map_err(|_| WebhookError::NotFound)
        }
        None => Err(WebhookError::NotFound),
    }
}

/// Meta's subscription check: echo the challenge when mode and token match.
async fn handshake(
    state: &AppState,
    door: &Door,
    request: &Request,
) -> Result<Response<Body>, WebhookError> {
    let query = request.query_string_parameters();
    let expected = match door {
        Door::Platform => state.config.platform_verify_token.clone(),
        Door::Tenant(id) => tenant_secret(state, id, SecretPurpose::MetaVerifyToken).await?,
    };
    let token_matches = query
        .first("hub.verify_token")
        .is_some_and(|t| bool::from(t.as_bytes().ct_eq(expected.expose().as_bytes())));
    if query.first("hub.mode") != Some("subscribe") || !token_matches {
        return Err(WebhookError::VerificationFailed);
    }
    let challenge = query.first("hub.challenge").unwrap_or_default().to_owned();
    Ok(Response::builder()
        .status(200)
        .header("content-type", "text/plain")
        .body(Body::Text(challenge))
        .expect("a plain response builds"))
}

async fn deliver(
    state: &AppState,
    door: &Door,
    request: &Request,
) -> Result<Response<Body>, WebhookError> {
    let body: &[u8] = request.body().as_ref();
    if body.len() > state.config.max_body_bytes {
        return Err(WebhookError::TooLarge {
            limit: state.config.max_body_bytes,
        });
    }
    let app_secret = match door {
        Door::Platform => state.platform_app_secret().await?.clone(),
        Door::Tenant(id) => tenant_secret(state, id, SecretPurpose::MetaAppSecret).await?,
    };
    let headers = request.headers();
    let signature = headers.get(SIGNATURE_HEADER).and_then(|v| v.to_str().ok());
    verify(
        &app_secret,
        body,
        signature,
        headers.contains_key(LEGACY_SIGNATURE_HEADER),
    )?;

    let received_at_ms = now_millis();
    let events = split_delivery(body)?;
    let total = events.len();
    let mut messages: Vec<QueueMessage> = Vec::with_capacity(total);
    for event in &events {
        if let Some(tenant) = tenant_of(state, door, &event.route).await? {
            let ids = state.queue_ids.key().await.map_err(QueueError::from)?;
            let arrival = Arrival {
                tenant_id: tenant.as_str(),
                door: match door {
                    Door::Platform => QueuedDoor::Platform,
                    Door::Tenant(_) => QueuedDoor::TenantApp,
                },
                received_at_ms,
            };
            messages.push(to_queue_message(event, &arrival, ids));
        }
    }
    let unroutable = total - messages.len();
    if unroutable > 0 {
        // Counted, never retried: Meta would only send them again.
        tracing::warn!(
            unroutable,
            total,
            "events for numbers or WABAs of no tenant were not queued"
        );
    }
    // One event too large for a queue message must not hold back the rest of the delivery
    // on every one of Meta's retries: it is refused alone, logged and counted.
    let (messages, oversized): (Vec<QueueMessage>, Vec<QueueMessage>) = messages
        .into_iter()
        .partition(|m| m.body.len() <= MAX_BATCH_BYTES);
    for event in &oversized {
        tracing::error!(
            alert = "webhook_event_too_large",
            group = %event.group_id,
            bytes = event.body.len(),
            "an event too large for the queue was not queued"
        );
    }
    let queued = messages.len();
    state.queue.send_all(messages).await?;
    tracing::info!(
        queued,
        unroutable,
        oversized = oversized.len(),
        bytes = body.len(),
        "delivery accepted"
    );
    Ok(json_response(
        200,
        &serde_json::json!({"queued": queued, "unroutable": unroutable, "oversized": oversized.len()}),
    ))
}

/// The tenant an event belongs to. Through a tenant's own door, only that tenant's numbers
/// and WABAs count: one tenant's app cannot put events into another tenant's data.
async fn tenant_of(
    state: &AppState,
    door: &Door,
    route: &Route<'_>,
) -> Result<Option<TenantId>, WebhookError> {
    let owner = match route {
        Route::PhoneNumber(id) => state.directory.tenant_for_phone_number(id).await?,
        Route::Waba(id) => state.directory.tenant_for_waba(id).await?,
    };
    Ok(match door {
        Door::Platform => owner,
        Door::Tenant(door_tenant) => owner.filter(|o| o == door_tenant),
    })
}

/// One of a tenant's Meta app secrets; an unknown tenant, or one without its own app, is
/// not a webhook at all.
async fn tenant_secret(
    state: &AppState,
    id: &TenantId,
    purpose: SecretPurpose,
) -> Result<Secret, WebhookError> {
    let tenant = state
        .directory
        .tenant(id)
        .await?
        .ok_or(WebhookError::NotFound)?;
    if tenant.status == TenantStatus::Suspended && purpose == SecretPurpose::MetaVerifyToken {
        return Err(WebhookError::NotFound);
    }
    let app = tenant.meta_app.as_ref().ok_or(WebhookError::NotFound)?;
    let ciphertext = match purpose {
        SecretPurpose::MetaVerifyToken => &app.verify_token_ciphertext,
        _ => &app.app_secret_ciphertext,
    };
    Ok(state
        .secrets
        .decrypt(ciphertext, &SecretContext::tenant(purpose, id.as_str()))
        .await?)
}
