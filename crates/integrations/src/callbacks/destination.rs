//! Where a callback may be delivered: only to public addresses. A tenant names its URL, so
//! a URL is an attacker's to choose; a name that resolves (or later re-resolves) to an
//! internal address must not reach it. The check is made where the connection is made:
//! the delivery client's resolver drops every address of a refused class, so a name with
//! only such addresses fails as a refused destination before any connection; a URL with a
//! literal address (which no resolver sees) is checked before the request. Registration
//! checks the same classes, to tell the tenant early.
//!
//! What the delivery log tells the tenant of a failure is one of a few words (refused
//! destination, timeout, TLS error, connection failed) or the HTTP status: never the
//! connector's own text, which would make the log a port scanner.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// Whether an address is one a callback must never reach: loopback, private, link-local,
/// shared (CGNAT), unique-local, multicast, documentation, benchmarking, reserved,
/// "this network", and the IPv6 forms that carry an IPv4 address inside (mapped,
/// compatible, NAT64, 6to4, Teredo), whatever that address is.
pub fn is_refused(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_refused_v4(v4),
        IpAddr::V6(v6) => is_refused_v6(v6),
    }
}

fn is_refused_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    a == 0 // "this network", 0.0.0.0/8
        || a == 10
        || a == 127
        || (a == 100 && (64..128).contains(&b)) // shared address space (CGNAT), 100.64/10
        || (a == 169 && b == 254) // link-local
        || (a == 172 && (16..32).contains(&b))
        || (a == 192 && b == 168)
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments, 192.0.0/24
        || (a == 192 && b == 0 && c == 2) // documentation, TEST-NET-1
        || (a == 198 && b == 51 && c == 100) // TEST-NET-2
        || (a == 203 && b == 0 && c == 113) // TEST-NET-3
        || (a == 198 && (b == 18 || b == 19)) // benchmarking, 198.18/15
        || (a == 192 && b == 88 && c == 99) // 6to4 relay anycast (deprecated)
        || a >= 224 // multicast 224/4, reserved 240/4, broadcast
}

fn is_refused_v6(ip: Ipv6Addr) -> bool {
    let s = ip.segments();
    ip.is_unspecified()
        || ip.is_loopback()
        || (s[0] & 0xfe00) == 0xfc00 // unique local, fc00::/7
        || (s[0] & 0xffc0) == 0xfe80 // link-local, fe80::/10
        || (s[0] & 0xffc0) == 0xfec0 // site-local (deprecated), fec0::/10
        || (s[0] & 0xff00) == 0xff00 // multicast, ff00::/8
        || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation, 2001:db8::/32
        || (s[0] == 0x3fff && s[1] < 0x1000) // documentation, 3fff::/20
        || (s[0] == 0x0100 && s[1] == 0 && s[2] == 0 && s[3] == 0) // discard-only, 100::/64
        || (s[0] == 0x2001 && s[1] == 0) // Teredo, 2001::/32: carries an IPv4 address
        || (s[0] == 0x2001 && (s[1] & 0xfff0) == 0x0010) // ORCHID, 2001:10::/28
        || (s[0] == 0x2001 && (s[1] & 0xfff0) == 0x0020) // ORCHIDv2, 2001:20::/28
        || s[0] == 0x5f00 // segment routing SIDs, 5f00::/16: not globally reachable
        || (s[0] == 0x2001 && s[1] == 0x0002 && s[2] == 0) // benchmarking, 2001:2::/48
        || s[0] == 0x2002 // 6to4, 2002::/16: carries an IPv4 address
        || (s[0] == 0x0064 && s[1] == 0xff9b) // NAT64, 64:ff9b::/96 and 64:ff9b:1::/48
        || s[..5] == [0; 5] // IPv4-mapped ::ffff:0:0/96 and IPv4-compatible ::/96
        || (s[..4] == [0; 4] && s[4] == 0xffff && s[5] == 0) // IPv4-translated ::ffff:0:0:0/96
}

/// Why a callback was not delivered, as the delivery log tells it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryFailure {
    /// The URL's host is, or resolves only to, an address callbacks may not reach.
    RefusedDestination,
    Timeout,
    Tls,
    /// No connection could be made (refused, reset, unreachable, no such name).
    Connection,
    /// The receiver answered with a status other than 2xx.
    Status(u16),
    /// Anything else about the request (a body that could not be sent, say).
    Request,
}

