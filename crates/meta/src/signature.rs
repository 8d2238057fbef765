//! Meta's `X-Hub-Signature-256` check: HMAC-SHA256 of the exact request bytes, keyed with
//! the Meta app secret, compared in constant time.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use wagate_platform::secret::Secret;

/// The header Meta signs with; API Gateway and Function URLs deliver it lowercase.
pub const SIGNATURE_HEADER: &str = "x-hub-signature-256";
/// The legacy SHA-1 header, never accepted on its own.
pub const LEGACY_SIGNATURE_HEADER: &str = "x-hub-signature";

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the X-Hub-Signature-256 header is missing")]
    Missing,
    #[error("only the legacy X-Hub-Signature (sha1) header was sent; sha256 is required")]
    LegacyOnly,
    #[error("the X-Hub-Signature-256 header is not of the form sha256=<64 hex digits>")]
    Malformed,
    #[error("the X-Hub-Signature-256 signature does not match the body")]
    Mismatch,
}

/// Checks `header` (the value of `X-Hub-Signature-256`, if any) against `body`.
/// `legacy_present` says whether the request carried only the sha1 header, so that the
/// error can name the real problem.
pub fn verify(
    app_secret: &Secret,
    body: &[u8],
    header: Option<&str>,
    legacy_present: bool,
) -> Result<(), SignatureError> {
    let header = match header {
        Some(value) => value,
        None if legacy_present => return Err(SignatureError::LegacyOnly),
        None => return Err(SignatureError::Missing),
    };
    let claimed = parse_header(header)?;
    let expected = compute(app_secret.expose().as_bytes(), body);
    if bool::from(expected.ct_eq(&claimed)) {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

/// The header value Meta would send for `body`: `sha256=<hex>`.
pub fn sign(app_secret: &str, body: &[u8]) -> String {
    format!(
        "sha256={}",
        hex::encode(compute(app_secret.as_bytes(), body))
    )
}

fn compute(key: &[u8], body: &[u8]) -> [u8; 32] {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC accepts keys of any length");
    mac.update(body);
    mac.finalize().into_bytes().into()
}

fn parse_header(value: &str) -> Result<[u8; 32], SignatureError> {
    let digest = value
        .trim()
        .strip_prefix("sha256=")
        .ok_or(SignatureError::Malformed)?;
    if digest.len() != 64 {
        return Err(SignatureError::Malformed);
    }
    let mut out = [0u8; 32];
    hex::decode_to_slice(digest, &mut out).map_err(|_| SignatureError::Malformed)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret() -> Secret {
        Secret::new("test-app-secret".to_owned())
    }

    #[test]
    fn a_body_signed_with_the_app_secret_verifies() {
        let body = br#"{"object":"whatsapp_business_account"}"#;
        let header = sign("test-app-secret", body);
        assert_eq!(verify(&secret(), body, Some(&header), false), Ok(()));
    }

    #[test]
    fn a_body_signed_with_another_secret_is_a_mismatch() {
        let body = b"{}";
        let header = sign("another-secret", body);
        assert_eq!(
            verify(&secret(), body, Some(&header), false),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn uppercase_hex_is_accepted_but_truncated_or_prefixless_headers_are_malformed() {
        let body = b"{}";
        let header = sign("test-app-secret", body)
            .to_uppercase()
            .replace("SHA256=", "sha256=");
        assert_eq!(verify(&secret(), body, Some(&header), false), Ok(()));
        let good = sign("test-app-secret", body);
        for bad in [
            &good[..good.len() - 2],
            &good[7..],
            "sha256=",
            "sha1=abcd",
            "sha256=zz",
        ] {
            assert_eq!(
                verify(&secret(), body, Some(bad), false),
                Err(SignatureError::Malformed),
                "{bad}"
            );
        }
    }

    #[test]
    fn a_missing_header_is_missing_unless_only_the_legacy_one_was_sent() {
        assert_eq!(
            verify(&secret(), b"{}", None, false),
            Err(SignatureError::Missing)
        );
        assert_eq!(
            verify(&secret(), b"{}", None, true),
            Err(SignatureError::LegacyOnly)
        );
    }
}
