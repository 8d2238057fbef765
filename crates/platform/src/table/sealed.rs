//! Personal attributes sealed under the person's data key, bound to their item's key and
//! their own name. A sealed attribute is binary; a string under the same name is plaintext
//! written before sealing existed, read as it is until the migration seals it.

use std::collections::HashMap;
use std::sync::Arc;

use aws_sdk_dynamodb::types::AttributeValue;

use super::attrs::{Item, get_s};
use super::{StoreError, Table};
use crate::privacy::cipher::DataKey;

/// What a sealed attribute is bound to: its item's key and its name.
fn place(pk: &str, sk: &str, attribute: &str) -> Vec<u8> {
    [pk, sk, attribute].join("\u{1f}").into_bytes()
}

/// The keys for a page of a tenant's items, some about a person, some about no one.
pub struct OpeningKeys {
    people: HashMap<String, Arc<DataKey>>,
    tenant: Arc<DataKey>,
}

impl OpeningKeys {
    /// The keys of the people a page is about, and the tenant's data key for the rest.
    pub fn new(people: HashMap<String, Arc<DataKey>>, tenant: Arc<DataKey>) -> Self {
        Self { people, tenant }
    }

    /// The key of an item about `contact_id`, or about no one person.
    pub fn of(&self, contact_id: Option<&str>) -> Option<&DataKey> {
        match contact_id {
            Some(contact) => self.people.get(contact).map(|k| &**k),
            None => Some(&self.tenant),
        }
    }
}

/// `text` sealed as attribute `attribute` of item (`pk`, `sk`).
pub fn sealed(key: &DataKey, pk: &str, sk: &str, attribute: &str, text: &str) -> AttributeValue {
    AttributeValue::B(key.seal(&place(pk, sk, attribute), text.as_bytes()).into())
}

/// Attribute `attribute` of `it`, sealed for the same attribute of the item at `sk` in
/// `it`'s partition (a copy kept beside what it copies), opened; `None` when absent or when
/// it no longer opens. Plaintext is never read here: copies are only ever written sealed.
pub fn unsealed_copy(
    key: Option<&DataKey>,
    it: &Item,
    sk: &str,
    attribute: &str,
) -> Option<String> {
    let AttributeValue::B(bytes) = it.get(attribute)? else {
        return None;
    };
    let opened = key?.open(&place(get_s(it, "pk")?, sk, attribute), bytes.as_ref());
    opened.ok().and_then(|plain| String::from_utf8(plain).ok())
}

/// Attribute `attribute` of `it` in plaintext: opened when sealed, as stored when written
/// before sealing. `None` when absent, or when it no longer opens (the person's key is
/// erased): erased data reads as absent.
pub fn unsealed(key: Option<&DataKey>, it: &Item, attribute: &str) -> Option<String> {
    match it.get(attribute)? {
        AttributeValue::S(text) => Some(text.clone()),
        AttributeValue::B(bytes) => {
            let (pk, sk) = (get_s(it, "pk")?, get_s(it, "sk")?);
            let opened = key?.open(&place(pk, sk, attribute), bytes.as_ref());
            match opened.ok().and_then(|plain| String::from_utf8(plain).ok()) {
                Some(text) => Some(text),
                None => {
                    tracing::warn!(
                        attribute,
                        "a sealed attribute does not open; read as absent"
                    );
                    None
                }
            }
        }
        _ => None,
    }
}

/// Those of `attributes` that `it` holds in plaintext (written before sealing).
pub fn plaintext_of<'i>(it: &'i Item, attributes: &[&'i str]) -> Vec<(&'i str, &'i str)> {
    attributes
        .iter()
        .filter_map(|a| match it.get(*a) {
            Some(AttributeValue::S(text)) => Some((*a, text.as_str())),
            _ => None,
        })
        .collect()
}

impl Table {
    /// Seals those of `attributes` that `it` holds in plaintext (written before sealing),
    /// only if they still do: a writer that sealed one meanwhile wins. True when written.
    pub async fn seal_written_before(
        &self,
        op: &'static str,
        it: &Item,
        attributes: &[&str],
        key: &DataKey,
    ) -> Result<bool, StoreError> {
        let (Some(pk), Some(sk)) = (get_s(it, "pk"), get_s(it, "sk")) else {
            return Ok(false);
        };
        let plain = plaintext_of(it, attributes);
        if plain.is_empty() {
            return Ok(false);
        }
        let mut update = self.update(op, pk.to_owned(), sk.to_owned());
        let mut conditions = Vec::new();
        for (i, (attribute, text)) in plain.iter().enumerate() {
            update = update
                .set(attribute, sealed(key, pk, sk, attribute, text))
                .name(&format!("#plain{i}"), attribute);
            conditions.push(format!("attribute_type(#plain{i}, :string)"));
        }
        update
            .condition(conditions.join(" AND "))
            .value(":string", AttributeValue::S("S".into()))
            .send()
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::attrs::{item, s};

    #[test]
    fn a_sealed_attribute_opens_in_its_own_item_and_name_only() {
        let key = DataKey::random();
        let mut it = item([
            ("pk", s("T#a#C#c_1")),
            ("sk", s("MSG#1")),
            ("legacy", s("plain")),
        ]);
        it.insert(
            "content".into(),
            sealed(&key, "T#a#C#c_1", "MSG#1", "content", "hi Ana"),
        );
        assert_eq!(
            unsealed(Some(&key), &it, "content").as_deref(),
            Some("hi Ana")
        );
        assert_eq!(
            unsealed(Some(&key), &it, "legacy").as_deref(),
            Some("plain")
        );
        assert_eq!(unsealed(Some(&key), &it, "missing"), None);
        assert_eq!(unsealed(None, &it, "content"), None, "no key: erased");
        assert_eq!(unsealed(Some(&DataKey::random()), &it, "content"), None);
        let moved = it.get("content").cloned().unwrap();
        it.insert("name".into(), moved);
        assert_eq!(
            unsealed(Some(&key), &it, "name"),
            None,
            "moved to another attribute"
        );
        it.insert("sk".into(), s("MSG#2"));
        assert_eq!(
            unsealed(Some(&key), &it, "content"),
            None,
            "moved to another item"
        );
    }
}
