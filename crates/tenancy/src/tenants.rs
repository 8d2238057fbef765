//! The tenant directory: tenant configuration and the routes from phone number ids and
//! WABA ids to tenants, cached per container so no message pays for a lookup.

use crate::store::NumberStore;
use crate::store::TemplateStore;
use crate::store::TenantStore;
use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use crate::cache::TtlCache;
use crate::domain::tenant::{PhoneNumber, Tenant, TenantId, TenantStatus};
use crate::store::{Store, StoreError};

const TENANT_TTL: Duration = Duration::from_secs(300);

/// A tenant's templates' categories by (WABA, name, language).
pub(crate) type CategoryIndex = Arc<HashMap<(String, String, String), String>>;

/// Unknown ids are remembered briefly, so a burst for an unregistered number costs one read
/// and a newly registered number is routed within half a minute.
const MISS_TTL: Duration = Duration::from_secs(30);
/// A number's settings (pause, throughput, token) reach every sender within a minute.
pub const NUMBER_TTL: Duration = Duration::from_secs(60);
/// A disconnected number's webhooks stop being routed within a minute.
const ROUTE_TTL: Duration = Duration::from_secs(60);
/// A template's new category (Meta recategorises them) reaches every sender within this.
const TEMPLATE_TTL: Duration = Duration::from_secs(300);

/// Cheap to clone: the clones share one set of caches, so the API's handlers and its
/// outbox see a tenant's change at the same moment.
#[derive(Clone)]
pub struct TenantDirectory {
    store: Store,
    caches: Arc<Caches>,
}

struct Caches {
    tenants: TtlCache<TenantId, Option<Tenant>>,
    tenant_misses: TtlCache<TenantId, ()>,
    routes: TtlCache<String, Option<TenantId>>,
    route_misses: TtlCache<String, ()>,
    numbers: TtlCache<(TenantId, String), Option<PhoneNumber>>,
    /// A tenant's templates' categories, read only for a recipient who stopped marketing.
    template_categories: TtlCache<TenantId, CategoryIndex>,
}

impl TenantDirectory {
    pub fn new(store: Store) -> Self {
        Self::with_tenant_ttl(store, TENANT_TTL)
    }

    /// A directory that trusts a tenant's settings for `tenant_ttl`: the API keeps it
    /// short, so that suspending a tenant stops its calls within that time.
    pub fn with_tenant_ttl(store: Store, tenant_ttl: Duration) -> Self {
        Self {
            store,
            caches: Arc::new(Caches {
                tenants: TtlCache::new(tenant_ttl, 10_000),
                tenant_misses: TtlCache::new(MISS_TTL, 10_000),
                routes: TtlCache::new(ROUTE_TTL, 100_000),
                route_misses: TtlCache::new(MISS_TTL, 100_000),
                numbers: TtlCache::new(NUMBER_TTL, 10_000),
                template_categories: TtlCache::new(TEMPLATE_TTL, 1_000),
            }),
        }
    }

    /// For the use cases that read beside the directory (here and in the context crates);
    /// handlers go through the services.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The categories of the tenant's templates by name and language.
    pub async fn template_categories(
        &self,
        tenant: &TenantId,
    ) -> Result<CategoryIndex, StoreError> {
        if let Some(found) = self.caches.template_categories.get(tenant) {
            return Ok(found);
        }
        let index: CategoryIndex = Arc::new(
            self.store
                .repo::<TemplateStore>()
                .templates_of(tenant)
                .await?
                .into_iter()
                .filter_map(|t| Some(((t.waba_id?, t.name?, t.language?), t.category?)))
                .collect(),
        );
        self.caches
            .template_categories
            .insert(tenant.clone(), index.clone());
        Ok(index)
    }

    pub async fn tenant_for_phone_number(
        &self,
        phone_number_id: &str,
    ) -> Result<Option<TenantId>, StoreError> {
        let key = format!("pn:{phone_number_id}");
        self.route(
            key,
            self.store
                .repo::<NumberStore>()
                .tenant_for_phone_number(phone_number_id),
        )
        .await
    }

