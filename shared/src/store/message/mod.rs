//! Messages and what happens to them: inbound messages (each its own dedup record),
//! outbound messages keyed by their job, the delivery state of each wamid, and the
//! public id that names a message to callers.

pub mod delivery;
pub mod inbound;
pub mod outbound;

use crate::domain::retention::ContentLife;
use crate::domain::tenant::TenantId;
use crate::privacy::cipher::DataKey;
use crate::store::table::{Item, get_i64, n, plaintext_of, unsealed};
use crate::store::{Store, StoreError};

/// When a message's content stops being shown (and the ageing sweep lets it go), when
/// that is before the item's own `expires_at`.
pub(crate) const CONTENT_EXPIRES_AT: &str = "content_expires_at";

/// The content attributes a message item gets, by its content's life: none when content
/// is not stored; the sealed ones, and their end when it comes before the item's.
pub(crate) fn content_attrs(
    life: ContentLife,
    item_expires_at: i64,
    sealed: impl IntoIterator<Item = (&'static str, aws_sdk_dynamodb::types::AttributeValue)>,
) -> Vec<(&'static str, aws_sdk_dynamodb::types::AttributeValue)> {
    match life {
        ContentLife::NotStored => Vec::new(),
        ContentLife::Until(at) => {
            let mut attrs: Vec<_> = sealed.into_iter().collect();
            if at < item_expires_at {
                attrs.push((CONTENT_EXPIRES_AT, n(at)));
            }
            attrs
        }
    }
}

/// A sealed content attribute as every read shows it: absent once the content's time has
/// passed, whether or not the ageing sweep has removed it yet.
pub(crate) fn live_content(
    key: Option<&DataKey>,
    it: &Item,
    attribute: &str,
    now: i64,
) -> Option<String> {
    if get_i64(it, CONTENT_EXPIRES_AT).is_some_and(|end| end <= now) {
        return None;
    }
    unsealed(key, it, attribute)
}

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
