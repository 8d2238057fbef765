//! The 24-hour customer service window: free-form messages only within 24 hours of the
//! user's last inbound message.

use crate::domain::contact::ContactProfile;
use crate::domain::tenant::TenantId;
use crate::store::StoreError;
use crate::store::contact::LAST_INBOUND_GRANULARITY_SECS;
use crate::store::message::outbound::OutboundMessages;

pub const WINDOW_SECS: i64 = 24 * 3600;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    Open,
    Closed,
    /// The profile's `last_inbound_at` is rounded (it moves in steps of five minutes), and
    /// now is within those minutes of the window's end: read the newest inbound message.
    Unsure {
        since: i64,
    },
}

/// The window as the contact profile's `last_inbound_at` tells it.
pub fn window_from_profile(last_inbound_at: Option<i64>, now: i64) -> Window {
    let Some(last) = last_inbound_at else {
        return Window::Closed;
    };
    if now < last + WINDOW_SECS {
        Window::Open
    } else if now >= last + WINDOW_SECS + LAST_INBOUND_GRANULARITY_SECS {
        Window::Closed
    } else {
        Window::Unsure { since: last }
    }
}

/// The window from the exact time of the newest inbound message.
pub fn window_from_message(newest_inbound_at: Option<i64>, now: i64) -> Window {
    match newest_inbound_at {
        Some(at) if now < at + WINDOW_SECS => Window::Open,
        _ => Window::Closed,
    }
}

/// Whether `contact`'s window is open now: the profile decides, and the newest inbound
/// message when the profile's rounded time is too close to the window's end to tell.
pub async fn window_is_open(
    messages: &impl OutboundMessages,
    tenant: &TenantId,
    contact: &ContactProfile,
    now: i64,
) -> Result<bool, StoreError> {
    window_is_open_with(contact, now, |since| {
        messages.newest_inbound_since(tenant, &contact.contact_id, since)
    })
    .await
}

/// As [`window_is_open`], with `newest_since` telling when the contact's newest inbound
/// message since a time was sent (read only when the profile cannot tell).
pub async fn window_is_open_with<Fut>(
    contact: &ContactProfile,
    now: i64,
    newest_since: impl FnOnce(i64) -> Fut,
) -> Result<bool, StoreError>
where
    Fut: std::future::Future<Output = Result<Option<i64>, StoreError>>,
{
    let window = match window_from_profile(contact.last_inbound_at, now) {
        Window::Unsure { since } => window_from_message(newest_since(since).await?, now),
        decided => decided,
    };
    Ok(window == Window::Open)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rounded_profile_time_decides_except_in_its_last_minutes() {
        let last = 1_000_000;
        assert_eq!(window_from_profile(None, last), Window::Closed);
        assert_eq!(window_from_profile(Some(last), last + 60), Window::Open);
        assert_eq!(
            window_from_profile(Some(last), last + WINDOW_SECS + 10),
            Window::Unsure { since: last }
        );
        assert_eq!(
            window_from_profile(Some(last), last + WINDOW_SECS + 300),
            Window::Closed
        );
        assert_eq!(
            window_from_message(Some(last + 200), last + WINDOW_SECS + 10),
            Window::Open
        );
        assert_eq!(
            window_from_message(Some(last), last + WINDOW_SECS),
            Window::Closed
        );
    }
}
