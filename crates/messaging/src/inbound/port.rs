//! What processing an inbound event needs from the rest of the system: the stores it
//! reads and writes, one port per kind of stored thing. What it applied it publishes as
//! domain events to the worker's subscribers (`crate::events`). The worker runs on the DynamoDB repositories, which implement
//! the ports themselves; the unit tests on in-memory fakes.

use std::future::Future;

use crate::domain::audit::AuditFact;
use crate::domain::tenant::TenantId;
use crate::store::contact::ContactRecords;
use crate::store::contact::consent::ConsentRecords;
use crate::store::contact::resolve::ContactResolution;
use crate::store::conversation::ConversationStates;
use crate::store::event::TenantEventLog;
use crate::store::message::delivery::DeliveryStates;
use crate::store::message::inbound::InboundMessages;
use crate::store::number::NumberRecords;
use crate::store::template::TemplateStates;
use crate::store::{
    ContactStore, ConversationStore, MessageStore, NumberStore, TemplateStore, TenantEventStore,
};
use crate::tenants::TenantDirectory;
use crate::tenants::Tenants;

/// The stores the inbound processor uses. Every write is idempotent: applying the same
/// event twice leaves what applying it once left.
pub trait InboundStore: Send + Sync {
    fn tenants(&self) -> &impl Tenants;
    fn contacts(&self) -> &(impl ContactResolution + ContactRecords + ConsentRecords);
    fn messages(&self) -> &(impl InboundMessages + DeliveryStates);
    fn conversations(&self) -> &impl ConversationStates;
    fn templates(&self) -> &impl TemplateStates;
    fn numbers(&self) -> &impl NumberRecords;
    fn tenant_events(&self) -> &impl TenantEventLog;
    /// Where consent changes made by the person or by Meta, not through an API, are
    /// recorded.
    fn audit_trail(&self) -> &impl AuditTrail;
}

/// The tenant's audit log as the inbound processor writes to it (compliance implements it
/// with the hash-chained log).
pub trait AuditTrail: Send + Sync {
    type Error: std::error::Error + Send + Sync + 'static;

    /// Appends `fact` to the tenant's audit log, kept until `expires_at`; appended, or
    /// queued to be when appending fails.
    fn record_fact(
        &self,
        tenant: &TenantId,
        fact: AuditFact,
        expires_at: i64,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send;
}

/// The worker's stores: tenants through the directory's cache, the rest from the table's
/// repositories, each implementing its ports itself.
#[derive(Clone)]
pub struct InboundTables<A> {
    tenants: TenantDirectory,
    contacts: ContactStore,
    messages: MessageStore,
    conversations: ConversationStore,
    templates: TemplateStore,
    numbers: NumberStore,
    tenant_events: TenantEventStore,
    audit: A,
}

impl<A: AuditTrail> InboundTables<A> {
    pub fn new(tenants: TenantDirectory, audit: A) -> Self {
        let store = tenants.store();
        Self {
            contacts: store.repo(),
            messages: store.repo(),
            conversations: store.repo(),
            templates: store.repo(),
            numbers: store.repo(),
            tenant_events: store.repo(),
            tenants,
            audit,
        }
    }
}

impl<A: AuditTrail> InboundStore for InboundTables<A> {
    fn tenants(&self) -> &impl Tenants {
        &self.tenants
    }

    fn contacts(&self) -> &(impl ContactResolution + ContactRecords + ConsentRecords) {
        &self.contacts
    }

    fn messages(&self) -> &(impl InboundMessages + DeliveryStates) {
        &self.messages
    }

    fn conversations(&self) -> &impl ConversationStates {
        &self.conversations
    }

    fn templates(&self) -> &impl TemplateStates {
        &self.templates
    }

    fn numbers(&self) -> &impl NumberRecords {
        &self.numbers
    }

    fn tenant_events(&self) -> &impl TenantEventLog {
        &self.tenant_events
    }

    fn audit_trail(&self) -> &impl AuditTrail {
        &self.audit
    }
}