impl std::fmt::Display for DeliveryFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::RefusedDestination => f.write_str("refused destination"),
            Self::Timeout => f.write_str("timeout"),
            Self::Tls => f.write_str("TLS error"),
            Self::Connection => f.write_str("connection failed"),
            Self::Status(status) => write!(f, "HTTP {status}"),
            Self::Request => f.write_str("request failed"),
        }
    }
}

impl DeliveryFailure {
    /// What a failed request was, from its error's chain, without its text.
    pub fn of(error: &reqwest::Error) -> Self {
        let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
        while let Some(e) = source {
            if e.is::<RefusedDestination>() {
                return Self::RefusedDestination;
            }
            if e.is::<rustls::Error>() {
                return Self::Tls;
            }
            source = e.source();
        }
        if error.is_timeout() {
            Self::Timeout
        } else if error.is_connect() {
            Self::Connection
        } else {
            Self::Request
        }
    }
}

/// The error a refused name resolves to.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("refused destination")]
pub struct RefusedDestination;

/// Checks a URL's host when it is a literal address, which no resolver sees.
pub fn check_literal_host(
    url: &reqwest::Url,
    allow_internal: bool,
) -> Result<(), RefusedDestination> {
    let Some(ip) = url
        .host_str()
        .map(|h| h.trim_start_matches('[').trim_end_matches(']'))
        .and_then(|h| h.parse::<IpAddr>().ok())
    else {
        return Ok(());
    };
    if !allow_internal && is_refused(ip) {
        return Err(RefusedDestination);
    }
    Ok(())
}

/// Looks a name up; the system's resolver in Lambda, a fixed table in tests.
pub type Lookup = Arc<
    dyn Fn(String) -> futures_util::future::BoxFuture<'static, std::io::Result<Vec<IpAddr>>>
        + Send
        + Sync,
>;

/// The delivery client's resolver: what the lookup answers, less every refused address.
#[derive(Clone)]
pub struct PublicOnly {
    lookup: Lookup,
    allow_internal: bool,
}

impl PublicOnly {
    /// The system's resolver. `allow_internal` (local stacks only) lets every address by.
    pub fn system(allow_internal: bool) -> Self {
        let lookup: Lookup = Arc::new(|name: String| {
            Box::pin(async move {
                Ok(tokio::net::lookup_host((name.as_str(), 0))
                    .await?
                    .map(|a| a.ip())
                    .collect())
            })
        });
        Self::with_lookup(lookup, allow_internal)
    }

