//! Messaging's items: contacts with their identities, details, consent and restriction
//! (`contact`), the conversations with them on each number (`conversation`), inbound and outbound messages with their delivery states (`message`), the
//! tenant's account events (`event`) and the send API's idempotency records
//! (`idempotency`). Beside them, under the same paths, the storage every context stands
//! on (`wagate-storage`) and the tenancy's and access's items, which messaging reads.

pub mod contact;
pub mod conversation;
pub mod event;
pub mod idempotency;
pub mod message;

pub use wagate_storage::repository;
pub use wagate_storage::store::*;

pub use wagate_access::store::{ApiKeyStore, api_key};
pub use wagate_tenancy::store::{
    NumberStore, TemplateStore, TenantStore, number, template, tenant,
};

pub use contact::ContactStore;
pub use conversation::ConversationStore;
pub use event::TenantEventStore;
pub use idempotency::IdempotencyStore;
pub use message::MessageStore;
