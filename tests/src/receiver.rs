//! A callback receiver on loopback for the tests: a plain HTTP/1.1 server that records
//! each request's signature header and body and answers 200 (or 500 for the first few).

use std::sync::{Arc, Mutex};

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// What a receiver got: each request's signature header and body.
#[derive(Default)]
pub struct Inbox {
    requests: Vec<(String, Vec<u8>)>,
    /// Requests to refuse with a 500 before answering 200.
    fail_first: usize,
}

pub struct Receiver {
    pub url: String,
    inbox: Arc<Mutex<Inbox>>,
}

impl Receiver {
    /// A plain HTTP/1.1 server on loopback, one request per connection.
    pub async fn start(fail_first: usize) -> Self {
        let inbox = Arc::new(Mutex::new(Inbox {
            fail_first,
            ..Inbox::default()
        }));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let shared = inbox.clone();
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                tokio::spawn(serve_one(socket, shared.clone()));
            }
        });
        Self { url, inbox }
    }

    /// A receiver registered as the tenant's callback endpoint for `message.received`,
    /// through the business API with the admin `key`.
    pub async fn of_received_messages(stack: &crate::Stack, key: &str) -> Self {
        let receiver = Self::start(0).await;
        let (status, endpoint) = stack
            .api(
                reqwest::Method::POST,
                "/v1/callbacks",
                Some(key),
                Some(serde_json::json!({"url": receiver.url, "events": ["message.received"]})),
                &[],
            )
            .await;
        assert_eq!(status, 201, "{endpoint}");
        receiver
    }

    pub fn events(&self) -> Vec<(String, Vec<u8>, Value)> {
        let inbox = self.inbox.lock().unwrap();
        inbox
            .requests
            .iter()
            .map(|(sig, body)| {
                (
                    sig.clone(),
                    body.clone(),
                    serde_json::from_slice(body).unwrap(),
                )
            })
            .collect()
    }
}

/// Reads one request (headers, then `content-length` bytes), records it and answers.
async fn serve_one(mut socket: tokio::net::TcpStream, inbox: Arc<Mutex<Inbox>>) {
    let mut data = Vec::new();
    let mut chunk = [0u8; 8192];
    let (head_end, length) = loop {
        let Ok(n) = socket.read(&mut chunk).await else {
            return;
        };
        if n == 0 {
            return;
        }
        data.extend_from_slice(&chunk[..n]);
        if let Some(end) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&data[..end]).to_ascii_lowercase();
            let length = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok())
                .unwrap_or(0);
            break (end + 4, length);
        }
    };
    while data.len() < head_end + length {
        match socket.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => data.extend_from_slice(&chunk[..n]),
        }
    }
    let head = String::from_utf8_lossy(&data[..head_end]).to_string();
    let signature = head
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("wagate-signature")
                .then(|| value.trim().to_owned())
        })
        .unwrap_or_default();
    let status = {
        let mut inbox = inbox.lock().unwrap();
        inbox
            .requests
            .push((signature, data[head_end..head_end + length].to_vec()));
        if inbox.requests.len() <= inbox.fail_first {
            "500 Internal Server Error"
        } else {
            "200 OK"
        }
    };
    let answer = format!("HTTP/1.1 {status}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
    let _ = socket.write_all(answer.as_bytes()).await;
}
