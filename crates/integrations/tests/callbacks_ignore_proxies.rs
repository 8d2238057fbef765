//! The callbacks client never goes through a proxy named in the environment: a proxy
//! resolves the tenant's host name itself, past the check that keeps callbacks off
//! internal addresses. A test binary of its own, since it sets the process's environment.

use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use wagate_integrations::callbacks::delivery::Deliverer;
use wagate_integrations::callbacks::destination::PublicOnly;

/// A loopback listener that answers 204 and counts the connections it gets.
async fn counting_listener() -> (u16, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let count = Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            seen.fetch_add(1, Ordering::SeqCst);
            let mut buffer = [0u8; 4096];
            let _ = socket.read(&mut buffer).await;
            let _ = socket
                .write_all(
                    b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
                )
                .await;
        }
    });
    (port, count)
}

#[tokio::test]
async fn a_proxy_in_the_environment_is_not_used_for_callbacks() {
    let (proxy_port, through_proxy) = counting_listener().await;
    let (receiver_port, at_receiver) = counting_listener().await;
    let proxy = format!("http://127.0.0.1:{proxy_port}");
    // SAFETY: this binary's only test sets these before any client reads them.
    unsafe {
        for name in [
            "HTTP_PROXY",
            "HTTPS_PROXY",
            "ALL_PROXY",
            "http_proxy",
            "https_proxy",
        ] {
            std::env::set_var(name, &proxy);
        }
        std::env::remove_var("NO_PROXY");
        std::env::remove_var("no_proxy");
    }
    let loopback: IpAddr = "127.0.0.1".parse().unwrap();
    // The local stack's resolver: loopback allowed, as `allow_internal` does.
    let resolver = PublicOnly::with_lookup(
        Arc::new(move |_| Box::pin(async move { Ok(vec![loopback]) })),
        true,
    );
    let answer = Deliverer::client_resolving(resolver)
        .unwrap()
        .post(format!("http://hooks.tenant.example:{receiver_port}/wa"))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status().as_u16(), 204);
    assert_eq!(at_receiver.load(Ordering::SeqCst), 1);
    assert_eq!(
        through_proxy.load(Ordering::SeqCst),
        0,
        "the callback went through the environment's proxy"
    );
}
