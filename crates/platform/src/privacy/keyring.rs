//! The key hierarchy of personal data. Each tenant has a key-encryption key (KEK): a KMS
//! data key made under the personal-data KMS key with an encryption context naming the
//! tenant, kept in the key table as KMS ciphertext. From it come the tenant's wrapping key
//! and its blind-index key. Each contact has a random data key, kept in the key table
//! wrapped under the tenant's wrapping key. Deleting a contact's data key makes every copy
//! of their sealed data unreadable, backups included; deleting the KEK does so for a
//! whole tenant.
//!
//! The key table (`store::key_table`) holds nothing else and has no backups (see
//! `template.yaml`): a deleted key must stay deleted.
//!
//! Cost: KMS is called once per tenant per container per [`TENANT_KEYS_TTL`] (one
//! Decrypt, or one GenerateDataKey for a new tenant); the key table is read once per
//! contact per container per [`PERSON_KEY_TTL`] and written once per new contact.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::DataKeySpec;

use crate::cache::TtlCache;
use crate::metrics::Metrics;
use crate::privacy::cipher::DataKey;
use crate::table::key_table::PersonKeyEntry;
use crate::table::{PutOutcome, StoreError, Table};

pub const TENANT_KEYS_TTL: Duration = Duration::from_secs(600);
pub const PERSON_KEY_TTL: Duration = crate::config::PERSON_KEY_CACHE_DEFAULT;

/// A tenant's keys as derived from its KEK.
pub struct TenantKeys {
    /// Wraps the tenant's contacts' data keys.
    wrap: DataKey,
    /// Keys the blind index: the keyed hashes that stand for identifiers in keys.
    index: DataKey,
    /// Seals the tenant's data that is about no one person (account events, callbacks
    /// about the account); shared, since every such write uses it.
    data: Arc<DataKey>,
}

impl TenantKeys {
    fn from_kek(kek: &DataKey) -> Self {
        Self {
            wrap: kek.derive("wagate/v1/wrap-contact-keys"),
            index: kek.derive("wagate/v1/blind-index"),
            data: Arc::new(kek.derive("wagate/v1/tenant-data")),
        }
    }

    pub fn index(&self) -> &DataKey {
        &self.index
    }

    pub fn data(&self) -> &Arc<DataKey> {
        &self.data
    }
}

pub struct Keyring {
    kms: aws_sdk_kms::Client,
    kms_key_id: String,
    table: Table,
    metrics: Arc<Metrics>,
    tenants: TtlCache<String, Arc<TenantKeys>>,
    people: TtlCache<(String, String), Arc<DataKey>>,
    /// One KMS call at a time: concurrent requests of a cold container wait for the first.
    kms_turn: tokio::sync::Mutex<()>,
}

impl Keyring {
    /// `table` is the key table (a store of its own, without a keyring).
    pub fn new(
        kms: aws_sdk_kms::Client,
        kms_key_id: impl Into<String>,
        table: impl Into<Table>,
        metrics: Arc<Metrics>,
    ) -> Self {
        Self {
            kms,
            kms_key_id: kms_key_id.into(),
            table: table.into(),
            metrics,
            tenants: TtlCache::new(TENANT_KEYS_TTL, 1_000),
            people: TtlCache::new(PERSON_KEY_TTL, 50_000),
            kms_turn: tokio::sync::Mutex::new(()),
        }
    }

    /// Keeps each person's data key in memory for `ttl` (instead of [`PERSON_KEY_TTL`]):
    /// how long a container may write for a person after their erasure marked their key.
    pub fn with_person_key_ttl(mut self, ttl: Duration) -> Self {
        self.people = TtlCache::new(ttl, 50_000);
        self
    }

    /// The tenant's keys, its KEK made on first use.
    pub async fn tenant(&self, tenant: &str) -> Result<Arc<TenantKeys>, StoreError> {
        if let Some(keys) = self.tenants.get(&tenant.to_owned()) {
            return Ok(keys);
        }
        let _turn = self.kms_turn.lock().await;
        if let Some(keys) = self.tenants.get(&tenant.to_owned()) {
            return Ok(keys);
        }
        let kek = match self.table.tenant_kek(tenant).await? {
            Some(ciphertext) => self.decrypt_kek(tenant, ciphertext).await?,
            None => self.make_kek(tenant).await?,
        };
        let keys = Arc::new(TenantKeys::from_kek(&kek));
        self.tenants.insert(tenant.to_owned(), keys.clone());
        Ok(keys)
    }

