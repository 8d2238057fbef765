//! The business API, `/v1/...`: what a tenant's systems and agents call with their keys.

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

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

/// The document's frame: what is not a route. Every route's entry comes from its handler's
/// `#[utoipa::path]`, added where the route is (`routes`).
#[derive(OpenApi)]
#[openapi(
    info(title = "wagate business API", version = "1", description = "Send WhatsApp messages and read conversations. Authenticate with `Authorization: Bearer <API key>`; a key's role (admin, manager, agent) decides what it may do: each operation names the permission it needs as its security scope."),
    // What callback URLs receive: not a route of this API, but its contract all the same.
    components(schemas(
        CallbackEvent, CallbackData, EventType, MessageReceivedData, MessageStatusData,
        MarketingPreferenceData, AccountChangeData,
    )),
    modifiers(&BearerAuth),
)]
pub struct BusinessApi;

/// Every route of the API, each once: its path and method, its document and (in the
/// handler's signature, as its scope in the document) its permission come from the
/// handler itself.
fn routes() -> OpenApiRouter<Arc<BusinessState>> {
    let (schemas, paths, import) = routes!(contact_import::import);
    let import = (
        schemas,
        paths,
        import.layer(DefaultBodyLimit::max(contact_import::MAX_IMPORT_BYTES)),
    );
    http_api::openapi::router_of(
        BusinessApi::openapi(),
        [
            routes!(messages::send_message),
            routes!(messages::get_message),
            routes!(read::mark_read),
            routes!(conversations::list_conversations),
            routes!(messages::conversation_messages),
            routes!(usage::daily_usage),
            routes!(contacts::list_contacts, contacts::create_contact),
            import,
            routes!(contacts::get_contact, contacts::update_contact),
            routes!(consent::get_consent, consent::record_consent),
            routes!(restriction::restrict, restriction::lift),
            routes!(callbacks::list_callbacks, callbacks::create_callback),
            routes!(callbacks::list_deliveries),
            routes!(callbacks::replay),
            routes!(callbacks::delete_callback),
            routes!(templates::list_templates, templates::create_template),
            routes!(templates::sync_templates),
            routes!(templates::delete_template),
        ],
    )
}

/// The API's OpenAPI document, as served at `/v1/openapi.json`.
pub fn document() -> utoipa::openapi::OpenApi {
    routes().into_openapi()
}

pub fn router(state: Arc<BusinessState>) -> Router {
    let (routes, document) = routes().split_for_parts();
    let auditor = Auditor {
        log: state.audit.clone(),
        unaudited: UNAUDITED,
        operator_actions: &[],
    };
    let routes = routes.layer(axum::middleware::from_fn_with_state(
        auditor,
        record_changes,
    ));
    http_api::finish_router(routes, "/v1/openapi.json", document).with_state(state)
}

#[cfg(test)]
mod tests {
    use wagate_messaging::access::Permission;

    #[test]
    fn the_committed_document_is_the_generated_one() {
        http_api::openapi::assert_committed(super::document(), "api.json");
    }

    #[test]
    fn every_operation_names_the_one_permission_it_needs() {
        let operations = http_api::openapi::operation_scopes(&super::document());
        assert_eq!(operations.len(), 24);
        for (operation, scopes) in operations {
            assert!(
                matches!(&scopes[..], [one] if Permission::named(one).is_some()),
                "{operation} names {scopes:?}"
            );
        }
    }
}
