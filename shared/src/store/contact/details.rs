//! The business's details of a contact (`domain::contact`) on its profile item: written
//! with the rest of the profile, so erasing or exporting the contact reaches them.

use aws_sdk_dynamodb::types::ReturnValue;

use crate::domain::contact::{ContactDetails, ContactProfile, DetailsChange};
use crate::domain::retention::{DataClass, Retention};
use crate::domain::tenant::TenantId;
use crate::store::contact::profile_from_item;
use crate::store::keys::{PROFILE_SK, contact_pk};
use crate::store::table::{Item, get_s, n, s};
use crate::store::{EXPIRES_AT, Store, StoreError, is_live};

impl DetailsChange {
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
