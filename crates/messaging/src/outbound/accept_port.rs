//! What accepting a send needs: the stores it checks and records in, one port per kind
//! of stored thing, and the queue its job goes to. The API runs on the DynamoDB
//! repositories, which implement the ports themselves, and SQS; the unit tests on
//! in-memory fakes.

use std::future::Future;

use super::consent::TemplateCategories;
use super::enqueue::OutboundQueue;
use super::job::OutboundJob;
use crate::queue::QueueError;
use crate::store::contact::ContactRecords;
use crate::store::contact::activity::ContactActivity;
use crate::store::contact::consent::ConsentRecords;
use crate::store::contact::resolve::ContactResolution;
use crate::store::conversation::ConversationStates;
use crate::store::idempotency::IdempotencyClaims;
use crate::store::message::outbound::OutboundMessages;
use crate::store::{ContactStore, ConversationStore, IdempotencyStore, MessageStore};
use crate::tenants::{TenantDirectory, Tenants};

/// The stores accepting a send uses.
pub trait AcceptStore: Send + Sync {
    fn tenants(&self) -> &(impl Tenants + TemplateCategories);
    fn idempotency(&self) -> &impl IdempotencyClaims;
    fn contacts(
        &self,
    ) -> &(impl ContactResolution + ContactRecords + ConsentRecords + ContactActivity);
    fn messages(&self) -> &impl OutboundMessages;
    fn conversations(&self) -> &impl ConversationStates;
}

/// Where accepted jobs go.
pub trait JobSink: Send + Sync {
    fn enqueue(&self, job: &OutboundJob) -> impl Future<Output = Result<(), QueueError>> + Send;
}

impl JobSink for OutboundQueue {
    async fn enqueue(&self, job: &OutboundJob) -> Result<(), QueueError> {
        self.enqueue_jobs(std::slice::from_ref(job)).await
    }
}

/// The API's stores: tenants and numbers through the directory's caches, the rest from
/// the table's repositories, each implementing its ports itself.
#[derive(Clone)]
pub struct AcceptTables {
    tenants: TenantDirectory,
    idempotency: IdempotencyStore,
    contacts: ContactStore,
    messages: MessageStore,
    conversations: ConversationStore,
}

impl AcceptTables {
    pub fn new(tenants: TenantDirectory) -> Self {
        let store = tenants.store();
        Self {
            idempotency: store.repo(),
            contacts: store.repo(),
            messages: store.repo(),
            conversations: store.repo(),
            tenants,
        }
    }
}

impl AcceptStore for AcceptTables {
    fn tenants(&self) -> &(impl Tenants + TemplateCategories) {
        &self.tenants
    }

    fn idempotency(&self) -> &impl IdempotencyClaims {
        &self.idempotency
    }

    fn contacts(
        &self,
    ) -> &(impl ContactResolution + ContactRecords + ConsentRecords + ContactActivity) {
        &self.contacts
    }

    fn messages(&self) -> &impl OutboundMessages {
        &self.messages
    }

    fn conversations(&self) -> &impl ConversationStates {
        &self.conversations
    }
}
