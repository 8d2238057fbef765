//! A person's export (access and portability): whom, in which formats, how far it got, and
//! the document's versioned shape. The export's record names no person; the document
//! itself is the person's data, kept encrypted in the stack's bucket for 7 days.

use serde::{Deserialize, Serialize};

use crate::erasure::{PersonRequest, PersonRequestError, RequestState};
use crate::identity::IdentityKey;

/// The document's schema name; a change of its fields makes a new version (2 added the
/// tenant events about the person).
pub const EXPORT_SCHEMA: &str = "wagate.person-export/3";

/// How long an export's files (and its record) are kept.
pub const EXPORT_SECS: i64 = 7 * 24 * 3600;

/// The most a download link lives.
pub const DOWNLOAD_LINK_SECS: u64 = 3600;

/// The body of an export request: the person (exactly one identifier) and whether to add
/// a CSV of the messages.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ExportRequest {
    /// The person's phone number in international form.
    #[serde(default)]
    pub phone: Option<String>,
    /// Or their business-scoped user id.
    #[serde(default)]
    pub bsuid: Option<String>,
    /// Also write the messages as CSV.
    #[serde(default)]
    pub csv: bool,
}

impl ExportRequest {
    pub fn person(&self) -> Result<IdentityKey, PersonRequestError> {
        PersonRequest {
            phone: self.phone.clone(),
            bsuid: self.bsuid.clone(),
        }
        .person()
    }
}

/// One export as its record holds it, and as the admin API shows it (with its download
/// links, made when asked for).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PersonExport {
    pub id: String,
    #[serde(skip)]
    pub tenant_id: String,
    pub state: RequestState,
    /// The API key id that asked for it, or `operator`.
    pub requested_by: String,
    pub requested_at: i64,
    pub finished_at: Option<i64>,
    /// Whether a CSV of the messages was asked for.
    pub csv: bool,
    pub contacts: u64,
    pub messages: u64,
    /// When the files are deleted.
    pub expires_at: i64,
    /// Why it failed, when it did (no personal data).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
    /// Once `done`: the JSON document, for [`DOWNLOAD_LINK_SECS`] at most.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub download_url: Option<String>,
    /// Once `done`, when a CSV was asked for: the messages as CSV.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub csv_url: Option<String>,
    /// When the links stop working.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub download_expires_at: Option<i64>,
}

/// A conversation with the person on one of the tenant's numbers: its cycle, where it
/// stands and when each side last wrote.
#[derive(Debug, Clone, Serialize)]
pub struct ExportedConversation {
    pub phone_number_id: String,
    pub cycle: u32,
    pub state: &'static str,
    pub opened_at: i64,
    pub state_since: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_inbound_at: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_outbound_at: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_read_at: Option<i64>,
}

impl From<&crate::conversation::activity::ConversationState> for ExportedConversation {
    fn from(state: &crate::conversation::activity::ConversationState) -> Self {
        let (c, a) = (&state.conversation, &state.activity);
        Self {
            phone_number_id: c.phone_number_id.clone(),
            cycle: c.cycle,
            state: c.stage.name(),
            opened_at: c.opened_at,
            state_since: c.stage_at,
            last_inbound_at: a.last_inbound_at,
            last_outbound_at: a.last_outbound_at,
            last_read_at: a.last_read_at,
        }
    }
}

/// A callback delivery about the person: which event went where and how it ended.
#[derive(Debug, Clone, Serialize)]
pub struct ExportedDelivery {
    pub event_id: String,
    pub event_type: String,
    pub endpoint_id: String,
    pub state: String,
    pub attempts: u32,
    pub created_at: i64,
}

/// An event the tenant kept about the person (a call, an echo, a coexistence history
/// thread, an address book entry, ...), as Meta sent it.
#[derive(Debug, Clone, Serialize)]
pub struct ExportedEvent {
    pub field: String,
    pub kind: String,
    pub event_time: i64,
    /// Why the gateway kept it without acting on it, when it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unhandled_reason: Option<String>,
    /// Meta's JSON (`{"content_not_stored": true}` where the tenant stores no content).
    pub event: serde_json::Value,
}

/// A new export's id: `ex_` and 24 hex digits.
pub fn new_export_id(now: i64) -> String {
    format!("ex_{}", crate::erasure::time_ordered_hex(now))
}

/// Whether `raw` is shaped like an export id (anything else is not looked up).
pub fn is_export_id(raw: &str) -> bool {
    raw.strip_prefix("ex_")
        .is_some_and(|hex| hex.len() == 24 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
}
