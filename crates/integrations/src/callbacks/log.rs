//! The delivery log as the business reads it: each event's delivery to each endpoint, where
//! it stands and what the last attempt met. Written by the deliverer through
//! `store::callback`.

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallbackDeliveryState {
    Delivered,
    /// Failed so far; another attempt is scheduled.
    Retrying,
    /// Given up on: in the dead-letter queue.
    Dead,
    /// Not sent: the person it is about restricted processing. A replay after the
    /// restriction is lifted sends it.
    Withheld,
}

impl CallbackDeliveryState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Delivered => "delivered",
            Self::Retrying => "retrying",
            Self::Dead => "dead",
            Self::Withheld => "withheld",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [Self::Delivered, Self::Retrying, Self::Dead, Self::Withheld]
            .into_iter()
            .find(|s| s.as_str() == raw)
    }
}

/// A delivery as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryRecord {
    pub log_key: String,
    pub endpoint_id: String,
    pub event_id: String,
    pub event_type: String,
    pub event_created_at: i64,
    pub state: Option<CallbackDeliveryState>,
    pub attempts: i64,
    pub http_status: Option<i64>,
    pub error: Option<String>,
    pub updated_at: i64,
    pub body: String,
}
