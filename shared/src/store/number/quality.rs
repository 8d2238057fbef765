//! A number's quality as Meta's `phone_number_quality_update` webhooks report it, kept on
//! the number's item; an older event arriving late changes nothing.

use aws_sdk_dynamodb::types::ReturnConsumedCapacity;

use crate::domain::tenant::{NumberQuality, TenantId};
use crate::store::keys::{number_sk, tenant_pk};
use crate::store::table::{n, s};
use crate::store::{Store, StoreError};

impl Store {
    pub async fn record_number_quality(
        &self,
        tenant: &TenantId,
        phone_number_id: &str,
        quality: &NumberQuality,
    ) -> Result<(), StoreError> {
        let mut expression = "SET quality_event = :event, quality_at = :at".to_owned();
        let mut request = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(tenant_pk(tenant.as_str())))
            .key("sk", s(number_sk(phone_number_id)))
            .condition_expression(
                "attribute_exists(pk) AND (attribute_not_exists(quality_at) OR quality_at <= :at)",
            )
            .expression_attribute_values(":event", s(&quality.event))
            .expression_attribute_values(":at", n(quality.at))
            .return_consumed_capacity(ReturnConsumedCapacity::Total);
        if let Some(limit) = &quality.messaging_limit {
            expression.push_str(", messaging_limit = :limit");
            request = request.expression_attribute_values(":limit", s(limit));
        }
        let result = request.update_expression(expression).send().await;
        match result {
            Ok(out) => {
                self.count_write(out.consumed_capacity());
                Ok(())
            }
            // A newer event was recorded, or the number was disconnected meanwhile.
            Err(e) if crate::store::is_condition_failure(&e) => Ok(()),
            Err(e) => Err(StoreError::dynamo("UpdateItem number quality", e)),
        }
    }
}
