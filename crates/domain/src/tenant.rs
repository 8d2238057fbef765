//! Tenants, their Meta app and their phone numbers.

use serde::{Deserialize, Serialize};

use super::retention::Retention;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "a tenant id is 3 to 40 characters of a-z, 0-9, '_' and '-', starting with a letter or digit"
)]
pub struct BadTenantId;

/// Validated tenant id; it starts every key of the tenant's data.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TenantId(String);

impl TenantId {
    pub fn parse(raw: &str) -> Result<Self, BadTenantId> {
        let ok = (3..=40).contains(&raw.len())
            && raw
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
            && raw.as_bytes()[0].is_ascii_alphanumeric();
        if ok {
            Ok(Self(raw.to_owned()))
        } else {
            Err(BadTenantId)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for TenantId {
    type Error = BadTenantId;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<TenantId> for String {
    fn from(value: TenantId) -> Self {
        value.0
    }
}

impl std::fmt::Display for TenantId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TenantStatus {
    Active,
    Suspended,
    /// Deletion was asked for: the tenant is cut off and its data is being erased; the
    /// pipeline treats it as gone.
    Deleting,
}

/// A tenant as the pipeline needs it; secrets stay ciphertext until used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tenant {
    pub id: TenantId,
    pub name: String,
    pub status: TenantStatus,
    pub retention: Retention,
    /// Keywords, buttons, acknowledgement and policy of opt-outs (`domain::consent`).
    pub consent: crate::consent::ConsentSettings,
    /// Whether message content is stored, for all numbers and by number.
    pub content: crate::retention::ContentPolicy,
    pub meta_app: Option<MetaApp>,
    /// Set when Meta refused the tenant's credentials (190 and the like): sending fails fast
    /// with this reason until an admin puts the tenant again with working credentials.
    pub sending_stopped: Option<String>,
}

/// Why a tenant may not call Meta now: no message, read receipt, typing indicator or
/// template call goes out for it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MetaCallsBlocked {
    #[error("the tenant is suspended")]
    Suspended,
    #[error("sending is stopped for this tenant: {0}")]
    SendingStopped(String),
}

impl Tenant {
    /// Whether the tenant may call Meta: every route that does asks this first.
    pub fn may_call_meta(&self) -> Result<(), MetaCallsBlocked> {
        if self.status == TenantStatus::Suspended {
            return Err(MetaCallsBlocked::Suspended);
        }
        if let Some(reason) = &self.sending_stopped {
            return Err(MetaCallsBlocked::SendingStopped(reason.clone()));
        }
        Ok(())
    }
}

/// A tenant's own Meta app, used by `/webhook/{tenant_id}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetaApp {
    pub app_id: String,
    /// KMS ciphertext, encryption context: tenant + "meta-app-secret".
    pub app_secret_ciphertext: Vec<u8>,
    /// KMS ciphertext, encryption context: tenant + "meta-verify-token".
    pub verify_token_ciphertext: Vec<u8>,
    /// The app secret's fingerprint (see [`token_fingerprint`]) and when it was set.
    pub secret_fingerprint: Option<String>,
    pub set_at: Option<i64>,
}

/// Messages per second Meta allows a number by default, after an upgrade, and for numbers
/// shared with the WhatsApp Business app.
pub const DEFAULT_THROUGHPUT: u32 = 80;
pub const UPGRADED_THROUGHPUT: u32 = 1000;
pub const COEXISTENCE_THROUGHPUT: u32 = 20;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhoneNumber {
    pub tenant_id: TenantId,
    pub phone_number_id: String,
    pub waba_id: String,
    pub display_phone_number: String,
    /// KMS ciphertext, encryption context: tenant + phone number id + "meta-access-token".
    pub access_token_ciphertext: Vec<u8>,
    pub throughput_per_second: u32,
    /// Shared with the WhatsApp Business app: Meta allows it 20 messages per second.
    pub coexistence: bool,
    /// Sends from the number wait until then (epoch seconds), after a spam or quality limit.
    pub paused_until: Option<i64>,
    pub pause_reason: Option<String>,
    /// Identifies the access token without revealing it: the first 12 hex digits of its
    /// SHA-256. With `token_set_at` (epoch seconds), what the admin API shows of a token.
    pub token_fingerprint: Option<String>,
    pub token_set_at: Option<i64>,
    /// The business name Meta verified for the number, as Meta answered when it was
    /// connected.
    pub verified_name: Option<String>,
    /// Meta's quality rating when the number was connected: `GREEN`, `YELLOW`, `RED`…
    pub quality_rating: Option<String>,
    /// What Meta last said about the number's quality and messaging limit.
    pub quality: Option<NumberQuality>,
}

/// The latest `phone_number_quality_update` of a number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NumberQuality {
    /// `FLAGGED`, `UNFLAGGED`, `UPGRADE`, `DOWNGRADE`, `THROUGHPUT_UPGRADE`…
    pub event: String,
    /// `TIER_250`, `TIER_1K`, … `TIER_UNLIMITED`, when Meta said.
    pub messaging_limit: Option<String>,
    /// When Meta sent it, epoch seconds.
    pub at: i64,
}

/// A token's fingerprint: enough to tell two tokens apart, nothing to rebuild one from.
pub fn token_fingerprint(token: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(&Sha256::digest(token.as_bytes())[..6])
}

impl PhoneNumber {
    /// The messages per second the sender may use: the recorded level, or coexistence's.
    pub fn send_rate(&self) -> u32 {
        let recorded = self.throughput_per_second.max(1);
        if self.coexistence {
            recorded.min(COEXISTENCE_THROUGHPUT)
        } else {
            recorded
        }
    }
}

/// Who holds a WABA: its owner gets the WABA-level events; tenants it is shared with may
/// connect its numbers too.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WabaRoute {
    pub waba_id: String,
    pub owner: TenantId,
    pub shared_with: Vec<TenantId>,
    /// How many of its numbers are connected, over all tenants.
    pub connected_numbers: usize,
}

impl WabaRoute {
    pub fn admits(&self, tenant: &TenantId) -> bool {
        self.owner == *tenant || self.shared_with.contains(tenant)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenant_ids_are_short_lowercase_and_safe_in_keys() {
        assert!(TenantId::parse("demo").is_ok());
        assert!(TenantId::parse("acme-eu_1").is_ok());
        for bad in ["", "ab", "Acme", "a#b", "-lead", &"x".repeat(41)] {
            assert!(TenantId::parse(bad).is_err(), "{bad}");
        }
    }
}
