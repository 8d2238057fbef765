//! Sealing what was written before per-person sealing existed: one page of one segment of
//! a scan of the table at a time, each item rewritten by its own module. Every step checks
//! before it writes, so a page run twice (a redelivered job, a second request) rewrites
//! nothing twice.

use crate::domain::tenant::TenantId;
use crate::store::callback::delivery_log_tenant;
use crate::store::keys::{
    IDENTITY_SK, MESSAGE_PREFIX, PROFILE_SK, contact_of_pk, events_tenant, legacy_identity_of_pk,
};
use crate::store::message;
use crate::store::table::{Item, get_s, s};
use crate::store::tenant::erasure::ScanPosition;
use crate::store::{Store, StoreError};

/// What one page rewrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Sealed {
    /// Profiles sealed or moved to a bucket of the name index.
    pub profiles: usize,
    pub messages: usize,
    /// Identity items moved under their blind index.
    pub identities: usize,
    /// Callback deliveries and tenant events.
    pub logged: usize,
}

impl Sealed {
    pub fn add(&mut self, other: Sealed) {
        self.profiles += other.profiles;
        self.messages += other.messages;
        self.identities += other.identities;
        self.logged += other.logged;
    }
}

/// One page of a sealing sweep.
#[derive(Debug, Default)]
pub struct SealPage {
    pub sealed: Sealed,
    pub next: Option<ScanPosition>,
}

/// Profiles (checked one by one), messages with a plaintext attribute, identity items
/// keyed by an identifier, callback deliveries and tenant events in plaintext.
const FILTER: &str = "sk = :profile \
    OR (begins_with(sk, :message) AND (attribute_type(#content, :string) OR attribute_type(#context, :string) \
        OR attribute_type(#referral, :string) OR attribute_type(#details, :string))) \
    OR (sk = :identity AND (contains(pk, :phone) OR contains(pk, :bsuid))) \
    OR attribute_type(#body, :string) OR attribute_type(#raw, :string)";

impl Store {
    /// Seals what one page of segment `segment` of `segments` holds in plaintext, from
    /// after `start`.
    pub async fn seal_page_written_before(
        &self,
        (segment, segments): (u32, u32),
        start: Option<&ScanPosition>,
        limit: i32,
    ) -> Result<SealPage, StoreError> {
        let [content, context, referral, details] = message::SEALED_ATTRIBUTES;
        let names = [
            ("#content", content),
            ("#context", context),
            ("#referral", referral),
            ("#details", details),
            ("#body", "body"),
            ("#raw", "raw"),
        ];
        let values = [
            (":profile", s(PROFILE_SK)),
            (":message", s(MESSAGE_PREFIX)),
            (":identity", s(IDENTITY_SK)),
            (":string", s("S")),
            (":phone", s("#ID#phone:")),
            (":bsuid", s("#ID#bsuid:")),
        ];
        let page = self
            .scan_page(
                "Scan items written before sealing",
                FILTER,
                (&names, &values),
                (segment, segments),
                start.map(|p| (p.pk.as_str(), p.sk.as_str())),
                limit,
            )
            .await?;
        let mut sealed = Sealed::default();
        for it in &page.items {
            sealed.add(self.seal_item_written_before(it).await?);
        }
        Ok(SealPage {
            sealed,
            next: page.next.as_ref().and_then(|at| {
                Some(ScanPosition {
                    pk: at.get("pk")?.to_owned(),
                    sk: at.get("sk")?.to_owned(),
                })
            }),
        })
    }

    async fn seal_item_written_before(&self, it: &Item) -> Result<Sealed, StoreError> {
        let (Some(pk), Some(sk)) = (get_s(it, "pk"), get_s(it, "sk")) else {
            return Ok(Sealed::default());
        };
        let tenant_of = |raw: &str| TenantId::parse(raw).ok();
        let mut sealed = Sealed::default();
        if let Some((tenant, contact)) = contact_of_pk(pk)
            && let Some(tenant) = tenant_of(tenant)
        {
            if sk == PROFILE_SK {
                sealed.profiles += usize::from(
                    self.seal_profile_written_before(&tenant, contact, it)
                        .await?,
                );
            } else if sk.starts_with(MESSAGE_PREFIX) {
                sealed.messages += usize::from(
                    self.seal_message_written_before(&tenant, contact, it)
                        .await?,
                );
            }
        } else if sk == IDENTITY_SK
            && let Some((tenant, identifier)) = legacy_identity_of_pk(pk)
            && let Some(tenant) = tenant_of(tenant)
        {
            sealed.identities += usize::from(
                self.move_identity_written_before(&tenant, identifier, it)
                    .await?,
            );
        } else if let Some(tenant) = delivery_log_tenant(pk).and_then(tenant_of) {
            sealed.logged += usize::from(self.seal_delivery_written_before(&tenant, it).await?);
        } else if let Some(tenant) = events_tenant(pk).and_then(tenant_of) {
            sealed.logged += usize::from(self.seal_event_written_before(&tenant, it).await?);
        }
        Ok(sealed)
    }
}
