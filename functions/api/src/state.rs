//! What the business API works with, built once per container, and the key that calls it.

use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::FromRequestParts;
use http::request::Parts;
use wagate_audit::AuditLog;
use wagate_integrations::callbacks::registry::CallbackRegistry;
use wagate_messaging::access::{Authenticator, Needs, Permission, Principal};
use wagate_messaging::contacts::Contacts;
use wagate_messaging::conversations::Conversations;
use wagate_messaging::events::Subscribers;
use wagate_messaging::outbound::{OutboundQueue, Outbox, ReadReceipts};
use wagate_messaging::store::Store;
use wagate_messaging::store::cursor::CursorKeys;
use wagate_messaging::templates::TemplateManager;
use wagate_messaging::tenants::TenantDirectory;
use wagate_reporting::store::UsageStore;

use http_api::audit;
use http_api::error::ApiError;
use http_api::rate_limit::{KeyRateLimit, Rates};
use http_api::source::source_address;
use http_api::unix_now;

/// A tenant's settings (suspension above all) reach the API within this long.
const TENANT_TTL: Duration = Duration::from_secs(30);

pub struct BusinessState {
    /// Tenants as the API's short-lived cache holds them (shared with the outbox).
    pub tenants: TenantDirectory,
    pub outbox: Outbox,
    pub contacts: Contacts,
    pub conversations: Conversations,
    pub receipts: ReadReceipts,
    pub callbacks: CallbackRegistry,
    pub templates: TemplateManager,
    pub auth: Authenticator,
    pub rate_limit: KeyRateLimit,
    /// Seals the listings' cursors.
    pub cursors: CursorKeys,
    /// The numbers' daily usage, as the reporting worker counted it.
    pub usage: UsageStore,
    /// Where the changes this API makes are recorded.
    pub audit: AuditLog,
}

impl BusinessState {
    /// Publishes what accepting a send does to `subscribers` (`crate::subscribers`).
    pub fn with_subscribers(mut self, subscribers: Subscribers) -> Self {
        self.outbox = self.outbox.with_subscribers(subscribers);
        self
    }

    // Each argument is a client or service main builds once per container.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        store: Store,
        queue: OutboundQueue,
        receipts: ReadReceipts,
        callbacks: CallbackRegistry,
        templates: TemplateManager,
        rates: Rates,
        cursors: CursorKeys,
        audit: AuditLog,
    ) -> Self {
        let tenants = TenantDirectory::with_tenant_ttl(store.clone(), TENANT_TTL);
        Self {
            outbox: Outbox::new(tenants.clone(), queue),
            tenants,
            contacts: Contacts::new(store.clone()),
            conversations: Conversations::new(store.clone()),
            usage: store.repo(),
            cursors,
            receipts,
            callbacks,
            templates,
            rate_limit: KeyRateLimit::new(rates),
            auth: Authenticator::new(store),
            audit,
        }
    }
}

/// The caller of a business route, found allowed what `N` names before anything else of
/// the request is read: a route's permission is its handler's signature
/// (`key: Allowed<needs::Contacts>`), and its OpenAPI entry names the same permission as
/// its scope (checked by `tests/route_permissions.rs` for every route).
pub struct Allowed<N>(pub Principal, PhantomData<N>);

impl<N> Allowed<N> {
    /// A further permission the request's content calls for (sending a template).
    pub fn require(&self, permission: Permission) -> Result<(), ApiError> {
        if self.0.allows(permission) {
            Ok(())
        } else {
            Err(ApiError::Forbidden(permission.refusal()))
        }
    }
}

impl<N: Needs> FromRequestParts<Arc<BusinessState>> for Allowed<N> {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<BusinessState>,
    ) -> Result<Self, Self::Rejection> {
        let header = parts
            .headers
            .get(http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        let principal = state
            .auth
            .authenticate(header, unix_now(), source_address(parts))
            .await?;
        state.rate_limit.check_key(&principal)?;
        audit::note_actor(principal.actor.reference());
        audit::note_tenant(principal.tenant_id.as_str());
        let allowed = Allowed(principal, PhantomData);
        allowed.require(N::PERMISSION)?;
        Ok(allowed)
    }
}
