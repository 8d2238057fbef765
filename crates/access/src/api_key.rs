//! API keys: `wg.<tenant>.<key id>.<secret>`. The part before the secret identifies the
//! key (it is shown in listings and logs); the secret is 32 random bytes, shown once at
//! creation and stored only as its SHA-256 (a random 256-bit secret needs no slow hash).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::Rng;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::domain::tenant::TenantId;
use crate::role::Role;
use crate::secret::Secret;

const SCHEME: &str = "wg";
/// The operator's key to the admin API starts with this, then at least 32 random characters.
pub const OPERATOR_KEY_SCHEME: &str = "wgop.";
const KEY_ID_BYTES: usize = 6;
const SECRET_BYTES: usize = 32;
/// Longer than any key we issue; a presented value past it is refused before parsing.
const MAX_PRESENTED_LEN: usize = 160;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the API key is malformed: expected wg.<tenant>.<key id>.<secret>")]
pub struct BadApiKey;

/// The operator key's least random part, and its longest form.
const OPERATOR_KEY_MIN_RANDOM: usize = 32;
const OPERATOR_KEY_MAX_LEN: usize = 256;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the operator key must be 'wgop.' followed by 32 to 251 letters, digits, '-' or '_' (decrypted from OPERATOR_KEY_CIPHERTEXT)"
)]
pub struct BadOperatorKey;

/// Checks the operator key's form when the admin function starts, so a wrong key stops the
/// function with a clear error instead of refusing every call.
pub fn check_operator_key(key: &str) -> Result<(), BadOperatorKey> {
    let random = key
        .strip_prefix(OPERATOR_KEY_SCHEME)
        .ok_or(BadOperatorKey)?;
    let well_formed = random.len() >= OPERATOR_KEY_MIN_RANDOM
        && key.len() <= OPERATOR_KEY_MAX_LEN
        && random
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if well_formed {
        Ok(())
    } else {
        Err(BadOperatorKey)
    }
}

/// A key as a caller presented it, split into its public id and its secret.
pub struct PresentedKey {
    pub tenant_id: TenantId,
    pub key_id: String,
    secret: Secret,
}

impl PresentedKey {
    pub fn parse(raw: &str) -> Result<Self, BadApiKey> {
        if raw.len() > MAX_PRESENTED_LEN || !raw.is_ascii() {
            return Err(BadApiKey);
        }
        let mut parts = raw.split('.');
        let (Some(SCHEME), Some(tenant), Some(key_id), Some(secret), None) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return Err(BadApiKey);
        };
        let tenant_id = TenantId::parse(tenant).map_err(|_| BadApiKey)?;
        let hex_id = key_id.len() == KEY_ID_BYTES * 2
            && key_id
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        let decoded = URL_SAFE_NO_PAD.decode(secret).map_err(|_| BadApiKey)?;
        if !hex_id || decoded.len() != SECRET_BYTES {
            return Err(BadApiKey);
        }
        Ok(Self {
            tenant_id,
            key_id: key_id.to_owned(),
            secret: Secret::new(secret.to_owned()),
        })
    }

    /// Whether this is the key `record` was made for, compared in constant time.
    pub fn matches(&self, record: &ApiKeyRecord) -> bool {
        record.tenant_id == self.tenant_id
            && record.key_id == self.key_id
            && bool::from(secret_hash(self.secret.expose()).ct_eq(&record.secret_hash))
    }
}

/// A stored key: everything but the secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyRecord {
    pub tenant_id: TenantId,
    pub key_id: String,
    pub name: String,
    pub role: Role,
    pub secret_hash: Vec<u8>,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

/// Why a well-formed, matching key is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum KeyUnusable {
    #[error("the API key was revoked")]
    Revoked,
    #[error("the API key has expired")]
    Expired,
}

impl ApiKeyRecord {
    /// The identifying part of the key, safe to show and log.
    pub fn prefix(&self) -> String {
        format!("{SCHEME}.{}.{}", self.tenant_id, self.key_id)
    }

