//! Idempotency keys of API calls: the first call with a key claims it for a day, with a
//! hash of its body and the id of what it made; a later call with the same key gets that
//! id back, or a conflict if its body differs.

use crate::domain::tenant::TenantId;
use crate::store::keys::{IDEMPOTENCY_SK, idempotency_pk};
use crate::store::table::{get_i64, get_s, item, n, s};
use crate::store::{EXPIRES_AT, Store, StoreError, is_live};

/// How long a key is remembered.
pub const IDEMPOTENCY_TTL_SECS: i64 = 24 * 3600;

/// What the first call with a key made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyRecord {
    /// Hex SHA-256 of the first call's body (canonical JSON).
    pub body_sha256: String,
    /// The id of the resource the first call made.
    pub resource_id: String,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The key is this call's now.
    Claimed,
    /// An earlier call holds the key.
    Taken(IdempotencyRecord),
}

impl Store {
    /// Claims `key` for the call with `record`, unless a live claim holds it.
    pub async fn claim_idempotency_key(
        &self,
        tenant: &TenantId,
        key: &str,
        record: &IdempotencyRecord,
    ) -> Result<Claim, StoreError> {
        let pk = idempotency_pk(tenant.as_str(), key);
        let claim = item([
            ("pk", s(&pk)),
            ("sk", s(IDEMPOTENCY_SK)),
            ("body_sha256", s(&record.body_sha256)),
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

    /// The live claim on `key`, read consistently.
    pub async fn idempotency_record(
        &self,
        tenant: &TenantId,
        key: &str,
        now: i64,
    ) -> Result<Option<IdempotencyRecord>, StoreError> {
        let held = self
            .get_consistent(idempotency_pk(tenant.as_str(), key), IDEMPOTENCY_SK.into())
            .await?;
        Ok(held
            .filter(|it| is_live(it, now))
            .map(|it| IdempotencyRecord {
                body_sha256: get_s(&it, "body_sha256").unwrap_or_default().to_owned(),
                resource_id: get_s(&it, "resource_id").unwrap_or_default().to_owned(),
                created_at: get_i64(&it, "created_at").unwrap_or(0),
            }))
    }

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
            (idempotency_pk(tenant.as_str(), key), IDEMPOTENCY_SK.into()),
            "resource_id = :id",
            &[],
            &[(":id", s(resource_id))],
        )
        .await?;
        Ok(())
    }
}
