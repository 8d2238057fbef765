//! A contact as the business sees it: what WhatsApp told (the profile) and what the
//! business records (its details), with the checks a change of details passes before any
//! write. Stored by `store::contact`; nothing here knows an attribute name.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer};

pub const MAX_NAME_CHARS: usize = 256;
pub const MAX_EMAIL_CHARS: usize = 254;
pub const MAX_ATTRIBUTES: usize = 50;
pub const MAX_ATTRIBUTE_KEY_CHARS: usize = 64;
pub const MAX_ATTRIBUTE_VALUE_CHARS: usize = 1024;

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ContactProfile {
    pub contact_id: String,
    pub phone: Option<String>,
    pub bsuid: Option<String>,
    pub profile_name: Option<String>,
    pub username: Option<String>,
    pub last_inbound_at: Option<i64>,
    /// When the business last sent to the contact (same granularity). Each conversation
    /// (`conversation::activity`) keeps its own, with what is unread.
    pub last_outbound_at: Option<i64>,
    /// The person's opt-ins and opt-outs as they stand (`domain::consent`).
    pub consent: crate::consent::ConsentState,
    /// Set while the person's data may be kept but not processed (no sends, no callbacks,
    /// no automation).
    pub restriction: Option<Restriction>,
    /// What the business records about the contact (see `contact_details`).
    pub details: ContactDetails,
    /// When the profile ends under the tenant's retention, as read (`None` for one just
    /// made): what is kept about the contact ends no later.
    pub expires_at: Option<i64>,
}

impl ContactProfile {
    /// The end of something kept about the contact that would end at `wanted`: no later
    /// than the profile's.
    pub fn life_within(&self, wanted: i64) -> i64 {
        self.expires_at
            .map_or(wanted, |profile| profile.min(wanted))
    }
}

/// What a list of conversations shows of each one's contact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactCard {
    pub contact_id: String,
    pub phone: Option<String>,
    pub bsuid: Option<String>,
    pub profile_name: Option<String>,
    pub marketing_opt_out: bool,
}

impl From<&ContactProfile> for ContactCard {
    fn from(profile: &ContactProfile) -> Self {
        Self {
            contact_id: profile.contact_id.clone(),
            phone: profile.phone.clone(),
            bsuid: profile.bsuid.clone(),
            profile_name: profile.profile_name.clone(),
            marketing_opt_out: profile.consent.marketing_opt_out(),
        }
    }
}

/// A restriction of processing, as the person asked for it (GDPR art. 18): their data is
/// kept, nothing is done with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Restriction {
    /// Since when, epoch seconds.
    pub since: i64,
    /// Whether what they write meanwhile is still stored (else it is dropped on arrival).
    pub keep_inbound: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ContactDetails {
    pub name: Option<String>,
    pub email: Option<String>,
    pub attributes: BTreeMap<String, String>,
}

/// The body of a correction of a contact's details (the business API's and the admin
/// API's): fields left out stay as they are; `null` removes one; `attributes` replaces them
/// all.
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateContact {
    #[serde(default, deserialize_with = "present")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub name: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub email: Option<Option<String>>,
    #[serde(default)]
    pub attributes: Option<BTreeMap<String, String>>,
}

/// A field that is present, even as `null`, is `Some`.
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

impl UpdateContact {
    pub fn into_change(self) -> DetailsChange {
        DetailsChange {
            name: self.name,
            email: self.email,
            attributes: self.attributes,
        }
    }
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
