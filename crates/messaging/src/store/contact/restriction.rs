//! A restriction of processing on the contact's profile: `restricted_at` and
//! `restricted_keep_inbound`. Set and lifted by the business; read with the profile by
//! every path that would process the contact, and alone by the callback deliverer.

use crate::domain::contact::Restriction;
use crate::domain::tenant::TenantId;
use crate::store::contact::ContactStore;
use crate::store::keys::{PROFILE_SK, contact_pk};
use crate::store::table::{Item, bool_attr, get_bool, get_i64, n};
use crate::store::{StoreError, is_live};

const SINCE: &str = "restricted_at";
const KEEP_INBOUND: &str = "restricted_keep_inbound";

impl ContactStore {
    /// Restricts the live contact's processing (again: the first `since` stands); false
    /// when there is no such contact.
    pub async fn restrict_contact(
        &self,
        tenant: &TenantId,
        contact_id: &str,
        restriction: &Restriction,
    ) -> Result<bool, StoreError> {
        self.update(
            "UpdateItem restriction",
            contact_pk(tenant.as_str(), contact_id),
            PROFILE_SK.into(),
        )
        .set_if_absent(SINCE, n(restriction.since))
        .set(KEEP_INBOUND, bool_attr(restriction.keep_inbound))
        .condition("attribute_exists(pk)")
        .send()
        .await
    }

    /// Lifts the restriction; false when there is no such contact.
    pub async fn lift_restriction(
        &self,
        tenant: &TenantId,
        contact_id: &str,
    ) -> Result<bool, StoreError> {
        self.update(
            "UpdateItem lift restriction",
            contact_pk(tenant.as_str(), contact_id),
            PROFILE_SK.into(),
        )
        .remove(SINCE)
        .remove(KEEP_INBOUND)
        .condition("attribute_exists(pk)")
        .send()
        .await
    }

    /// The contact's restriction, without opening anything sealed: what the callback
    /// deliverer asks before it sends (eventually consistent: a restriction holds within
    /// about a second).
    pub async fn contact_restriction(
        &self,
        tenant: &TenantId,
        contact_id: &str,
        now: i64,
    ) -> Result<Option<Restriction>, StoreError> {
        let found = self
            .get(contact_pk(tenant.as_str(), contact_id), PROFILE_SK.into())
            .await?;
        Ok(found
            .filter(|it| is_live(it, now))
            .and_then(|it| restriction_of(&it)))
    }
}

pub(crate) fn restriction_of(it: &Item) -> Option<Restriction> {
    Some(Restriction {
        since: get_i64(it, SINCE)?,
        keep_inbound: get_bool(it, KEEP_INBOUND).unwrap_or(true),
    })
}
