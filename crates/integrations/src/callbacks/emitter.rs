//! Hands events to the callback queue, one message per event and interested endpoint, so
//! that each endpoint's retries are its own. The inbound worker calls this after it has
//! stored an event: a slow or failing receiver costs it nothing, as delivery happens in
//! the callbacks function.

use crate::store::CallbackStore;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::endpoint::CallbackEndpoint;
use super::event::CallbackEvent;
use crate::cache::TtlCache;
use crate::domain::tenant::TenantId;
use crate::queue::QueueError;
use crate::queue::jobs::JobQueue;
use crate::store::{Store, StoreError};

/// How long a container trusts its copy of a tenant's endpoints: a new endpoint receives
/// events within this long.
pub const ENDPOINTS_TTL: Duration = Duration::from_secs(30);

/// One event for one endpoint: the callback queue's message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallbackJob {
    pub endpoint_id: String,
    pub event: CallbackEvent,
}

#[derive(Debug, thiserror::Error)]
pub enum EmitError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Queue(#[from] QueueError),
}

/// A tenant's endpoints, read at most once per [`ENDPOINTS_TTL`] per container.
pub struct EndpointDirectory {
    store: Store,
    cache: TtlCache<TenantId, Arc<Vec<CallbackEndpoint>>>,
}

impl EndpointDirectory {
    pub fn new(store: Store) -> Self {
        Self {
            store,
            cache: TtlCache::new(ENDPOINTS_TTL, 10_000),
        }
    }

    pub async fn of(&self, tenant: &TenantId) -> Result<Arc<Vec<CallbackEndpoint>>, StoreError> {
        if let Some(endpoints) = self.cache.get(tenant) {
            return Ok(endpoints);
        }
        let endpoints = Arc::new(
            self.store
                .repo::<CallbackStore>()
                .callbacks_of(tenant)
                .await?,
        );
        self.cache.insert(tenant.clone(), endpoints.clone());
        Ok(endpoints)
    }

    /// Reads the tenant's endpoints again, past the cache.
    pub async fn refresh(
        &self,
        tenant: &TenantId,
    ) -> Result<Arc<Vec<CallbackEndpoint>>, StoreError> {
        self.cache.remove(tenant);
        self.of(tenant).await
    }
}

/// The callback queue, for the inbound worker's events and for replays.
pub type CallbackQueue = JobQueue;

pub struct CallbackEmitter {
    endpoints: EndpointDirectory,
    queue: CallbackQueue,
}

impl CallbackEmitter {
    pub fn new(store: Store, queue: CallbackQueue) -> Self {
        Self {
            endpoints: EndpointDirectory::new(store),
            queue,
        }
    }

    /// Queues `event` for every endpoint of its tenant that wants it; how many.
    pub async fn emit(&self, tenant: &TenantId, event: &CallbackEvent) -> Result<usize, EmitError> {
        let endpoints = self.endpoints.of(tenant).await?;
        let jobs: Vec<CallbackJob> = endpoints
            .iter()
            .filter(|e| e.wants(event.event_type))
            .map(|endpoint| CallbackJob {
                endpoint_id: endpoint.id.clone(),
                event: event.clone(),
            })
            .collect();
        if !jobs.is_empty() {
            self.queue.send(&jobs).await?;
        }
        Ok(jobs.len())
    }
}