    pub async fn tenant_for_waba(&self, waba_id: &str) -> Result<Option<TenantId>, StoreError> {
        let key = format!("waba:{waba_id}");
        self.route(
            key,
            self.store.repo::<NumberStore>().tenant_for_waba(waba_id),
        )
        .await
    }

    async fn route(
        &self,
        key: String,
        lookup: impl std::future::Future<Output = Result<Option<TenantId>, StoreError>>,
    ) -> Result<Option<TenantId>, StoreError> {
        if let Some(found) = self.caches.routes.get(&key) {
            return Ok(found);
        }
        if self.caches.route_misses.get(&key).is_some() {
            return Ok(None);
        }
        let found = lookup.await?;
        match &found {
            Some(_) => self.caches.routes.insert(key, found.clone()),
            None => self.caches.route_misses.insert(key, ()),
        }
        Ok(found)
    }
}

/// Stops sends from a number that was just removed (disconnected, or its tenant deleted).
/// Senders hold a cached copy of the number for up to [`NUMBER_TTL`]: their next send slot
/// moves past it, and by then the number is gone from every cache.
pub async fn hold_removed_number(
    store: &Store,
    tenant: &TenantId,
    phone_number_id: &str,
    now: i64,
) -> Result<(), StoreError> {
    let hold_until_us = (now + 2 * NUMBER_TTL.as_secs() as i64) * 1_000_000;
    store
        .repo::<NumberStore>()
        .move_pace_forward(tenant, phone_number_id, hold_until_us, hold_until_us)
        .await?;
    Ok(())
}

/// Tenants and their numbers as senders and the inbound processor read them.
pub trait Tenants: Send + Sync {
    /// The tenant, `None` when it does not exist or is being deleted: the pipeline and the
    /// business API treat a tenant in deletion as gone.
    fn tenant(
        &self,
        id: &TenantId,
    ) -> impl Future<Output = Result<Option<Tenant>, StoreError>> + Send;

    /// One of a tenant's phone numbers, as senders need it.
    fn phone_number(
        &self,
        tenant: &TenantId,
        phone_number_id: &str,
    ) -> impl Future<Output = Result<Option<PhoneNumber>, StoreError>> + Send;

    /// Reads a phone number again, past the cache (after a pause, or a refused token).
    fn refresh_phone_number(
        &self,
        tenant: &TenantId,
        phone_number_id: &str,
    ) -> impl Future<Output = Result<Option<PhoneNumber>, StoreError>> + Send;

    /// Forgets a tenant, so the next read sees a change this container made.
    fn forget_tenant(&self, id: &TenantId);
}

impl Tenants for TenantDirectory {
    async fn tenant(&self, id: &TenantId) -> Result<Option<Tenant>, StoreError> {
        if let Some(found) = self.caches.tenants.get(id) {
            return Ok(found);
        }
        if self.caches.tenant_misses.get(id).is_some() {
            return Ok(None);
        }
        let found = self
            .store
            .repo::<TenantStore>()
            .get_tenant(id)
            .await?
            .filter(|t| t.status != TenantStatus::Deleting);
        match &found {
            Some(_) => self.caches.tenants.insert(id.clone(), found.clone()),
            None => self.caches.tenant_misses.insert(id.clone(), ()),
        }
        Ok(found)
    }

    async fn phone_number(
        &self,
        tenant: &TenantId,
        phone_number_id: &str,
    ) -> Result<Option<PhoneNumber>, StoreError> {
        let key = (tenant.clone(), phone_number_id.to_owned());
        if let Some(found) = self.caches.numbers.get(&key) {
            return Ok(found);
        }
        self.refresh_phone_number(tenant, phone_number_id).await
    }

    async fn refresh_phone_number(
        &self,
        tenant: &TenantId,
        phone_number_id: &str,
    ) -> Result<Option<PhoneNumber>, StoreError> {
        let found = self
            .store
            .repo::<NumberStore>()
            .get_phone_number(tenant, phone_number_id)
            .await?;
        self.caches
            .numbers
            .insert((tenant.clone(), phone_number_id.to_owned()), found.clone());
        Ok(found)
    }

    fn forget_tenant(&self, id: &TenantId) {
        self.caches.tenants.remove(id);
    }
}
