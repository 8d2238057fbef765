//! What a business records about a contact beyond what WhatsApp tells: a name of its own,
//! an email address and custom attributes. Kept on the contact's profile item, so erasing
//! or exporting the contact reaches them with the rest; checked here, before any write.

use std::collections::BTreeMap;

use aws_sdk_dynamodb::types::ReturnValue;

use crate::domain::retention::{DataClass, Retention};
use crate::domain::tenant::TenantId;
use crate::store::contact::{ContactProfile, profile_from_item};
use crate::store::keys::{PROFILE_SK, contact_pk};
use crate::store::table::{Item, get_s, n, s};
use crate::store::{EXPIRES_AT, Store, StoreError, is_live};

pub const MAX_NAME_CHARS: usize = 256;
pub const MAX_EMAIL_CHARS: usize = 254;
pub const MAX_ATTRIBUTES: usize = 50;
pub const MAX_ATTRIBUTE_KEY_CHARS: usize = 64;
pub const MAX_ATTRIBUTE_VALUE_CHARS: usize = 1024;

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ContactDetails {
    pub name: Option<String>,
    pub email: Option<String>,
    pub attributes: BTreeMap<String, String>,
}

/// A change to a contact's details: `Some(None)` removes a field, `None` leaves it.
#[derive(Debug, Clone, Default)]
pub struct DetailsChange {
    pub name: Option<Option<String>>,
    pub email: Option<Option<String>>,
    /// Replaces every attribute when given.
    pub attributes: Option<BTreeMap<String, String>>,
}

/// Which field is wrong, and how.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field} {problem}")]
pub struct DetailsError {
    pub field: String,
    pub problem: String,
}

fn refuse(field: impl Into<String>, problem: impl Into<String>) -> DetailsError {
    DetailsError {
        field: field.into(),
        problem: problem.into(),
    }
}

impl DetailsChange {
    pub fn validate(&self) -> Result<(), DetailsError> {
        if let Some(Some(name)) = &self.name {
            let chars = name.chars().count();
            if name.trim().is_empty()
                || chars > MAX_NAME_CHARS
                || name.chars().any(char::is_control)
            {
                return Err(refuse(
                    "name",
                    format!("must be 1 to {MAX_NAME_CHARS} printable characters"),
                ));
            }
        }
        if let Some(Some(email)) = &self.email {
            let plausible = email.len() <= MAX_EMAIL_CHARS
                && email.split_once('@').is_some_and(|(local, domain)| {
                    !local.is_empty() && domain.contains('.') && !domain.ends_with('.')
                })
                && !email.chars().any(|c| c.is_whitespace() || c.is_control());
            if !plausible {
                return Err(refuse("email", "is not an email address"));
            }
        }
        if let Some(attributes) = &self.attributes {
            if attributes.len() > MAX_ATTRIBUTES {
                return Err(refuse(
                    "attributes",
                    format!("may hold at most {MAX_ATTRIBUTES} keys"),
                ));
            }
            for (key, value) in attributes {
                let key_ok = !key.is_empty()
                    && key.chars().count() <= MAX_ATTRIBUTE_KEY_CHARS
                    && key
                        .chars()
                        .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'));
                if !key_ok {
                    return Err(refuse(
                        format!("attributes.{key}"),
                        format!(
                            "keys are 1 to {MAX_ATTRIBUTE_KEY_CHARS} letters, digits, '_', '-' or '.'"
                        ),
                    ));
                }
                if value.chars().count() > MAX_ATTRIBUTE_VALUE_CHARS
                    || value.chars().any(char::is_control)
                {
                    return Err(refuse(
                        format!("attributes.{key}"),
                        format!(
                            "values are at most {MAX_ATTRIBUTE_VALUE_CHARS} printable characters"
                        ),
                    ));
                }
            }
        }
        Ok(())
    }

    pub fn is_empty(&self) -> bool {
        self.name.is_none() && self.email.is_none() && self.attributes.is_none()
    }

