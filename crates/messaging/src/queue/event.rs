//! The message the webhook puts on `inbound.fifo` for every event of a delivery, and the
//! worker reads back. It carries the event's own JSON untouched, plus what routing found.

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

pub use wagate_meta::webhook::EventKind;

/// Bumped when the shape changes incompatibly, so a worker can refuse what it cannot read.
pub const QUEUED_EVENT_VERSION: u8 = 1;

/// Which of the webhook's doors a delivery came through: the platform's Meta app, or a
/// tenant's own (signed with a secret the tenant holds).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Door {
    #[default]
    Platform,
    TenantApp,
}

impl Door {
    pub fn is_platform(&self) -> bool {
        *self == Self::Platform
    }
}

#[derive(Debug, Serialize, Deserialize)]
pub struct QueuedEvent {
    pub v: u8,
    pub tenant_id: String,
    /// The WABA id from `entry[].id`.
    pub waba_id: String,
    /// `entry[].time`, when Meta sent one (management events), in epoch seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entry_time: Option<i64>,
    /// `changes[].field`.
    pub field: String,
    pub kind: EventKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone_number_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_phone_number: Option<String>,
    /// When the webhook accepted the delivery, epoch milliseconds.
    pub received_at_ms: i64,
    /// The door it came through (absent: the platform's).
    #[serde(default, skip_serializing_if = "Door::is_platform")]
    pub door: Door,
    /// The `contacts[]` entry that belongs to this event's user, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<Box<RawValue>>,
    /// The event's own JSON exactly as Meta sent it.
    pub item: Box<RawValue>,
}
