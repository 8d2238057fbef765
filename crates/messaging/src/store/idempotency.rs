//! Idempotency keys of API calls: the first call with a key claims it for a day, with a
//! digest of its body and the id of what it made; a later call with the same key gets that
//! id back, or a conflict if its body differs. Both the key and the body are the caller's
//! text and may name a person (a phone number in a key, a recipient in a body), so each
//! stands in the table as a keyed digest under the tenant's index key, never an unkeyed
//! hash that a list of numbers could be tried against.

use sha2::{Digest, Sha256};
use std::future::Future;

use crate::domain::tenant::TenantId;
use crate::store::keys::{IDEMPOTENCY_SK, idempotency_pk_of_hash, legacy_idempotency_hash};
use crate::store::table::{Item, get_i64, get_s, item, n, s};
use crate::store::{EXPIRES_AT, StoreError, is_live};

/// How long a key is remembered.
pub const IDEMPOTENCY_TTL_SECS: i64 = 24 * 3600;

/// What the first call with a key made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyRecord {
    /// The first call's body (canonical JSON), as a digest.
    pub body: BodyDigest,
    /// The id of the resource the first call made.
    pub resource_id: String,
    pub created_at: i64,
}

/// A call's body as its idempotency record keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyDigest {
    /// Keyed under the tenant's index key ([`IdempotencyClaims::body_digest`]).
    Keyed(String),
    /// Hex SHA-256, as claims made before keyed digests hold it (they live a day).
    Sha256(String),
}

impl BodyDigest {
    /// Whether `body` is the body this digest was made of; `keyed` is its keyed digest.
    pub fn matches(&self, keyed: &str, body: &[u8]) -> bool {
        match self {
            Self::Keyed(digest) => digest == keyed,
            Self::Sha256(digest) => *digest == hex::encode(Sha256::digest(body)),
        }
    }
}

crate::store::repository! {
    /// The send API's idempotency records.
    IdempotencyStore
}

impl IdempotencyStore {
    async fn idempotency_pk(&self, tenant: &TenantId, key: &str) -> Result<String, StoreError> {
        let digest = self.idempotency_key_digest(tenant, key).await?;
        Ok(idempotency_pk_of_hash(tenant.as_str(), &digest))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The key is this call's now.
    Claimed,
    /// An earlier call holds the key.
    Taken(IdempotencyRecord),
}

impl IdempotencyStore {
    /// Frees a key whose call failed before making anything, so a retry can use it.
    pub async fn release_idempotency_key(
        &self,
        tenant: &TenantId,
        key: &str,
        resource_id: &str,
    ) -> Result<(), StoreError> {
        // Only this call's claim: a later call may hold the key by now.
        self.delete_if(
            "DeleteItem idempotency key",
            (
                self.idempotency_pk(tenant, key).await?,
                IDEMPOTENCY_SK.into(),
            ),
            "resource_id = :id",
            &[],
            &[(":id", s(resource_id))],
        )
        .await?;
        Ok(())
    }
}

/// The attribute of a claim that holds its body's keyed digest.
const BODY_DIGEST: &str = "body_digest";
/// The attribute of a claim made before keyed digests: the body's SHA-256.
const LEGACY_BODY_SHA256: &str = "body_sha256";

fn record_of(it: &Item) -> IdempotencyRecord {
    let body = match (get_s(it, BODY_DIGEST), get_s(it, LEGACY_BODY_SHA256)) {
        (Some(digest), _) => BodyDigest::Keyed(digest.to_owned()),
        (None, legacy) => BodyDigest::Sha256(legacy.unwrap_or_default().to_owned()),
    };
    IdempotencyRecord {
        body,
        resource_id: get_s(it, "resource_id").unwrap_or_default().to_owned(),
        created_at: get_i64(it, "created_at").unwrap_or(0),
    }
}

/// Claims on the send API's idempotency keys, and the keyed digests they are stored by.
pub trait IdempotencyClaims: Send + Sync {
    /// The keyed digest of an API call's body, for its idempotency record.
    fn body_digest(
        &self,
        tenant: &TenantId,
        body: &[u8],
    ) -> impl Future<Output = Result<String, StoreError>> + Send;

