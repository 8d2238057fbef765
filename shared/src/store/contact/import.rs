//! Contacts in bulk: which phones and BSUIDs are known, and new contacts written many to a
//! transaction, each with its identities, so that none is half-made and none takes a phone
//! or BSUID that another contact got meanwhile.

use std::collections::{HashMap, HashSet};

use aws_sdk_dynamodb::types::{Put, TransactWriteItem};
use futures_util::StreamExt;

use crate::domain::consent::ConsentState;
use crate::domain::contact::DetailsChange;
use crate::domain::identity::{IdentityKey, UserIdentity};
use crate::domain::retention::Retention;
use crate::domain::tenant::TenantId;
use crate::store::Transacted;
use crate::store::contact::{
    ContactFacts, NewProfile, identity_item, new_contact_id, new_profile_item,
};
use crate::store::keys::{IDENTITY_SK, legacy_identity_pk};
use crate::store::table::{Item, get_s, n, s};
use crate::store::{Store, StoreError};

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

impl Store {
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
        for ((contact, id), key) in contacts.iter().zip(&ids).zip(&keys) {
            let mut consent = ConsentState::default();
            for identity in contact.identity.keys() {
                if let Some(found) = opt_outs.get(&identity) {
                    consent.take_later(found);
                }
            }
            let mut identity_pks = Vec::new();
            for identity in contact.identity.keys() {
                identity_pks.push(self.identity_key(tenant, &identity).await?);
            }
            let shown = contact.details.name.as_ref().and_then(|n| n.as_deref());
            let new = NewItems {
                profile: NewProfile {
                    contact_id: id,
                    key,
                    index: self.contact_index_attrs(tenant, id, shown).await?,
                },
                identity_pks,
                consent,
            };
            let writes = contact_writes(&self.table, tenant, contact, new, retention, now)?;
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
/// its identities' keys.
struct NewItems<'a> {
    profile: NewProfile<'a>,
    identity_pks: Vec<String>,
    /// The opt-outs its identifiers carry from before.
    consent: ConsentState,
}

/// The profile and identity writes of one new contact, each only if its item is free.
fn contact_writes(
    table: &str,
    tenant: &TenantId,
    contact: &NewContact<'_>,
    NewItems {
        profile,
        identity_pks,
        consent,
    }: NewItems<'_>,
    retention: &Retention,
    now: i64,
) -> Result<Vec<TransactWriteItem>, StoreError> {
    let facts = ContactFacts::default();
    let (id, key) = (profile.contact_id, profile.key);
    let mut profile = new_profile_item(tenant, profile, contact.identity, &facts, retention, now);
    contact.details.write_new(&mut profile, key, tenant, id);
    profile.extend(super::consent::consent_attrs(&consent));
    let mut writes = vec![put_if_free(
        table,
        profile,
        "attribute_not_exists(pk)",
        None,
    )?];
    for pk in identity_pks {
        let it = identity_item(pk, id, retention, now);
        // An expired identity is free, even before TTL deletes it, and so is a number its
        // user moved away from.
        let condition =
            "attribute_not_exists(pk) OR expires_at <= :now OR attribute_exists(moved_at)";
        writes.push(put_if_free(table, it, condition, Some(now))?);
    }
    Ok(writes)
}

fn put_if_free(
    table: &str,
    item: Item,
    condition: &str,
    now: Option<i64>,
) -> Result<TransactWriteItem, StoreError> {
    let put = Put::builder()
        .table_name(table)
        .set_item(Some(item))
        .condition_expression(condition)
        .set_expression_attribute_values(now.map(|t| HashMap::from([(":now".to_owned(), n(t))])))
        .build()
        .map_err(|e| StoreError::dynamo("TransactWriteItems contacts", e))?;
    Ok(TransactWriteItem::builder().put(put).build())
}
