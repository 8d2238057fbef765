//! Tombstones of erased identifiers (`T#<t>#ERASED#<blind index>` / `ERASED`): the keyed
//! hash and the erasure's time, nothing else. While one lives, an event about the person
//! sent before their erasure (Meta's retries, a duplicate, a redriven dead letter) finds
//! no contact and makes none: it is dropped.

use crate::domain::consent::ConsentState;
use crate::domain::identity::IdentityKey;
use crate::domain::tenant::TenantId;
use crate::store::contact::ContactStore;
use crate::store::contact::consent::{consent_state_of, opt_out_lookup};
use crate::store::keys::{TOMBSTONE_SK, tombstone_pk};
use crate::store::table::{check_action, get_i64, get_s, item, n, s};
use crate::store::{EXPIRES_AT, StoreError};

impl ContactStore {
    /// Tombstones for the blinded identifiers, erased at `erased_at`, until `expires_at`.
    /// A later erasure's tombstone is never moved back by an earlier one's.
    pub async fn put_tombstones(
        &self,
        tenant: &TenantId,
        blinded: &[String],
        erased_at: i64,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        for hash in blinded {
            let it = item([
                ("pk", s(tombstone_pk(tenant.as_str(), hash))),
                ("sk", s(TOMBSTONE_SK)),
                ("erased_at", n(erased_at)),
                (EXPIRES_AT, n(expires_at)),
            ]);
            self.put_if(
                "PutItem tombstone",
                it,
                "attribute_not_exists(pk) OR erased_at <= :at",
                &[],
                &[(":at", n(erased_at))],
            )
            .await?;
        }
        Ok(())
    }

    /// The blind index of an identifier: what its tombstone and identity item are keyed by.
    pub async fn blind_identifier(
        &self,
        tenant: &TenantId,
        key: &IdentityKey,
    ) -> Result<String, StoreError> {
        self.keyring()?
            .blind(tenant.as_str(), &key.to_string())
            .await
    }

    /// Whom an erasure's receipt covers: a keyed digest of the identifier, of its own
    /// purpose (not the blind index that keys items).
    pub async fn erasure_subject(
        &self,
        tenant: &TenantId,
        key: &IdentityKey,
    ) -> Result<String, StoreError> {
        self.keyring()?
            .keyed_digest(
                tenant.as_str(),
                "erasure-subject",
                key.to_string().as_bytes(),
            )
            .await
    }

    /// Destroys the contact's data key for good (see [`PersonStore::put_erased_person_key`]);
    /// true when there was one.
    pub async fn erase_contact_key(
        &self,
        tenant: &TenantId,
        contact_id: &str,
        at: i64,
    ) -> Result<bool, StoreError> {
        self.keyring()?
            .erase_person(tenant.as_str(), contact_id, at)
            .await
    }

    /// Whether the contact was erased: nothing about them is delivered or written again.
    pub async fn is_contact_erased(
        &self,
        tenant: &TenantId,
        contact_id: &str,
    ) -> Result<bool, StoreError> {
        self.keyring()?.is_erased(tenant.as_str(), contact_id).await
    }

    /// What an identifier that leads nowhere left behind, read at once (one BatchGetItem):
    /// when the latest erasure of one of `keys` took place, while its tombstone lives, and
    /// the opt-outs they carry from before.
    pub(crate) async fn traces_of(
        &self,
        tenant: &TenantId,
        keys: &[IdentityKey],
        now: i64,
    ) -> Result<Traces, StoreError> {
        let keyring = self.keyring()?;
        let mut lookups = Vec::with_capacity(keys.len() * 2);
        let mut traces = Traces::default();
        for key in keys {
            let hash = keyring.blind(tenant.as_str(), &key.to_string()).await?;
            lookups.push(item([
                ("pk", s(tombstone_pk(tenant.as_str(), &hash))),
                ("sk", s(TOMBSTONE_SK)),
            ]));
            lookups.push(opt_out_lookup(tenant, &hash));
            traces.tombstones.push((hash, None));
        }
        let found = self
            .batch_get("BatchGetItem tombstones and opt-outs", lookups, now)
            .await?;
        for it in &found {
            if get_s(it, "sk") == Some(TOMBSTONE_SK) {
                let erased_at = get_i64(it, "erased_at");
                traces.erased_at = traces.erased_at.max(erased_at);
                let pk = get_s(it, "pk").unwrap_or_default();
                for (hash, seen) in &mut traces.tombstones {
                    if tombstone_pk(tenant.as_str(), hash) == pk {
                        *seen = erased_at;
                    }
                }
            } else {
                traces.opt_outs.take_later(&consent_state_of(it));
            }
        }
        Ok(traces)
    }

    /// The erasure time of each of the blinded identifiers that has a live tombstone (one
    /// BatchGetItem per 100).
    pub(crate) async fn tombstones_of(
        &self,
        tenant: &TenantId,
        blinded: &[String],
        now: i64,
    ) -> Result<std::collections::HashMap<String, i64>, StoreError> {
        let lookups = blinded
            .iter()
            .map(|hash| {
                item([
                    ("pk", s(tombstone_pk(tenant.as_str(), hash))),
                    ("sk", s(TOMBSTONE_SK)),
                ])
            })
            .collect();
        let found = self
            .batch_get("BatchGetItem tombstones", lookups, now)
            .await?;
        Ok(found
            .iter()
            .filter_map(|it| {
                let pk = get_s(it, "pk")?;
                let hash = pk.rsplit('#').next()?;
                Some((hash.to_owned(), get_i64(it, "erased_at")?))
            })
            .collect())
    }

    /// A check, as one action of a transaction, that the tombstone of `blinded` is as it
    /// was read: none, or the one of the erasure at `erased_at`. A contact made with it is
    /// made knowing every erasure of its identifiers.
    pub(crate) fn tombstone_as_read_check(
        &self,
        tenant: &TenantId,
        blinded: &str,
        erased_at: Option<i64>,
    ) -> Result<aws_sdk_dynamodb::types::TransactWriteItem, StoreError> {
        let key = (
            tombstone_pk(tenant.as_str(), blinded),
            TOMBSTONE_SK.to_owned(),
        );
        match erased_at {
            None => check_action(self.table_name(), key, "attribute_not_exists(pk)", &[]),
            Some(at) => check_action(
                self.table_name(),
                key,
                "erased_at = :seen",
                &[(":seen", n(at))],
            ),
        }
    }

    /// A check, as one action of a transaction, that no erasure of `blinded` took place at
    /// or after `at`: what an event of that time writes about the person rides with it.
    pub(crate) fn erased_before_check(
        &self,
        tenant: &TenantId,
        blinded: &str,
        at: i64,
    ) -> Result<aws_sdk_dynamodb::types::TransactWriteItem, StoreError> {
        check_action(
            self.table_name(),
            (
                tombstone_pk(tenant.as_str(), blinded),
                TOMBSTONE_SK.to_owned(),
            ),
            "attribute_not_exists(pk) OR erased_at < :at",
            &[(":at", n(at))],
        )
    }
}

/// What identifiers that lead nowhere left behind.
#[derive(Debug, Clone, Default)]
pub(crate) struct Traces {
    /// The latest erasure of their person, while its tombstone lives.
    pub erased_at: Option<i64>,
    /// The opt-outs they carry (the latest per scope).
    pub opt_outs: ConsentState,
    /// Each identifier's blind index, with its tombstone's erasure time when it has one.
    pub tombstones: Vec<(String, Option<i64>)>,
}