    async fn make_kek(&self, tenant: &str) -> Result<DataKey, StoreError> {
        self.metrics.add_kms_call();
        let out = self
            .kms
            .generate_data_key()
            .key_id(&self.kms_key_id)
            .key_spec(DataKeySpec::Aes256)
            .set_encryption_context(Some(kms_context(tenant)))
            .send()
            .await
            .map_err(|e| StoreError::kms("GenerateDataKey", e))?;
        let (Some(plain), Some(ciphertext)) = (out.plaintext, out.ciphertext_blob) else {
            return Err(StoreError::corrupt(tenant, "KMS made no data key"));
        };
        let kek = DataKey::from_slice(plain.as_ref())
            .ok_or_else(|| StoreError::corrupt(tenant, "KMS made a key of the wrong size"))?;
        let now = crate::clock::now_seconds();
        match self
            .table
            .put_new_tenant_kek(tenant, ciphertext.into_inner(), now)
            .await?
        {
            PutOutcome::Stored => Ok(kek),
            // Another container made one first: every container uses that one.
            PutOutcome::Duplicate => {
                let ciphertext = self.table.tenant_kek(tenant).await?.ok_or_else(|| {
                    StoreError::corrupt(tenant, "the KEK vanished as it was made")
                })?;
                self.decrypt_kek(tenant, ciphertext).await
            }
        }
    }

    async fn decrypt_kek(&self, tenant: &str, ciphertext: Vec<u8>) -> Result<DataKey, StoreError> {
        self.metrics.add_kms_call();
        let out = self
            .kms
            .decrypt()
            .key_id(&self.kms_key_id)
            .ciphertext_blob(Blob::new(ciphertext))
            .set_encryption_context(Some(kms_context(tenant)))
            .send()
            .await
            .map_err(|e| StoreError::kms("Decrypt", e))?;
        out.plaintext
            .and_then(|p| DataKey::from_slice(p.as_ref()))
            .ok_or_else(|| StoreError::corrupt(tenant, "the KEK does not decrypt to a key"))
    }

    /// The blind index of an identifier (`phone:…`, `bsuid:…`) in the tenant: a keyed hash
    /// under the tenant's index key, 128 bits in hex. It stands for the identifier in keys.
    pub async fn blind(&self, tenant: &str, identifier: &str) -> Result<String, StoreError> {
        let keys = self.tenant(tenant).await?;
        Ok(hex::encode(
            &keys.index.keyed_hash(identifier.as_bytes())[..16],
        ))
    }

    /// The keyed hash that stands for one of Meta's wamids in keys: a wamid embeds its
    /// person's phone number (base64 of a small structure), so it is treated as one.
    pub async fn blind_wamid(&self, tenant: &str, wamid: &str) -> Result<String, StoreError> {
        self.blind(tenant, &format!("wamid:{wamid}")).await
    }

    /// A keyed digest of `input` under the tenant's index key, for what stands in a key
    /// or an attribute in place of text that may name a person (an API call's body, a
    /// kept event): 128 bits in hex, unlike an unkeyed hash, not open to guessing.
    pub async fn keyed_digest(
        &self,
        tenant: &str,
        purpose: &str,
        input: &[u8],
    ) -> Result<String, StoreError> {
        let keys = self.tenant(tenant).await?;
        let mut labelled = Vec::with_capacity(purpose.len() + 1 + input.len());
        labelled.extend_from_slice(purpose.as_bytes());
        labelled.push(0);
        labelled.extend_from_slice(input);
        Ok(hex::encode(&keys.index.keyed_hash(&labelled)[..16]))
    }

    /// Deletes the tenant's KEK (and this container's copy): every contact's data key of
    /// the tenant, and so everything sealed for them anywhere, no longer opens. Other
    /// containers' copies expire within [`TENANT_KEYS_TTL`]; a deleted tenant is cut off
    /// first, so they seal nothing new meanwhile.
    pub async fn forget_tenant(&self, tenant: &str) -> Result<(), StoreError> {
        self.table.delete_kek_item(tenant).await?;
        self.tenants.remove(&tenant.to_owned());
        Ok(())
    }

