//! What a tenant does with its callbacks: register an endpoint (its signing secret made,
//! shown once and kept only as KMS ciphertext), list and delete them, and replay the events
//! of a time range from the delivery log.

use super::emitter::{CallbackJob, CallbackQueue};
use super::endpoint::{
    CallbackEndpoint, MAX_ENDPOINTS, check_url, new_endpoint_id, new_signing_secret,
};
use super::event::{CallbackEvent, EventType};
use crate::callbacks::log::DeliveryRecord;
use crate::domain::tenant::{TenantId, token_fingerprint};
use crate::queue::QueueError;
use crate::secret::Secret;
use crate::secret_store::{SecretContext, SecretError, SecretPurpose, SecretStore};
use crate::store::CallbackStore;
use crate::store::cursor::Cursor;
use crate::store::{Store, StoreError};

/// Events re-queued by one replay call; a longer range continues from its cursor.
pub const MAX_REPLAYED: usize = 1_000;
/// Logged deliveries one replay call reads at most, whatever it finds (deliveries to
/// deleted endpoints, expired ones): a call always ends in bounded time.
pub const MAX_EXAMINED: usize = 5_000;
/// Logged deliveries read per query.
const PAGE: usize = 250;

#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("url {0}")]
    BadUrl(&'static str),
    #[error("a tenant has at most {MAX_ENDPOINTS} callback endpoints")]
    TooMany,
    #[error("the tenant has no such callback endpoint")]
    UnknownEndpoint,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Secret(#[from] SecretError),
    #[error(transparent)]
    Queue(#[from] QueueError),
}

/// The outcome of one replay call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replayed {
    pub queued: usize,
    /// Where the next call goes on, when it stopped before the end of the range (more than
    /// [`MAX_REPLAYED`] events, or [`MAX_EXAMINED`] deliveries read).
    pub next: Option<Cursor>,
}

pub struct CallbackRegistry {
    store: Store,
    secrets: SecretStore,
    queue: CallbackQueue,
    /// Local stacks only: http and internal addresses are admitted.
    allow_insecure_urls: bool,
    max_examined: usize,
}

impl CallbackRegistry {
    pub fn new(
        store: Store,
        secrets: SecretStore,
        queue: CallbackQueue,
        allow_insecure_urls: bool,
    ) -> Self {
        Self {
            store,
            secrets,
            queue,
            allow_insecure_urls,
            max_examined: MAX_EXAMINED,
        }
    }

    /// Reads at most `deliveries` logged deliveries per replay call (tests make it small).
    pub fn with_replay_examined(mut self, deliveries: usize) -> Self {
        self.max_examined = deliveries.max(1);
        self
    }

    /// Registers an endpoint; its signing secret, to be shown once.
    pub async fn register(
        &self,
        tenant: &TenantId,
        url: &str,
        events: Vec<EventType>,
        now: i64,
    ) -> Result<(CallbackEndpoint, Secret), RegistryError> {
        check_url(url, self.allow_insecure_urls).map_err(RegistryError::BadUrl)?;
        if self
            .store
            .repo::<CallbackStore>()
            .callbacks_of(tenant)
            .await?
            .len()
            >= MAX_ENDPOINTS
        {
            return Err(RegistryError::TooMany);
        }
        let secret = new_signing_secret();
        let context = SecretContext::tenant(SecretPurpose::CallbackSigningSecret, tenant.as_str());
        let endpoint = CallbackEndpoint {
            id: new_endpoint_id(),
            tenant_id: tenant.clone(),
            url: url.to_owned(),
            events,
            secret_ciphertext: self.secrets.encrypt(&secret, &context).await?,
            secret_fingerprint: token_fingerprint(&secret),
            created_at: now,
        };
        self.store
            .repo::<CallbackStore>()
            .put_callback(&endpoint)
            .await?;
        Ok((endpoint, Secret::new(secret)))
    }

    pub async fn endpoints(&self, tenant: &TenantId) -> Result<Vec<CallbackEndpoint>, StoreError> {
        self.store
            .repo::<CallbackStore>()
            .callbacks_of(tenant)
            .await
    }

    /// Deliveries of the events created from `from` to `to`, oldest first, a page at a
    /// time.
    pub async fn deliveries(
        &self,
        tenant: &TenantId,
        from: i64,
        to: i64,
        after: Option<&Cursor>,
        limit: i32,
        now: i64,
    ) -> Result<(Vec<DeliveryRecord>, Option<Cursor>), StoreError> {
        self.store
            .repo::<CallbackStore>()
            .deliveries(tenant, from, to, after, limit, now)
            .await
    }

    pub async fn delete(&self, tenant: &TenantId, id: &str) -> Result<bool, StoreError> {
        self.store
            .repo::<CallbackStore>()
            .delete_callback(tenant, id)
            .await
    }

    /// Queues again every logged delivery of events created in `[from, to]`, for
    /// `endpoint` only when given, from `after` (a previous call's `next`). Deliveries to
    /// endpoints deleted since are left out.
    pub async fn replay(
        &self,
        tenant: &TenantId,
        from: i64,
        to: i64,
        endpoint: Option<&str>,
        after: Option<&Cursor>,
        now: i64,
    ) -> Result<Replayed, RegistryError> {
        let live: Vec<String> = self
            .store
            .repo::<CallbackStore>()
            .callbacks_of(tenant)
            .await?
            .into_iter()
            .map(|e| e.id)
            .filter(|id| endpoint.is_none_or(|wanted| wanted == id))
            .collect();
        if endpoint.is_some() && live.is_empty() {
            return Err(RegistryError::UnknownEndpoint);
        }
        let mut jobs = Vec::new();
        let mut cursor = after.cloned();
        let mut examined = 0;
        loop {
            // No page can take the call past either bound.
            let room = (MAX_REPLAYED - jobs.len())
                .min(self.max_examined - examined)
                .min(PAGE);
            let (records, next) = self
                .store
                .repo::<CallbackStore>()
                .deliveries(tenant, from, to, cursor.as_ref(), room as i32, now)
                .await?;
            examined += room;
            for record in records {
                if !live.contains(&record.endpoint_id) {
                    continue;
                }
                // Kept without its body (a tenant that stores no content): nothing to send.
                if record.body.is_empty() {
                    continue;
                }
                match serde_json::from_str::<CallbackEvent>(&record.body) {
                    Ok(event) => jobs.push(CallbackJob {
                        endpoint_id: record.endpoint_id,
                        event,
                    }),
                    Err(_) => {
                        tracing::warn!(tenant = %tenant, "a logged callback event is unreadable; not replayed")
                    }
                }
            }
            cursor = next;
            if cursor.is_none() || jobs.len() >= MAX_REPLAYED || examined >= self.max_examined {
                break;
            }
        }
        self.queue.send(&jobs).await?;
        Ok(Replayed {
            queued: jobs.len(),
            next: cursor,
        })
    }
}
