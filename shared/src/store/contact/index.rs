//! The `contact-index` GSI over the contact profiles: a tenant's contacts ordered by name,
//! to list them all and to find them by the start of a name. The profile carries the
//! index's keys (`cname_pk` = the tenant, `cname_sk` = the name as searched + contact id),
//! rewritten whenever the name the contact shows changes: the business's `name`, else the
//! user's WhatsApp profile name.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

use crate::domain::contact::ContactProfile;
use crate::domain::tenant::TenantId;
use crate::store::contact::profile_from_item;
use crate::store::cursor::Cursor;
use crate::store::keys::{PROFILE_SK, contact_pk, tenant_pk};
use crate::store::table::{get_s, s};
use crate::store::{Store, StoreError};

pub const CONTACT_INDEX: &str = "contact-index";
/// Where contacts without a name sort: after names in Latin script.
const UNNAMED: &str = "~";
/// Longer names are indexed by their start (the contact keeps its whole name).
const INDEXED_NAME_CHARS: usize = 200;

/// The form of a name the index sorts and matches on: lower case, single spaces, no `#`
/// (the key's separator).
pub fn searchable_name(name: &str) -> String {
    let lower = name.to_lowercase().replace('#', " ");
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

pub(crate) fn contact_name_key(contact_id: &str, shown: Option<&str>) -> String {
    let name = shown
        .map(searchable_name)
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| UNNAMED.to_owned());
    format!("{name}#{contact_id}")
}

/// The index attributes of a contact that shows `shown`.
pub(crate) fn contact_index_attrs(
    tenant: &TenantId,
    contact_id: &str,
    shown: Option<&str>,
) -> [(&'static str, AttributeValue); 2] {
    [
        ("cname_pk", s(tenant_pk(tenant.as_str()))),
        ("cname_sk", s(contact_name_key(contact_id, shown))),
    ]
}

#[derive(Debug, Clone)]
pub struct ContactPage {
    pub contacts: Vec<ContactProfile>,
    /// Where the next page starts, when there may be one.
    pub next: Option<Cursor>,
}

impl Store {
    /// A page of the tenant's contacts by name; with `name_prefix`, only those whose shown
    /// name starts with it (compared as [`searchable_name`]s).
    pub async fn list_contacts(
        &self,
        tenant: &TenantId,
        name_prefix: Option<&str>,
        after: Option<&Cursor>,
        limit: i32,
        now: i64,
    ) -> Result<ContactPage, StoreError> {
        let key_condition = match name_prefix {
            Some(_) => "cname_pk = :p AND begins_with(cname_sk, :name)",
            None => "cname_pk = :p",
        };
        let mut query = self
            .query("Query contacts", key_condition)
            .index(CONTACT_INDEX)
            .value(":p", s(tenant_pk(tenant.as_str())))
            .after(after)
            .limit(limit);
        if let Some(prefix) = name_prefix {
            query = query.value(":name", s(searchable_name(prefix)));
        }
        let page = query.page().await?;
        // The index holds keys only: the page's profiles in one read, expired ones left out.
        let order: Vec<String> = page
            .items
            .iter()
            .filter_map(|it| get_s(it, "pk").map(str::to_owned))
            .collect();
        let keys = order
            .iter()
            .map(|pk| HashMap::from([("pk".to_owned(), s(pk)), ("sk".to_owned(), s(PROFILE_SK))]))
            .collect();
        let mut profiles: HashMap<String, ContactProfile> = self
            .batch_get("BatchGetItem contacts", keys, now)
            .await?
            .iter()
            .filter_map(|it| {
                let pk = get_s(it, "pk")?.to_owned();
                Some((pk, profile_from_item(get_s(it, "contact_id")?, it)))
            })
            .collect();
        let contacts = order.iter().filter_map(|pk| profiles.remove(pk)).collect();
        Ok(ContactPage {
            contacts,
            next: page.next,
        })
    }

    /// Points the index at the name `profile` shows, when its key says otherwise (or the
    /// profile predates the index).
    pub(crate) async fn reindex_contact_name(
        &self,
        tenant: &TenantId,
        profile: &ContactProfile,
        indexed: Option<&str>,
    ) -> Result<(), StoreError> {
        let [(_, pk), (_, sk)] =
            contact_index_attrs(tenant, &profile.contact_id, shown_name(profile));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_matched_in_lower_case_with_single_spaces_and_no_separator() {
        assert_eq!(
            searchable_name("  Anna   MARIA#Schmidt "),
            "anna maria schmidt"
        );
        assert_eq!(searchable_name("Ölçü"), "ölçü");
        assert_eq!(contact_name_key("c1", Some("Bob")), "bob#c1");
        assert_eq!(contact_name_key("c1", Some("  ")), "~#c1");
        assert_eq!(contact_name_key("c1", None), "~#c1");
        assert_eq!(searchable_name(&"x".repeat(500)).len(), INDEXED_NAME_CHARS);
    }
}