    /// Deletes the wrapped data keys of a tenant whose KEK is gone (housekeeping: they no
    /// longer unwrap); answers how many.
    pub async fn forget_tenant_people(&self, tenant: &str) -> Result<usize, StoreError> {
        self.table.delete_person_key_items(tenant).await
    }

    /// The contact's data key, made on first use: for writes. An erased contact gets
    /// [`StoreError::PersonErased`]: nothing is sealed for them again.
    pub async fn person(&self, tenant: &str, contact_id: &str) -> Result<Arc<DataKey>, StoreError> {
        if let Some(key) = self.people.get(&(tenant.to_owned(), contact_id.to_owned())) {
            return Ok(key);
        }
        let key = match self.read_person(tenant, contact_id, false).await? {
            PersonKey::Key(key) => key,
            PersonKey::Erased => return Err(StoreError::PersonErased),
            PersonKey::Absent => self.make_person(tenant, contact_id).await?,
        };
        self.people
            .insert((tenant.to_owned(), contact_id.to_owned()), key.clone());
        Ok(key)
    }

    async fn make_person(
        &self,
        tenant: &str,
        contact_id: &str,
    ) -> Result<Arc<DataKey>, StoreError> {
        let wrap = &self.tenant(tenant).await?.wrap;
        let key = DataKey::random();
        let wrapped = wrap.seal(&wrap_place(tenant, contact_id), key.as_bytes());
        match self
            .table
            .put_new_person_key(tenant, contact_id, wrapped)
            .await?
        {
            PutOutcome::Stored => Ok(Arc::new(key)),
            // Another writer made it first, or the contact was erased meanwhile.
            PutOutcome::Duplicate => match self.read_person(tenant, contact_id, true).await? {
                PersonKey::Key(key) => Ok(key),
                PersonKey::Erased => Err(StoreError::PersonErased),
                PersonKey::Absent => Err(StoreError::corrupt(
                    contact_id,
                    "the key vanished as it was made",
                )),
            },
        }
    }

    /// A check, as one action of a transaction, that the contact has not been erased
    /// (see [`Table::person_not_erased_check`]).
    pub fn not_erased_check(
        &self,
        tenant: &str,
        contact_id: &str,
    ) -> Result<aws_sdk_dynamodb::types::TransactWriteItem, StoreError> {
        self.table.person_not_erased_check(tenant, contact_id)
    }

    /// Whether the contact was erased (its key replaced by the mark of its erasure).
    /// A key found is cached, as [`Self::existing_person`] does: the caller seals with it
    /// next, and reads the key table once, not twice.
    pub async fn is_erased(&self, tenant: &str, contact_id: &str) -> Result<bool, StoreError> {
        let cache_key = (tenant.to_owned(), contact_id.to_owned());
        if self.people.get(&cache_key).is_some() {
            return Ok(false);
        }
        match self.read_person(tenant, contact_id, false).await? {
            PersonKey::Key(key) => {
                self.people.insert(cache_key, key);
                Ok(false)
            }
            PersonKey::Erased => Ok(true),
            PersonKey::Absent => Ok(false),
        }
    }

    /// Erases the contact's data key (see [`Table::put_erased_person_key`]), here and in
    /// this container's cache; true when there was one to erase. Other containers' copies
    /// expire within [`PERSON_KEY_TTL`].
    pub async fn erase_person(
        &self,
        tenant: &str,
        contact_id: &str,
        at: i64,
    ) -> Result<bool, StoreError> {
        let had_key = matches!(
            self.table
                .person_key_entry(tenant, contact_id, true)
                .await?,
            Some(PersonKeyEntry::Wrapped(_))
        );
        self.table
            .put_erased_person_key(tenant, contact_id, at)
            .await?;
        self.people
            .remove(&(tenant.to_owned(), contact_id.to_owned()));
        Ok(had_key)
    }

