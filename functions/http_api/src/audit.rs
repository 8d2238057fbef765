//! The audit layer: every call that changes something (POST, PUT, PATCH, DELETE) and
//! succeeds is appended to its tenant's audit chain, or the operator's, with who made it
//! (the extractors that authenticate note the caller), the route, the path it named, the
//! id its answer made, its status and the request id. One layer per API, so no route can
//! forget it; routes that only read or that are operational (sending messages) are listed
//! as not audited by the API that owns them.

use std::sync::Mutex;

use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use http::Method;
use lambda_http::RequestExt;
use lambda_http::request::RequestContext;
use rand::Rng;
use wagate_audit::AuditLog;
use wagate_messaging::domain::audit::{AuditFact, OPERATOR_CHAIN};
use wagate_messaging::telemetry::error_chain;

use crate::unix_now;

/// An answer larger than this is not read for the id it made.
const MAX_ANSWER_READ: usize = 64 * 1024;

tokio::task_local! {
    static CALLER: Mutex<Noted>;
}

/// Who the extractors found calling, and on which tenant.
#[derive(Debug, Default, Clone)]
struct Noted {
    actor: Option<String>,
    chain: Option<String>,
}

/// Notes the caller of the current request: `key:<id>` or `operator`. Outside an audited
/// request, nothing.
pub fn note_actor(actor: String) {
    let _ = CALLER.try_with(|n| n.lock().expect("never poisoned").actor = Some(actor));
}

/// Notes the tenant the current request acts on: its audit chain.
pub fn note_tenant(tenant: &str) {
    let _ = CALLER.try_with(|n| n.lock().expect("never poisoned").chain = Some(tenant.to_owned()));
}

/// The layer's state: where entries go, and which actions are not audited.
#[derive(Clone)]
pub struct Auditor {
    pub log: AuditLog,
    /// `METHOD /route` of the changes that are not audited.
    pub unaudited: &'static [&'static str],
    /// Actions recorded in the operator's chain whatever tenant they name (a tenant's
    /// deletion: its own chain goes with it).
    pub operator_actions: &'static [&'static str],
}

pub async fn record_changes(
    State(auditor): State<Auditor>,
    request: Request,
    next: Next,
) -> Response {
    let method = request.method().clone();
    let changes = matches!(
        method,
        Method::POST | Method::PUT | Method::PATCH | Method::DELETE
    );
    let Some(route) = request
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_owned())
        .filter(|_| changes)
    else {
        return next.run(request).await;
    };
    let action = format!("{method} {route}");
    if auditor.unaudited.contains(&action.as_str()) {
        return next.run(request).await;
    }
    let path = request.uri().path().to_owned();
    let request_id = request_id(&request);
    let (response, noted) = CALLER
        .scope(Mutex::new(Noted::default()), async move {
            let response = next.run(request).await;
            let noted = CALLER.with(|n| n.lock().expect("never poisoned").clone());
            (response, noted)
        })
        .await;
    let (Some(actor), true) = (noted.actor, response.status().is_success()) else {
        return response;
    };
    let chain = match noted.chain {
        Some(tenant) if !auditor.operator_actions.contains(&action.as_str()) => tenant,
        _ => OPERATOR_CHAIN.to_owned(),
    };
    let status = response.status().as_u16();
    let (response, made) = made_id(response).await;
    let target = match made {
        Some(id) => format!("{path} -> {id}"),
        None => path,
    };
    let fact = AuditFact {
        actor,
        action,
        target,
        status,
        request_id,
        at: unix_now(),
    };
    // The change is made: failing the call now would invite a second one. An append that
    // fails is queued and retried by the erasure worker.
    if let Err(e) = auditor.log.record(&chain, fact, None).await {
        tracing::error!(alert = "audit_append_failed", audit_chain = %chain, error = %error_chain(&e), "an audited change could be neither recorded nor queued");
    }
    response
}

/// The platform's request id, or one of our own outside Lambda.
fn request_id(request: &Request) -> String {
    if let Some(RequestContext::ApiGatewayV2(context)) = request.request_context_ref()
        && let Some(id) = &context.request_id
    {
        return id.clone();
    }
    hex::encode(rand::rng().random::<[u8; 12]>())
}

/// The id the answer made (`id` or `key_id` at its top), with the answer as it was. Only
/// an answer of known, small size is read (a created item's view); any other passes on
/// untouched.
async fn made_id(response: Response) -> (Response, Option<String>) {
    use axum::body::HttpBody as _;
    let small = response
        .body()
        .size_hint()
        .exact()
        .is_some_and(|n| n <= MAX_ANSWER_READ as u64);
    if !small {
        return (response, None);
    }
    let (parts, body) = response.into_parts();
    let bytes = match axum::body::to_bytes(body, MAX_ANSWER_READ).await {
        Ok(bytes) => bytes,
        // Its size was known and small: a body that fails now failed the caller too.
        Err(e) => {
            tracing::warn!(error = %e, "an audited answer could not be read");
            return (Response::from_parts(parts, Body::empty()), None);
        }
    };
    let made = serde_json::from_slice::<serde_json::Value>(&bytes)
        .ok()
        .and_then(|v| {
            ["id", "key_id"]
                .iter()
                .find_map(|k| v.get(*k).and_then(|id| id.as_str()).map(str::to_owned))
        });
    (Response::from_parts(parts, Body::from(bytes)), made)
}
