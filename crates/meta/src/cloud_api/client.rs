//! The HTTP client for Meta's send API: one connection pool per container, timeouts, a
//! configurable base URL and Graph version, and errors that carry what they mean for the
//! sender.

use std::time::Duration;

use wagate_platform::secret::Secret;

use super::classify::{ErrorClass, classify};
use super::request::{MarkRead, MetaRequest};
use super::response::{MetaApiError, SendAccepted, parse_error_body, parse_send_response};
use wagate_domain::outbound::{OutboundMessage, ValidationError};

pub const DEFAULT_BASE_URL: &str = "https://graph.facebook.com";
pub const DEFAULT_GRAPH_VERSION: &str = "v25.0";

#[derive(Debug, Clone)]
pub struct CloudApiConfig {
    /// `https://graph.facebook.com`, or the simulator's address locally.
    pub base_url: String,
    /// The Graph API version in the path, such as `v25.0`.
    pub graph_version: String,
    pub timeout: Duration,
}

impl CloudApiConfig {
    /// From `CLOUD_API_BASE_URL` (https, or plain http to 127.0.0.1 only),
    /// `GRAPH_API_VERSION` and `CLOUD_API_TIMEOUT_SECONDS`, each with Meta's defaults.
    pub fn from_settings(
        settings: &wagate_platform::config::Settings<impl Fn(&str) -> Option<String>>,
    ) -> Result<Self, wagate_platform::config::ConfigError> {
        let base_url = settings
            .optional("CLOUD_API_BASE_URL")
            .unwrap_or_else(|| DEFAULT_BASE_URL.into());
        if !(base_url.starts_with("https://") || base_url.starts_with("http://127.0.0.1")) {
            return Err(wagate_platform::config::ConfigError::invalid(
                "CLOUD_API_BASE_URL",
                "must be https (plain http only to 127.0.0.1)",
            ));
        }
        Ok(Self {
            base_url,
            graph_version: settings
                .optional("GRAPH_API_VERSION")
                .unwrap_or_else(|| DEFAULT_GRAPH_VERSION.into()),
            timeout: Duration::from_secs(settings.number_or("CLOUD_API_TIMEOUT_SECONDS", 10)?),
        })
    }
}

