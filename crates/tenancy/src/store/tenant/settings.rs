//! A tenant's consent settings and content policy on the tenant item, each one JSON
//! attribute: written only after their checks, read with the tenant (cached for
//! minutes), absent while they are the defaults.

use crate::store::tenant::TenantStore;
use aws_sdk_dynamodb::types::AttributeValue;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::domain::consent::ConsentSettings;
use crate::domain::retention::ContentPolicy;
use crate::domain::tenant::TenantId;
use crate::store::StoreError;
use crate::store::keys::{TENANT_SK, tenant_pk};
use crate::store::table::{Item, get_s, s};

pub(crate) const CONSENT_SETTINGS: &str = "consent_settings";
pub(crate) const CONTENT_POLICY: &str = "content_policy";

pub(crate) fn settings_attr<T: Serialize>(settings: &T) -> AttributeValue {
    s(serde_json::to_string(settings).expect("settings serialise"))
}

/// The settings under `attribute`, the defaults when there are none.
pub(crate) fn settings_of<T: DeserializeOwned + Default>(
    key: &str,
    it: &Item,
    attribute: &str,
) -> Result<T, StoreError> {
    match get_s(it, attribute) {
        None => Ok(T::default()),
        Some(raw) => serde_json::from_str(raw)
            .map_err(|e| StoreError::corrupt(key, &format!("{attribute}: {e}"))),
    }
}

impl TenantStore {
    /// Stores validated settings; false when there is no such tenant (or it is being
    /// deleted).
    pub async fn set_consent_settings(
        &self,
        tenant: &TenantId,
        settings: &ConsentSettings,
    ) -> Result<bool, StoreError> {
        self.set_tenant_setting(tenant, CONSENT_SETTINGS, settings_attr(settings))
            .await
    }

    /// Stores a checked content policy; false when there is no such tenant.
    pub async fn set_content_policy(
        &self,
        tenant: &TenantId,
        policy: &ContentPolicy,
    ) -> Result<bool, StoreError> {
        self.set_tenant_setting(tenant, CONTENT_POLICY, settings_attr(policy))
            .await
    }

    async fn set_tenant_setting(
        &self,
        tenant: &TenantId,
        attribute: &str,
        value: AttributeValue,
    ) -> Result<bool, StoreError> {
        self.update(
            "UpdateItem tenant setting",
            tenant_pk(tenant.as_str()),
            TENANT_SK.into(),
        )
        .set(attribute, value)
        .condition("attribute_exists(pk) AND #status <> :deleting")
        .name("#status", "status")
        .value(":deleting", s("deleting"))
        .send()
        .await
    }
}
