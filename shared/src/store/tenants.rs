//! Tenants, their Meta app and their phone numbers (the routes from Meta's ids to a tenant
//! are in `routes`).

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::update_item::UpdateItemOutput;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnConsumedCapacity};

use super::attrs::{Item, b, bool_attr, get_b, get_bool, get_i64, get_s, item, n, s};
use super::keys::{TENANT_SK, number_sk, tenant_pk, waba_sk};
use super::tenant_index::TENANT_LIST_PK;
use super::{PutOutcome, Store, StoreError};
use crate::domain::retention::Retention;
use crate::domain::tenant::{MetaApp, NumberQuality, PhoneNumber, Tenant, TenantId, TenantStatus};

impl Store {
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
        let mut sets = vec!["tenant_id = :id"];
        let mut values = std::collections::HashMap::from([
            (":id".to_owned(), s(id.as_str())),
            (":deleting".to_owned(), s("deleting")),
        ]);
        let mut names =
            std::collections::HashMap::from([("#status".to_owned(), "status".to_owned())]);
        if let Some(name) = name {
            sets.push("#name = :name");
            values.insert(":name".to_owned(), s(name));
            names.insert("#name".to_owned(), "name".to_owned());
        }
        if let Some(status) = status {
            sets.push("#status = :status");
            values.insert(":status".to_owned(), s(status_name(status)));
        }
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(tenant_pk(id.as_str())))
            .key("sk", s(TENANT_SK))
            .update_expression(format!("SET {}", sets.join(", ")))
            // A tenant being deleted is not brought back by a rename or a resume.
            .condition_expression("attribute_exists(pk) AND #status <> :deleting")
            .set_expression_attribute_names(Some(names))
            .set_expression_attribute_values(Some(values))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllNew)
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await;
        self.updated_tenant("UpdateItem tenant", id, result)
    }

    /// The tenant as an UpdateItem that returned `ALL_NEW` left it; `None` when the
    /// update's condition failed.
    pub(crate) fn updated_tenant<E, R>(
        &self,
        op: &'static str,
        id: &TenantId,
        result: Result<UpdateItemOutput, SdkError<E, R>>,
    ) -> Result<Option<Tenant>, StoreError>
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
        R: std::fmt::Debug + Send + Sync + 'static,
    {
        match result {
            Ok(out) => {
                self.count_write(out.consumed_capacity());
                out.attributes
                    .map(|it| tenant_from_item(id, &it))
                    .transpose()
            }
            Err(e) if super::is_condition_failure(&e) => Ok(None),
            Err(e) => Err(StoreError::dynamo(op, e)),
        }
    }

    pub async fn get_tenant(&self, id: &TenantId) -> Result<Option<Tenant>, StoreError> {
        let Some(it) = self.get(tenant_pk(id.as_str()), TENANT_SK.into()).await? else {
            return Ok(None);
        };
        tenant_from_item(id, &it).map(Some)
    }

    pub async fn phone_numbers_of(
        &self,
        tenant: &TenantId,
    ) -> Result<Vec<PhoneNumber>, StoreError> {
        self.query_prefix("Query phone numbers", tenant_pk(tenant.as_str()), "PN#")
            .await?
            .iter()
            .map(|it| number_from_item(tenant, it))
            .collect()
    }

    /// Records a number's throughput (messages per second), e.g. after THROUGHPUT_UPGRADE.
    pub async fn set_throughput(
        &self,
        tenant: &TenantId,
        phone_number_id: &str,
        per_second: u32,
    ) -> Result<(), StoreError> {
        self.update_existing(
            "UpdateItem throughput",
            tenant_pk(tenant.as_str()),
            number_sk(phone_number_id),
            "SET throughput_per_second = :t",
            [(":t", n(per_second))],
        )
        .await
    }

    /// A phone number, read consistently: the sender re-reads it when Meta refuses the
    /// token, in case it was rotated.
    pub async fn get_phone_number(
        &self,
        tenant: &TenantId,
        phone_number_id: &str,
    ) -> Result<Option<PhoneNumber>, StoreError> {
        self.get_consistent(tenant_pk(tenant.as_str()), number_sk(phone_number_id))
            .await?
            .map(|it| number_from_item(tenant, &it))
            .transpose()
    }

    /// Connects the tenant's own Meta app (its webhooks come to `/webhook/{tenant}`), or
    /// replaces it; `None` removes it. False when there is no such tenant.
    pub async fn set_meta_app(
        &self,
        tenant: &TenantId,
        app: Option<&MetaApp>,
    ) -> Result<bool, StoreError> {
        let mut request = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(tenant_pk(tenant.as_str())))
            .key("sk", s(TENANT_SK))
            .condition_expression("attribute_exists(pk)")
            .return_consumed_capacity(ReturnConsumedCapacity::Total);
        request = match app {
            Some(app) => request
                .update_expression(
                    "SET meta_app_id = :id, meta_app_secret_ct = :secret, \
                     meta_verify_token_ct = :token, meta_app_secret_fingerprint = :fp, \
                     meta_app_set_at = :at",
                )
                .expression_attribute_values(":id", s(&app.app_id))
                .expression_attribute_values(":secret", b(app.app_secret_ciphertext.clone()))
                .expression_attribute_values(":token", b(app.verify_token_ciphertext.clone()))
                .expression_attribute_values(
                    ":fp",
                    s(app.secret_fingerprint.clone().unwrap_or_default()),
                )
                .expression_attribute_values(":at", n(app.set_at.unwrap_or_default())),
            None => request.update_expression(
                "REMOVE meta_app_id, meta_app_secret_ct, meta_verify_token_ct, \
                 meta_app_secret_fingerprint, meta_app_set_at",
            ),
        };
        self.settle("UpdateItem Meta app", request.send().await)
    }

    /// Replaces a number's access token (ciphertext) and its fingerprint; false when the
    /// tenant has no such number.
    pub async fn rotate_access_token(
        &self,
        tenant: &TenantId,
        phone_number_id: &str,
        ciphertext: Vec<u8>,
        fingerprint: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        self.update_if_exists(
            "UpdateItem access token",
            tenant_pk(tenant.as_str()),
            number_sk(phone_number_id),
            "SET access_token_ct = :ct, token_fingerprint = :f, token_set_at = :at",
            [
                (":ct", b(ciphertext)),
                (":f", s(fingerprint)),
                (":at", n(now)),
            ],
        )
        .await
    }

    /// Removes a number and its token, and frees its routes (its WABA's too, with the
    /// WABA's last number). False when the tenant has no such number.
    pub async fn disconnect_phone_number(
        &self,
        tenant: &TenantId,
        phone_number_id: &str,
    ) -> Result<bool, StoreError> {
        let out = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key("pk", s(tenant_pk(tenant.as_str())))
            .key("sk", s(number_sk(phone_number_id)))
            .condition_expression("attribute_exists(pk)")
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllOld)
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await;
        let removed = match out {
            Ok(out) => {
                self.count_write(out.consumed_capacity());
                out.attributes
            }
            Err(e) if super::is_condition_failure(&e) => return Ok(false),
            Err(e) => return Err(StoreError::dynamo("DeleteItem phone number", e)),
        };
        if let Some(waba) = removed.as_ref().and_then(|it| get_s(it, "waba_id")) {
            self.release_number_routes(tenant, phone_number_id, waba)
                .await?;
            self.drop_legacy_waba_item(tenant, waba).await?;
        }
        Ok(true)
    }

    /// Deletes the tenant's own WABA item that numbers connected before route items left,
    /// once none of its numbers belongs to the WABA.
    pub(crate) async fn drop_legacy_waba_item(
        &self,
        tenant: &TenantId,
        waba_id: &str,
    ) -> Result<(), StoreError> {
        let still_used = self
            .phone_numbers_of(tenant)
            .await?
            .iter()
            .any(|other| other.waba_id == waba_id);
        if !still_used {
            self.delete_item(
                "DeleteItem WABA",
                tenant_pk(tenant.as_str()),
                waba_sk(waba_id),
            )
            .await?;
        }
        Ok(())
    }

    pub(crate) async fn delete_item(
        &self,
        op: &'static str,
        pk: String,
        sk: String,
    ) -> Result<(), StoreError> {
        let out = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key("pk", s(pk))
            .key("sk", s(sk))
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await
            .map_err(|e| StoreError::dynamo(op, e))?;
        self.count_write(out.consumed_capacity());
        Ok(())
    }

    /// Stops the tenant's sending with `reason`; jobs fail fast until the tenant is put
    /// again with working credentials.
    pub async fn stop_sending(&self, tenant: &TenantId, reason: &str) -> Result<(), StoreError> {
        self.update_existing(
            "UpdateItem stop sending",
            tenant_pk(tenant.as_str()),
            TENANT_SK.into(),
            "SET sending_stopped = :r",
            [(":r", s(reason))],
        )
        .await
    }

    /// Pauses sends from a number until `until` (epoch seconds).
    pub async fn pause_number(
        &self,
        tenant: &TenantId,
        phone_number_id: &str,
        until: i64,
        reason: &str,
    ) -> Result<(), StoreError> {
        self.update_existing(
            "UpdateItem pause number",
            tenant_pk(tenant.as_str()),
            number_sk(phone_number_id),
            "SET paused_until = :u, pause_reason = :r",
            [(":u", n(until)), (":r", s(reason))],
        )
        .await
    }

    /// Applies `expression` to an existing item; false (nothing written) when there is none.
    pub(crate) async fn update_if_exists<const N: usize>(
        &self,
        op: &'static str,
        pk: String,
        sk: String,
        expression: &str,
        values: [(&str, AttributeValue); N],
    ) -> Result<bool, StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(pk))
            .key("sk", s(sk))
            .update_expression(expression)
            .condition_expression("attribute_exists(pk)")
            .set_expression_attribute_values(Some(
                values.into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
            ))
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await;
        self.settle(op, result)
    }

    /// As [`Self::update_if_exists`], for items that must exist: a missing one is an error.
    async fn update_existing<const N: usize>(
        &self,
        op: &'static str,
        pk: String,
        sk: String,
        expression: &str,
        values: [(&str, AttributeValue); N],
    ) -> Result<(), StoreError> {
        if self
            .update_if_exists(op, pk.clone(), sk.clone(), expression, values)
            .await?
        {
            Ok(())
        } else {
            Err(corrupt(
                &format!("{pk}/{sk}"),
                "the item to update does not exist",
            ))
        }
    }

    pub(crate) async fn put(&self, op: &'static str, it: Item) -> Result<(), StoreError> {
        let out = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(it))
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await
            .map_err(|e| StoreError::dynamo(op, e))?;
        self.count_write(out.consumed_capacity());
        Ok(())
    }

    pub(crate) async fn get(&self, pk: String, sk: String) -> Result<Option<Item>, StoreError> {
        self.get_item(pk, sk, false).await
    }

    /// A strongly consistent read, for decisions that must see the latest write.
    pub(crate) async fn get_consistent(
        &self,
        pk: String,
        sk: String,
    ) -> Result<Option<Item>, StoreError> {
        self.get_item(pk, sk, true).await
    }

    async fn get_item(
        &self,
        pk: String,
        sk: String,
        consistent: bool,
    ) -> Result<Option<Item>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .consistent_read(consistent)
            .key("pk", AttributeValue::S(pk))
            .key("sk", AttributeValue::S(sk))
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await
            .map_err(|e| StoreError::dynamo("GetItem", e))?;
        self.count_read(out.consumed_capacity());
        Ok(out.item)
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
    ]);
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

