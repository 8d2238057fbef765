//! What the admin API works with, built once per container, and who is calling it.

use std::sync::Arc;

use axum::extract::{FromRequestParts, RawPathParams};
use axum::http::request::Parts;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use wagate_audit::AuditLog;
use wagate_compliance::erasure::{PersonEraser, RetentionAger, SealingSweeper, TenantEraser};
use wagate_compliance::export::PersonExporter;
use wagate_messaging::access::{Authenticator, OPERATOR_KEY_SCHEME, Permission, Principal};
use wagate_messaging::cloud_api::CloudApiClient;
use wagate_messaging::contacts::Contacts;
use wagate_messaging::domain::tenant::{Tenant, TenantId};
use wagate_messaging::secret::Secret;
use wagate_messaging::secret_store::SecretStore;
use wagate_messaging::store::Store;
use wagate_messaging::store::cursor::CursorKeys;
use wagate_messaging::tenant_admin::TenantAdmin;
use wagate_messaging::tenant_setup::TenantSetup;

use http_api::audit;
use http_api::error::ApiError;
use http_api::rate_limit::{KeyRateLimit, Rates};
use http_api::source::source_address;
use http_api::unix_now;

pub struct AdminState {
    /// Makes tenants, connects their Meta apps and numbers, issues keys.
    pub setup: TenantSetup,
    /// Everything else done to a tenant: listing, changing, keys, retention, numbers.
    pub admin: TenantAdmin,
    pub auth: Authenticator,
    pub rate_limit: KeyRateLimit,
    pub deletion: TenantDeletion,
    pub personal_data: PersonalDataJobs,
    /// Seals the listings' cursors.
    pub cursors: CursorKeys,
    /// Where every change made through this API is recorded, and read back.
    pub audit: AuditLog,
    operator_key_sha256: [u8; 32],
}

/// The background work on people's data that the admin API starts.
pub struct PersonalDataJobs {
    /// Queues the sealing of what was written before per-person sealing.
    pub sealing: SealingSweeper,
    /// Erases one person of a tenant, and checks erasure receipts.
    pub erasures: PersonEraser,
    /// Exports one person's data, and hands out its download links.
    pub exports: PersonExporter,
    /// Corrects a contact's details at the person's request.
    pub contacts: Contacts,
    /// Brings stored items under a shorter retention, and lets expired content go.
    pub ageing: RetentionAger,
}

/// How a tenant is deleted: who erases its data, and how long the sweeps wait for every
/// container's cached copy of the tenant to expire.
pub struct TenantDeletion {
    pub eraser: TenantEraser,
    pub delay: std::time::Duration,
}

impl AdminState {
    /// `operator_key` is the decrypted operator key; only its hash is kept.
    // Each argument is a client or service main builds once per container.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        store: Store,
        secrets: SecretStore,
        cloud_api: CloudApiClient,
        operator_key: &Secret,
        rates: Rates,
        deletion: TenantDeletion,
        personal_data: PersonalDataJobs,
        audit: AuditLog,
    ) -> Self {
        Self {
            deletion,
            personal_data,
            cursors: CursorKeys::new(store.clone(), secrets.clone()),
            setup: TenantSetup::new(store.clone(), secrets.clone(), cloud_api),
            rate_limit: KeyRateLimit::new(rates),
            auth: Authenticator::new(store.clone()),
            audit,
            admin: TenantAdmin::new(store, secrets),
            operator_key_sha256: Sha256::digest(operator_key.expose().as_bytes()).into(),
        }
    }

    fn is_operator_key(&self, presented: &str) -> bool {
        let digest: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
        bool::from(digest.ct_eq(&self.operator_key_sha256))
    }
}

/// The caller of an admin route: the operator, or a key of one tenant.
#[derive(Debug, Clone)]
pub enum Caller {
    Operator,
    Tenant(Principal),
}

impl Caller {
    /// Who is asking, as records name them (the audit log, erasure receipts, exports):
    /// `key:<id>`, or `operator`.
    pub fn reference(&self) -> String {
        match self {
            Caller::Operator => "operator".to_owned(),
            Caller::Tenant(p) => p.actor.reference(),
        }
    }

    /// Only the operator manages tenants themselves.
    pub fn require_operator(&self, what: &'static str) -> Result<(), ApiError> {
        match self {
            Caller::Operator => Ok(()),
            Caller::Tenant(_) => Err(ApiError::Forbidden(what)),
        }
    }