    pub fn with_lookup(lookup: Lookup, allow_internal: bool) -> Self {
        Self {
            lookup,
            allow_internal,
        }
    }
}

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        let lookup = self.lookup.clone();
        let allow_internal = self.allow_internal;
        let name = name.as_str().to_owned();
        Box::pin(async move {
            let found = lookup(name).await?;
            let allowed: Vec<SocketAddr> = found
                .into_iter()
                .filter(|ip| allow_internal || !is_refused(*ip))
                .map(|ip| SocketAddr::new(ip, 0))
                .collect();
            if allowed.is_empty() {
                return Err(
                    Box::new(RefusedDestination) as Box<dyn std::error::Error + Send + Sync>
                );
            }
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    /// One address of each class a callback must not reach.
    const REFUSED: [&str; 33] = [
        "0.0.0.0",
        "0.1.2.3",
        "10.0.0.1",
        "127.0.0.1",
        "127.8.9.10",
        "100.64.0.1",
        "100.127.255.254",
        "169.254.169.254",
        "172.16.0.1",
        "172.31.255.255",
        "192.168.1.1",
        "192.0.0.8",
        "192.0.2.1",
        "198.51.100.7",
        "203.0.113.9",
        "198.18.0.1",
        "198.19.255.1",
        "224.0.0.1",
        "240.0.0.1",
        "255.255.255.255",
        "::1",
        "::",
        "fd00::1",
        "fe80::1",
        "ff02::1",
        "2001:db8::1",
        "::ffff:10.0.0.1",
        "::ffff:8.8.8.8",
        "64:ff9b::a00:1",
        "2001:20::1",
        "2001:2f:ffff::1",
        "5f00::1",
        "5f00:ffff::1",
    ];

    #[test]
    fn every_internal_class_is_refused_and_public_addresses_are_not() {
        for raw in REFUSED {
            assert!(is_refused(raw.parse().unwrap()), "{raw}");
        }
        for raw in [
            "::7f00:1",
            "2002:a00:1::",
            "2001:0:4136:e378::1",
            "64:ff9b:1::1",
        ] {
            assert!(is_refused(raw.parse().unwrap()), "{raw}");
        }
        for raw in [
            "8.8.8.8",
            "1.1.1.1",
            "100.63.255.255",
            "100.128.0.1",
            "172.32.0.1",
            "198.20.0.1",
            "2606:4700::1111",
            "2a00:1450:4001:81c::200e",
        ] {
            assert!(!is_refused(raw.parse().unwrap()), "{raw}");
        }
    }

    /// A loopback listener that counts the connections it gets.
    async fn counting_listener() -> (u16, Arc<AtomicUsize>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let count = Arc::new(AtomicUsize::new(0));
        let seen = count.clone();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                seen.fetch_add(1, Ordering::SeqCst);
                use tokio::io::{AsyncReadExt, AsyncWriteExt};
                // The request first (headers and the small body), then the answer.
                let mut request = Vec::new();
                let mut buffer = [0u8; 1024];
                while !String::from_utf8_lossy(&request).contains("\r\n\r\n{}") {
                    match socket.read(&mut buffer).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => request.extend_from_slice(&buffer[..n]),
                    }
                }
                let _ = socket
                    .write_all(b"HTTP/1.1 302 Found\r\nlocation: http://127.0.0.1:9/\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                    .await;
            }
        });
        (port, count)
    }

    /// A resolver that answers `ip` for every name, as a hostile DNS would.
    fn resolving_to(ip: IpAddr, allow_internal: bool) -> PublicOnly {
        PublicOnly::with_lookup(
            Arc::new(move |_| Box::pin(async move { Ok(vec![ip]) })),
            allow_internal,
        )
    }

    /// The callbacks worker's own client, with a resolver of the test's.
    fn client(resolver: PublicOnly) -> reqwest::Client {
        super::super::delivery::Deliverer::client_resolving(resolver).unwrap()
    }

    #[tokio::test]
    async fn a_name_resolving_to_any_refused_class_fails_without_a_connection() {
        let (port, connections) = counting_listener().await;
        for raw in REFUSED {
            let ip: IpAddr = raw.parse().unwrap();
            let error = client(resolving_to(ip, false))
                .post(format!("http://hooks.tenant.example:{port}/wa"))
                .body("{}")
                .send()
                .await
                .unwrap_err();
            let failure = DeliveryFailure::of(&error);
            assert_eq!(failure, DeliveryFailure::RefusedDestination, "{raw}");
            assert_eq!(failure.to_string(), "refused destination");
        }
        assert_eq!(
            connections.load(Ordering::SeqCst),
            0,
            "a refused name was connected to"
        );
    }

    #[tokio::test]
    async fn a_literal_internal_address_is_refused_before_any_request() {
        for raw in [
            "http://127.0.0.1:8080/x",
            "https://[::ffff:169.254.169.254]/latest",
            "https://10.1.2.3/x",
            "https://[fd00::1]/x",
        ] {
            let url = reqwest::Url::parse(raw).unwrap();
            assert!(check_literal_host(&url, false).is_err(), "{raw}");
            assert!(check_literal_host(&url, true).is_ok(), "{raw}");
        }
        let public = reqwest::Url::parse("https://93.184.216.34/hook").unwrap();
        assert!(check_literal_host(&public, false).is_ok());
        let named = reqwest::Url::parse("https://hooks.example.com/").unwrap();
        assert!(check_literal_host(&named, false).is_ok());
    }

    #[tokio::test]
    async fn a_redirect_is_not_followed_and_is_told_as_its_status() {
        let (port, connections) = counting_listener().await;
        // The local stack's loopback receivers work through the explicit insecure flag.
        let loopback = resolving_to("127.0.0.1".parse().unwrap(), true);
        let answer = client(loopback)
            .post(format!("http://receiver.local:{port}/wa"))
            .body("{}")
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status().as_u16(), 302);
        assert_eq!(DeliveryFailure::Status(302).to_string(), "HTTP 302");
        assert_eq!(
            connections.load(Ordering::SeqCst),
            1,
            "the redirect was followed"
        );
    }

    #[tokio::test]
    async fn failures_are_told_in_a_few_words_never_the_connectors_text() {
        // Nothing listens on port 9 of loopback: the connection is refused.
        let error = client(resolving_to("127.0.0.1".parse().unwrap(), true))
            .post("http://receiver.local:9/wa")
            .send()
            .await
            .unwrap_err();
        assert_eq!(DeliveryFailure::of(&error), DeliveryFailure::Connection);
        assert_eq!(DeliveryFailure::of(&error).to_string(), "connection failed");
    }
}