fn corrupt(key: &str, problem: &str) -> StoreError {
    StoreError::Corrupt {
        key: key.to_owned(),
        problem: problem.to_owned(),
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
            other => return Err(corrupt(&key, &format!("unknown status {other:?}"))),
        },
        retention: Retention {
            content_days: days("retention_content_days", defaults.content_days),
            metadata_days: days("retention_metadata_days", defaults.metadata_days),
            contact_days: days("retention_contact_days", defaults.contact_days),
            dedup_days: days("retention_dedup_days", defaults.dedup_days),
        },
        meta_app,
        sending_stopped: get_s(it, "sending_stopped").map(str::to_owned),
    })
}

/// A tenant's number as stored; written with its routes (see `routes`).
pub(crate) fn number_item(number: &PhoneNumber) -> Item {
    let mut it = item([
        ("pk", s(tenant_pk(number.tenant_id.as_str()))),
        ("sk", s(number_sk(&number.phone_number_id))),
        ("tenant_id", s(number.tenant_id.as_str())),
        ("phone_number_id", s(&number.phone_number_id)),
        ("waba_id", s(&number.waba_id)),
        ("display_phone_number", s(&number.display_phone_number)),
        ("access_token_ct", b(number.access_token_ciphertext.clone())),
        ("throughput_per_second", n(number.throughput_per_second)),
        ("coexistence", bool_attr(number.coexistence)),
    ]);
    let optional = [
        (
            "token_fingerprint",
            number.token_fingerprint.as_ref().map(s),
        ),
        ("token_set_at", number.token_set_at.map(n)),
        ("verified_name", number.verified_name.as_ref().map(s)),
        ("quality_rating", number.quality_rating.as_ref().map(s)),
    ];
    for (name, value) in optional {
        if let Some(value) = value {
            it.insert(name.to_owned(), value);
        }
    }
    it
}

