//! When the business last wrote to a contact, on its profile: moved in steps of
//! `ACTIVITY_STEP_SECS`, so a burst of sends costs one write. Each conversation keeps its
//! own, exact to the turn (`store::conversation`); the profile's is the contact's across
//! the tenant's numbers.

use std::future::Future;

use crate::domain::contact::ContactProfile;
use crate::domain::conversation::activity::ACTIVITY_STEP_SECS;
use crate::domain::tenant::TenantId;
use crate::store::StoreError;
use crate::store::contact::ContactStore;
use crate::store::keys::{PROFILE_SK, contact_pk};
use crate::store::table::n;

/// The contact's activity as the business's sends move it.
pub trait ContactActivity: Send + Sync {
    /// Records that the business sent to `contact` at `now`, when the step passed.
    fn record_outbound_at(
        &self,
        tenant: &TenantId,
        contact: &ContactProfile,
        now: i64,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// Whether a send at `now` moves the profile's `last_outbound_at`.
pub fn outbound_step_passed(contact: &ContactProfile, now: i64) -> bool {
    contact
        .last_outbound_at
        .is_none_or(|last| now >= last + ACTIVITY_STEP_SECS)
}

impl ContactActivity for ContactStore {
    async fn record_outbound_at(
        &self,
        tenant: &TenantId,
        contact: &ContactProfile,
        now: i64,
    ) -> Result<(), StoreError> {
        if !outbound_step_passed(contact, now) {
            return Ok(());
        }
        // Only forward: a slower call never moves the time back.
        self.update(
            "UpdateItem outbound activity",
            contact_pk(tenant.as_str(), &contact.contact_id),
            PROFILE_SK.into(),
        )
        .set("last_outbound_at", n(now))
        .condition(
            "attribute_exists(pk) AND (attribute_not_exists(last_outbound_at) OR last_outbound_at < :out)",
        )
        .value(":out", n(now))
        .send()
        .await?;
        Ok(())
    }
}
