//! `wagate-sim`: a Cloud API simulator for the local stack and the tests. Meta's send API
//! with its checks, limits and errors; status webhooks after sends; simulated users who
//! write in; fault injection; media; and an inspection API. Listens on 127.0.0.1 only.
//!
//!   wagate-sim --port 4703 [--number FILE.json]...
//!
//! Routes: `POST /{version}/{phone-number-id}/messages`, `GET /{version}/{phone-number-id}`,
//! `GET /{version}/{waba-id}/phone_numbers`, `GET /{version}/{media-id}`,
//! `POST|GET|DELETE /{version}/{waba-id}/message_templates`, and
//! under `/_sim`: `POST numbers`, `POST numbers/{id}/users/write`, `GET numbers/{id}/received`,
//! `GET numbers/{id}/counters`, `POST|DELETE faults`, `POST media`,
//! `GET media/{id}/download`, `GET health`.

mod control;
mod limits;
mod meta;
mod numbers;
mod reply;
mod signing;
mod state;
mod templates;
mod validate;
mod webhooks;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::{Method, Request, Response};
use hyper_util::rt::TokioIo;
use reply::Reply;
use state::SimState;

/// Requests larger than this are refused, as Meta refuses oversized bodies.
const MAX_BODY: usize = 4 * 1024 * 1024;

pub struct App {
    state: Mutex<SimState>,
    http: reqwest::Client,
    base_url: String,
}

impl App {
    fn lock(&self) -> MutexGuard<'_, SimState> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[derive(Debug)]
struct DropConnection;

impl std::fmt::Display for DropConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped on purpose")
    }
}

impl std::error::Error for DropConnection {}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let args: Vec<String> = std::env::args().collect();
    let value = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let port: u16 = value("--port").unwrap_or_else(|| "4703".into()).parse()?;
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let app = Arc::new(App {
        state: Mutex::new(SimState::default()),
        http: http_client()
            .timeout(std::time::Duration::from_secs(10))
            .build()?,
        base_url: format!("http://{addr}"),
    });
    for (i, arg) in args.iter().enumerate() {
        if arg == "--number" {
            let path = args.get(i + 1).ok_or("--number needs a file")?;
            let body = std::fs::read(path)?;
            if let Reply::Json(status, answer) = control::register_number(&app, &body)
                && status != 200
            {
                return Err(format!("{path}: {answer}").into());
            }
        }
    }
    let listener = tokio::net::TcpListener::bind(addr).await?;
    eprintln!("wagate-sim: listening on http://{addr}");
    loop {
        let (stream, _) = listener.accept().await?;
        let app = app.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| {
                let app = app.clone();
                async move { handle(app, req).await }
            });
            // A dropped connection (fault injection) ends here with an error, on purpose.
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

async fn handle(
    app: Arc<App>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, DropConnection> {
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let query = req.uri().query().unwrap_or_default().to_owned();
    let authorization = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = match Limited::new(req.into_body(), MAX_BODY).collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => {
            return Ok(respond(reply::meta_error(
                100,
                "The request body is too large",
            )));
        }
    };
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    let auth = authorization.as_deref();
    let reply = match (&method, parts.as_slice()) {
        (&Method::GET, ["_sim", "health"]) => Reply::Json(200, serde_json::json!({"ok": true})),
        (&Method::POST, ["_sim", "numbers"]) => control::register_number(&app, &body),
        (&Method::POST, ["_sim", "numbers", id, "users", "write"]) => {
            control::user_writes(&app, id, &body).await
        }
        (&Method::GET, ["_sim", "numbers", id, "received"]) => control::received(&app, id),
        (&Method::GET, ["_sim", "numbers", id, "counters"]) => control::counters(&app, id),
        (&Method::POST, ["_sim", "faults"]) => control::add_fault(&app, &body),
        (&Method::DELETE, ["_sim", "faults"]) => control::clear_faults(&app),
        (&Method::POST, ["_sim", "media"]) => control::upload_media(&app, &body),
        (&Method::GET, ["_sim", "media", id, "download"]) => meta::media_download(&app, id, auth),
        (&Method::POST, [version, waba, "message_templates"]) if version.starts_with('v') => {
            templates::create(&app, waba, auth, &body).await
        }
        (&Method::GET, [version, waba, "message_templates"]) if version.starts_with('v') => {
            templates::list(&app, waba, auth, &query)
        }
        (&Method::DELETE, [version, waba, "message_templates"]) if version.starts_with('v') => {
            templates::delete(&app, waba, auth, &query)
        }
        (&Method::POST, [version, id, "messages"]) if version.starts_with('v') => {
            meta::send(&app, id, auth, &body).await
        }
        (&Method::GET, [version, waba, "phone_numbers"]) if version.starts_with('v') => {
            numbers::account_numbers(&app, waba, auth, &query)
        }
        (&Method::GET, [version, id]) if version.starts_with('v') && meta::is_media(&app, id) => {
            meta::media_info(&app, id, auth)
        }
        // Any other node is looked up as a phone number: the token is checked first, as
        // Meta does (190 for a token it does not know, then 100 for what it cannot see).
        (&Method::GET, [version, id]) if version.starts_with('v') => {
            numbers::number(&app, id, auth)
        }
        _ => reply::meta_error(100, &format!("Unsupported {method} request to {path}")),
    };
    if matches!(reply, Reply::Drop) {
        return Err(DropConnection);
    }
    Ok(respond(reply))
}

fn respond(reply: Reply) -> Response<Full<Bytes>> {
    let (status, content_type, body) = match reply {
        Reply::Json(status, value) => (
            status,
            "application/json".to_owned(),
            value.to_string().into_bytes(),
        ),
        Reply::Bytes(status, content_type, bytes) => (status, content_type, bytes),
        Reply::Drop => (500, "text/plain".to_owned(), Vec::new()),
    };
    Response::builder()
        .status(status)
        .header("content-type", content_type)
        .body(Full::new(Bytes::from(body)))
        .unwrap_or_else(|_| Response::new(Full::new(Bytes::new())))
}

/// The client that posts webhooks. reqwest's rustls needs a crypto provider installed
/// before the first client; the simulator installs ring's, as the gateway does.
fn http_client() -> reqwest::ClientBuilder {
    // Deprecated by rustls for lacking post-quantum key exchange; the simulator posts to
    // loopback over plain HTTP, so which provider it holds does not matter.
    #[allow(deprecated)]
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
}
