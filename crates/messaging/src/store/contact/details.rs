//! The business's details of a contact (`domain::contact`) on its profile item: written
//! with the rest of the profile, so erasing or exporting the contact reaches them.

use crate::store::contact::ContactStore;
use aws_sdk_dynamodb::types::ReturnValue;

use crate::domain::contact::{ContactDetails, ContactProfile, DetailsChange};
use crate::domain::retention::{DataClass, Retention};
use crate::domain::tenant::TenantId;
use crate::privacy::cipher::DataKey;
use crate::store::contact::{profile_from_item, seal_on_profile};
use crate::store::keys::{PROFILE_SK, contact_pk};
use crate::store::table::{Item, n, unsealed};
use crate::store::{EXPIRES_AT, StoreError, is_live};

/// Writes the details `change` gives into a new profile item (removals have nothing to
/// remove), sealed under the person's key.
pub(crate) fn write_new_details(
    change: &DetailsChange,
    it: &mut Item,
    key: &DataKey,
    tenant: &TenantId,
    contact_id: &str,
) {
    let seal =
        |attribute: &str, text: &str| seal_on_profile(key, tenant, contact_id, attribute, text);
    if let Some(Some(name)) = &change.name {
        it.insert("name".into(), seal("name", name));
    }
    if let Some(Some(email)) = &change.email {
        it.insert("email".into(), seal("email", email));
    }
    if let Some(attributes) = change.attributes.as_ref().filter(|a| !a.is_empty()) {
        let json = serde_json::to_string(attributes).expect("a string map serialises");
        it.insert("attributes".into(), seal("attributes", &json));
    }
}

/// The business's details of the contact on a profile item, opened with the person's key.
pub(crate) fn details_from_item(it: &Item, key: Option<&DataKey>) -> ContactDetails {
    ContactDetails {
        name: unsealed(key, it, "name"),
        email: unsealed(key, it, "email"),
        attributes: unsealed(key, it, "attributes")
            .and_then(|json| serde_json::from_str(&json).ok())
            .unwrap_or_default(),
    }
}

impl ContactStore {
    /// Applies `change` to a live contact; `None` when there is no such contact.
    pub async fn update_contact_details(
        &self,
        tenant: &TenantId,
        contact_id: &str,
        change: &DetailsChange,
        retention: &Retention,
        now: i64,
    ) -> Result<Option<ContactProfile>, StoreError> {
        let key = self.keyring()?.person(tenant.as_str(), contact_id).await?;
        let seal = |attribute: &str, text: &str| {
            seal_on_profile(&key, tenant, contact_id, attribute, text)
        };
        let text =
            |attribute: &str, value: &Option<String>| value.as_deref().map(|v| seal(attribute, v));
        let mut update = self
            .update(
                "UpdateItem contact details",
                contact_pk(tenant.as_str(), contact_id),
                PROFILE_SK.into(),
            )
            .set(
                EXPIRES_AT,
                n(retention.expires_at(DataClass::ContactProfile, now)),
            )
            .set(super::TOUCHED_AT, n(now));
        if let Some(name) = &change.name {
            update = update.set_or_remove("name", text("name", name));
        }
        if let Some(email) = &change.email {
            update = update.set_or_remove("email", text("email", email));
        }
        if let Some(attributes) = &change.attributes {
            let json = (!attributes.is_empty()).then(|| {
                seal(
                    "attributes",
                    &serde_json::to_string(attributes).expect("a string map serialises"),
                )
            });
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
        let profile = profile_from_item(contact_id, &it, Some(&key));
        if change.name.is_some() || !it.contains_key("cname_sk") {
            let indexed = it.get("cname_sk").and_then(|v| v.as_s().ok());
            self.reindex_contact_name(tenant, &profile, indexed.map(String::as_str))
                .await?;
        }
        Ok(Some(profile))
    }
}