fn number_from_item(tenant: &TenantId, it: &Item) -> Result<PhoneNumber, StoreError> {
    let text = |name: &str| {
        get_s(it, name)
            .map(str::to_owned)
            .ok_or_else(|| corrupt(get_s(it, "sk").unwrap_or("?"), &format!("no {name}")))
    };
    Ok(PhoneNumber {
        tenant_id: tenant.clone(),
        phone_number_id: text("phone_number_id")?,
        waba_id: text("waba_id")?,
        display_phone_number: text("display_phone_number")?,
        access_token_ciphertext: get_b(it, "access_token_ct").unwrap_or_default().to_vec(),
        throughput_per_second: get_i64(it, "throughput_per_second").unwrap_or(80) as u32,
        coexistence: get_bool(it, "coexistence").unwrap_or(false),
        paused_until: get_i64(it, "paused_until"),
        pause_reason: get_s(it, "pause_reason").map(str::to_owned),
        token_fingerprint: get_s(it, "token_fingerprint").map(str::to_owned),
        token_set_at: get_i64(it, "token_set_at"),
        verified_name: get_s(it, "verified_name").map(str::to_owned),
        quality_rating: get_s(it, "quality_rating").map(str::to_owned),
        quality: get_s(it, "quality_event").map(|event| NumberQuality {
            event: event.to_owned(),
            messaging_limit: get_s(it, "messaging_limit").map(str::to_owned),
            at: get_i64(it, "quality_at").unwrap_or(0),
        }),
    })
}
