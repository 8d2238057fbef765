//! A number's quality as Meta's `phone_number_quality_update` webhooks report it, kept on
//! the number's item; an older event arriving late changes nothing.

use crate::domain::tenant::{NumberQuality, TenantId};
use crate::store::StoreError;
use crate::store::keys::{number_sk, tenant_pk};
use crate::store::number::NumberStore;
use crate::store::table::{n, s};

impl NumberStore {
    pub async fn record_number_quality(
        &self,
        tenant: &TenantId,
        phone_number_id: &str,
        quality: &NumberQuality,
    ) -> Result<(), StoreError> {
        let mut update = self
            .update(
                "UpdateItem number quality",
                tenant_pk(tenant.as_str()),
                number_sk(phone_number_id),
            )
            .set("quality_event", s(&quality.event))
            .set("quality_at", n(quality.at));
        if let Some(limit) = &quality.messaging_limit {
            update = update.set("messaging_limit", s(limit));
        }
        // Not written when a newer event was recorded, or the number was disconnected
        // meanwhile; neither is an error.
        update
            .condition(
                "attribute_exists(pk) AND (attribute_not_exists(quality_at) OR quality_at <= :at)",
            )
            .value(":at", n(quality.at))
            .send()
            .await?;
        Ok(())
    }
}