    /// Data keys for contacts whose ids were just made (an import), written in batches: a
    /// new random id has no key yet. A key whose contact is then not created stays behind
    /// harmlessly: it seals nothing.
    pub async fn new_people(
        &self,
        tenant: &str,
        contact_ids: &[String],
    ) -> Result<Vec<Arc<DataKey>>, StoreError> {
        if contact_ids.is_empty() {
            return Ok(Vec::new());
        }
        let wrap = &self.tenant(tenant).await?.wrap;
        let keys: Vec<Arc<DataKey>> = contact_ids
            .iter()
            .map(|_| Arc::new(DataKey::random()))
            .collect();
        let wrapped = contact_ids
            .iter()
            .zip(&keys)
            .map(|(id, key)| {
                (
                    id.as_str(),
                    wrap.seal(&wrap_place(tenant, id), key.as_bytes()),
                )
            })
            .collect();
        self.table.put_person_keys(tenant, wrapped).await?;
        for (id, key) in contact_ids.iter().zip(&keys) {
            self.people
                .insert((tenant.to_owned(), id.clone()), key.clone());
        }
        Ok(keys)
    }

    /// The contact's data key if it has one: for reads. `None` once erased.
    pub async fn existing_person(
        &self,
        tenant: &str,
        contact_id: &str,
    ) -> Result<Option<Arc<DataKey>>, StoreError> {
        let cache_key = (tenant.to_owned(), contact_id.to_owned());
        if let Some(key) = self.people.get(&cache_key) {
            return Ok(Some(key));
        }
        match self.read_person(tenant, contact_id, false).await? {
            PersonKey::Key(key) => {
                self.people.insert(cache_key, key.clone());
                Ok(Some(key))
            }
            PersonKey::Erased | PersonKey::Absent => Ok(None),
        }
    }

    /// The data keys of several contacts of one tenant, in one batch for those not cached;
    /// contacts without a key are left out.
    pub async fn existing_people(
        &self,
        tenant: &str,
        contact_ids: &[&str],
    ) -> Result<HashMap<String, Arc<DataKey>>, StoreError> {
        let mut found = HashMap::new();
        let mut missing = Vec::new();
        for id in contact_ids {
            match self.people.get(&(tenant.to_owned(), (*id).to_owned())) {
                Some(key) => {
                    found.insert((*id).to_owned(), key);
                }
                None if !missing.contains(id) => missing.push(*id),
                None => {}
            }
        }
        if missing.is_empty() {
            return Ok(found);
        }
        let wrapped = self.table.wrapped_person_keys(tenant, &missing).await?;
        if wrapped.is_empty() {
            return Ok(found);
        }
        let wrap = &self.tenant(tenant).await?.wrap;
        for (id, wrapped) in wrapped {
            let key = Arc::new(unwrap_person(wrap, tenant, &id, &wrapped)?);
            self.people
                .insert((tenant.to_owned(), id.clone()), key.clone());
            found.insert(id, key);
        }
        Ok(found)
    }

    async fn read_person(
        &self,
        tenant: &str,
        contact_id: &str,
        consistent: bool,
    ) -> Result<PersonKey, StoreError> {
        match self
            .table
            .person_key_entry(tenant, contact_id, consistent)
            .await?
        {
            None => Ok(PersonKey::Absent),
            Some(PersonKeyEntry::Erased { .. }) => Ok(PersonKey::Erased),
            Some(PersonKeyEntry::Wrapped(wrapped)) => {
                let wrap = &self.tenant(tenant).await?.wrap;
                Ok(PersonKey::Key(Arc::new(unwrap_person(
                    wrap, tenant, contact_id, &wrapped,
                )?)))
            }
        }
    }
}

/// A contact's key as the key table holds it.
enum PersonKey {
    Key(Arc<DataKey>),
    Erased,
    Absent,
}

/// What a contact's wrapped key is bound to: it unwraps for that contact of that tenant only.
fn wrap_place(tenant: &str, contact_id: &str) -> Vec<u8> {
    ["contact-key", tenant, contact_id]
        .join("\u{1f}")
        .into_bytes()
}

fn unwrap_person(
    wrap: &DataKey,
    tenant: &str,
    contact_id: &str,
    wrapped: &[u8],
) -> Result<DataKey, StoreError> {
    wrap.open(&wrap_place(tenant, contact_id), wrapped)
        .ok()
        .and_then(|plain| DataKey::from_slice(&plain))
        .ok_or_else(|| StoreError::corrupt(contact_id, "the data key does not unwrap"))
}

/// KMS's encryption context: ids only (CloudTrail logs it).
fn kms_context(tenant: &str) -> HashMap<String, String> {
    HashMap::from([
        ("purpose".to_owned(), "tenant-kek".to_owned()),
        ("tenant_id".to_owned(), tenant.to_owned()),
    ])
}
