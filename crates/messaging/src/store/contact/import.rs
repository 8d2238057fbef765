//! Contacts in bulk: which phones and BSUIDs are known, and new contacts written many to a
//! transaction, each with its identities, so that none is half-made and none takes a phone
//! or BSUID that another contact got meanwhile. Each checks its identifiers' tombstones as
//! they were read, and remembers an erasure of them (`erased_before`), as every path that
//! makes a contact does: an event from before the erasure is never filed under it.

use crate::store::contact::ContactStore;
use std::collections::{HashMap, HashSet};

use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem};
use futures_util::StreamExt;

use crate::domain::consent::ConsentState;
use crate::domain::contact::DetailsChange;
use crate::domain::identity::{IdentityKey, UserIdentity};
use crate::domain::retention::Retention;
use crate::domain::tenant::TenantId;
use crate::store::StoreError;
use crate::store::Transacted;
use crate::store::contact::details::write_new_details;
use crate::store::contact::resolve::ID_HASHES;
use crate::store::contact::{
    ContactFacts, NewProfile, identity_item, new_contact_id, new_profile_item,
};
use crate::store::keys::{IDENTITY_SK, identity_pk, legacy_identity_pk};
use crate::store::table::{get_s, n, put_action, s};

/// DynamoDB's limit of actions in one transaction.
const MAX_ACTIONS: usize = 100;
/// Transactions in flight at once: enough to hide the round trips, few enough to stay
/// clear of a new table's write capacity.
const CONCURRENT_TRANSACTIONS: usize = 4;

/// A contact to create, with the details the business gives it.
#[derive(Debug, Clone)]
pub struct NewContact<'a> {
    pub identity: &'a UserIdentity,
    pub details: &'a DetailsChange,
}

impl ContactStore {
    /// Which of `keys` lead to a live contact.
    pub async fn known_identities(
        &self,
        tenant: &TenantId,
        keys: &[IdentityKey],
        now: i64,
    ) -> Result<HashSet<IdentityKey>, StoreError> {
        // Under its blind index, or as written before blind indexes.
        let mut by_pk: HashMap<String, &IdentityKey> = HashMap::new();
        for k in keys {
            by_pk.insert(self.identity_key(tenant, k).await?, k);
            by_pk.insert(legacy_identity_pk(tenant.as_str(), k), k);
        }
        let requested = by_pk
            .keys()
            .map(|pk| HashMap::from([("pk".to_owned(), s(pk)), ("sk".to_owned(), s(IDENTITY_SK))]))
            .collect();
        let found = self
            .batch_get("BatchGetItem identities", requested, now)
            .await?;
        // A number its user moved away from is no longer theirs: not known.
        Ok(found
            .iter()
            .filter(|it| !it.contains_key("moved_at"))
            .filter_map(|it| by_pk.get(get_s(it, "pk")?).map(|k| (*k).clone()))
            .collect())
    }

