//! Tenant events (template, account and number changes, and events we keep without acting
//! on) and the tenant state they update. The event item is its own dedup record.

use aws_sdk_dynamodb::types::ReturnConsumedCapacity;

use crate::domain::management::TemplateRef;
use crate::domain::tenant::TenantId;
use crate::store::keys::{event_sk, events_pk, template_sk, tenant_pk};
use crate::store::table::{Item, get_s, item, n, s};
use crate::store::{EXPIRES_AT, Expiry, PutOutcome, Store, StoreError, is_live};

/// One stored tenant event.
#[derive(Debug, Clone)]
pub struct TenantEvent<'a> {
    pub event_time: i64,
    /// Digest of the event's identity; with the time, the item's key.
    pub digest: &'a str,
    pub field: &'a str,
    pub kind: &'a str,
    /// Why it was kept without being acted on, when that is the case.
    pub unhandled_reason: Option<&'a str>,
    /// The event's JSON as Meta sent it.
    pub raw: &'a str,
    pub expiry: Expiry,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEvent {
    pub field: String,
    pub kind: String,
    pub unhandled_reason: Option<String>,
    pub raw: String,
}

/// Template state as webhooks report it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TemplateState {
    pub status: Option<String>,
    pub quality: Option<String>,
    pub category: Option<String>,
}

impl Store {
    pub async fn put_tenant_event(
        &self,
        tenant: &TenantId,
        event: &TenantEvent<'_>,
        now: i64,
    ) -> Result<PutOutcome, StoreError> {
        let mut it = item([
            ("pk", s(events_pk(tenant.as_str()))),
            ("sk", s(event_sk(event.event_time, event.digest))),
            ("field", s(event.field)),
            ("kind", s(event.kind)),
            ("raw", s(event.raw)),
            ("event_time", n(event.event_time)),
            (EXPIRES_AT, n(event.expiry.at)),
        ]);
        if let Some(reason) = event.unhandled_reason {
            it.insert("unhandled_reason".into(), s(reason));
        }
        self.put_once("PutItem tenant event", it, event.expiry, now)
            .await
    }

    /// The tenant's events, newest first, without expired ones.
    pub async fn tenant_events(
        &self,
        tenant: &TenantId,
        now: i64,
        limit: i32,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
            .expression_attribute_values(":pk", s(events_pk(tenant.as_str())))
            .expression_attribute_values(":prefix", s("EV#"))
            .scan_index_forward(false)
            .limit(limit)
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await
            .map_err(|e| StoreError::dynamo("Query tenant events", e))?;
        self.count_read(out.consumed_capacity());
        Ok(out
            .items()
            .iter()
            .filter(|it| is_live(it, now))
            .map(|it| StoredEvent {
                field: get_s(it, "field").unwrap_or_default().to_owned(),
                kind: get_s(it, "kind").unwrap_or_default().to_owned(),
                unhandled_reason: get_s(it, "unhandled_reason").map(str::to_owned),
                raw: get_s(it, "raw").unwrap_or_default().to_owned(),
            })
            .collect())
    }

    /// Sets one template attribute (`status`, `quality` or `category`) unless a newer
    /// event already set it: Meta does not keep order.
    pub async fn update_template(
        &self,
        tenant: &TenantId,
        template: &TemplateRef,
        attribute: TemplateAttribute,
        value: &str,
        event_time: i64,
    ) -> Result<(), StoreError> {
        let (attr, at_attr) = attribute.names();
        // `status` is a DynamoDB reserved word: name both attributes through placeholders.
        let mut sets = vec!["#a = :v".to_owned(), "#at = :at".to_owned()];
        let mut request = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(tenant_pk(tenant.as_str())))
            .key("sk", s(template_sk(&template.id)))
            .condition_expression("attribute_not_exists(#at) OR #at <= :at")
            .expression_attribute_names("#a", attr)
            .expression_attribute_names("#at", at_attr)
            .expression_attribute_values(":v", s(value))
            .expression_attribute_values(":at", n(event_time))
            .return_consumed_capacity(ReturnConsumedCapacity::Total);
        if let Some(name) = &template.name {
            sets.push("template_name = :name".into());
            request = request.expression_attribute_values(":name", s(name));
        }
        if let Some(language) = &template.language {
            sets.push("template_language = :lang".into());
            request = request.expression_attribute_values(":lang", s(language));
        }
        let result = request
            .update_expression(format!("SET {}", sets.join(", ")))
            .send()
            .await;
        self.settle("UpdateItem template", result)?;
        Ok(())
    }

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
