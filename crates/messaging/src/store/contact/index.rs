//! The `contact-index` GSI over the contact profiles: a tenant's contacts, to list them
//! all and to find them by the start of a name, with no name in any key. The profile
//! carries the index's keys: `cname_pk` = the tenant, `cname_sk` = the name's bucket +
//! contact id, rewritten whenever the name the contact shows changes (the business's
//! `name`, else the user's WhatsApp profile name).
//!
//! A bucket is a keyed hash (the tenant's blind-index key) of the first three characters
//! of the name as searched, 32 bits: contacts whose names start alike share one, and the
//! key reveals no letter. A search for three characters or more reads one bucket and keeps
//! the contacts whose opened name starts with what was asked; a shorter one reads the
//! whole index the same way. Listing order is by bucket, not by name: the price of keys
//! that hold no name (documented in docs/api.md).

use crate::store::contact::ContactStore;
use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

use crate::domain::contact::ContactProfile;
use crate::domain::tenant::TenantId;
use crate::store::StoreError;
use crate::store::contact::profile_from_item;
use crate::store::cursor::Cursor;
use crate::store::keys::{PROFILE_SK, contact_pk, tenant_pk};
use crate::store::table::{Item, get_s, s};

pub const CONTACT_INDEX: &str = "contact-index";
/// The bucket of contacts without a name.
const UNNAMED: &str = "~";
/// How many characters of a name choose its bucket.
const BUCKET_CHARS: usize = 3;
/// Longer names are matched by their start (the contact keeps its whole name).
const INDEXED_NAME_CHARS: usize = 200;
/// A search reads at most this many index pages for one page of results.
const SEARCH_ROUNDS: usize = 8;

/// The form of a name searches match on: lower case, single spaces.
pub fn searchable_name(name: &str) -> String {
    let lower = name.to_lowercase();
    let words: Vec<&str> = lower.split_whitespace().collect();
    words.join(" ").chars().take(INDEXED_NAME_CHARS).collect()
}

/// The name a contact shows: what the business called it, else its WhatsApp profile name.
pub fn shown_name(profile: &ContactProfile) -> Option<&str> {
    profile
        .details
        .name
        .as_deref()
        .or(profile.profile_name.as_deref())
}

/// What a name's bucket is the keyed hash of; `None` for no name.
fn bucket_input(searchable: &str) -> Option<String> {
    let start: String = searchable.chars().take(BUCKET_CHARS).collect();
    (!start.is_empty()).then(|| format!("name:{start}"))
}

/// Whether an index key is a bucket's (`<8 hex digits>#<id>` or `~#<id>`), not a name's
/// as written before buckets.
pub fn is_bucket_key(cname_sk: &str) -> bool {
    cname_sk.split_once('#').is_some_and(|(bucket, _)| {
        bucket == UNNAMED
            || (bucket.len() == 8
                && bucket
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)))
    })
}

#[derive(Debug, Clone)]
pub struct ContactPage {
    pub contacts: Vec<ContactProfile>,
    /// Where the next page starts, when there may be one.
    pub next: Option<Cursor>,
}

impl ContactStore {
    /// The bucket of a name as searched (`searchable_name`).
    async fn name_bucket(&self, tenant: &TenantId, searchable: &str) -> Result<String, StoreError> {
        match bucket_input(searchable) {
            Some(input) => {
                let blind = self.keyring()?.blind(tenant.as_str(), &input).await?;
                Ok(blind[..8].to_owned())
            }
            None => Ok(UNNAMED.to_owned()),
        }
    }

