//! `GET /v1/conversations`: the tenant's conversations (a contact on one of its numbers),
//! most recently active first.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use wagate_messaging::access::needs;
use wagate_messaging::domain::contact::ContactCard;
use wagate_messaging::domain::conversation::ConversationFilter;
use wagate_messaging::domain::conversation::activity::ConversationState;
use wagate_messaging::domain::conversation::cycle::Stage;
use wagate_messaging::outbound::window::WINDOW_SECS;

use crate::state::{Allowed, BusinessState};
use http_api::cursor;
use http_api::error::{ApiError, ErrorBody, KeyedRouteErrors};
use http_api::extract::QueryParams;
use http_api::unix_now;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ConversationParams {
    /// Conversations per page, 1 to 100 (default 50).
    #[serde(default)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    #[serde(default)]
    pub cursor: Option<String>,
    /// Only conversations on this phone number id.
    #[serde(default)]
    pub number: Option<String>,
    /// Only conversations active at or after this time (epoch seconds).
    #[serde(default)]
    pub since: Option<u32>,
    /// Only conversations where the user wrote and the business has not answered since.
    #[serde(default)]
    pub unread: Option<bool>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConversationView {
    pub contact_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bsuid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile_name: Option<String>,
    /// Epoch seconds of the latest message either way, to five minutes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_activity_at: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_inbound_at: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_outbound_at: Option<i64>,
    /// The tenant's number the conversation is on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone_number_id: Option<String>,
    /// The conversation's cycle, from 1: the person's first message after a resolve opens
    /// the next.
    pub cycle: u32,
    /// Where the cycle stands.
    pub state: ConversationStage,
    /// When the cycle opened, epoch seconds.
    pub opened_at: i64,
    /// The user wrote and the business has not answered since.
    pub unread: bool,
    /// Whether free-form messages may be sent (may show closed up to five minutes early;
    /// sending decides exactly).
    pub window_open: bool,
    pub marketing_opt_out: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConversationPageView {
    pub conversations: Vec<ConversationView>,
    /// Pass as `cursor` for the next page; absent on the last.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

#[utoipa::path(get, path = "/v1/conversations", tag = "conversations",
    params(ConversationParams),
    responses(
        (status = 200, description = "Conversations (one per contact and number), most recently active first; expired contacts are never returned", body = ConversationPageView),
        (status = 400, description = "Invalid parameter; `field` names which", body = ErrorBody),
        KeyedRouteErrors,
    ),
    security(("bearer" = ["converse"])))]
pub async fn list_conversations(
    State(state): State<Arc<BusinessState>>,
    key: Allowed<needs::Converse>,
    QueryParams(params): QueryParams<ConversationParams>,
) -> Result<Json<ConversationPageView>, ApiError> {
    let limit = http_api::extract::page_limit(params.limit)?;
    let filter = ConversationFilter {
        phone_number_id: params.number.as_deref(),
        since: params.since.map(i64::from),
        unread_only: params.unread.unwrap_or(false),
    };
    let since = filter.since.map(|s| s.to_string()).unwrap_or_default();
    let scope = cursor::scope(&[
        key.0.tenant_id.as_str(),
        // Versioned: a cursor into the profiles' old index means nothing to this one.
        "conversations/2",
        filter.phone_number_id.unwrap_or_default(),
        &since,
        if filter.unread_only { "unread" } else { "all" },
    ]);
    let after = cursor::open(&state.cursors, &scope, params.cursor.as_deref()).await?;
    let now = unix_now();
    let page = state
        .conversations
        .list(&key.0.tenant_id, &filter, after.as_ref(), limit, now)
        .await?;
    Ok(Json(ConversationPageView {
        conversations: page
            .conversations
            .iter()
            .map(|(state, contact)| view(state, contact, now))
            .collect(),
        next_cursor: cursor::seal(&state.cursors, &scope, page.next.as_ref()).await?,
    }))
}

/// Where a conversation's cycle stands.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ConversationStage {
    /// Opened, and nobody took it yet.
    Open,
    /// A bot flow answers it.
    Bot,
    /// It waits in a queue for an agent.
    Queued,
    /// An agent has it.
    Assigned,
    /// Done until the person writes again.
    Resolved,
}

impl From<&Stage> for ConversationStage {
    fn from(stage: &Stage) -> Self {
        match stage {
            Stage::Open => Self::Open,
            Stage::WithBot { .. } => Self::Bot,
            Stage::Queued { .. } => Self::Queued,
            Stage::Assigned { .. } => Self::Assigned,
            Stage::Resolved => Self::Resolved,
        }
    }
}

fn view(state: &ConversationState, contact: &ContactCard, now: i64) -> ConversationView {
    let (conversation, activity) = (&state.conversation, &state.activity);
    ConversationView {
        contact_id: contact.contact_id.clone(),
        phone: contact.phone.clone(),
        bsuid: contact.bsuid.clone(),
        profile_name: contact.profile_name.clone(),
        last_activity_at: activity.last_activity_at(),
        last_inbound_at: activity.last_inbound_at,
        last_outbound_at: activity.last_outbound_at,
        phone_number_id: Some(conversation.phone_number_id.clone()),
        cycle: conversation.cycle,
        state: ConversationStage::from(&conversation.stage),
        opened_at: conversation.opened_at,
        unread: activity.unread(),
        window_open: activity
            .last_inbound_at
            .is_some_and(|at| now < at + WINDOW_SECS),
        marketing_opt_out: contact.marketing_opt_out,
    }
}
