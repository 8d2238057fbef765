//! What sending a job needs: the stores it checks and records in (one port per kind of
//! stored thing, as accepting a send has them), Meta's API with the number's token, and
//! the number's send slots. The outbound worker runs on the DynamoDB repositories, the
//! Cloud API and the shared pacer; the sender's unit tests on in-memory fakes.

use std::future::Future;

use super::consent::TemplateCategories;
use super::job::MetaBody;
use crate::cloud_api::{CloudApiClient, SendAccepted, SendError};
use crate::domain::tenant::PhoneNumber;
use crate::secret::Secret;
use crate::secret_store::{SecretContext, SecretError, SecretStore};
use crate::store::contact::activity::ContactActivity;
use crate::store::contact::resolve::ContactResolution;
use crate::store::conversation::ConversationStates;
use crate::store::message::delivery::DeliveryStates;
use crate::store::message::outbound::OutboundMessages;
use crate::store::number::NumberRecords;
use crate::store::tenant::SendingStop;
use crate::store::{ContactStore, ConversationStore, MessageStore, NumberStore, TenantStore};
use crate::tenants::{TenantDirectory, Tenants};

/// The stores sending a job uses.
pub trait SendStore: Send + Sync {
    fn tenants(&self) -> &(impl Tenants + TemplateCategories);
    fn contacts(&self) -> &(impl ContactResolution + ContactActivity);
    fn messages(&self) -> &(impl OutboundMessages + DeliveryStates);
    fn numbers(&self) -> &impl NumberRecords;
    fn sending(&self) -> &impl SendingStop;
    fn conversations(&self) -> &impl ConversationStates;
}

/// Meta's side of a send.
pub trait MetaSend: Send + Sync {
    /// The number's access token, opened.
    fn token(
        &self,
        number: &PhoneNumber,
    ) -> impl Future<Output = Result<Secret, SecretError>> + Send;

    /// Sends one message: Meta's acceptance, or its error.
    fn send(
        &self,
        phone_number_id: &str,
        token: &Secret,
        request: &MetaBody<'_>,
    ) -> impl Future<Output = Result<SendAccepted, SendError>> + Send;
}

/// The Cloud API, with tokens opened under KMS.
pub struct CloudMeta {
    secrets: SecretStore,
    api: CloudApiClient,
}

impl CloudMeta {
    pub fn new(secrets: SecretStore, api: CloudApiClient) -> Self {
        Self { secrets, api }
    }
}

impl MetaSend for CloudMeta {
    async fn token(&self, number: &PhoneNumber) -> Result<Secret, SecretError> {
        self.secrets
            .decrypt(
                &number.access_token_ciphertext,
                &SecretContext::phone_number(number.tenant_id.as_str(), &number.phone_number_id),
            )
            .await
    }

    async fn send(
        &self,
        phone_number_id: &str,
        token: &Secret,
        request: &MetaBody<'_>,
    ) -> Result<SendAccepted, SendError> {
        self.api.send_request(phone_number_id, token, request).await
    }
}

/// The worker's stores: tenants and numbers through the directory's caches, the rest
/// from the table's repositories, each implementing its ports itself.
pub struct SendTables {
    tenants: TenantDirectory,
    contacts: ContactStore,
    messages: MessageStore,
    numbers: NumberStore,
    sending: TenantStore,
    conversations: ConversationStore,
}

impl SendTables {
    pub fn new(tenants: TenantDirectory) -> Self {
        let store = tenants.store();
        Self {
            contacts: store.repo(),
            messages: store.repo(),
            numbers: store.repo(),
            sending: store.repo(),
            conversations: store.repo(),
            tenants,
        }
    }
}

impl SendStore for SendTables {
    fn tenants(&self) -> &(impl Tenants + TemplateCategories) {
        &self.tenants
    }

    fn contacts(&self) -> &(impl ContactResolution + ContactActivity) {
        &self.contacts
    }

    fn messages(&self) -> &(impl OutboundMessages + DeliveryStates) {
        &self.messages
    }

    fn numbers(&self) -> &impl NumberRecords {
        &self.numbers
    }

    fn sending(&self) -> &impl SendingStop {
        &self.sending
    }

    fn conversations(&self) -> &impl ConversationStates {
        &self.conversations
    }
}