    /// The keyed digest that stands for an idempotency key in its item's key; an outbound
    /// message keeps it, so that erasing its contact finds the record.
    fn idempotency_key_digest(
        &self,
        tenant: &TenantId,
        key: &str,
    ) -> impl Future<Output = Result<String, StoreError>> + Send;

    /// The live claim on `key`, read consistently: under the key's keyed digest, or else
    /// as a claim made before keyed digests left it (one more read, for a day's claims).
    fn idempotency_record(
        &self,
        tenant: &TenantId,
        key: &str,
        now: i64,
    ) -> impl Future<Output = Result<Option<IdempotencyRecord>, StoreError>> + Send;

    /// Claims `key` for the call with `record`, unless a live claim holds it.
    fn claim_idempotency_key(
        &self,
        tenant: &TenantId,
        key: &str,
        record: &IdempotencyRecord,
    ) -> impl Future<Output = Result<Claim, StoreError>> + Send;
}

impl IdempotencyClaims for IdempotencyStore {
    async fn body_digest(&self, tenant: &TenantId, body: &[u8]) -> Result<String, StoreError> {
        self.keyring()?
            .keyed_digest(tenant.as_str(), "idempotency-body", body)
            .await
    }

    async fn idempotency_key_digest(
        &self,
        tenant: &TenantId,
        key: &str,
    ) -> Result<String, StoreError> {
        self.keyring()?
            .keyed_digest(tenant.as_str(), "idempotency-key", key.as_bytes())
            .await
    }

    async fn idempotency_record(
        &self,
        tenant: &TenantId,
        key: &str,
        now: i64,
    ) -> Result<Option<IdempotencyRecord>, StoreError> {
        let places = [
            self.idempotency_pk(tenant, key).await?,
            idempotency_pk_of_hash(tenant.as_str(), &legacy_idempotency_hash(key)),
        ];
        for pk in places {
            let held = self.get_consistent(pk, IDEMPOTENCY_SK.into()).await?;
            if let Some(record) = held.filter(|it| is_live(it, now)).map(|it| record_of(&it)) {
                return Ok(Some(record));
            }
        }
        Ok(None)
    }

    async fn claim_idempotency_key(
        &self,
        tenant: &TenantId,
        key: &str,
        record: &IdempotencyRecord,
    ) -> Result<Claim, StoreError> {
        let pk = self.idempotency_pk(tenant, key).await?;
        let body = match &record.body {
            BodyDigest::Keyed(digest) => (BODY_DIGEST, s(digest)),
            BodyDigest::Sha256(digest) => (LEGACY_BODY_SHA256, s(digest)),
        };
        let claim = item([
            ("pk", s(&pk)),
            ("sk", s(IDEMPOTENCY_SK)),
            body,
            ("resource_id", s(&record.resource_id)),
            ("created_at", n(record.created_at)),
            (EXPIRES_AT, n(record.created_at + IDEMPOTENCY_TTL_SECS)),
        ]);
        // An expired claim that TTL has not deleted yet is free again.
        let claimed = self
            .put_if(
                "PutItem idempotency key",
                claim,
                "attribute_not_exists(pk) OR expires_at <= :now",
                &[],
                &[(":now", n(record.created_at))],
            )
            .await?;
        if claimed {
            return Ok(Claim::Claimed);
        }
        let held = self
            .idempotency_record(tenant, key, record.created_at)
            .await?
            .ok_or_else(|| StoreError::Corrupt {
                key: "idempotency key".into(),
                problem: "claimed but not readable".into(),
            })?;
        Ok(Claim::Taken(held))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_body_matches_its_keyed_digest_or_the_sha256_an_older_claim_kept() {
        let body = br#"{"to":"+4915112345678"}"#;
        assert!(BodyDigest::Keyed("k1".into()).matches("k1", body));
        assert!(!BodyDigest::Keyed("k1".into()).matches("k2", body));
        let legacy = BodyDigest::Sha256(hex::encode(Sha256::digest(body)));
        assert!(legacy.matches("whatever", body));
        assert!(!legacy.matches("whatever", b"{}"));
    }
}
