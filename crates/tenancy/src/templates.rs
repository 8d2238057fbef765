//! A tenant's message templates through Meta's management API: submit one for review,
//! bring the gateway's copy up to date with Meta's list, delete one. Each call uses the
//! access token of one of the tenant's numbers in the template's WhatsApp Business Account.

use crate::cloud_api::templates::{DefinitionError, TemplateDefinition};
use crate::cloud_api::{CloudApiClient, SendError};
use crate::domain::management::TemplateRef;
use crate::domain::template::TemplateRecord;
use crate::domain::tenant::{MetaCallsBlocked, PhoneNumber, TenantId, TenantStatus};
use crate::secret::Secret;
use crate::secret_store::{SecretContext, SecretError, SecretStore};
use crate::store::NumberStore;
use crate::store::TemplateStore;
use crate::store::TenantStore;
use crate::store::number::NumberRecords;
use crate::store::template::TemplateAttribute;
use crate::store::template::TemplateFromMeta;
use crate::store::template::TemplateStates;
use crate::store::{Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error(transparent)]
    Invalid(#[from] DefinitionError),
    #[error("the tenant does not exist")]
    UnknownTenant,
    #[error(transparent)]
    Blocked(#[from] MetaCallsBlocked),
    /// No connected number in that account, or (with `None`) several accounts to choose from.
    #[error("{0}")]
    NoAccount(String),
    #[error("Meta refused or failed the call")]
    Meta(#[from] SendError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Secret(#[from] SecretError),
}

pub struct TemplateManager {
    store: Store,
    secrets: SecretStore,
    api: CloudApiClient,
}

impl TemplateManager {
    pub fn new(store: Store, secrets: SecretStore, api: CloudApiClient) -> Self {
        Self {
            store,
            secrets,
            api,
        }
    }

    /// Submits `definition` in `waba_id` (may be left out when the tenant has one account)
    /// and keeps Meta's answer; the template as the gateway now knows it.
    pub async fn create(
        &self,
        tenant: &TenantId,
        waba_id: Option<&str>,
        definition: &TemplateDefinition,
        now: i64,
    ) -> Result<TemplateRecord, TemplateError> {
        definition.validate()?;
        let (number, token) = self.account(tenant, waba_id).await?;
        let created = self
            .api
            .create_template(&number.waba_id, &token, definition)
            .await?;
        let category = created.category.as_deref().unwrap_or(&definition.category);
        self.store
            .repo::<TemplateStore>()
            .record_template(
                tenant,
                &TemplateFromMeta {
                    id: &created.id,
                    waba_id: &number.waba_id,
                    name: &definition.name,
                    language: &definition.language,
                    category,
                    status: &created.status,
                    components: &definition.components,
                },
                now,
            )
            .await?;
        Ok(self
            .store
            .repo::<TemplateStore>()
            .template(tenant, &created.id)
            .await?
            .unwrap_or(TemplateRecord {
                id: created.id.clone(),
                waba_id: Some(number.waba_id.clone()),
                name: Some(definition.name.clone()),
                language: Some(definition.language.clone()),
                category: Some(category.to_owned()),
                status: Some(created.status.clone()),
                quality: None,
                components: definition.components.clone(),
                status_at: Some(now),
            }))
    }

    /// The tenant's templates with their latest status, by name and language.
    pub async fn list(&self, tenant: &TenantId) -> Result<Vec<TemplateRecord>, StoreError> {
        let mut templates = self
            .store
            .repo::<TemplateStore>()
            .templates_of(tenant)
            .await?;
        templates.sort_by(|a, b| (&a.name, &a.language).cmp(&(&b.name, &b.language)));
        Ok(templates)
    }

    /// Reads every template of every account of the tenant from Meta into the gateway's
    /// copy (Meta's list is current: its statuses replace older ones); how many.
    pub async fn sync(&self, tenant: &TenantId, now: i64) -> Result<usize, TemplateError> {
        let numbers = self
            .store
            .repo::<NumberStore>()
            .phone_numbers_of(tenant)
            .await?;
        let mut wabas: Vec<&str> = numbers.iter().map(|n| n.waba_id.as_str()).collect();
        wabas.sort_unstable();
        wabas.dedup();
        let mut count = 0;
        for waba in wabas {
            let (number, token) = self.account(tenant, Some(waba)).await?;
            let mut after: Option<String> = None;
            loop {
                let (page, next) = self
                    .api
                    .list_templates(&number.waba_id, &token, after.as_deref())
                    .await?;
                for listed in &page {
                    self.store
                        .repo::<TemplateStore>()
                        .record_template(
                            tenant,
                            &TemplateFromMeta {
                                id: &listed.id,
                                waba_id: waba,
                                name: &listed.name,
                                language: &listed.language,
                                category: &listed.category,
                                status: &listed.status,
                                components: &listed.components,
                            },
                            now,
                        )
                        .await?;
                    let template = TemplateRef {
                        id: listed.id.clone(),
                        name: None,
                        language: None,
                    };
                    for (attribute, value) in [
                        (TemplateAttribute::Status, &listed.status),
                        (TemplateAttribute::Category, &listed.category),
                    ] {
                        self.store
                            .repo::<TemplateStore>()
                            .update_template(tenant, &template, attribute, value, now)
                            .await?;
                    }
                }
                count += page.len();
                match next {
                    Some(cursor) => after = Some(cursor),
                    None => break,
                }
            }
        }
        Ok(count)
    }

    /// Deletes the template at Meta and from the gateway's copy; false when the tenant
    /// has no template of that id.
    pub async fn delete(&self, tenant: &TenantId, id: &str) -> Result<bool, TemplateError> {
        let Some(template) = self
            .store
            .repo::<TemplateStore>()
            .template(tenant, id)
            .await?
        else {
            return Ok(false);
        };
        let (Some(name), Some(waba)) = (&template.name, &template.waba_id) else {
            // Known only from a webhook: Meta needs the name, which the gateway never saw.
            return Err(TemplateError::NoAccount(
                "this template is known only from Meta's events; sync the templates first".into(),
            ));
        };
        let (number, token) = self.account(tenant, Some(waba)).await?;
        match self
            .api
            .delete_template(&number.waba_id, &token, name, Some(id))
            .await
        {
            Ok(()) => {}
            // Already gone at Meta (deleted elsewhere): forget it here too.
            Err(SendError::Refused { error, .. }) if error.code == 100 => {}
            Err(e) => return Err(e.into()),
        }
        self.store
            .repo::<TemplateStore>()
            .forget_template(tenant, id)
            .await?;
        Ok(true)
    }

    /// A connected number of the account, with its decrypted token, once the tenant is
    /// found allowed to call Meta.
    async fn account(
        &self,
        tenant: &TenantId,
        waba_id: Option<&str>,
    ) -> Result<(PhoneNumber, Secret), TemplateError> {
        self.store
            .repo::<TenantStore>()
            .get_tenant(tenant)
            .await?
            .filter(|t| t.status != TenantStatus::Deleting)
            .ok_or(TemplateError::UnknownTenant)?
            .may_call_meta()?;
        let numbers = self
            .store
            .repo::<NumberStore>()
            .phone_numbers_of(tenant)
            .await?;
        let number = match waba_id {
            Some(waba) => numbers.into_iter().find(|n| n.waba_id == waba),
            None => {
                let mut wabas: Vec<&str> = numbers.iter().map(|n| n.waba_id.as_str()).collect();
                wabas.sort_unstable();
                wabas.dedup();
                if wabas.len() > 1 {
                    return Err(TemplateError::NoAccount(
                        "the tenant has several WhatsApp Business Accounts: name one in waba_id"
                            .into(),
                    ));
                }
                numbers.into_iter().next()
            }
        }
        .ok_or_else(|| {
            TemplateError::NoAccount(
                "no connected phone number in that WhatsApp Business Account".into(),
            )
        })?;
        let token = self
            .secrets
            .decrypt(
                &number.access_token_ciphertext,
                &SecretContext::phone_number(tenant.as_str(), &number.phone_number_id),
            )
            .await?;
        Ok((number, token))
    }
}
