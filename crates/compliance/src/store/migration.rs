//! Sealing what was written before per-person sealing existed, moving what was keyed by
//! a raw wamid before wamids were blinded, and conversations from their contact's profile
//! onto their own items: one page of one segment of a scan of the
//! table at a time, each item rewritten by its own module. Every step checks before it
//! writes, so a page run twice (a redelivered job, a second request) rewrites nothing
//! twice.

use crate::domain::tenant::TenantId;
use crate::store::ContactStore;
use crate::store::ConversationStore;
use crate::store::MessageStore;
use crate::store::StoreError;
use crate::store::TenantEventStore;
use crate::store::contact::consent::KEPT_EXTRA_ATTRIBUTES;
use crate::store::keys::{
    CONSENT_PREFIX, DEDUP_PREFIX, IDENTITY_SK, MESSAGE_PREFIX, OPT_OUT_SK, PROFILE_SK,
    RAW_WAMID_MARK, WAMID_PREFIX, contact_of_pk, events_tenant, legacy_identity_of_pk,
    opt_out_tenant,
};
use crate::store::message;
use crate::store::table::{Item, get_s, s};
use crate::store::tenant::erasure::ScanPosition;
use wagate_integrations::store::CallbackStore;
use wagate_integrations::store::callback::delivery_log_tenant;

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
    /// Conversations moved from their contact's profile onto their own item.
    pub conversations: usize,
    /// Messages, dedup records and delivery states moved from under a raw wamid, consent
    /// evidence that named one, and identifiers' opt-out items stripped to scope and time.
    pub rekeyed: usize,
}

impl Sealed {
    pub fn add(&mut self, other: Sealed) {
        self.profiles += other.profiles;
        self.messages += other.messages;
        self.identities += other.identities;
        self.logged += other.logged;
        self.conversations += other.conversations;
        self.rekeyed += other.rekeyed;
    }
}

/// One page of a sealing sweep.
#[derive(Debug, Default)]
pub struct SealPage {
    pub sealed: Sealed,
    pub next: Option<ScanPosition>,
}

/// Profiles (checked one by one), messages with a plaintext attribute, identity items
/// keyed by an identifier, callback deliveries and tenant events in plaintext, items keyed
/// by a raw wamid (messages, their dedup records, delivery states), consent lines whose
/// evidence is one, and identifiers' opt-out items with more than scope and time.
const FILTER: &str = "sk = :profile \
    OR (begins_with(sk, :message) AND (attribute_type(#content, :string) OR attribute_type(#context, :string) \
        OR attribute_type(#referral, :string) OR attribute_type(#details, :string) \
        OR attribute_type(#wamid, :string))) \
    OR (sk = :identity AND (contains(pk, :phone) OR contains(pk, :bsuid))) \
    OR attribute_type(#body, :string) OR attribute_type(#raw, :string) \
    OR contains(sk, :rawwamid) \
    OR (begins_with(sk, :consent) AND begins_with(#evidence, :rawwamid)) \
    OR (sk = :optout AND (attribute_exists(#ms) OR attribute_exists(#me) \
        OR attribute_exists(#as) OR attribute_exists(#ae)))";

crate::store::repository! {
    /// Sealing what was written before per-person sealing, item by item.
    SealingStore
}

impl SealingStore {
    /// Seals what one page of segment `segment` of `segments` holds in plaintext, from
    /// after `start`.
    pub async fn seal_page_written_before(
        &self,
        (segment, segments): (u32, u32),
        start: Option<&ScanPosition>,
        limit: i32,
    ) -> Result<SealPage, StoreError> {
        let [content, context, referral, details, wamid] = message::SEALED_ATTRIBUTES;
        let [ms, me, r#as, ae] = KEPT_EXTRA_ATTRIBUTES;
        let names = [
            ("#content", content),
            ("#context", context),
            ("#referral", referral),
            ("#details", details),
            ("#wamid", wamid),
            ("#body", "body"),
            ("#raw", "raw"),
            ("#evidence", "evidence"),
            ("#ms", ms),
            ("#me", me),
            ("#as", r#as),
            ("#ae", ae),
        ];
        let values = [
            (":profile", s(PROFILE_SK)),
            (":message", s(MESSAGE_PREFIX)),
            (":identity", s(IDENTITY_SK)),
            (":string", s("S")),
            (":phone", s("#ID#phone:")),
            (":bsuid", s("#ID#bsuid:")),
            (":rawwamid", s(RAW_WAMID_MARK)),
            (":consent", s(CONSENT_PREFIX)),
            (":optout", s(OPT_OUT_SK)),
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
            let raw_wamid = sk.contains(RAW_WAMID_MARK);
            if sk == PROFILE_SK {
                sealed.profiles += usize::from(
                    self.repo::<ContactStore>()
                        .seal_profile_written_before(&tenant, contact, it)
                        .await?,
                );
                sealed.rekeyed += usize::from(
                    self.repo::<ContactStore>()
                        .rewrite_wamid_evidence(&tenant, contact, it)
                        .await?,
                );
                sealed.conversations += usize::from(
                    self.repo::<ConversationStore>()
                        .move_from_profile(&tenant, contact, it)
                        .await?,
                );
            } else if raw_wamid && sk.starts_with(MESSAGE_PREFIX) {
                sealed.rekeyed += usize::from(
                    self.repo::<MessageStore>()
                        .move_message_keyed_by_wamid(&tenant, contact, it)
                        .await?,
                );
            } else if sk.starts_with(MESSAGE_PREFIX) {
                sealed.messages += usize::from(
                    self.repo::<MessageStore>()
                        .seal_message_written_before(&tenant, contact, it)
                        .await?,
                );
            } else if raw_wamid && sk.starts_with(WAMID_PREFIX) {
                sealed.rekeyed += usize::from(
                    self.repo::<MessageStore>()
                        .move_status_keyed_by_wamid(&tenant, contact, it)
                        .await?,
                );
            } else if raw_wamid && sk.starts_with(DEDUP_PREFIX) {
                sealed.rekeyed += usize::from(
                    self.repo::<MessageStore>()
                        .move_dedup_keyed_by_wamid(&tenant, it)
                        .await?,
                );
            } else if sk.starts_with(CONSENT_PREFIX) {
                sealed.rekeyed += usize::from(
                    self.repo::<ContactStore>()
                        .rewrite_wamid_evidence(&tenant, contact, it)
                        .await?,
                );
            }
        } else if sk == OPT_OUT_SK && opt_out_tenant(pk).is_some() {
            sealed.rekeyed +=
                usize::from(self.repo::<ContactStore>().strip_kept_opt_out(it).await?);
        } else if sk == IDENTITY_SK
            && let Some((tenant, identifier)) = legacy_identity_of_pk(pk)
            && let Some(tenant) = tenant_of(tenant)
        {
            sealed.identities += usize::from(
                self.repo::<ContactStore>()
                    .move_identity_written_before(&tenant, identifier, it)
                    .await?,
            );
        } else if let Some(tenant) = delivery_log_tenant(pk).and_then(tenant_of) {
            sealed.logged += usize::from(
                self.repo::<CallbackStore>()
                    .seal_delivery_written_before(&tenant, it)
                    .await?,
            );
        } else if let Some(tenant) = events_tenant(pk).and_then(tenant_of) {
            sealed.logged += usize::from(
                self.repo::<TenantEventStore>()
                    .seal_event_written_before(&tenant, it)
                    .await?,
            );
        }
        Ok(sealed)
    }
}
