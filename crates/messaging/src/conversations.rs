//! A tenant's conversations as the business API reads them: the list of who wrote and who
//! was answered, a contact's messages page by page, and one message by its id, each
//! message with the delivery progress of its wamid. Handlers call this, not the table.

use crate::store::ContactStore;
use crate::store::MessageStore;
use std::collections::HashMap;

use crate::domain::conversation::ConversationFilter;
use crate::domain::conversation::{DeliveryProgress, StoredMessage};
use crate::domain::message_id::{MessageId, is_contact_id};
use crate::domain::tenant::TenantId;
use crate::store::ConversationStore;
use crate::store::conversation::listing::ConversationPage;
use crate::store::cursor::Cursor;
use crate::store::{Store, StoreError};

/// Messages with the delivery progress of the wamids among them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessagesPage {
    /// Newest first, each with its public reference.
    pub messages: Vec<(MessageId, StoredMessage)>,
    /// By wamid, for the sent messages Meta accepted.
    pub deliveries: HashMap<String, DeliveryProgress>,
    pub next: Option<Cursor>,
}

/// One message and, when Meta accepted it, its wamid's delivery progress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundMessage {
    pub message: StoredMessage,
    pub deliveries: HashMap<String, DeliveryProgress>,
}

#[derive(Clone)]
pub struct Conversations {
    store: Store,
}

impl Conversations {
    pub fn new(store: Store) -> Self {
        Self { store }
    }

    /// Conversations most recently active first, each with its contact, as `filter`
    /// narrows them.
    pub async fn list(
        &self,
        tenant: &TenantId,
        filter: &ConversationFilter<'_>,
        after: Option<&Cursor>,
        limit: i32,
        now: i64,
    ) -> Result<ConversationPage, StoreError> {
        self.store
            .repo::<ConversationStore>()
            .conversations(tenant, filter, after, limit, now)
            .await
    }

    /// The message `reference` names, without its delivery progress; `None` when it is not
    /// the tenant's or has expired.
    pub async fn message(
        &self,
        tenant: &TenantId,
        reference: &MessageId,
        now: i64,
    ) -> Result<Option<StoredMessage>, StoreError> {
        self.store
            .repo::<MessageStore>()
            .message_at(tenant, reference, now)
            .await
    }

    /// The message `reference` names, with its delivery progress.
    pub async fn message_with_deliveries(
        &self,
        tenant: &TenantId,
        reference: &MessageId,
        now: i64,
    ) -> Result<Option<FoundMessage>, StoreError> {
        let Some(message) = self.message(tenant, reference, now).await? else {
            return Ok(None);
        };
        let deliveries = match message.accepted_wamid() {
            Some(wamid) => {
                self.store
                    .repo::<MessageStore>()
                    .delivery_states(tenant, &reference.contact_id, &[wamid], now)
                    .await?
            }
            None => HashMap::new(),
        };
        Ok(Some(FoundMessage {
            message,
            deliveries,
        }))
    }

    /// A page of a live contact's messages, newest first; `None` when the contact is not
    /// the tenant's (or not live).
    pub async fn messages(
        &self,
        tenant: &TenantId,
        contact_id: &str,
        after: Option<&Cursor>,
        limit: i32,
        now: i64,
    ) -> Result<Option<MessagesPage>, StoreError> {
        if !is_contact_id(contact_id)
            || self
                .store
                .repo::<ContactStore>()
                .get_contact(tenant, contact_id, now)
                .await?
                .is_none()
        {
            return Ok(None);
        }
        let page = self
            .store
            .repo::<MessageStore>()
            .conversation_page(tenant, contact_id, after, limit, now)
            .await?;
        let wamids: Vec<&str> = page
            .messages
            .iter()
            .filter_map(|(_, m)| m.accepted_wamid())
            .collect();
        let deliveries = if wamids.is_empty() {
            HashMap::new()
        } else {
            self.store
                .repo::<MessageStore>()
                .delivery_states(tenant, contact_id, &wamids, now)
                .await?
        };
        Ok(Some(MessagesPage {
            messages: page.messages,
            deliveries,
            next: page.next,
        }))
    }
}
