//! The consent check every sender makes before a message goes out (the API when it
//! accepts one, the sender when it is about to send one queued earlier): the recipient's
//! opt-outs against what is being sent and the tenant's policy. A template's category is
//! looked up only when it decides, which is only for a recipient who stopped marketing,
//! and only in the WABA of the number it is sent from: a template of the same name and
//! language in another of the tenant's WABAs says nothing about this one. A template the
//! gateway does not know there counts as marketing.

use std::future::Future;

use crate::domain::consent::{OptedOut, Sending, TemplateKind};
use crate::domain::contact::ContactProfile;
use crate::domain::outbound::{Content, OutboundMessage};
use crate::domain::tenant::{PhoneNumber, Tenant, TenantId};
use crate::store::StoreError;
use crate::tenants::TenantDirectory;

/// Where a template's category is found, by its WABA, name and language.
pub trait TemplateCategories: Send + Sync {
    /// Meta's category of the tenant's template in `waba_id` (`MARKETING`, `UTILITY`, …),
    /// `None` when the gateway does not know the template there.
    fn template_category(
        &self,
        tenant: &TenantId,
        template: TemplateIn<'_>,
    ) -> impl Future<Output = Result<Option<String>, StoreError>> + Send;
}

/// A template as Meta knows it: by its WABA, name and language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TemplateIn<'a> {
    pub waba_id: &'a str,
    pub name: &'a str,
    pub language: &'a str,
}

/// What is about to be sent, as consent sees it.
#[derive(Debug, Clone, Copy)]
pub enum Outgoing<'a> {
    Template {
        name: &'a str,
        language: &'a str,
    },
    /// A template the gateway cannot name (a job queued by an older version).
    UnnamedTemplate,
    Reply,
}

impl<'a> Outgoing<'a> {
    pub fn of(message: &'a OutboundMessage) -> Self {
        match &message.content {
            Content::Template { template } => Self::Template {
                name: &template.name,
                language: &template.language,
            },
            _ => Self::Reply,
        }
    }
}

/// Whether the tenant may send `outgoing` from its number `from` to `contact`:
/// `Ok(Err(_))` names the opt-out that refuses it.
pub async fn consent_allows(
    categories: &impl TemplateCategories,
    tenant: &Tenant,
    (from, contact): (&PhoneNumber, &ContactProfile),
    outgoing: Outgoing<'_>,
) -> Result<Result<(), OptedOut>, StoreError> {
    let policy = tenant.consent.non_marketing;
    let sending = match outgoing {
        Outgoing::Reply => Sending::Reply,
        Outgoing::UnnamedTemplate => Sending::Template { category: None },
        Outgoing::Template { name, language } => {
            let category = if contact.consent.needs_template_category(policy) {
                let template = TemplateIn {
                    waba_id: &from.waba_id,
                    name,
                    language,
                };
                categories
                    .template_category(&tenant.id, template)
                    .await?
                    .map(|c| TemplateKind::of_category(&c))
            } else {
                // Decided without it: no opt-out, or one that refuses every template.
                None
            };
            Sending::Template { category }
        }
    };
    Ok(contact.consent.check(sending, policy))
}

impl TemplateCategories for TenantDirectory {
    async fn template_category(
        &self,
        tenant: &TenantId,
        template: TemplateIn<'_>,
    ) -> Result<Option<String>, StoreError> {
        let index = self.template_categories(tenant).await?;
        let key = (
            template.waba_id.to_owned(),
            template.name.to_owned(),
            template.language.to_owned(),
        );
        Ok(index.get(&key).cloned())
    }
}
