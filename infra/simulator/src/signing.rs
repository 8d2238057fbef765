//! Meta's `X-Hub-Signature-256` as the simulator writes it: HMAC-SHA256 of the exact body
//! bytes under the app secret, `sha256=` and lowercase hex.
//!
//! Written here with `ring`, not taken from the gateway: the gateway verifies with the
//! `hmac` crate, so a mistake in either side's reading of Meta's scheme fails the tests
//! instead of agreeing with itself.

use ring::hmac;

/// The header value Meta would send with `body`.
pub fn signature_header(app_secret: &str, body: &[u8]) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, app_secret.as_bytes());
    let tag = hmac::sign(&key, body);
    format!("sha256={}", hex::encode(tag.as_ref()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_published_hmac_sha256_test_vector() {
        // RFC 4231, test case 2: key "Jefe", data "what do ya want for nothing?".
        assert_eq!(
            signature_header("Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
