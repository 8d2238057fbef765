//! The key table's items (see `privacy::keyring` for what the keys are). A store over the
//! key table, not the data table, calls these.
//!
//! | item | pk | sk |
//! |---|---|---|
//! | a tenant's KEK (KMS ciphertext) | `T#<t>` | `KEK` |
//! | a contact's data key (wrapped) | `T#<t>` | `DEK#<contact id>` |
//! | an erased contact's mark (no key) | `T#<t>` | `DEK#<contact id>` |
//!
//! One partition per tenant, so a tenant's keys go with one query when it is deleted.

use std::collections::HashMap;

use crate::table::{Item, b, get_b, get_i64, get_s, item, n, s};
use crate::table::{PutOutcome, StoreError, Table};

const KEK_SK: &str = "KEK";
const DEK_PREFIX: &str = "DEK#";

/// A contact's entry in the key table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PersonKeyEntry {
    Wrapped(Vec<u8>),
    /// The contact was erased at this time: their key is gone for good.
    Erased {
        at: i64,
    },
}

/// A tenant's partition of the key table: the same form as the tenant's partition of the
/// data table, so the two tables read alike.
fn tenant_pk(tenant: &str) -> String {
    format!("T#{tenant}")
}

fn dek_sk(contact_id: &str) -> String {
    format!("{DEK_PREFIX}{contact_id}")
}

/// The key an item of the key table holds under `attribute`.
fn key_bytes(it: &Item, attribute: &str, pk: &str) -> Result<Vec<u8>, StoreError> {
    get_b(it, attribute)
        .map(<[u8]>::to_vec)
        .ok_or_else(|| StoreError::corrupt(pk, &format!("no {attribute}")))
}

impl Table {
    /// The tenant's KEK as KMS ciphertext.
    pub async fn tenant_kek(&self, tenant: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let key = tenant_pk(tenant);
        let found = self.get_consistent(key.clone(), KEK_SK.into()).await?;
        found.map(|it| key_bytes(&it, "kek", &key)).transpose()
    }

    /// Stores the tenant's KEK unless it has one (another container was first).
    pub async fn put_new_tenant_kek(
        &self,
        tenant: &str,
        ciphertext: Vec<u8>,
        now: i64,
    ) -> Result<PutOutcome, StoreError> {
        let it = item([
            ("pk", s(tenant_pk(tenant))),
            ("sk", s(KEK_SK)),
            ("kek", b(ciphertext)),
            ("created_at", n(now)),
        ]);
        self.put_new("PutItem tenant KEK", it).await
    }

    /// The contact's entry: its wrapped data key, or the mark its erasure left.
    pub async fn person_key_entry(
        &self,
        tenant: &str,
        contact_id: &str,
        consistent: bool,
    ) -> Result<Option<PersonKeyEntry>, StoreError> {
        let (pk, sk) = (tenant_pk(tenant), dek_sk(contact_id));
        let found = match consistent {
            true => self.get_consistent(pk.clone(), sk).await?,
            false => self.get(pk.clone(), sk).await?,
        };
        let Some(it) = found else {
            return Ok(None);
        };
        if let Some(at) = get_i64(&it, "erased_at") {
            return Ok(Some(PersonKeyEntry::Erased { at }));
        }
        key_bytes(&it, "dek", &pk).map(|k| Some(PersonKeyEntry::Wrapped(k)))
    }

    /// Replaces the contact's data key by the mark of its erasure: what was sealed under
    /// the key no longer opens anywhere, and no new key is ever made for the contact (a
    /// late writer is refused instead of sealing under a fresh key). The mark holds the
    /// time only; it is kept, since the contact id is never used again.
    pub async fn put_erased_person_key(
        &self,
        tenant: &str,
        contact_id: &str,
        at: i64,
    ) -> Result<(), StoreError> {
        let it = item([
            ("pk", s(tenant_pk(tenant))),
            ("sk", s(dek_sk(contact_id))),
            ("erased_at", n(at)),
        ]);
        self.put("PutItem erased contact key", it).await
    }

    /// A check, as one action of a transaction on the data table, that the contact has not
    /// been erased: whatever writes that make or change the contact ride with it fail once
    /// the erasure has marked the contact's key, whatever key a container has cached.
    pub fn person_not_erased_check(
        &self,
        tenant: &str,
        contact_id: &str,
    ) -> Result<aws_sdk_dynamodb::types::TransactWriteItem, StoreError> {
        crate::table::check_action(
            &self.table,
            (tenant_pk(tenant), dek_sk(contact_id)),
            "attribute_not_exists(erased_at)",
            &[],
        )
    }

    /// Stores the contact's wrapped data key unless it has one.
    pub async fn put_new_person_key(
        &self,
        tenant: &str,
        contact_id: &str,
        wrapped: Vec<u8>,
    ) -> Result<PutOutcome, StoreError> {
        let it = item([
            ("pk", s(tenant_pk(tenant))),
            ("sk", s(dek_sk(contact_id))),
            ("dek", b(wrapped)),
        ]);
        self.put_new("PutItem contact key", it).await
    }

    /// Stores the wrapped data keys of contacts whose ids were just made.
    pub async fn put_person_keys(
        &self,
        tenant: &str,
        keys: Vec<(&str, Vec<u8>)>,
    ) -> Result<(), StoreError> {
        let items = keys
            .into_iter()
            .map(|(id, wrapped)| {
                item([
                    ("pk", s(tenant_pk(tenant))),
                    ("sk", s(dek_sk(id))),
                    ("dek", b(wrapped)),
                ])
            })
            .collect();
        self.batch_put("BatchWriteItem contact keys", items).await
    }

    /// The wrapped data keys of those of `contact_ids` that have one, by contact id (an
    /// erased contact has none).
    pub async fn wrapped_person_keys(
        &self,
        tenant: &str,
        contact_ids: &[&str],
    ) -> Result<HashMap<String, Vec<u8>>, StoreError> {
        let pk = tenant_pk(tenant);
        let keys = contact_ids
            .iter()
            .map(|id| HashMap::from([("pk".to_owned(), s(&pk)), ("sk".to_owned(), s(dek_sk(id)))]))
            .collect();
        let found = self.batch_get("BatchGetItem contact keys", keys, 0).await?;
        Ok(found
            .iter()
            .filter_map(|it| {
                let id = get_s(it, "sk")?.strip_prefix(DEK_PREFIX)?;
                Some((id.to_owned(), get_b(it, "dek")?.to_vec()))
            })
            .collect())
    }

    /// Deletes the tenant's KEK: from this moment nothing sealed for its contacts opens.
    pub async fn delete_kek_item(&self, tenant: &str) -> Result<(), StoreError> {
        self.delete_item("DeleteItem tenant KEK", tenant_pk(tenant), KEK_SK.into())
            .await
    }

    /// Deletes every key of a tenant whose KEK is gone (its contacts' data keys, and a KEK
    /// made again meanwhile by a late reader); answers how many.
    pub async fn delete_person_key_items(&self, tenant: &str) -> Result<usize, StoreError> {
        let pk = tenant_pk(tenant);
        let items = self
            .query_prefix("Query tenant keys", pk.clone(), "")
            .await?;
        let sks: Vec<String> = items
            .iter()
            .filter_map(|it| get_s(it, "sk").map(str::to_owned))
            .collect();
        self.batch_delete(sks.iter().map(|sk| (pk.as_str(), sk.as_str())))
            .await?;
        Ok(sks.len())
    }
}
