//! Messages and what happens to them: inbound messages (each its own dedup record),
//! outbound messages keyed by their job, the delivery state of each wamid, and the
//! public id that names a message to callers.

pub mod delivery;
pub mod inbound;
pub mod outbound;
mod rekey;

use crate::domain::retention::{ContentLife, DataClass, Retention};
use crate::domain::tenant::TenantId;
use crate::privacy::cipher::DataKey;
use crate::store::item_life::Ageing;
use crate::store::table::{Item, get_i64, n, plaintext_of, unsealed};
use crate::store::{EXPIRES_AT, StoreError};

/// When a message's content stops being shown (and the ageing sweep lets it go), when
/// that is before the item's own `expires_at`.
pub const CONTENT_EXPIRES_AT: &str = "content_expires_at";

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

/// The attribute that holds a message's wamid, sealed: Meta's wamids embed the person's
/// number.
pub(crate) const WAMID: &str = "wamid";

/// A message's attributes sealed under its person's key.
pub const SEALED_ATTRIBUTES: [&str; 5] = ["content", "context", "referral", "error_details", WAMID];

crate::store::repository! {
    /// Inbound and outbound messages, their delivery states and public message ids.
    MessageStore
}

impl MessageStore {
    /// Seals a message written before sealing; true when it was rewritten.
    pub async fn seal_message_written_before(
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

/// What a message's content is made of: what the ageing sweep lets go once its time has
/// passed (a send's error details are Meta's, and stay with the record).
pub const CONTENT_ATTRIBUTES: [&str; 3] = ["content", "context", "referral"];

/// A message's life under `retention`, counted from its time (`sent_at`): a sooner end of
/// the record or of its content, and its content let go once that end has passed.
pub fn ageing(it: &Item, retention: &Retention, now: i64) -> Option<Ageing> {
    let base = get_i64(it, "sent_at")?;
    let stored = get_i64(it, EXPIRES_AT)?;
    let expires_at = retention.shortened_message_end(base, stored);
    let end = expires_at.unwrap_or(stored);
    if !CONTENT_ATTRIBUTES.iter().any(|a| it.contains_key(*a)) {
        return Ageing::end(expires_at);
    }
    let content_stored = get_i64(it, CONTENT_EXPIRES_AT).unwrap_or(stored);
    let content_end = retention
        .shortened_end(DataClass::Content, base, content_stored)
        .unwrap_or(content_stored)
        .min(end);
    if content_end <= now {
        return Some(Ageing {
            expires_at,
            content_expires_at: None,
            remove: &CONTENT_ATTRIBUTES,
        });
    }
    let content_expires_at =
        (content_end < content_stored && content_end < end).then_some(content_end);
    (expires_at.is_some() || content_expires_at.is_some()).then_some(Ageing {
        expires_at,
        content_expires_at,
        remove: &[],
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::table::{b, item, n};

    const DAY: i64 = 86_400;
    const SENT: i64 = 1_000 * DAY;

    /// A message sent at `SENT` under the defaults (90 days of each class), with content.
    fn stored(content_end: Option<i64>) -> Item {
        let mut it = item([
            ("sent_at", n(SENT)),
            (EXPIRES_AT, n(SENT + 90 * DAY)),
            ("content", b(vec![1, 2, 3])),
        ]);
        if let Some(end) = content_end {
            it.insert(CONTENT_EXPIRES_AT.into(), n(end));
        }
        it
    }

    fn shorter(content_days: u32, metadata_days: u32) -> Retention {
        Retention {
            content_days,
            metadata_days,
            ..Retention::default()
        }
    }

    #[test]
    fn a_shorter_content_period_ends_the_content_sooner_and_keeps_the_record() {
        let aged = ageing(&stored(None), &shorter(30, 90), SENT + DAY).unwrap();
        assert_eq!(aged.content_expires_at, Some(SENT + 30 * DAY));
        assert_eq!(aged.expires_at, None);
        assert!(aged.remove.is_empty());
    }

    #[test]
    fn content_past_its_end_is_let_go_and_the_record_stays() {
        // Under the settings it was written with, once its end has passed.
        let it = stored(Some(SENT + 10 * DAY));
        let aged = ageing(&it, &shorter(10, 90), SENT + 11 * DAY).unwrap();
        assert_eq!(aged.remove, &CONTENT_ATTRIBUTES);
        assert_eq!(aged.expires_at, None);
        // A shorter period already past: both at once.
        let aged = ageing(&stored(None), &shorter(30, 60), SENT + 40 * DAY).unwrap();
        assert_eq!(aged.remove, &CONTENT_ATTRIBUTES);
        assert_eq!(aged.expires_at, Some(SENT + 60 * DAY));
    }

    #[test]
    fn unchanged_or_longer_settings_change_nothing() {
        let now = SENT + DAY;
        assert_eq!(ageing(&stored(None), &Retention::default(), now), None);
        assert_eq!(ageing(&stored(None), &shorter(90, 365), now), None);
        let it = stored(Some(SENT + 30 * DAY));
        assert_eq!(ageing(&it, &shorter(30, 90), now), None);
    }

    #[test]
    fn a_message_without_content_only_ends_sooner() {
        let mut it = stored(None);
        it.remove("content");
        assert_eq!(ageing(&it, &shorter(1, 90), SENT + 40 * DAY), None);
        let aged = ageing(&it, &shorter(1, 30), SENT + DAY).unwrap();
        assert_eq!(aged.expires_at, Some(SENT + 30 * DAY));
        assert!(aged.remove.is_empty());
    }
}
