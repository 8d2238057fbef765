//! The admin API, `/admin/v1/...`: tenants, their API keys and retention settings, for
//! the operator and each tenant's admin keys.

use std::sync::Arc;

use axum::Router;
use axum::routing::get;
use utoipa::OpenApi;

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
    info(title = "wagate admin API", version = "1", description = "Tenants, their API keys, Meta app, phone numbers (and who holds a WhatsApp Business Account), retention settings, and a person's erasure and export. Authenticate with `Authorization: Bearer <operator key or a tenant's admin key>`."),
    paths(
        tenants::create_tenant, tenants::list_tenants, tenants::get_tenant, tenants::update_tenant,
        tenants::delete_tenant,
        keys::create_key, keys::list_keys, keys::revoke_key,
        retention::get_retention, retention::set_retention,
        consent::get_consent_settings, consent::set_consent_settings,
        content::get_content_policy, content::set_content_policy,
        numbers::connect_number, numbers::list_numbers, numbers::rotate_token,
        numbers::disconnect_number,
        meta_app::connect_meta_app, meta_app::get_meta_app, meta_app::disconnect_meta_app,
        wabas::get_waba, wabas::share_waba,
        maintenance::seal_personal_data,
        maintenance::start_ageing,
        maintenance::latest_ageing,
        maintenance::adopt_audit_chains,
        erasures::create_erasure, erasures::list_erasures, erasures::get_erasure,
        erasures::verify_receipt,
        exports::create_export, exports::list_exports, exports::get_export,
        contacts::correct_contact,
        audit::list_tenant_audit, audit::verify_tenant_audit,
        audit::list_operator_audit, audit::verify_operator_audit,
    ),
    modifiers(&BearerAuth),
)]
pub struct AdminApi;

pub fn router(state: Arc<AdminState>) -> Router {
    let routes = Router::new()
        .route(
            "/admin/v1/tenants",
            get(tenants::list_tenants).post(tenants::create_tenant),
        )
        .route(
            "/admin/v1/tenants/{tenant_id}",
            get(tenants::get_tenant)
                .patch(tenants::update_tenant)
                .delete(tenants::delete_tenant),
        )
        .route(
            "/admin/v1/tenants/{tenant_id}/keys",
            get(keys::list_keys).post(keys::create_key),
        )
        .route(
            "/admin/v1/tenants/{tenant_id}/keys/{key_id}",
            axum::routing::delete(keys::revoke_key),
        )
        .route(
            "/admin/v1/tenants/{tenant_id}/consent",
            get(consent::get_consent_settings).put(consent::set_consent_settings),
        )
        .route(
            "/admin/v1/tenants/{tenant_id}/content",
            get(content::get_content_policy).put(content::set_content_policy),
        )
        .route(
            "/admin/v1/tenants/{tenant_id}/retention",
            get(retention::get_retention).put(retention::set_retention),
        )
        .route(
            "/admin/v1/tenants/{tenant_id}/numbers",
            get(numbers::list_numbers),
        )
        .route(
            "/admin/v1/tenants/{tenant_id}/numbers/{phone_number_id}",
            axum::routing::put(numbers::connect_number).delete(numbers::disconnect_number),
        )
        .route(
            "/admin/v1/tenants/{tenant_id}/numbers/{phone_number_id}/token",
            axum::routing::put(numbers::rotate_token),
        )
        .route(
            "/admin/v1/tenants/{tenant_id}/meta-app",
            get(meta_app::get_meta_app)
                .put(meta_app::connect_meta_app)
                .delete(meta_app::disconnect_meta_app),
        )
        .route(
            "/admin/v1/wabas/{waba_id}",
            get(wabas::get_waba).put(wabas::share_waba),
        )
        .route(
            "/admin/v1/tenants/{tenant_id}/erasures",
            get(erasures::list_erasures).post(erasures::create_erasure),
        )
        .route(
            "/admin/v1/tenants/{tenant_id}/erasures/{erasure_id}",
            get(erasures::get_erasure),
        )
        .route(
            "/admin/v1/tenants/{tenant_id}/exports",
            get(exports::list_exports).post(exports::create_export),
        )
        .route(
            "/admin/v1/tenants/{tenant_id}/exports/{export_id}",
            get(exports::get_export),
        )
        .route(
            "/admin/v1/tenants/{tenant_id}/contacts/{contact_id}",
            axum::routing::patch(contacts::correct_contact),
        )
        .route(
            "/admin/v1/erasure-receipts/verify",
            axum::routing::post(erasures::verify_receipt),
        )
        .route(
            "/admin/v1/maintenance/seal-personal-data",
            axum::routing::post(maintenance::seal_personal_data),
        )
        .route(
            "/admin/v1/maintenance/ageing",
            axum::routing::post(maintenance::start_ageing).get(maintenance::latest_ageing),
        )
        .route(
            "/admin/v1/maintenance/audit-checkpoints",
            axum::routing::post(maintenance::adopt_audit_chains),
        )
        .route(
            "/admin/v1/tenants/{tenant_id}/audit",
            get(audit::list_tenant_audit),
        )
        .route(
            "/admin/v1/tenants/{tenant_id}/audit/verify",
            axum::routing::post(audit::verify_tenant_audit),
        )
        .route("/admin/v1/audit", get(audit::list_operator_audit))
        .route(
            "/admin/v1/audit/verify",
            axum::routing::post(audit::verify_operator_audit),
        );
    let auditor = Auditor {
        log: state.audit.clone(),
        unaudited: UNAUDITED,
        operator_actions: OPERATOR_ACTIONS,
    };
    let routes = routes.layer(axum::middleware::from_fn_with_state(
        auditor,
        record_changes,
    ));
    http_api::finish_router::<AdminApi, _>(routes, "/admin/v1/openapi.json").with_state(state)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_committed_document_is_the_generated_one() {
        http_api::openapi::assert_committed::<super::AdminApi>("admin.json");
    }
}
