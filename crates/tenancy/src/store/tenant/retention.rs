//! A tenant's retention settings and the operator's ceiling for message content, on the
//! tenant item. The pipeline reads the settings with the tenant (cached for minutes) and
//! stamps every new item's `expires_at` from them.

use crate::domain::retention::MAX_CONTENT_DAYS;
use crate::domain::retention::RetentionSettings;
use crate::domain::tenant::TenantId;
use crate::store::StoreError;
use crate::store::keys::{TENANT_SK, tenant_pk};
use crate::store::table::{get_i64, n};
use crate::store::tenant::TenantStore;

const CEILING: &str = "retention_content_ceiling_days";

impl TenantStore {
    pub async fn retention_settings(
        &self,
        tenant: &TenantId,
    ) -> Result<Option<RetentionSettings>, StoreError> {
        let Some(it) = self
            .get_consistent(tenant_pk(tenant.as_str()), TENANT_SK.into())
            .await?
        else {
            return Ok(None);
        };
        let found = crate::store::tenant::tenant_from_item(tenant, &it)?;
        Ok(Some(RetentionSettings {
            retention: found.retention,
            content_ceiling_days: get_i64(&it, CEILING).map_or(MAX_CONTENT_DAYS, |d| d as u32),
        }))
    }

    /// Stores validated settings; false when there is no such tenant.
    pub async fn set_retention_settings(
        &self,
        tenant: &TenantId,
        settings: &RetentionSettings,
    ) -> Result<bool, StoreError> {
        let r = &settings.retention;
        self.update_if_exists(
            "UpdateItem retention",
            tenant_pk(tenant.as_str()),
            TENANT_SK.into(),
            &format!(
                "SET retention_content_days = :c, retention_metadata_days = :m, \
                 retention_contact_days = :p, retention_dedup_days = :d, \
                 retention_audit_days = :a, {CEILING} = :ceiling"
            ),
            [
                (":c", n(r.content_days)),
                (":m", n(r.metadata_days)),
                (":p", n(r.contact_days)),
                (":d", n(r.dedup_days)),
                (":a", n(r.audit_days)),
                (":ceiling", n(settings.content_ceiling_days)),
            ],
        )
        .await
    }
}
