//! The send pacing of a phone number, shared by every worker instance: one item holding the
//! next free send slot (`next_us`, epoch microseconds). A worker reserves a block of slots
//! with one write, so pacing costs one write per block rather than per message.

use crate::store::number::NumberStore;
use aws_sdk_dynamodb::types::ReturnValue;

use crate::domain::tenant::TenantId;
use crate::store::StoreError;
use crate::store::keys::{pace_sk, tenant_pk};
use crate::store::table::{get_i64, n};

impl NumberStore {
    /// Moves the number's next free slot `span_us` later and returns where it now stands;
    /// the reserved block is `[returned - span_us, returned)`. Never conflicts, so busy
    /// numbers cost one write per block whatever the number of workers.
    pub async fn advance_pace(
        &self,
        tenant: &TenantId,
        phone_number_id: &str,
        span_us: i64,
    ) -> Result<i64, StoreError> {
        let updated = self
            .update(
                "UpdateItem pace",
                tenant_pk(tenant.as_str()),
                pace_sk(phone_number_id),
            )
            .add("next_us", n(span_us))
            .send_returning(ReturnValue::UpdatedNew)
            .await?;
        updated
            .as_ref()
            .and_then(|a| get_i64(a, "next_us"))
            .ok_or_else(|| StoreError::Corrupt {
                key: pace_sk(phone_number_id),
                problem: "no next_us after ADD".into(),
            })
    }

    /// Moves the number's next free slot forward to `to_us` if it stands before
    /// `if_before_us`; false when it does not (another worker moved it already). An idle
    /// number restarts with `if_before = now, to = now + span` (reserving `[now, to)`);
    /// a throttled one waits with `if_before = to = now + penalty`, which many throttled
    /// sends apply once rather than adding up.
    pub async fn move_pace_forward(
        &self,
        tenant: &TenantId,
        phone_number_id: &str,
        if_before_us: i64,
        to_us: i64,
    ) -> Result<bool, StoreError> {
        self.update(
            "UpdateItem pace forward",
            tenant_pk(tenant.as_str()),
            pace_sk(phone_number_id),
        )
        .set("next_us", n(to_us))
        .condition("attribute_not_exists(next_us) OR next_us < :before")
        .value(":before", n(if_before_us))
        .send()
        .await
    }

    /// Forgets the number's pacing: a newly connected number starts afresh, whatever an
    /// earlier connection of the same number left behind.
    pub async fn reset_pace(
        &self,
        tenant: &TenantId,
        phone_number_id: &str,
    ) -> Result<(), StoreError> {
        self.delete_item(
            "DeleteItem pace",
            tenant_pk(tenant.as_str()),
            pace_sk(phone_number_id),
        )
        .await
    }
}