    /// Writes the given details into a new profile item (removals have nothing to remove).
    pub(crate) fn write_new(&self, it: &mut Item) {
        if let Some(Some(name)) = &self.name {
            it.insert("name".into(), s(name));
        }
        if let Some(Some(email)) = &self.email {
            it.insert("email".into(), s(email));
        }
        if let Some(attributes) = self.attributes.as_ref().filter(|a| !a.is_empty()) {
            let json = serde_json::to_string(attributes).expect("a string map serialises");
            it.insert("attributes".into(), s(json));
        }
    }
}

impl ContactDetails {
    pub(crate) fn from_item(it: &Item) -> Self {
        Self {
            name: get_s(it, "name").map(str::to_owned),
            email: get_s(it, "email").map(str::to_owned),
            attributes: get_s(it, "attributes")
                .and_then(|json| serde_json::from_str(json).ok())
                .unwrap_or_default(),
        }
    }
}

impl Store {
    /// Applies `change` to a live contact; `None` when there is no such contact.
    pub async fn update_contact_details(
        &self,
        tenant: &TenantId,
        contact_id: &str,
        change: &DetailsChange,
        retention: &Retention,
        now: i64,
    ) -> Result<Option<ContactProfile>, StoreError> {
        let text = |value: &Option<String>| value.as_deref().map(s);
        let mut update = self
            .update(
                "UpdateItem contact details",
                contact_pk(tenant.as_str(), contact_id),
                PROFILE_SK.into(),
            )
            .set(
                EXPIRES_AT,
                n(retention.expires_at(DataClass::ContactProfile, now)),
            );
        if let Some(name) = &change.name {
            update = update.set_or_remove("name", text(name));
        }
        if let Some(email) = &change.email {
            update = update.set_or_remove("email", text(email));
        }
        if let Some(attributes) = &change.attributes {
            let json = (!attributes.is_empty())
                .then(|| s(serde_json::to_string(attributes).expect("a string map serialises")));
            update = update.set_or_remove("attributes", json);
        }
        // An expired profile is gone, even before TTL deletes it.
        let updated = update
            .condition(
                "attribute_exists(pk) AND (attribute_not_exists(expires_at) OR expires_at > :now)",
            )
            .value(":now", n(now))
            .send_returning(ReturnValue::AllNew)
            .await?;
        let Some(it) = updated.filter(|it| is_live(it, now)) else {
            return Ok(None);
        };
        let profile = profile_from_item(contact_id, &it);
        if change.name.is_some() || !it.contains_key("cname_sk") {
            let indexed = it.get("cname_sk").and_then(|v| v.as_s().ok());
            self.reindex_contact_name(tenant, &profile, indexed.map(String::as_str))
                .await?;
        }
        Ok(Some(profile))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change() -> DetailsChange {
        DetailsChange::default()
    }

    #[test]
    fn details_are_checked_field_by_field() {
        let ok = DetailsChange {
            name: Some(Some("Ana Díaz".into())),
            email: Some(Some("ana@example.com".into())),
            attributes: Some(BTreeMap::from([("tier".into(), "gold".into())])),
        };
        assert!(ok.validate().is_ok());
        let bad = |c: DetailsChange| c.validate().unwrap_err().field;
        assert_eq!(
            bad(DetailsChange {
                name: Some(Some(" ".into())),
                ..change()
            }),
            "name"
        );
        assert_eq!(
            bad(DetailsChange {
                email: Some(Some("ana@".into())),
                ..change()
            }),
            "email"
        );
        assert_eq!(
            bad(DetailsChange {
                email: Some(Some("a b@x.io".into())),
                ..change()
            }),
            "email"
        );
        let attributes = BTreeMap::from([("bad key".to_owned(), "v".to_owned())]);
        assert_eq!(
            bad(DetailsChange {
                attributes: Some(attributes),
                ..change()
            }),
            "attributes.bad key"
        );
        let many = (0..51).map(|i| (format!("k{i}"), "v".to_owned())).collect();
        assert_eq!(
            bad(DetailsChange {
                attributes: Some(many),
                ..change()
            }),
            "attributes"
        );
        assert!(
            DetailsChange {
                name: Some(None),
                ..change()
            }
            .validate()
            .is_ok()
        );
    }
}