impl Default for CloudApiConfig {
    fn default() -> Self {
        Self {
            base_url: DEFAULT_BASE_URL.into(),
            graph_version: DEFAULT_GRAPH_VERSION.into(),
            timeout: Duration::from_secs(10),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error("the message is not valid: {0}")]
    Invalid(#[from] ValidationError),
    #[error("Meta refused the request with HTTP {status}, code {}", error.code)]
    Refused {
        status: u16,
        error: Box<MetaApiError>,
    },
    #[error("Meta answered HTTP {status} without an error body")]
    Http { status: u16 },
    #[error("the request to Meta failed")]
    Transport(#[source] reqwest::Error),
    #[error("Meta's answer could not be read: {0}")]
    UnexpectedBody(String),
    #[error("the HTTP client could not be built")]
    Build(#[source] reqwest::Error),
    #[error("the request URL is not valid: {0}")]
    BadUrl(String),
}

impl SendError {
    /// What the sender does next. Only Meta's error code decides, where there is one;
    /// HTTP 429, 5xx, timeouts and connection errors are passing failures.
    pub fn class(&self) -> ErrorClass {
        match self {
            Self::Refused { error, .. } => classify(Some(error.code)),
            Self::Invalid(_) | Self::UnexpectedBody(_) | Self::Build(_) | Self::BadUrl(_) => {
                ErrorClass::Permanent(super::classify::PermanentReason::BadRequest)
            }
            Self::Http { .. } | Self::Transport(_) => classify(None),
        }
    }
}

/// The Cloud API client; build it once per container and share it.
#[derive(Clone)]
pub struct CloudApiClient {
    http: reqwest::Client,
    config: CloudApiConfig,
}

impl CloudApiClient {
    pub fn new(config: CloudApiConfig) -> Result<Self, SendError> {
        let http = wagate_platform::http::client_builder()
            .timeout(config.timeout)
            .connect_timeout(Duration::from_secs(3))
            .pool_idle_timeout(Duration::from_secs(60))
            .user_agent(concat!("wagate/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(SendError::Build)?;
        Ok(Self { http, config })
    }

    fn messages_url(&self, phone_number_id: &str) -> String {
        format!(
            "{}/{}/{phone_number_id}/messages",
            self.config.base_url.trim_end_matches('/'),
            self.config.graph_version
        )
    }

    /// Validates and sends a message from its number.
    pub async fn send(
        &self,
        token: &Secret,
        message: &OutboundMessage,
    ) -> Result<SendAccepted, SendError> {
        message.validate()?;
        self.send_request(&message.from, token, &MetaRequest::new(message))
            .await
    }

    /// Sends a request body made (and validated) earlier, such as a queued job's.
    pub async fn send_request(
        &self,
        phone_number_id: &str,
        token: &Secret,
        request: &impl serde::Serialize,
    ) -> Result<SendAccepted, SendError> {
        let body = self.post(phone_number_id, token, request).await?;
        parse_send_response(&body).map_err(|e| SendError::UnexpectedBody(e.to_string()))
    }

    /// Marks an inbound message read (and shows a typing indicator if asked).
    pub async fn mark_read(
        &self,
        phone_number_id: &str,
        token: &Secret,
        read: &MarkRead,
    ) -> Result<(), SendError> {
        self.post(phone_number_id, token, &read.to_json())
            .await
            .map(|_| ())
    }

    async fn post(
        &self,
        phone_number_id: &str,
        token: &Secret,
        body: &impl serde::Serialize,
    ) -> Result<Vec<u8>, SendError> {
        let request = self
            .http
            .post(self.messages_url(phone_number_id))
            .json(body);
        self.call(request, token).await
    }

    /// `{base}/{version}/{path}`: a Graph API node or edge.
    pub(crate) fn graph_url(&self, path: &str) -> String {
        format!(
            "{}/{}/{path}",
            self.config.base_url.trim_end_matches('/'),
            self.config.graph_version
        )
    }

    pub(crate) fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// Sends `request` with the Bearer token: the body of a 2xx answer, or Meta's error.
    pub(crate) async fn call(
        &self,
        request: reqwest::RequestBuilder,
        token: &Secret,
    ) -> Result<Vec<u8>, SendError> {
        let response = request
            .bearer_auth(token.expose())
            .send()
            .await
            .map_err(SendError::Transport)?;
        let status = response.status().as_u16();
        let bytes = response.bytes().await.map_err(SendError::Transport)?;
        if (200..300).contains(&status) {
            return Ok(bytes.to_vec());
        }
        match parse_error_body(&bytes) {
            Some(error) => Err(SendError::Refused {
                status,
                error: Box::new(error),
            }),
            None => Err(SendError::Http { status }),
        }
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    use super::*;
    use crate::cloud_api::classify::PermanentReason;
    use wagate_domain::outbound::{Content, Recipient, TextPart};

    /// A one-shot HTTP server on loopback: answers the first request with `status` and
    /// `body`, and hands back the request it received.
    async fn serve_once(
        status: u16,
        body: &'static str,
    ) -> (String, tokio::task::JoinHandle<String>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let handle = tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut request = Vec::new();
            let mut buffer = [0u8; 4096];
            loop {
                let n = socket.read(&mut buffer).await.unwrap();
                request.extend_from_slice(&buffer[..n]);
                let text = String::from_utf8_lossy(&request);
                if let Some(end) = text.find("\r\n\r\n") {
                    let length = text[..end]
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length:")
                                .map(|v| v.trim().parse::<usize>().unwrap())
                        })
                        .unwrap_or(0);
                    if request.len() >= end + 4 + length {
                        break;
                    }
                }
                if n == 0 {
                    break;
                }
            }
            let answer = format!(
                "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            socket.write_all(answer.as_bytes()).await.unwrap();
            String::from_utf8_lossy(&request).into_owned()
        });
        (url, handle)
    }

    fn client(base_url: String) -> CloudApiClient {
        CloudApiClient::new(CloudApiConfig {
            base_url,
            graph_version: "v25.0".into(),
            timeout: Duration::from_secs(5),
        })
        .unwrap()
    }

    fn hello() -> OutboundMessage {
        OutboundMessage::text(
            "106540352242922",
            Recipient::parse("4915112345678").unwrap(),
            "Hello",
        )
    }

    #[tokio::test]
    async fn a_send_posts_to_the_versioned_path_with_the_bearer_token_and_reads_the_wamid() {
        let (url, server) = serve_once(200, r#"{"messaging_product":"whatsapp","contacts":[{"input":"4915112345678","wa_id":"4915112345678"}],"messages":[{"id":"wamid.OUT1","message_status":"accepted"}]}"#).await;
        let accepted = client(url)
            .send(&Secret::new("EAAtoken".into()), &hello())
            .await
            .unwrap();
        assert_eq!(accepted.wamid, "wamid.OUT1");
        let request = server.await.unwrap();
        assert!(
            request.starts_with("POST /v25.0/106540352242922/messages HTTP/1.1"),
            "{request}"
        );
        assert!(
            request
                .to_ascii_lowercase()
                .contains("authorization: bearer eaatoken")
        );
        assert!(request.contains(r#""to":"4915112345678""#));
    }

    #[tokio::test]
    async fn a_meta_error_is_classified_by_its_code_not_its_http_status() {
        let (url, server) = serve_once(400, r#"{"error":{"message":"(#131047) Re-engagement message","type":"OAuthException","code":131047,"fbtrace_id":"A1"}}"#).await;
        let error = client(url)
            .send(&Secret::new("t".into()), &hello())
            .await
            .unwrap_err();
        assert_eq!(
            error.class(),
            ErrorClass::Permanent(PermanentReason::WindowClosed)
        );
        server.await.unwrap();
        let (url, server) = serve_once(
            400,
            r#"{"error":{"message":"(#130429) Rate limit hit","code":130429}}"#,
        )
        .await;
        let error = client(url)
            .send(&Secret::new("t".into()), &hello())
            .await
            .unwrap_err();
        assert_eq!(error.class(), ErrorClass::RetryThrottled);
        server.await.unwrap();
    }

    #[tokio::test]
    async fn a_5xx_without_meta_body_and_a_refused_connection_are_retryable() {
        let (url, server) = serve_once(502, "<html>bad gateway</html>").await;
        let error = client(url)
            .send(&Secret::new("t".into()), &hello())
            .await
            .unwrap_err();
        assert!(matches!(error, SendError::Http { status: 502 }));
        assert!(error.class().is_retryable());
        server.await.unwrap();
        let error = client("http://127.0.0.1:9".into())
            .send(&Secret::new("t".into()), &hello())
            .await
            .unwrap_err();
        assert!(matches!(error, SendError::Transport(_)));
        assert!(error.class().is_retryable());
    }

    #[tokio::test]
    async fn an_invalid_message_is_refused_without_any_request() {
        let mut message = hello();
        message.content = Content::Text {
            text: TextPart {
                body: String::new(),
                preview_url: false,
            },
        };
        let error = client("http://127.0.0.1:9".into())
            .send(&Secret::new("t".into()), &message)
            .await
            .unwrap_err();
        assert!(matches!(error, SendError::Invalid(ref v) if v.field == "text.body"));
    }
}