    /// Creates `contacts` in transactions of up to 100 writes. Each transaction is written
    /// whole or not at all; the result says, per contact, whether it was created (`false`:
    /// its transaction found a phone or BSUID taken, and the caller handles it another way).
    pub async fn create_contacts(
        &self,
        tenant: &TenantId,
        contacts: &[NewContact<'_>],
        retention: &Retention,
        now: i64,
    ) -> Result<Vec<bool>, StoreError> {
        // Transactions of whole contacts: (actions, how many contacts they create).
        let mut transactions: Vec<(Vec<TransactWriteItem>, usize)> = Vec::new();
        let ids: Vec<String> = contacts.iter().map(|_| new_contact_id()).collect();
        let keys = self.keyring()?.new_people(tenant.as_str(), &ids).await?;
        // Whoever opted out before (under a contact that aged out or was erased) is
        // imported opted out.
        let identifiers: Vec<IdentityKey> =
            contacts.iter().flat_map(|c| c.identity.keys()).collect();
        let opt_outs = self
            .opt_outs_by_identifier(tenant, &identifiers, now)
            .await?;
        let keyring = self.keyring()?;
        let mut blinded = HashMap::new();
        for key in &identifiers {
            blinded.insert(
                key.clone(),
                keyring.blind(tenant.as_str(), &key.to_string()).await?,
            );
        }
        let hashes: Vec<String> = blinded.values().cloned().collect();
        let tombstones = self
            .repo::<ContactStore>()
            .tombstones_of(tenant, &hashes, now)
            .await?;
        for ((contact, id), key) in contacts.iter().zip(&ids).zip(&keys) {
            let mut consent = ConsentState::default();
            for identity in contact.identity.keys() {
                if let Some(found) = opt_outs.get(&identity) {
                    consent.take_later(found);
                }
            }
            let identities: Vec<(String, Option<i64>)> = contact
                .identity
                .keys()
                .iter()
                .map(|k| {
                    let hash = blinded[k].clone();
                    let erased_at = tombstones.get(&hash).copied();
                    (hash, erased_at)
                })
                .collect();
            let shown = contact.details.name.as_ref().and_then(|n| n.as_deref());
            let new = NewItems {
                profile: NewProfile {
                    contact_id: id,
                    key,
                    index: self.contact_index_attrs(tenant, id, shown).await?,
                },
                identities,
                consent,
            };
            let writes = self.contact_writes(tenant, contact, new, retention, now)?;
            match transactions.last_mut() {
                Some((actions, count)) if actions.len() + writes.len() <= MAX_ACTIONS => {
                    actions.extend(writes);
                    *count += 1;
                }
                _ => transactions.push((writes, 1)),
            }
        }
        let writes: Vec<_> = transactions
            .into_iter()
            .map(|(actions, count)| async move {
                let written = self
                    .transact("TransactWriteItems contacts", actions)
                    .await?;
                Ok::<_, StoreError>((written == Transacted::Written, count))
            })
            .collect();
        let results: Vec<Result<(bool, usize), StoreError>> = futures_util::stream::iter(writes)
            .buffered(CONCURRENT_TRANSACTIONS)
            .collect()
            .await;
        let mut created = Vec::with_capacity(contacts.len());
        for result in results {
            let (written, count) = result?;
            created.extend(std::iter::repeat_n(written, count));
        }
        Ok(created)
    }
}

/// What a new contact's items are made of: its profile's id, key and index attributes,
/// its identifiers' blind indexes with their tombstones' erasure times as read.
struct NewItems<'a> {
    profile: NewProfile<'a>,
    identities: Vec<(String, Option<i64>)>,
    /// The opt-outs its identifiers carry from before.
    consent: ConsentState,
}

impl ContactStore {
    /// The profile and identity writes of one new contact, each only if its item is free,
    /// and the checks that its identifiers' tombstones are as they were read.
    fn contact_writes(
        &self,
        tenant: &TenantId,
        contact: &NewContact<'_>,
        NewItems {
            profile,
            identities,
            consent,
        }: NewItems<'_>,
        retention: &Retention,
        now: i64,
    ) -> Result<Vec<TransactWriteItem>, StoreError> {
        let facts = ContactFacts::default();
        let (id, key) = (profile.contact_id, profile.key);
        let mut profile =
            new_profile_item(tenant, profile, contact.identity, &facts, retention, now);
        write_new_details(contact.details, &mut profile, key, tenant, id);
        profile.extend(super::consent::consent_attrs(&consent));
        let hashes = identities.iter().map(|(hash, _)| hash.clone()).collect();
        profile.insert(ID_HASHES.into(), AttributeValue::Ss(hashes));
        let table = self.table_name();
        let mut writes = vec![put_action(table, profile, "attribute_not_exists(pk)", &[])?];
        let erased_before = identities.iter().filter_map(|(_, at)| *at).max();
        for (hash, erased_at) in &identities {
            let mut it = identity_item(identity_pk(tenant.as_str(), hash), id, retention, now);
            if let Some(at) = erased_before {
                it.insert("erased_before".into(), n(at));
            }
            // An expired identity is free, even before TTL deletes it, and so is a number
            // its user moved away from.
            let condition =
                "attribute_not_exists(pk) OR expires_at <= :now OR attribute_exists(moved_at)";
            writes.push(put_action(table, it, condition, &[(":now", n(now))])?);
            writes.push(self.tombstone_as_read_check(tenant, hash, *erased_at)?);
        }
        Ok(writes)
    }
}
