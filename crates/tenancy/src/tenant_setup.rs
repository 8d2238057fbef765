//! Setting a tenant up, one way for everyone who does it: the admin API, the local demo
//! seed and the tests. A tenant is made; its own Meta app is connected with its secrets
//! encrypted under the tenant's context; its numbers are connected once Meta confirms them
//! for the token (`numbers::NumberConnector`); its API keys are issued.

use crate::access::{NewApiKey, Role};
use crate::cloud_api::CloudApiClient;
use crate::domain::retention::Retention;
use crate::domain::tenant::{
    MetaApp, PhoneNumber, Tenant, TenantId, TenantStatus, token_fingerprint,
};
use crate::numbers::{ConnectError, ConnectNumber, NumberConnector};
use crate::secret::Secret;
use crate::secret_store::{SecretContext, SecretError, SecretPurpose, SecretStore};
use crate::store::TenantStore;
use crate::store::{PutOutcome, Store, StoreError};
use wagate_access::store::ApiKeyStore;

#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("a tenant with id '{0}' exists")]
    TenantTaken(TenantId),
    #[error("there is no such tenant")]
    NoTenant,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Secret(#[from] SecretError),
}

/// A tenant's own Meta app as an admin gives it: the secrets in plain text, once.
pub struct MetaAppSecrets<'a> {
    pub app_id: &'a str,
    pub app_secret: &'a Secret,
    pub verify_token: &'a Secret,
}

pub struct TenantSetup {
    store: Store,
    secrets: SecretStore,
    numbers: NumberConnector,
}

impl TenantSetup {
    pub fn new(store: Store, secrets: SecretStore, cloud_api: CloudApiClient) -> Self {
        Self {
            numbers: NumberConnector::new(store.clone(), secrets.clone(), cloud_api),
            store,
            secrets,
        }
    }

    /// A new, active tenant; refused when the id is taken.
    pub async fn create(
        &self,
        id: &TenantId,
        name: &str,
        retention: Retention,
    ) -> Result<Tenant, SetupError> {
        let tenant = Tenant {
            id: id.clone(),
            name: name.to_owned(),
            status: TenantStatus::Active,
            retention,
            consent: Default::default(),
            content: Default::default(),
            meta_app: None,
            sending_stopped: None,
        };
        match self
            .store
            .repo::<TenantStore>()
            .create_tenant(&tenant)
            .await?
        {
            PutOutcome::Stored => Ok(tenant),
            PutOutcome::Duplicate => Err(SetupError::TenantTaken(id.clone())),
        }
    }

    /// Connects (or replaces) the tenant's own Meta app; its webhooks then come to
    /// `/webhook/{tenant}`, verified with its secret.
    pub async fn connect_meta_app(
        &self,
        tenant: &TenantId,
        app: &MetaAppSecrets<'_>,
        now: i64,
    ) -> Result<MetaApp, SetupError> {
        let context = |purpose| SecretContext::tenant(purpose, tenant.as_str());
        let app_secret_ciphertext = self
            .secrets
            .encrypt(
                app.app_secret.expose(),
                &context(SecretPurpose::MetaAppSecret),
            )
            .await?;
        let verify_token_ciphertext = self
            .secrets
            .encrypt(
                app.verify_token.expose(),
                &context(SecretPurpose::MetaVerifyToken),
            )
            .await?;
        let meta_app = MetaApp {
            app_id: app.app_id.to_owned(),
            app_secret_ciphertext,
            verify_token_ciphertext,
            secret_fingerprint: Some(token_fingerprint(app.app_secret.expose())),
            set_at: Some(now),
        };
        if !self
            .store
            .repo::<TenantStore>()
            .set_meta_app(tenant, Some(&meta_app))
            .await?
        {
            return Err(SetupError::NoTenant);
        }
        Ok(meta_app)
    }

    /// Connects a number after Meta confirmed that the token reaches it and its account.
    pub async fn connect_number(
        &self,
        number: ConnectNumber<'_>,
    ) -> Result<PhoneNumber, ConnectError> {
        self.numbers.connect(number).await
    }

    /// Issues an API key; its secret is in the answer only.
    pub async fn issue_key(
        &self,
        tenant: &TenantId,
        name: &str,
        role: Role,
        expires_at: Option<i64>,
        now: i64,
    ) -> Result<NewApiKey, StoreError> {
        let made = NewApiKey::generate(tenant, name, role, expires_at, now);
        self.store
            .repo::<ApiKeyStore>()
            .put_api_key(&made.record)
            .await?;
        Ok(made)
    }
}
