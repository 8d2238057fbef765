//! Delivery statuses and the order in which they may replace each other.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    Sent,
    Delivered,
    Read,
    Played,
    Failed,
    Deleted,
}

impl DeliveryStatus {
    pub fn parse(raw: &str) -> Option<Self> {
        Some(match raw {
            "sent" => Self::Sent,
            "delivered" => Self::Delivered,
            "read" => Self::Read,
            "played" => Self::Played,
            "failed" => Self::Failed,
            "deleted" => Self::Deleted,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sent => "sent",
            Self::Delivered => "delivered",
            Self::Read => "read",
            Self::Played => "played",
            Self::Failed => "failed",
            Self::Deleted => "deleted",
        }
    }

    /// A status may replace only a status of lower rank: Meta delivers out of order, and
    /// a late `delivered` must never undo `read`. `failed` outranks the progress states it
    /// can follow; `deleted` (the user deleted the message) comes last of all.
    pub fn rank(self) -> u8 {
        match self {
            Self::Sent => 1,
            Self::Delivered => 2,
            Self::Read => 3,
            Self::Played => 4,
            Self::Failed => 5,
            Self::Deleted => 6,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_outranks_delivered_so_a_late_delivered_never_moves_a_message_back() {
        assert!(DeliveryStatus::Read.rank() > DeliveryStatus::Delivered.rank());
        assert!(DeliveryStatus::Delivered.rank() > DeliveryStatus::Sent.rank());
        assert!(DeliveryStatus::Played.rank() > DeliveryStatus::Read.rank());
    }

    #[test]
    fn every_status_round_trips_through_its_wire_name() {
        for s in ["sent", "delivered", "read", "played", "failed", "deleted"] {
            assert_eq!(DeliveryStatus::parse(s).unwrap().as_str(), s);
        }
        assert_eq!(DeliveryStatus::parse("RINGING"), None);
    }
}

/// One `statuses[]` item about a message we sent.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StatusUpdate {
    pub wamid: String,
    pub status: DeliveryStatus,
    /// Meta's timestamp, epoch seconds.
    pub at: i64,
    pub recipient_id: Option<String>,
    pub recipient_user_id: Option<String>,
    pub errors: Vec<super::meta_error::MetaError>,
    pub pricing: Option<Pricing>,
    /// The tenant's own tracking string, sent back by Meta.
    pub callback_data: Option<String>,
}

/// What Meta charges for a message: the source for cost metering.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pricing {
    #[serde(default)]
    pub billable: Option<bool>,
    #[serde(default)]
    pub pricing_model: Option<String>,
    #[serde(default)]
    pub category: Option<String>,
    #[serde(default, rename = "type")]
    pub pricing_type: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StatusError {
    #[error("a status has no message id")]
    MissingId,
    #[error("a status has no readable timestamp")]
    MissingTimestamp,
    #[error("{0:?} is not a message delivery status")]
    UnknownStatus(String),
}

pub fn parse_status(raw: &serde_json::Value) -> Result<StatusUpdate, StatusError> {
    let text = |name: &str| {
        raw.get(name)
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned)
    };
    let wamid = text("id").ok_or(StatusError::MissingId)?;
    let status_text = text("status").unwrap_or_default();
    let status =
        DeliveryStatus::parse(&status_text).ok_or(StatusError::UnknownStatus(status_text))?;
    let at = raw
        .get("timestamp")
        .and_then(super::timestamp::parse_seconds)
        .ok_or(StatusError::MissingTimestamp)?;
    Ok(StatusUpdate {
        wamid,
        status,
        at,
        recipient_id: text("recipient_id"),
        recipient_user_id: text("recipient_user_id"),
        errors: super::meta_error::parse_errors(raw.get("errors")),
        pricing: raw
            .get("pricing")
            .and_then(|p| serde_json::from_value(p.clone()).ok()),
        callback_data: text("biz_opaque_callback_data"),
    })
}

#[cfg(test)]
mod parse_tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_failed_status_keeps_metas_code_and_title() {
        let s = parse_status(&json!({"id":"wamid.1","status":"failed","timestamp":"5","recipient_id":"1",
            "errors":[{"code":131047,"title":"Re-engagement message","error_data":{"details":"window"}}]}))
        .unwrap();
        assert_eq!(s.status, DeliveryStatus::Failed);
        assert_eq!(s.errors[0].code, 131047);
        assert_eq!(s.errors[0].title.as_deref(), Some("Re-engagement message"));
    }

    #[test]
    fn pricing_is_kept_for_metering() {
        let s = parse_status(&json!({"id":"w","status":"sent","timestamp":"5",
            "pricing":{"billable":true,"pricing_model":"PMP","category":"utility","type":"regular"}}))
        .unwrap();
        assert_eq!(s.pricing.unwrap().category.as_deref(), Some("utility"));
    }

    #[test]
    fn a_call_status_is_not_a_message_status() {
        let err =
            parse_status(&json!({"id":"wacid.1","status":"RINGING","timestamp":"5"})).unwrap_err();
        assert_eq!(err, StatusError::UnknownStatus("RINGING".into()));
    }
}
