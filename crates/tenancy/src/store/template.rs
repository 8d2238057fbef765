//! The tenant's message templates (`T#<t>` / `TPL#<Meta's template id>`): what was submitted
//! or listed from Meta, with the status, quality and category that template webhooks keep
//! current (`update_template`; a newer event is never overwritten by an older one).

use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::Value;
use std::future::Future;

use crate::domain::management::TemplateRef;
use crate::domain::template::TemplateRecord;
use crate::domain::tenant::TenantId;
use crate::store::StoreError;
use crate::store::keys::{template_sk, tenant_pk};
use crate::store::table::{Item, get_i64, get_s, n, s};

const TEMPLATE_PREFIX: &str = "TPL#";

/// What Meta said about a template, from its answer to a creation or from its list.
#[derive(Debug, Clone)]
pub struct TemplateFromMeta<'a> {
    pub id: &'a str,
    pub waba_id: &'a str,
    pub name: &'a str,
    pub language: &'a str,
    pub category: &'a str,
    pub status: &'a str,
    pub components: &'a [Value],
}

crate::store::repository! {
    /// The tenant's message templates as Meta last reported them.
    TemplateStore
}

impl TemplateStore {
    /// Records what Meta said at `at`. Status and category are set only if no webhook
    /// newer than `at` set them already (a webhook may overtake the answer).
    pub async fn record_template(
        &self,
        tenant: &TenantId,
        template: &TemplateFromMeta<'_>,
        at: i64,
    ) -> Result<(), StoreError> {
        let components = serde_json::to_string(template.components).expect("JSON serialises");
        self.update(
            "UpdateItem template from Meta",
            tenant_pk(tenant.as_str()),
            template_sk(template.id),
        )
        .set("template_id", s(template.id))
        .set("waba_id", s(template.waba_id))
        .set("template_name", s(template.name))
        .set("template_language", s(template.language))
        .set("components", s(components))
        .set_if_absent("status", s(template.status))
        .set_if_absent("status_at", n(at))
        .set_if_absent("category", s(template.category))
        .set_if_absent("category_at", n(at))
        .send()
        .await?;
        Ok(())
    }

    pub async fn templates_of(&self, tenant: &TenantId) -> Result<Vec<TemplateRecord>, StoreError> {
        let items = self
            .query_prefix(
                "Query templates",
                tenant_pk(tenant.as_str()),
                TEMPLATE_PREFIX,
            )
            .await?;
        Ok(items.iter().map(template_from_item).collect())
    }

    pub async fn template(
        &self,
        tenant: &TenantId,
        id: &str,
    ) -> Result<Option<TemplateRecord>, StoreError> {
        let found: Option<Item> = self
            .get(tenant_pk(tenant.as_str()), template_sk(id))
            .await?;
        Ok(found.as_ref().map(template_from_item))
    }

    /// Forgets a template Meta deleted; false when there was none.
    pub async fn forget_template(&self, tenant: &TenantId, id: &str) -> Result<bool, StoreError> {
        self.delete_if(
            "DeleteItem template",
            (tenant_pk(tenant.as_str()), template_sk(id)),
            "attribute_exists(pk)",
            &[],
            &[],
        )
        .await
    }
}

fn template_from_item(it: &Item) -> TemplateRecord {
    let text = |name: &str| get_s(it, name).map(str::to_owned);
    let id = text("template_id").unwrap_or_else(|| {
        get_s(it, "sk")
            .and_then(|sk| sk.strip_prefix(TEMPLATE_PREFIX))
            .unwrap_or_default()
            .to_owned()
    });
    TemplateRecord {
        id,
        waba_id: text("waba_id"),
        name: text("template_name"),
        language: text("template_language"),
        category: text("category"),
        status: text("status"),
        quality: text("quality"),
        components: it
            .get("components")
            .and_then(|v: &AttributeValue| v.as_s().ok())
            .and_then(|raw| serde_json::from_str(raw).ok())
            .unwrap_or_default(),
        status_at: get_i64(it, "status_at"),
    }
}

/// Template state as webhooks report it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TemplateState {
    pub status: Option<String>,
    pub quality: Option<String>,
    pub category: Option<String>,
}

impl TemplateStore {
    pub async fn template_state(
        &self,
        tenant: &TenantId,
        template_id: &str,
    ) -> Result<Option<TemplateState>, StoreError> {
        let found: Option<Item> = self
            .get(tenant_pk(tenant.as_str()), template_sk(template_id))
            .await?;
        Ok(found.map(|it| TemplateState {
            status: get_s(&it, "status").map(str::to_owned),
            quality: get_s(&it, "quality").map(str::to_owned),
            category: get_s(&it, "category").map(str::to_owned),
        }))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TemplateAttribute {
    Status,
    Quality,
    Category,
}

impl TemplateAttribute {
    fn names(self) -> (&'static str, &'static str) {
        match self {
            Self::Status => ("status", "status_at"),
            Self::Quality => ("quality", "quality_at"),
            Self::Category => ("category", "category_at"),
        }
    }
}

/// The templates' states as Meta's events report them.
pub trait TemplateStates: Send + Sync {
    /// Sets one template attribute (`status`, `quality` or `category`) unless a newer
    /// event already set it: Meta does not keep order.
    fn update_template(
        &self,
        tenant: &TenantId,
        template: &TemplateRef,
        attribute: TemplateAttribute,
        value: &str,
        event_time: i64,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

impl TemplateStates for TemplateStore {
    async fn update_template(
        &self,
        tenant: &TenantId,
        template: &TemplateRef,
        attribute: TemplateAttribute,
        value: &str,
        event_time: i64,
    ) -> Result<(), StoreError> {
        let (attr, at_attr) = attribute.names();
        let mut update = self
            .update(
                "UpdateItem template",
                tenant_pk(tenant.as_str()),
                template_sk(&template.id),
            )
            .set(attr, s(value))
            .set(at_attr, n(event_time))
            .condition("attribute_not_exists(#at) OR #at <= :at")
            .name("#at", at_attr)
            .value(":at", n(event_time));
        if let Some(name) = &template.name {
            update = update.set("template_name", s(name));
        }
        if let Some(language) = &template.language {
            update = update.set("template_language", s(language));
        }
        update.send().await?;
        Ok(())
    }
}
