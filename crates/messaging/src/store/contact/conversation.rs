//! Conversations: a tenant's contacts ordered by their latest activity, through the
//! `conversation-index` GSI over the contact profiles. The profile carries the index's keys
//! (`conv_pk` = the tenant, `conv_sk` = activity time + contact id), written together with
//! `last_inbound_at` or `last_outbound_at`: in steps of five minutes, and whenever the
//! conversation turns unread (the user wrote after the business) or read (the business
//! answered), so that a busy conversation costs no extra write per message.

use crate::store::contact::ContactStore;
use aws_sdk_dynamodb::types::AttributeValue;
use std::future::Future;

use crate::domain::contact::ContactProfile;
use crate::domain::conversation::ConversationFilter;
use crate::domain::tenant::TenantId;
use crate::store::contact::LAST_INBOUND_GRANULARITY_SECS;
use crate::store::cursor::Cursor;
use crate::store::keys::{PROFILE_SK, contact_pk, tenant_pk};
use crate::store::table::{get_s, n, s};
use crate::store::{StoreError, is_live};

pub const CONVERSATION_INDEX: &str = "conversation-index";

/// The index attributes of a conversation whose latest activity is `at`.
pub(crate) fn conversation_attrs(
    tenant: &TenantId,
    contact_id: &str,
    at: i64,
    number: Option<&str>,
) -> Vec<(&'static str, AttributeValue)> {
    let mut attrs = vec![
        ("conv_pk", s(tenant_pk(tenant.as_str()))),
        ("conv_sk", s(format!("{at:010}#{contact_id}"))),
    ];
    if let Some(number) = number {
        attrs.push(("last_number", s(number)));
    }
    attrs
}

#[derive(Debug, Clone)]
pub struct ConversationPage {
    pub contacts: Vec<ContactProfile>,
    /// Where the next page starts, when there may be one.
    pub next: Option<Cursor>,
}

impl ContactStore {
    /// Records that the business read the contact's messages up to `read_up_to` (the
    /// send time of the message marked read); only ever forward.
    pub async fn record_read(
        &self,
        tenant: &TenantId,
        contact_id: &str,
        read_up_to: i64,
    ) -> Result<(), StoreError> {
        self.update(
            "UpdateItem read",
            contact_pk(tenant.as_str(), contact_id),
            PROFILE_SK.into(),
        )
        .set("last_read_at", n(read_up_to))
        .condition(
            "attribute_exists(pk) AND (attribute_not_exists(last_read_at) OR last_read_at < :at)",
        )
        .value(":at", n(read_up_to))
        .send()
        .await?;
        Ok(())
    }

    /// A page of the tenant's conversations, most recently active first.
    pub async fn conversations(
        &self,
        tenant: &TenantId,
        filter: &ConversationFilter<'_>,
        after: Option<&Cursor>,
        limit: i32,
        now: i64,
    ) -> Result<ConversationPage, StoreError> {
        let mut conditions = vec!["(attribute_not_exists(expires_at) OR expires_at > :now)"];
        if filter.phone_number_id.is_some() {
            conditions.push("last_number = :num");
        }
        if filter.unread_only {
            conditions.push(
                "attribute_exists(last_inbound_at) AND (attribute_not_exists(last_outbound_at) OR last_outbound_at < last_inbound_at) AND (attribute_not_exists(last_read_at) OR last_read_at < last_inbound_at)",
            );
        }
        let key_condition = if filter.since.is_some() {
            "conv_pk = :cpk AND conv_sk >= :since"
        } else {
            "conv_pk = :cpk"
        };
        let mut query = self
            .query("Query conversations", key_condition)
            .index(CONVERSATION_INDEX)
            .filter(conditions.join(" AND "))
            .value(":cpk", s(tenant_pk(tenant.as_str())))
            .value(":now", n(now))
            .after(after)
            .backwards()
            .limit(limit);
        if let Some(number) = filter.phone_number_id {
            query = query.value(":num", s(number));
        }
        if let Some(since) = filter.since {
            query = query.value(":since", s(format!("{since:010}")));
        }
        let page = query.page().await?;
        let live: Vec<_> = page.items.iter().filter(|it| is_live(it, now)).collect();
        let people = self.reading_keys(tenant, live.iter().copied()).await?;
        let contacts = live
            .into_iter()
            .filter_map(|it| {
                let id = get_s(it, "contact_id")?;
                let key = people.get(id).map(|k| &**k);
                Some(crate::store::contact::profile_from_item(id, it, key))
            })
            .collect();
        Ok(ConversationPage {
            contacts,
            next: page.next,
        })
    }
}

/// Where the conversation with a contact stands, as messages move it.
pub trait ConversationActivity: Send + Sync {
    /// Records that the business sent to `contact` through `number` at `now`, when that
    /// changes what the listing shows (the step passed, or an unread conversation is
    /// answered).
    fn record_outbound_activity(
        &self,
        tenant: &TenantId,
        contact: &ContactProfile,
        number: &str,
        now: i64,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

impl ConversationActivity for ContactStore {
    async fn record_outbound_activity(
        &self,
        tenant: &TenantId,
        contact: &ContactProfile,
        number: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        let stale = contact
            .last_outbound_at
            .is_none_or(|last| now >= last + LAST_INBOUND_GRANULARITY_SECS);
        if !stale && !contact.unread() && contact.last_number.as_deref() == Some(number) {
            return Ok(());
        }
        let activity = now.max(contact.last_inbound_at.unwrap_or(0));
        let mut update = self
            .update(
                "UpdateItem outbound activity",
                contact_pk(tenant.as_str(), &contact.contact_id),
                PROFILE_SK.into(),
            )
            .set("last_outbound_at", n(now));
        for (attribute, value) in
            conversation_attrs(tenant, &contact.contact_id, activity, Some(number))
        {
            update = update.set(attribute, value);
        }
        // Only forward: a slower call never moves the time back.
        update
            .condition(
                "attribute_exists(pk) AND (attribute_not_exists(last_outbound_at) OR last_outbound_at < :out)",
            )
            .value(":out", n(now))
            .send()
            .await?;
        Ok(())
    }
}
