//! Per-tenant retention: how long each class of data lives, enforced through `expires_at`.

use serde::{Deserialize, Serialize};

const DAY: i64 = 86_400;
/// Meta retries a delivery for up to 7 days; dedup records must outlive that.
pub const MIN_DEDUP_DAYS: u32 = 8;
/// Message content is kept at most this long unless the operator allows more.
pub const MAX_CONTENT_DAYS: u32 = 90;
/// The audit log is kept at least this long: a quarter's reviews must find their trail.
pub const MIN_AUDIT_DAYS: u32 = 90;
/// And at most ten years.
pub const MAX_AUDIT_DAYS: u32 = 3650;

/// The classes of data that DESIGN.md gives their own retention.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataClass {
    /// Message bodies, captions, media references: what people wrote.
    Content,
    /// Content-free facts: statuses, pricing, tenant events.
    Metadata,
    /// Contact profiles (name, phone, BSUID, username), counted from the last activity.
    ContactProfile,
    /// Records that make processing idempotent.
    Dedup,
    /// The audit log: who did what to the tenant's data.
    Audit,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Retention {
    pub content_days: u32,
    pub metadata_days: u32,
    pub contact_days: u32,
    pub dedup_days: u32,
    pub audit_days: u32,
}

impl Default for Retention {
    fn default() -> Self {
        Self {
            content_days: 90,
            metadata_days: 90,
            contact_days: 365,
            dedup_days: MIN_DEDUP_DAYS,
            audit_days: 365,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RetentionError {
    #[error("{field} must be between {min} and {max} days")]
    OutOfBounds {
        field: &'static str,
        min: u32,
        max: u32,
    },
}

impl Retention {
    /// Checks the bounds; `max_content_days` is the operator's ceiling for content.
    pub fn validate(&self, max_content_days: u32) -> Result<(), RetentionError> {
        let check = |field, value: u32, min, max| {
            if (min..=max).contains(&value) {
                Ok(())
            } else {
                Err(RetentionError::OutOfBounds { field, min, max })
            }
        };
        check("content_days", self.content_days, 1, max_content_days)?;
        check("metadata_days", self.metadata_days, 1, 3650)?;
        check("contact_days", self.contact_days, 1, 3650)?;
        check("dedup_days", self.dedup_days, MIN_DEDUP_DAYS, 3650)?;
        check(
            "audit_days",
            self.audit_days,
            MIN_AUDIT_DAYS,
            MAX_AUDIT_DAYS,
        )
    }

    pub fn days(&self, class: DataClass) -> u32 {
        match class {
            DataClass::Content => self.content_days,
            DataClass::Metadata => self.metadata_days,
            DataClass::ContactProfile => self.contact_days,
            DataClass::Dedup => self.dedup_days,
            DataClass::Audit => self.audit_days,
        }
    }

    /// The `expires_at` (epoch seconds) of an item of `class` written at `now`.
    pub fn expires_at(&self, class: DataClass, now: i64) -> i64 {
        now + i64::from(self.days(class)) * DAY
    }
}

impl Retention {
    /// The `expires_at` of a message item written at `now`: its metadata (type,
    /// direction, times, statuses) lives the longer of the two classes; its content may
    /// go sooner (`content_expires_at`).
    pub fn message_expires_at(&self, now: i64) -> i64 {
        self.expires_at(DataClass::Metadata, now)
            .max(self.expires_at(DataClass::Content, now))
    }

    /// How long a message's content, written at `now`, is kept: not at all when the
    /// tenant stores no content, else until the content class ends.
    pub fn content_life(&self, stored: bool, now: i64) -> ContentLife {
        if stored {
            ContentLife::Until(self.expires_at(DataClass::Content, now))
        } else {
            ContentLife::NotStored
        }
    }
}

/// The ageing sweep shortens an item's life only when it ends at least this much sooner:
/// items are stamped from their write time, a little after the time they are counted from,
/// and a day spares every item a rewrite that would change nothing a reader sees.
pub const AGEING_SLACK_SECS: i64 = DAY;

impl Retention {
    /// The end an item of `class`, counted from `base`, gets under these settings, when
    /// that is at least a day before the end it has (`stored`): a shorter period reaches
    /// what was written before it. A longer one applies to what is written from then on.
    pub fn shortened_end(&self, class: DataClass, base: i64, stored: i64) -> Option<i64> {
        shorter(self.expires_at(class, base), stored)
    }

    /// [`Self::shortened_end`] for a message item, which lives as long as the longer of
    /// its two classes.
    pub fn shortened_message_end(&self, base: i64, stored: i64) -> Option<i64> {
        shorter(self.message_expires_at(base), stored)
    }
}

fn shorter(target: i64, stored: i64) -> Option<i64> {
    (target <= stored - AGEING_SLACK_SECS).then_some(target)
}

/// What becomes of a message's content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentLife {
    /// Used for routing, callbacks and bots, never written.
    NotStored,
    /// Kept, and shown, until then (epoch seconds).
    Until(i64),
}

/// Whether a tenant stores message content: for all its numbers, with exceptions by
/// number. Without it, messages keep their metadata only; callbacks still carry content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ContentPolicy {
    /// Whether message content is stored (`true` unless set).
    #[serde(default = "stored")]
    pub store_content: bool,
    /// Per phone number id: `store_content` for that number's messages.
    #[serde(default)]
    pub numbers: std::collections::BTreeMap<String, bool>,
}

fn stored() -> bool {
    true
}

impl Default for ContentPolicy {
    fn default() -> Self {
        Self {
            store_content: true,
            numbers: Default::default(),
        }
    }
}

/// Numbers a policy may name at most.
pub const MAX_POLICY_NUMBERS: usize = 200;

impl ContentPolicy {
    /// Whether content of `phone_number_id`'s messages is stored.
    pub fn stores(&self, phone_number_id: Option<&str>) -> bool {
        phone_number_id
            .and_then(|n| self.numbers.get(n))
            .copied()
            .unwrap_or(self.store_content)
    }

