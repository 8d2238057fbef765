//! Marking a user's message read (the blue ticks), with an optional typing indicator: a
//! direct Cloud API call, not a queued job, because its whole point is to show now. The
//! conversation then counts as read up to that message.

use crate::cloud_api::request::MarkRead;
use crate::cloud_api::{CloudApiClient, SendError};
use crate::domain::conversation::StoredMessage;
use crate::domain::message_id::MessageId;
use crate::domain::tenant::{MetaCallsBlocked, TenantId};
use crate::secret_store::{SecretContext, SecretError, SecretStore};
use crate::store::ConversationStore;
use crate::store::MessageStore;
use crate::store::StoreError;
use crate::store::conversation::ConversationStates;
use crate::tenants::TenantDirectory;
use crate::tenants::Tenants;

#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("message not found")]
    NotFound,
    #[error("only messages the user sent can be marked read")]
    NotInbound,
    #[error("the number that received the message is no longer connected")]
    NumberGone,
    #[error("the tenant does not exist")]
    UnknownTenant,
    #[error(transparent)]
    Blocked(#[from] MetaCallsBlocked),
    #[error("the Cloud API refused to mark the message read")]
    Meta(#[from] SendError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Secret(#[from] SecretError),
}

pub struct ReadReceipts {
    secrets: SecretStore,
    api: CloudApiClient,
}

impl ReadReceipts {
    pub fn new(secrets: SecretStore, api: CloudApiClient) -> Self {
        Self { secrets, api }
    }

    pub async fn mark_read(
        &self,
        directory: &TenantDirectory,
        tenant: &TenantId,
        message: &MessageId,
        typing_indicator: bool,
        now: i64,
    ) -> Result<(), ReadError> {
        directory
            .tenant(tenant)
            .await?
            .ok_or(ReadError::UnknownTenant)?
            .may_call_meta()?;
        let store = directory.store();
        let found = store
            .repo::<MessageStore>()
            .message_at(tenant, message, now)
            .await?
            .ok_or(ReadError::NotFound)?;
        let StoredMessage::Inbound(inbound) = found else {
            return Err(ReadError::NotInbound);
        };
        let number_id = inbound.phone_number_id.ok_or(ReadError::NumberGone)?;
        let number = directory
            .phone_number(tenant, &number_id)
            .await?
            .ok_or(ReadError::NumberGone)?;
        let token = self
            .secrets
            .decrypt(
                &number.access_token_ciphertext,
                &SecretContext::phone_number(tenant.as_str(), &number_id),
            )
            .await?;
        let read = MarkRead {
            message_id: inbound.wamid,
            typing_indicator,
        };
        self.api.mark_read(&number_id, &token, &read).await?;
        store
            .repo::<ConversationStore>()
            .record_read(tenant, &message.contact_id, &number_id, inbound.sent_at)
            .await?;
        Ok(())
    }
}