    /// The operator, or an admin key of `tenant`. Another tenant's key is told the tenant
    /// does not exist: ids of other tenants are never confirmed.
    pub fn require_tenant_admin(&self, tenant: &TenantId) -> Result<(), ApiError> {
        match self {
            Caller::Operator => Ok(()),
            Caller::Tenant(p) if p.tenant_id != *tenant => Err(ApiError::NotFound("tenant")),
            Caller::Tenant(p) if !p.allows(Permission::Administer) => {
                Err(ApiError::Forbidden(Permission::Administer.refusal()))
            }
            Caller::Tenant(_) => Ok(()),
        }
    }

    async fn authenticate(parts: &Parts, state: &AdminState) -> Result<Self, ApiError> {
        let header = parts
            .headers
            .get(http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        let source = source_address(parts);
        if let Some(key) = header
            .and_then(|h| h.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|k| k.starts_with(OPERATOR_KEY_SCHEME))
        {
            return if state.is_operator_key(key) {
                state.rate_limit.check_operator()?;
                audit::note_actor("operator".to_owned());
                Ok(Caller::Operator)
            } else {
                Err(state
                    .auth
                    .refuse_failure(source, wagate_messaging::access::AuthError::Unknown)
                    .into())
            };
        }
        let principal = state.auth.authenticate(header, unix_now(), source).await?;
        state.rate_limit.check_key(&principal)?;
        audit::note_actor(principal.actor.reference());
        Ok(Caller::Tenant(principal))
    }
}

impl FromRequestParts<Arc<AdminState>> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AdminState>,
    ) -> Result<Self, Self::Rejection> {
        // A route may take the caller twice (`Operator` and `TenantPath`): authenticated and
        // counted against its rate once.
        if let Some(caller) = parts.extensions.get::<Caller>() {
            return Ok(caller.clone());
        }
        let caller = Self::authenticate(parts, state).await?;
        parts.extensions.insert(caller.clone());
        Ok(caller)
    }
}

/// The operator: the only caller of the routes over every tenant (creating, listing,
/// renaming, suspending and deleting tenants; maintenance; the operator's audit log).
/// Taking this in a handler is how a route says so; its document's scope is `operator`.
pub struct Operator;

impl FromRequestParts<Arc<AdminState>> for Operator {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AdminState>,
    ) -> Result<Self, Self::Rejection> {
        Caller::from_request_parts(parts, state)
            .await?
            .require_operator("manage every tenant (only the operator may)")?;
        Ok(Operator)
    }
}

/// The operator or an admin key of some tenant, for a route that finds its tenant in the
/// body: the handler checks that tenant with [`Caller::require_tenant_admin`]. Other keys
/// are refused before the body is read. Its document's scope is `tenant_admin`.
pub struct Administrator(pub Caller);

impl FromRequestParts<Arc<AdminState>> for Administrator {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AdminState>,
    ) -> Result<Self, Self::Rejection> {
        let caller = Caller::from_request_parts(parts, state).await?;
        match &caller {
            Caller::Tenant(p) if !p.allows(Permission::Administer) => {
                Err(ApiError::Forbidden(Permission::Administer.refusal()))
            }
            _ => Ok(Administrator(caller)),
        }
    }
}

/// The tenant a route's `{tenant_id}` names, once the caller was found allowed to
/// administer it: the operator, or an admin key of that very tenant. Taking this in a
/// handler is how a route checks the role; other tenants' ids answer 404. The tenant is
/// not read: the routes of the tenant itself (read, delete) take this.
pub struct TenantPath {
    pub id: TenantId,
    pub caller: Caller,
}

impl FromRequestParts<Arc<AdminState>> for TenantPath {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AdminState>,
    ) -> Result<Self, Self::Rejection> {
        let caller = Caller::from_request_parts(parts, state).await?;
        let params = RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::NotFound("tenant"))?;
        let raw = params
            .iter()
            .find(|(name, _)| *name == "tenant_id")
            .map(|(_, value)| value)
            .ok_or(ApiError::NotFound("tenant"))?;
        let id = TenantId::parse(raw).map_err(|_| ApiError::NotFound("tenant"))?;
        caller.require_tenant_admin(&id)?;
        audit::note_tenant(id.as_str());
        Ok(Self { id, caller })
    }
}

/// Like [`TenantPath`], for the routes that manage a tenant's settings and resources: the
/// tenant is read, and one that does not exist or is being deleted answers 404, so
/// nothing new is written behind its erasure.
pub struct AdministeredTenant {
    pub id: TenantId,
    pub caller: Caller,
    pub tenant: Tenant,
}

impl FromRequestParts<Arc<AdminState>> for AdministeredTenant {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AdminState>,
    ) -> Result<Self, Self::Rejection> {
        let TenantPath { id, caller } = TenantPath::from_request_parts(parts, state).await?;
        let tenant = state
            .admin
            .live_tenant(&id)
            .await?
            .ok_or(ApiError::NotFound("tenant"))?;
        Ok(Self { id, caller, tenant })
    }
}