    pub fn usable_at(&self, now: i64) -> Result<(), KeyUnusable> {
        if self.revoked_at.is_some_and(|at| at <= now) {
            return Err(KeyUnusable::Revoked);
        }
        if self.expires_at.is_some_and(|at| at <= now) {
            return Err(KeyUnusable::Expired);
        }
        Ok(())
    }
}

/// A freshly made key: the record to store and the whole key, to show once.
pub struct NewApiKey {
    pub record: ApiKeyRecord,
    pub key: Secret,
}

impl NewApiKey {
    pub fn generate(
        tenant_id: &TenantId,
        name: &str,
        role: Role,
        expires_at: Option<i64>,
        now: i64,
    ) -> Self {
        let mut rng = rand::rng();
        let key_id = hex::encode(rng.random::<[u8; KEY_ID_BYTES]>());
        let secret = URL_SAFE_NO_PAD.encode(rng.random::<[u8; SECRET_BYTES]>());
        let record = ApiKeyRecord {
            tenant_id: tenant_id.clone(),
            key_id,
            name: name.to_owned(),
            role,
            secret_hash: secret_hash(&secret),
            created_at: now,
            expires_at,
            revoked_at: None,
        };
        let key = Secret::new(format!("{}.{secret}", record.prefix()));
        Self { record, key }
    }
}

fn secret_hash(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_operator_key_of_the_wrong_form_is_told_apart() {
        assert!(check_operator_key(&format!("wgop.{}", "a1".repeat(32))).is_ok());
        for bad in [
            String::new(),
            "wgop.short".into(),
            format!("wg.{}", "a".repeat(40)),
            format!("wgop.{} ", "a".repeat(40)),
            format!("wgop.{}", "a".repeat(300)),
        ] {
            assert_eq!(check_operator_key(&bad), Err(BadOperatorKey), "{bad:?}");
        }
    }

    fn tenant() -> TenantId {
        TenantId::parse("acme").unwrap()
    }

    #[test]
    fn a_generated_key_parses_and_matches_its_record_only() {
        let made = NewApiKey::generate(&tenant(), "ci", Role::Manager, None, 100);
        let presented = PresentedKey::parse(made.key.expose()).unwrap();
        assert_eq!(presented.tenant_id, tenant());
        assert_eq!(presented.key_id, made.record.key_id);
        assert!(presented.matches(&made.record));
        assert!(made.key.expose().starts_with(&made.record.prefix()));

        let other = NewApiKey::generate(&tenant(), "ci", Role::Manager, None, 100);
        assert!(!presented.matches(&other.record));
        let mut same_id = other.record.clone();
        same_id.key_id = made.record.key_id.clone();
        assert!(
            !presented.matches(&same_id),
            "another secret under the same id"
        );
    }

    #[test]
    fn malformed_keys_are_refused() {
        let made = NewApiKey::generate(&tenant(), "ci", Role::Agent, None, 100);
        let good = made.key.expose().to_owned();
        let (head, secret) = good.rsplit_once('.').unwrap();
        for bad in [
            String::new(),
            "Bearer x".into(),
            format!("xx.{}", &good[3..]),
            format!("{good}.extra"),
            format!("{head}.{}", &secret[1..]),
            format!("{head}.{secret}{secret}"),
            good.replace("acme", "ACME"),
            format!("{head}.{}", "é".repeat(43)),
            "wg.acme.zzzzzzzzzzzz.".to_owned() + secret,
            "a".repeat(500),
        ] {
            assert!(PresentedKey::parse(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn revoked_and_expired_keys_are_unusable_from_that_second() {
        let mut record = NewApiKey::generate(&tenant(), "ci", Role::Admin, Some(200), 100).record;
        assert_eq!(record.usable_at(199), Ok(()));
        assert_eq!(record.usable_at(200), Err(KeyUnusable::Expired));
        record.revoked_at = Some(150);
        assert_eq!(record.usable_at(149), Ok(()));
        assert_eq!(record.usable_at(150), Err(KeyUnusable::Revoked));
    }
}
