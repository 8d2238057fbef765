//! The business API, `/v1/...`: what a tenant's systems and agents call with their keys.

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use utoipa::OpenApi;

use http_api::audit::{Auditor, record_changes};
use http_api::openapi::BearerAuth;
use wagate_integrations::callbacks::event::{CallbackEvent, EventType};
use wagate_integrations::callbacks::payload::{
    AccountChangeData, CallbackData, MarketingPreferenceData, MessageReceivedData,
    MessageStatusData,
};

use crate::state::BusinessState;
use crate::{
    callbacks, consent, contact_import, contacts, conversations, messages, read, restriction,
    templates, usage,
};

/// The changes not written to the audit log: sending and reading messages, the API's
/// daily work, recorded in the conversation itself.
const UNAUDITED: &[&str] = &["POST /v1/messages", "POST /v1/messages/{message_id}/read"];

#[derive(OpenApi)]
#[openapi(
    info(title = "wagate business API", version = "1", description = "Send WhatsApp messages and read conversations. Authenticate with `Authorization: Bearer <API key>`; a key's role (admin, manager, agent) decides what it may do."),
    paths(
        messages::send_message, messages::get_message, read::mark_read,
        conversations::list_conversations, contacts::create_contact, contacts::list_contacts,
        contacts::get_contact, contacts::update_contact, contact_import::import,
        consent::get_consent, consent::record_consent, restriction::restrict, restriction::lift,
        callbacks::create_callback, callbacks::list_callbacks, callbacks::delete_callback,
        callbacks::list_deliveries, callbacks::replay,
        templates::list_templates, templates::create_template, templates::sync_templates,
        templates::delete_template,
        messages::conversation_messages, usage::daily_usage,
    ),
    // What callback URLs receive: not a route of this API, but its contract all the same.
    components(schemas(
        CallbackEvent, CallbackData, EventType, MessageReceivedData, MessageStatusData,
        MarketingPreferenceData, AccountChangeData,
    )),
    modifiers(&BearerAuth),
)]
pub struct BusinessApi;

pub fn router(state: Arc<BusinessState>) -> Router {
    let routes = Router::new()
        .route("/v1/messages", post(messages::send_message))
        .route("/v1/messages/{message_id}", get(messages::get_message))
        .route("/v1/messages/{message_id}/read", post(read::mark_read))
        .route("/v1/conversations", get(conversations::list_conversations))
        .route("/v1/usage", get(usage::daily_usage))
        .route(
            "/v1/contacts",
            get(contacts::list_contacts).post(contacts::create_contact),
        )
        .route(
            "/v1/contacts/import",
            post(contact_import::import)
                .layer(DefaultBodyLimit::max(contact_import::MAX_IMPORT_BYTES)),
        )
        .route(
            "/v1/contacts/{contact_id}",
            get(contacts::get_contact).patch(contacts::update_contact),
        )
        .route(
            "/v1/contacts/{contact_id}/consent",
            get(consent::get_consent).post(consent::record_consent),
        )
        .route(
            "/v1/contacts/{contact_id}/restriction",
            post(restriction::restrict).delete(restriction::lift),
        )
        .route(
            "/v1/conversations/{contact_id}/messages",
            get(messages::conversation_messages),
        )
        .route(
            "/v1/callbacks",
            get(callbacks::list_callbacks).post(callbacks::create_callback),
        )
        .route("/v1/callbacks/deliveries", get(callbacks::list_deliveries))
        .route("/v1/callbacks/replay", post(callbacks::replay))
        .route(
            "/v1/templates",
            get(templates::list_templates).post(templates::create_template),
        )
        .route("/v1/templates/sync", post(templates::sync_templates))
        .route(
            "/v1/templates/{template_id}",
            axum::routing::delete(templates::delete_template),
        )
        .route(
            "/v1/callbacks/{callback_id}",
            axum::routing::delete(callbacks::delete_callback),
        );
    let auditor = Auditor {
        log: state.audit.clone(),
        unaudited: UNAUDITED,
        operator_actions: &[],
    };
    let routes = routes.layer(axum::middleware::from_fn_with_state(
        auditor,
        record_changes,
    ));
    http_api::finish_router::<BusinessApi, _>(routes, "/v1/openapi.json").with_state(state)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_committed_document_is_the_generated_one() {
        http_api::openapi::assert_committed::<super::BusinessApi>("api.json");
    }
}
