//! The admin API, `/admin/v1/...`: tenants, their API keys and retention settings, for
//! the operator and each tenant's admin keys.

use std::sync::Arc;

use axum::Router;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use http_api::audit::{Auditor, record_changes};
use http_api::openapi::BearerAuth;

use crate::state::AdminState;
use crate::{
    audit, consent, contacts, content, erasures, exports, keys, maintenance, meta_app, numbers,
    retention, tenants, wabas,
};

/// The calls that change nothing though they are POSTs: checks and walks.
const UNAUDITED: &[&str] = &[
    "POST /admin/v1/erasure-receipts/verify",
    "POST /admin/v1/tenants/{tenant_id}/audit/verify",
    "POST /admin/v1/audit/verify",
];

/// Recorded in the operator's chain: a tenant's deletion erases the tenant's own.
const OPERATOR_ACTIONS: &[&str] = &["DELETE /admin/v1/tenants/{tenant_id}"];

#[derive(OpenApi)]
#[openapi(
    info(title = "wagate admin API", version = "1", description = "Tenants, their API keys, Meta app, phone numbers (and who holds a WhatsApp Business Account), retention settings, and a person's erasure and export. Authenticate with `Authorization: Bearer <operator key or a tenant's admin key>`; each operation's security scope says which: `operator` (the operator only) or `tenant_admin` (the operator, or an admin key of the tenant concerned)."),
    modifiers(&BearerAuth),
)]
pub struct AdminApi;

/// Every route of the API, each once: its path and method, its document and (in the
/// handler's signature: `Operator`, `TenantPath`, `AdministeredTenant`, `Administrator`;
/// as its scope in the document) who may call it come from the handler itself.
fn routes() -> OpenApiRouter<Arc<AdminState>> {
    http_api::openapi::router_of(
        AdminApi::openapi(),
        [
            routes!(audit::list_tenant_audit),
            routes!(audit::verify_tenant_audit),
            routes!(audit::list_operator_audit),
            routes!(audit::verify_operator_audit),
            routes!(consent::get_consent_settings, consent::set_consent_settings),
            routes!(contacts::correct_contact),
            routes!(content::get_content_policy, content::set_content_policy),
            routes!(erasures::create_erasure, erasures::list_erasures),
            routes!(erasures::get_erasure),
            routes!(erasures::verify_receipt),
            routes!(exports::create_export, exports::list_exports),
            routes!(exports::get_export),
            routes!(keys::create_key, keys::list_keys),
            routes!(keys::revoke_key),
            routes!(maintenance::seal_personal_data),
            routes!(maintenance::adopt_audit_chains),
            routes!(maintenance::start_ageing, maintenance::latest_ageing),
            routes!(
                meta_app::connect_meta_app,
                meta_app::get_meta_app,
                meta_app::disconnect_meta_app
            ),
            routes!(numbers::connect_number, numbers::disconnect_number),
            routes!(numbers::list_numbers),
            routes!(numbers::rotate_token),
            routes!(retention::get_retention, retention::set_retention),
            routes!(tenants::create_tenant, tenants::list_tenants),
            routes!(
                tenants::get_tenant,
                tenants::update_tenant,
                tenants::delete_tenant
            ),
            routes!(wabas::get_waba, wabas::share_waba),
        ],
    )
}

/// The API's OpenAPI document, as served at `/admin/v1/openapi.json`.
pub fn document() -> utoipa::openapi::OpenApi {
    routes().into_openapi()
}

pub fn router(state: Arc<AdminState>) -> Router {
    let (routes, document) = routes().split_for_parts();
    let auditor = Auditor {
        log: state.audit.clone(),
        unaudited: UNAUDITED,
        operator_actions: OPERATOR_ACTIONS,
    };
    let routes = routes.layer(axum::middleware::from_fn_with_state(
        auditor,
        record_changes,
    ));
    http_api::finish_router(routes, "/admin/v1/openapi.json", document).with_state(state)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_committed_document_is_the_generated_one() {
        http_api::openapi::assert_committed(super::document(), "admin.json");
    }

    #[test]
    fn every_operation_names_who_may_call_it() {
        let operations = http_api::openapi::operation_scopes(&super::document());
        assert_eq!(operations.len(), 39);
        for (operation, scopes) in operations {
            assert!(
                matches!(&scopes[..], [one] if one == "operator" || one == "tenant_admin"),
                "{operation} names {scopes:?}"
            );
        }
    }
}
