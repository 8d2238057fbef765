//! Messages and what happens to them: inbound messages (each its own dedup record),
//! outbound messages keyed by their job, the delivery state of each wamid, and the
//! public id that names a message to callers.

pub mod delivery;
pub mod inbound;
pub mod outbound;

use crate::domain::tenant::TenantId;
use crate::store::table::{Item, plaintext_of};
use crate::store::{Store, StoreError};

/// A message's attributes sealed under its person's key.
pub(crate) const SEALED_ATTRIBUTES: [&str; 4] = ["content", "context", "referral", "error_details"];

impl Store {
    /// Seals a message written before sealing; true when it was rewritten.
    pub(crate) async fn seal_message_written_before(
        &self,
        tenant: &TenantId,
        contact_id: &str,
        it: &Item,
    ) -> Result<bool, StoreError> {
        // No key is made for a message that needs none.
        if plaintext_of(it, &SEALED_ATTRIBUTES).is_empty() {
            return Ok(false);
        }
        let key = self.keyring()?.person(tenant.as_str(), contact_id).await?;
        self.seal_written_before("UpdateItem seal message", it, &SEALED_ATTRIBUTES, &key)
            .await
    }
}
