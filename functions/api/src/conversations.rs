//! `GET /v1/conversations`: the tenant's contacts, most recently active first.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use wagate_messaging::access::Permission;
use wagate_messaging::domain::contact::ContactProfile;
use wagate_messaging::domain::conversation::ConversationFilter;
use wagate_messaging::outbound::window::WINDOW_SECS;

use crate::state::{BusinessState, TenantKey};
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
    /// Only conversations whose latest activity was on this phone number id.
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
    /// The tenant's number of the latest activity.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone_number_id: Option<String>,
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
        (status = 200, description = "Conversations, most recently active first; expired contacts are never returned", body = ConversationPageView),
        (status = 400, description = "Invalid parameter; `field` names which", body = ErrorBody),
        KeyedRouteErrors,
    ),
    security(("bearer" = [])))]
pub async fn list_conversations(
    State(state): State<Arc<BusinessState>>,
    key: TenantKey,
    QueryParams(params): QueryParams<ConversationParams>,
) -> Result<Json<ConversationPageView>, ApiError> {
    key.require(Permission::Converse, "read conversations")?;
    let limit = http_api::extract::page_limit(params.limit)?;
    let filter = ConversationFilter {
        phone_number_id: params.number.as_deref(),
        since: params.since.map(i64::from),
        unread_only: params.unread.unwrap_or(false),
    };
    let since = filter.since.map(|s| s.to_string()).unwrap_or_default();
    let scope = cursor::scope(&[
        key.0.tenant_id.as_str(),
        "conversations",
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
        conversations: page.contacts.iter().map(|c| view(c, now)).collect(),
        next_cursor: cursor::seal(&state.cursors, &scope, page.next.as_ref()).await?,
    }))
}

fn view(contact: &ContactProfile, now: i64) -> ConversationView {
    ConversationView {
        contact_id: contact.contact_id.clone(),
        phone: contact.phone.clone(),
        bsuid: contact.bsuid.clone(),
        profile_name: contact.profile_name.clone(),
        last_activity_at: contact.last_activity_at(),
        last_inbound_at: contact.last_inbound_at,
        last_outbound_at: contact.last_outbound_at,
        phone_number_id: contact.last_number.clone(),
        unread: contact.unread(),
        window_open: contact
            .last_inbound_at
            .is_some_and(|at| now < at + WINDOW_SECS),
        marketing_opt_out: contact.consent.marketing_opt_out(),
    }
}
