//! Per-tenant retention: how long each class of data lives, enforced through `expires_at`.

use serde::{Deserialize, Serialize};

const DAY: i64 = 86_400;
/// Meta retries a delivery for up to 7 days; dedup records must outlive that.
pub const MIN_DEDUP_DAYS: u32 = 8;
/// Message content is kept at most this long unless the operator allows more.
pub const MAX_CONTENT_DAYS: u32 = 90;

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
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Retention {
    pub content_days: u32,
    pub metadata_days: u32,
    pub contact_days: u32,
    pub dedup_days: u32,
}

impl Default for Retention {
    fn default() -> Self {
        Self {
            content_days: 90,
            metadata_days: 90,
            contact_days: 365,
            dedup_days: MIN_DEDUP_DAYS,
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
        check("dedup_days", self.dedup_days, MIN_DEDUP_DAYS, 3650)
    }

    pub fn days(&self, class: DataClass) -> u32 {
        match class {
            DataClass::Content => self.content_days,
            DataClass::Metadata => self.metadata_days,
            DataClass::ContactProfile => self.contact_days,
            DataClass::Dedup => self.dedup_days,
        }
    }

    /// The `expires_at` (epoch seconds) of an item of `class` written at `now`.
    pub fn expires_at(&self, class: DataClass, now: i64) -> i64 {
        now + i64::from(self.days(class)) * DAY
    }
}

/// What the admin API shows and changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetentionSettings {
    pub retention: Retention,
    /// The most days of content the tenant may keep; raised only by the operator.
    pub content_ceiling_days: u32,
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
}