    pub fn validate(&self) -> Result<(), String> {
        if self.numbers.len() > MAX_POLICY_NUMBERS {
            return Err(format!("may name at most {MAX_POLICY_NUMBERS} numbers"));
        }
        let bad = self
            .numbers
            .keys()
            .find(|n| n.is_empty() || n.len() > 30 || !n.bytes().all(|b| b.is_ascii_digit()));
        match bad {
            Some(_) => Err("a key is not a phone number id (digits)".into()),
            None => Ok(()),
        }
    }
}

/// What the admin API shows and changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetentionSettings {
    pub retention: Retention,
    /// The most days of content the tenant may keep; raised only by the operator.
    pub content_ceiling_days: u32,
}

/// What a sweep changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Aged {
    /// Items whose end came sooner.
    pub shortened: u64,
    /// Messages whose content was let go.
    pub contents_removed: u64,
}

impl Aged {
    pub fn add(&mut self, other: Aged) {
        self.shortened += other.shortened;
        self.contents_removed += other.contents_removed;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_keep_content_and_metadata_90_days_and_dedup_8() {
        let r = Retention::default();
        assert_eq!(r.expires_at(DataClass::Content, 0), 90 * DAY);
        assert_eq!(r.expires_at(DataClass::Metadata, 0), 90 * DAY);
        assert_eq!(r.expires_at(DataClass::Dedup, 0), 8 * DAY);
        assert_eq!(r.validate(MAX_CONTENT_DAYS), Ok(()));
    }

    #[test]
    fn a_shorter_period_reaches_old_items_and_a_longer_one_does_not() {
        let was = Retention::default();
        let now = 1_000 * DAY;
        let stored = was.expires_at(DataClass::Content, now);
        let shorter = Retention {
            content_days: 30,
            ..was
        };
        assert_eq!(
            shorter.shortened_end(DataClass::Content, now, stored),
            Some(now + 30 * DAY)
        );
        let longer = Retention {
            content_days: 120,
            ..was
        };
        assert_eq!(longer.shortened_end(DataClass::Content, now, stored), None);
        // Unchanged settings leave an item alone though it was written a little later
        // than the time it counts from.
        assert_eq!(
            was.shortened_end(DataClass::Content, now - 3_600, stored),
            None
        );
        // A message lives as long as its longer class.
        let stored = was.message_expires_at(now);
        assert_eq!(shorter.shortened_message_end(now, stored), None);
        let both = Retention {
            metadata_days: 30,
            ..shorter
        };
        assert_eq!(
            both.shortened_message_end(now, stored),
            Some(now + 30 * DAY)
        );
    }

    #[test]
    fn dedup_shorter_than_metas_retry_window_is_refused() {
        let r = Retention {
            dedup_days: 7,
            ..Retention::default()
        };
        assert!(r.validate(MAX_CONTENT_DAYS).is_err());
    }

    #[test]
    fn content_beyond_the_operators_ceiling_is_refused() {
        let r = Retention {
            content_days: 120,
            ..Retention::default()
        };
        assert!(r.validate(MAX_CONTENT_DAYS).is_err());
        assert_eq!(r.validate(365), Ok(()));
    }

    #[test]
    fn content_is_stored_as_the_tenant_says_with_exceptions_by_number() {
        let mut policy = ContentPolicy::default();
        assert!(policy.stores(Some("1065")) && policy.stores(None));
        policy.store_content = false;
        policy.numbers.insert("1065".into(), true);
        assert!(policy.stores(Some("1065")));
        assert!(!policy.stores(Some("2000")) && !policy.stores(None));
        assert!(policy.validate().is_ok());
        policy.numbers.insert("abc".into(), true);
        assert!(policy.validate().is_err());
    }

    #[test]
    fn a_message_outlives_its_content_and_content_not_stored_has_no_end() {
        let r = Retention {
            content_days: 3,
            metadata_days: 5,
            ..Retention::default()
        };
        assert_eq!(r.message_expires_at(0), 5 * DAY);
        assert_eq!(r.content_life(true, 0), ContentLife::Until(3 * DAY));
        assert_eq!(r.content_life(false, 0), ContentLife::NotStored);
        let longer_content = Retention {
            content_days: 30,
            metadata_days: 5,
            ..Retention::default()
        };
        assert_eq!(longer_content.message_expires_at(0), 30 * DAY);
    }

    #[test]
    fn audit_retention_has_its_floor_and_ceiling() {
        for days in [MIN_AUDIT_DAYS - 1, MAX_AUDIT_DAYS + 1] {
            let r = Retention {
                audit_days: days,
                ..Retention::default()
            };
            assert!(r.validate(MAX_CONTENT_DAYS).is_err(), "{days}");
        }
    }
}
