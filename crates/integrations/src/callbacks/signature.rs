//! How a callback proves it came from this gateway: `Wagate-Signature: t=<unix seconds>,
//! v1=<hex HMAC-SHA256 of "<t>.<body>" under the endpoint's signing secret>`. A receiver
//! recomputes it over the raw body, compares in constant time and refuses a `t` far from
//! its clock (replays).

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

pub const SIGNATURE_HEADER: &str = "wagate-signature";
pub const EVENT_ID_HEADER: &str = "wagate-event-id";
/// How far from the receiver's clock a signature's time may be, as docs/api.md advises.
pub const TOLERANCE_SECS: i64 = 300;

fn mac(secret: &str, timestamp: i64, body: &[u8]) -> [u8; 32] {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC accepts keys of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac.finalize().into_bytes().into()
}

/// The signature header's value for `body` sent at `timestamp`.
pub fn sign(secret: &str, timestamp: i64, body: &[u8]) -> String {
    format!(
        "t={timestamp},v1={}",
        hex::encode(mac(secret, timestamp, body))
    )
}

/// What a receiver does: true when `header` signs `body` with `secret` within the
/// tolerance of `now`.
pub fn verify(secret: &str, header: &str, body: &[u8], now: i64) -> bool {
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", t)) => timestamp = t.parse::<i64>().ok(),
            Some(("v1", v)) => signatures.extend(hex::decode(v).ok()),
            _ => {}
        }
    }
    let Some(timestamp) = timestamp else {
        return false;
    };
    // `abs_diff`: a timestamp at the ends of i64 must not overflow the subtraction.
    if now.abs_diff(timestamp) > TOLERANCE_SECS.unsigned_abs() {
        return false;
    }
    let expected = mac(secret, timestamp, body);
    signatures
        .iter()
        .any(|s| s.len() == expected.len() && bool::from(s.ct_eq(&expected)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_verifies_on_the_same_bytes_only_and_within_the_tolerance() {
        let body = br#"{"id":"evt_1","type":"message.received"}"#;
        let header = sign("whsec_test", 1_800_000_000, body);
        assert!(header.starts_with("t=1800000000,v1="));
        assert!(verify("whsec_test", &header, body, 1_800_000_100));
        assert!(!verify("whsec_other", &header, body, 1_800_000_100));
        assert!(!verify("whsec_test", &header, b"{}", 1_800_000_100));
        assert!(!verify(
            "whsec_test",
            &header,
            body,
            1_800_000_000 + TOLERANCE_SECS + 1
        ));
        let forged_time = header.replace("t=1800000000", "t=1800000200");
        assert!(!verify("whsec_test", &forged_time, body, 1_800_000_200));
        assert!(!verify("whsec_test", "v1=00", body, 1_800_000_000));
    }

    #[test]
    fn an_extreme_timestamp_is_refused_without_overflowing() {
        let body = b"{}";
        for t in [i64::MIN, i64::MIN + 1, i64::MAX] {
            let header = format!("t={t},v1=00");
            assert!(!verify("whsec_test", &header, body, 1_800_000_000));
            assert!(!verify("whsec_test", &header, body, i64::MIN));
            assert!(!verify("whsec_test", &header, body, i64::MAX));
        }
    }
}
