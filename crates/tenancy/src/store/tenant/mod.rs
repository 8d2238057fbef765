//! The tenant item: settings, status, its own Meta app, retention (`retention`), consent
//! settings and content policy (`settings`), the
//! state of its erasure (`erasure`) and its place in the operator's listing (`listing`).

pub mod ageing;
pub mod erasure;
pub mod listing;
pub mod retention;
pub mod settings;

use aws_sdk_dynamodb::types::ReturnValue;
use std::future::Future;

use crate::domain::retention::Retention;
use crate::domain::tenant::{MetaApp, Tenant, TenantId, TenantStatus};
use crate::store::keys::{TENANT_SK, tenant_pk};
use crate::store::table::{Item, b, get_b, get_i64, get_s, item, n, s};
use crate::store::tenant::listing::TENANT_LIST_PK;
use crate::store::{PutOutcome, StoreError};

crate::store::repository! {
    /// Tenants: their settings, Meta app, retention, listing and erasure state.
    TenantStore
}

impl TenantStore {
    pub async fn put_tenant(&self, tenant: &Tenant) -> Result<(), StoreError> {
        self.put("PutItem tenant", tenant_item(tenant)).await
    }

    /// Stores a new tenant; `Duplicate` when the id is taken.
    pub async fn create_tenant(&self, tenant: &Tenant) -> Result<PutOutcome, StoreError> {
        self.put_new("PutItem new tenant", tenant_item(tenant))
            .await
    }

    /// Renames and/or suspends or resumes a tenant, answering the tenant as it now stands;
    /// `None` when there is no such tenant or it is being deleted.
    pub async fn update_tenant(
        &self,
        id: &TenantId,
        name: Option<&str>,
        status: Option<TenantStatus>,
    ) -> Result<Option<Tenant>, StoreError> {
        let mut update = self
            .update(
                "UpdateItem tenant",
                tenant_pk(id.as_str()),
                TENANT_SK.into(),
            )
            .set("tenant_id", s(id.as_str()));
        if let Some(name) = name {
            update = update.set("name", s(name));
        }
        if let Some(status) = status {
            update = update.set("status", s(status_name(status)));
        }
        // A tenant being deleted is not brought back by a rename or a resume.
        let updated = update
            .condition("attribute_exists(pk) AND #status <> :deleting")
            .name("#status", "status")
            .value(":deleting", s(status_name(TenantStatus::Deleting)))
            .send_returning(ReturnValue::AllNew)
            .await?;
        updated.map(|it| tenant_from_item(id, &it)).transpose()
    }

    pub async fn get_tenant(&self, id: &TenantId) -> Result<Option<Tenant>, StoreError> {
        let Some(it) = self.get(tenant_pk(id.as_str()), TENANT_SK.into()).await? else {
            return Ok(None);
        };
        tenant_from_item(id, &it).map(Some)
    }

    /// Connects the tenant's own Meta app (its webhooks come to `/webhook/{tenant}`), or
    /// replaces it; `None` removes it. False when there is no such tenant.
    pub async fn set_meta_app(
        &self,
        tenant: &TenantId,
        app: Option<&MetaApp>,
    ) -> Result<bool, StoreError> {
        let update = self.update(
            "UpdateItem Meta app",
            tenant_pk(tenant.as_str()),
            TENANT_SK.into(),
        );
        let update = match app {
            Some(app) => update
                .set("meta_app_id", s(&app.app_id))
                .set("meta_app_secret_ct", b(app.app_secret_ciphertext.clone()))
                .set(
                    "meta_verify_token_ct",
                    b(app.verify_token_ciphertext.clone()),
                )
                .set(
                    "meta_app_secret_fingerprint",
                    s(app.secret_fingerprint.clone().unwrap_or_default()),
                )
                .set("meta_app_set_at", n(app.set_at.unwrap_or_default())),
            None => update
                .remove("meta_app_id")
                .remove("meta_app_secret_ct")
                .remove("meta_verify_token_ct")
                .remove("meta_app_secret_fingerprint")
                .remove("meta_app_set_at"),
        };
        update.condition("attribute_exists(pk)").send().await
    }
}

