//! A tenant's callback endpoint: where its events go, which of them, and the signing secret
//! (kept only as KMS ciphertext under the tenant's context).

use std::net::IpAddr;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::Rng;

use super::destination::is_refused;
use super::event::EventType;
use crate::domain::tenant::TenantId;

/// Endpoints one tenant may register.
pub const MAX_ENDPOINTS: usize = 10;
const MAX_URL_CHARS: usize = 2048;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallbackEndpoint {
    pub id: String,
    pub tenant_id: TenantId,
    pub url: String,
    /// The event types it receives; empty: all of them.
    pub events: Vec<EventType>,
    pub secret_ciphertext: Vec<u8>,
    /// The start of the secret's SHA-256, to tell secrets apart without showing them.
    pub secret_fingerprint: String,
    pub created_at: i64,
}

impl CallbackEndpoint {
    pub fn wants(&self, event_type: EventType) -> bool {
        self.events.is_empty() || self.events.contains(&event_type)
    }
}

pub fn new_endpoint_id() -> String {
    let bytes: [u8; 8] = rand::rng().random();
    format!("cb_{}", hex::encode(bytes))
}

/// Whether `raw` has the shape of the endpoint ids this service makes.
pub fn is_endpoint_id(raw: &str) -> bool {
    raw.len() == 19 && raw.starts_with("cb_") && raw[3..].bytes().all(|b| b.is_ascii_hexdigit())
}

/// A new signing secret: 32 random bytes, shown to the tenant once.
pub fn new_signing_secret() -> String {
    let bytes: [u8; 32] = rand::rng().random();
    format!("whsec_{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// Checks a callback URL: HTTPS to a named or public host. `allow_insecure` (local stacks
/// only) also admits plain HTTP and loopback or private addresses. A name is checked again
/// at every delivery, against what it resolves to then (see `destination`).
pub fn check_url(raw: &str, allow_insecure: bool) -> Result<(), &'static str> {
    if raw.chars().count() > MAX_URL_CHARS {
        return Err("must be at most 2048 characters");
    }
    let url = reqwest::Url::parse(raw).map_err(|_| "is not a URL")?;
    match url.scheme() {
        "https" => {}
        "http" if allow_insecure => {}
        _ => return Err("must be an https URL"),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not carry credentials; verify our signature instead");
    }
    if url.fragment().is_some() {
        return Err("must not have a fragment");
    }
    let host = url.host_str().ok_or("must name a host")?;
    let ip = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
        .ok();
    let lowercase = host.to_ascii_lowercase();
    let local_name = lowercase == "localhost" || lowercase.ends_with(".localhost");
    let internal = local_name || ip.is_some_and(is_refused);
    if internal && !allow_insecure {
        return Err(
            "must not point at a loopback, private, link-local, shared, multicast, documentation or reserved address",
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_https_to_public_hosts_is_accepted_unless_the_stack_is_local() {
        assert!(check_url("https://hooks.example.com/wa?x=1", false).is_ok());
        for bad in [
            "http://hooks.example.com/wa",
            "https://user:pw@hooks.example.com/",
            "https://127.0.0.1/x",
            "https://10.1.2.3/x",
            "https://169.254.169.254/latest",
            "https://[::1]/x",
            "https://[::ffff:192.168.0.1]/x",
            "https://localhost:8443/x",
            "https://api.localhost/x",
            "https://100.64.1.1/x",
            "https://198.18.0.5/x",
            "https://[64:ff9b::a00:1]/x",
            "https://[fd12::1]/x",
            "https://0.0.0.0/x",
            "https://240.1.2.3/x",
            "ftp://hooks.example.com/",
            "not a url",
        ] {
            assert!(check_url(bad, false).is_err(), "{bad}");
        }
        assert!(check_url("http://127.0.0.1:4999/hook", true).is_ok());
        assert!(check_url(&format!("https://e.com/{}", "a".repeat(2100)), false).is_err());
    }

    #[test]
    fn ids_and_secrets_have_their_shapes() {
        assert!(is_endpoint_id(&new_endpoint_id()));
        assert!(!is_endpoint_id("cb_zz"));
        let secret = new_signing_secret();
        assert!(secret.starts_with("whsec_") && secret.len() == 6 + 43);
    }
}