    /// The index attributes of a contact that shows `shown`.
    pub(crate) async fn contact_index_attrs(
        &self,
        tenant: &TenantId,
        contact_id: &str,
        shown: Option<&str>,
    ) -> Result<[(&'static str, AttributeValue); 2], StoreError> {
        let bucket = self
            .name_bucket(tenant, &shown.map(searchable_name).unwrap_or_default())
            .await?;
        Ok([
            ("cname_pk", s(tenant_pk(tenant.as_str()))),
            ("cname_sk", s(format!("{bucket}#{contact_id}"))),
        ])
    }

    /// A page of the tenant's contacts; with `name_prefix`, only those whose shown name
    /// starts with it (compared as [`searchable_name`]s). A search's page may hold fewer
    /// than `limit`, even none, with more to come.
    pub async fn list_contacts(
        &self,
        tenant: &TenantId,
        name_prefix: Option<&str>,
        after: Option<&Cursor>,
        limit: i32,
        now: i64,
    ) -> Result<ContactPage, StoreError> {
        let wanted = name_prefix.map(searchable_name);
        let bucket = match wanted.as_deref() {
            Some(w) if w.chars().count() >= BUCKET_CHARS => {
                Some(self.name_bucket(tenant, w).await?)
            }
            _ => None,
        };
        let mut contacts = Vec::new();
        let mut start = after.cloned();
        for _ in 0..SEARCH_ROUNDS {
            let key_condition = match bucket {
                Some(_) => "cname_pk = :p AND begins_with(cname_sk, :bucket)",
                None => "cname_pk = :p",
            };
            let mut query = self
                .query("Query contacts", key_condition)
                .index(CONTACT_INDEX)
                .value(":p", s(tenant_pk(tenant.as_str())))
                .after(start.as_ref())
                .limit(limit);
            if let Some(bucket) = &bucket {
                query = query.value(":bucket", s(format!("{bucket}#")));
            }
            let page = query.page().await?;
            for (entry, profile) in self.profiles_of(tenant, &page.items, now).await? {
                let shows = |w: &str| {
                    shown_name(&profile).is_some_and(|n| searchable_name(n).starts_with(w))
                };
                if wanted.as_deref().is_none_or(shows) {
                    contacts.push((profile, entry));
                }
            }
            if contacts.len() >= limit as usize {
                contacts.truncate(limit as usize);
                let last = contacts.last().map(|(_, entry)| entry);
                return Ok(ContactPage {
                    next: last.and_then(|entry| Cursor::after(Some(entry))),
                    contacts: contacts.into_iter().map(|(p, _)| p).collect(),
                });
            }
            start = page.next;
            if start.is_none() || wanted.is_none() {
                break;
            }
        }
        Ok(ContactPage {
            contacts: contacts.into_iter().map(|(p, _)| p).collect(),
            next: start,
        })
    }

    /// The live profiles of index entries, in their order, each with its entry.
    pub(crate) async fn profiles_of(
        &self,
        tenant: &TenantId,
        entries: &[Item],
        now: i64,
    ) -> Result<Vec<(Item, ContactProfile)>, StoreError> {
        // The index holds keys only: the profiles in one read, expired ones left out. Each
        // once: a contact has a conversation per number, and BatchGetItem refuses repeats.
        let partitions: std::collections::BTreeSet<&str> =
            entries.iter().filter_map(|it| get_s(it, "pk")).collect();
        let keys = partitions
            .into_iter()
            .map(|pk| HashMap::from([("pk".to_owned(), s(pk)), ("sk".to_owned(), s(PROFILE_SK))]))
            .collect();
        let items = self.batch_get("BatchGetItem contacts", keys, now).await?;
        let people = self.reading_keys(tenant, &items).await?;
        let profiles: HashMap<String, ContactProfile> = items
            .iter()
            .filter_map(|it| {
                let pk = get_s(it, "pk")?.to_owned();
                let id = get_s(it, "contact_id")?;
                Some((pk, profile_from_item(id, it, people.get(id).map(|k| &**k))))
            })
            .collect();
        Ok(entries
            .iter()
            .filter_map(|entry| {
                let profile = profiles.get(get_s(entry, "pk")?)?;
                Some((entry.clone(), profile.clone()))
            })
            .collect())
    }

    /// Points the index at the name `profile` shows, when its key says otherwise (or the
    /// profile predates the index).
    pub(crate) async fn reindex_contact_name(
        &self,
        tenant: &TenantId,
        profile: &ContactProfile,
        indexed: Option<&str>,
    ) -> Result<(), StoreError> {
        let [(_, pk), (_, sk)] = self
            .contact_index_attrs(tenant, &profile.contact_id, shown_name(profile))
            .await?;
        if indexed == sk.as_s().ok().map(String::as_str) {
            return Ok(());
        }
        // Gone meanwhile (expired or erased): nothing to index, and no error.
        self.update(
            "UpdateItem contact name key",
            contact_pk(tenant.as_str(), &profile.contact_id),
            PROFILE_SK.into(),
        )
        .set("cname_pk", pk)
        .set("cname_sk", sk)
        .condition("attribute_exists(pk)")
        .send()
        .await?;
        Ok(())
    }
}

impl ContactStore {
    /// A page of the tenant's contacts' partition keys, by the contact index (keys only):
    /// what a walk over the tenant's contacts visits.
    pub async fn contact_partitions_page(
        &self,
        tenant: &TenantId,
        after: Option<&Cursor>,
        limit: i32,
    ) -> Result<(Vec<String>, Option<Cursor>), StoreError> {
        let page = self
            .query("Query contact partitions", "cname_pk = :p")
            .index(CONTACT_INDEX)
            .value(":p", s(tenant_pk(tenant.as_str())))
            .after(after)
            .limit(limit)
            .page()
            .await?;
        let partitions = page
            .items
            .iter()
            .filter_map(|it| get_s(it, "pk").map(str::to_owned))
            .collect();
        Ok((partitions, page.next))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_matched_in_lower_case_with_single_spaces() {
        assert_eq!(
            searchable_name("  Anna   MARIA#Schmidt "),
            "anna maria#schmidt"
        );
        assert_eq!(searchable_name("Ölçü"), "ölçü");
        assert_eq!(searchable_name(&"x".repeat(500)).len(), INDEXED_NAME_CHARS);
    }

    #[test]
    fn bucket_keys_are_told_from_names() {
        assert!(is_bucket_key("0a1b2c3d#c_1"));
        assert!(is_bucket_key("~#c_1"));
        assert!(!is_bucket_key("anna maria#c_1"));
        assert!(!is_bucket_key("deadbeef"));
        assert!(!is_bucket_key("DEADBEEF#c_1"));
    }

    #[test]
    fn a_bucket_is_chosen_by_the_first_three_characters() {
        assert_eq!(bucket_input("anna maria").as_deref(), Some("name:ann"));
        assert_eq!(bucket_input("anne").as_deref(), Some("name:ann"));
        assert_eq!(bucket_input("öl").as_deref(), Some("name:öl"));
        assert_eq!(bucket_input(""), None);
    }
}