fn tenant_item(tenant: &Tenant) -> Item {
    let r = &tenant.retention;
    let mut it = item([
        ("pk", s(tenant_pk(tenant.id.as_str()))),
        ("sk", s(TENANT_SK)),
        ("tenant_id", s(tenant.id.as_str())),
        ("tlist_pk", s(TENANT_LIST_PK)),
        ("tlist_sk", s(tenant.id.as_str())),
        ("name", s(&tenant.name)),
        ("status", s(status_name(tenant.status))),
        ("retention_content_days", n(r.content_days)),
        ("retention_metadata_days", n(r.metadata_days)),
        ("retention_contact_days", n(r.contact_days)),
        ("retention_dedup_days", n(r.dedup_days)),
        ("retention_audit_days", n(r.audit_days)),
    ]);
    if tenant.consent != Default::default() {
        it.insert(
            settings::CONSENT_SETTINGS.into(),
            settings::settings_attr(&tenant.consent),
        );
    }
    if let Some(app) = &tenant.meta_app {
        it.insert("meta_app_id".into(), s(&app.app_id));
        it.insert(
            "meta_app_secret_ct".into(),
            b(app.app_secret_ciphertext.clone()),
        );
        it.insert(
            "meta_verify_token_ct".into(),
            b(app.verify_token_ciphertext.clone()),
        );
        if let Some(fingerprint) = &app.secret_fingerprint {
            it.insert("meta_app_secret_fingerprint".into(), s(fingerprint));
        }
        if let Some(at) = app.set_at {
            it.insert("meta_app_set_at".into(), n(at));
        }
    }
    it
}

fn status_name(status: TenantStatus) -> &'static str {
    match status {
        TenantStatus::Active => "active",
        TenantStatus::Suspended => "suspended",
        TenantStatus::Deleting => "deleting",
    }
}

pub(crate) fn tenant_from_item(id: &TenantId, it: &Item) -> Result<Tenant, StoreError> {
    let key = tenant_pk(id.as_str());
    let days = |name: &str, default: u32| get_i64(it, name).map_or(default, |d| d as u32);
    let defaults = Retention::default();
    let meta_app = match (
        get_s(it, "meta_app_id"),
        get_b(it, "meta_app_secret_ct"),
        get_b(it, "meta_verify_token_ct"),
    ) {
        (Some(app_id), Some(secret), Some(token)) => Some(MetaApp {
            app_id: app_id.to_owned(),
            app_secret_ciphertext: secret.to_vec(),
            verify_token_ciphertext: token.to_vec(),
            secret_fingerprint: get_s(it, "meta_app_secret_fingerprint").map(str::to_owned),
            set_at: get_i64(it, "meta_app_set_at"),
        }),
        _ => None,
    };
    Ok(Tenant {
        id: id.clone(),
        name: get_s(it, "name").unwrap_or_default().to_owned(),
        status: match get_s(it, "status") {
            Some("active") => TenantStatus::Active,
            Some("suspended") => TenantStatus::Suspended,
            Some("deleting") => TenantStatus::Deleting,
            other => {
                return Err(StoreError::corrupt(
                    &key,
                    &format!("unknown status {other:?}"),
                ));
            }
        },
        retention: Retention {
            content_days: days("retention_content_days", defaults.content_days),
            metadata_days: days("retention_metadata_days", defaults.metadata_days),
            contact_days: days("retention_contact_days", defaults.contact_days),
            dedup_days: days("retention_dedup_days", defaults.dedup_days),
            audit_days: days("retention_audit_days", defaults.audit_days),
        },
        consent: settings::settings_of(&key, it, settings::CONSENT_SETTINGS)?,
        content: settings::settings_of(&key, it, settings::CONTENT_POLICY)?,
        meta_app,
        sending_stopped: get_s(it, "sending_stopped").map(str::to_owned),
    })
}

/// Stopping a tenant's sending when Meta refuses its credentials.
pub trait SendingStop: Send + Sync {
    /// Stops the tenant's sending with `reason`; jobs fail fast until the tenant is put
    /// again with working credentials.
    fn stop_sending(
        &self,
        tenant: &TenantId,
        reason: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

impl SendingStop for TenantStore {
    async fn stop_sending(&self, tenant: &TenantId, reason: &str) -> Result<(), StoreError> {
        self.update_existing(
            "UpdateItem stop sending",
            tenant_pk(tenant.as_str()),
            TENANT_SK.into(),
            "SET sending_stopped = :r",
            [(":r", s(reason))],
        )
        .await
    }
}
