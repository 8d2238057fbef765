//! A tenant's phone numbers: the number item (its Meta ids, token ciphertext, throughput,
//! pause and quality), the routes from Meta's ids to their owner (`route`), and each
//! number's send pacing (`pacing`).

pub mod pacing;
pub mod route;

use crate::domain::tenant::{NumberQuality, PhoneNumber, TenantId};
use crate::store::StoreError;
use crate::store::keys::{number_sk, tenant_pk, waba_sk};
use crate::store::table::{Item, b, bool_attr, get_b, get_bool, get_i64, get_s, item, n, s};
use std::future::Future;

crate::store::repository! {
    /// The tenant's phone numbers, the routes from Meta's ids to them, and their send pacing.
    NumberStore
}

impl NumberStore {
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
        let Some(removed) = self
            .delete_existing(
                "DeleteItem phone number",
                tenant_pk(tenant.as_str()),
                number_sk(phone_number_id),
            )
            .await?
        else {
            return Ok(false);
        };
        let removed = Some(removed);
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
}

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
        get_s(it, name).map(str::to_owned).ok_or_else(|| {
            StoreError::corrupt(get_s(it, "sk").unwrap_or("?"), &format!("no {name}"))
        })
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

/// The tenant's numbers and what Meta reports about their sending.
pub trait NumberRecords: Send + Sync {
    fn phone_numbers_of(
        &self,
        tenant: &TenantId,
    ) -> impl Future<Output = Result<Vec<PhoneNumber>, StoreError>> + Send;

    /// Records a number's throughput (messages per second), e.g. after THROUGHPUT_UPGRADE.
    fn set_throughput(
        &self,
        tenant: &TenantId,
        phone_number_id: &str,
        per_second: u32,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// A number's quality as Meta's `phone_number_quality_update` webhooks report it, kept
    /// on the number's item; an older event arriving late changes nothing.
    fn record_number_quality(
        &self,
        tenant: &TenantId,
        phone_number_id: &str,
        quality: &NumberQuality,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Pauses sends from a number until `until` (epoch seconds).
    fn pause_number(
        &self,
        tenant: &TenantId,
        phone_number_id: &str,
        until: i64,
        reason: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

impl NumberRecords for NumberStore {
    async fn phone_numbers_of(&self, tenant: &TenantId) -> Result<Vec<PhoneNumber>, StoreError> {
        self.query_prefix("Query phone numbers", tenant_pk(tenant.as_str()), "PN#")
            .await?
            .iter()
            .map(|it| number_from_item(tenant, it))
            .collect()
    }

    async fn set_throughput(
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

    async fn record_number_quality(
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

    async fn pause_number(
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
}
