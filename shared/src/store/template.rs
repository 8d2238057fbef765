//! The tenant's message templates (`T#<t>` / `TPL#<Meta's template id>`): what was submitted
//! or listed from Meta, with the status, quality and category that template webhooks keep
//! current (see `events.rs`; a newer event is never overwritten by an older one).

use aws_sdk_dynamodb::types::{AttributeValue, ReturnConsumedCapacity};
use serde_json::Value;

use crate::domain::tenant::TenantId;
use crate::store::keys::{template_sk, tenant_pk};
use crate::store::table::{Item, get_i64, get_s, n, s};
use crate::store::{Store, StoreError};

const TEMPLATE_PREFIX: &str = "TPL#";

/// A template as the gateway keeps it.
#[derive(Debug, Clone, PartialEq)]
pub struct TemplateRecord {
    pub id: String,
    pub waba_id: Option<String>,
    pub name: Option<String>,
    pub language: Option<String>,
    pub category: Option<String>,
    pub status: Option<String>,
    pub quality: Option<String>,
    pub components: Vec<Value>,
    /// When its status last changed, epoch seconds.
    pub status_at: Option<i64>,
}

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

impl Store {
    /// Records what Meta said at `at`. Status and category are set only if no webhook
    /// newer than `at` set them already (a webhook may overtake the answer).
    pub async fn record_template(
        &self,
        tenant: &TenantId,
        template: &TemplateFromMeta<'_>,
        at: i64,
    ) -> Result<(), StoreError> {
        let components = serde_json::to_string(template.components).expect("JSON serialises");
        let request = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(tenant_pk(tenant.as_str())))
            .key("sk", s(template_sk(template.id)))
            .update_expression(
                "SET template_id = :id, waba_id = :waba, template_name = :name, \
                 template_language = :lang, components = :components, \
                 #status = if_not_exists(#status, :status), \
                 status_at = if_not_exists(status_at, :at), \
                 category = if_not_exists(category, :category), \
                 category_at = if_not_exists(category_at, :at)",
            )
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":id", s(template.id))
            .expression_attribute_values(":waba", s(template.waba_id))
            .expression_attribute_values(":name", s(template.name))
            .expression_attribute_values(":lang", s(template.language))
            .expression_attribute_values(":components", s(components))
            .expression_attribute_values(":status", s(template.status))
            .expression_attribute_values(":category", s(template.category))
            .expression_attribute_values(":at", n(at))
            .return_consumed_capacity(ReturnConsumedCapacity::Total);
        let out = request
            .send()
            .await
            .map_err(|e| StoreError::dynamo("UpdateItem template from Meta", e))?;
        self.count_write(out.consumed_capacity());
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
