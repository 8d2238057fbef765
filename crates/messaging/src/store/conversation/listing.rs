//! A tenant's conversations, most recently active first, through the
//! `conversations-by-activity` index over the conversation items, each with its contact's
//! profile (read for the page in one BatchGetItem).

use crate::domain::contact::ContactProfile;
use crate::domain::conversation::ConversationFilter;
use crate::domain::conversation::activity::ConversationState;
use crate::domain::tenant::TenantId;
use crate::store::ContactStore;
use crate::store::conversation::ConversationStore;
use crate::store::conversation::item::{CONVERSATION_INDEX, state_from_item};
use crate::store::cursor::Cursor;
use crate::store::keys::{CONVERSATION_PREFIX, contact_pk, tenant_pk};
use crate::store::table::{n, s};
use crate::store::{StoreError, is_live};

/// One page of a tenant's conversations.
#[derive(Debug, Clone)]
pub struct ConversationPage {
    /// Each conversation with its contact, most recently active first.
    pub conversations: Vec<(ConversationState, ContactProfile)>,
    /// Where the next page starts, when there may be one.
    pub next: Option<Cursor>,
}

/// Unread: the person wrote after the business last wrote or read.
const UNREAD: &str = "attribute_exists(last_inbound_at) \
    AND (attribute_not_exists(last_outbound_at) OR last_outbound_at < last_inbound_at) \
    AND (attribute_not_exists(last_read_at) OR last_read_at < last_inbound_at)";

impl ConversationStore {
    /// A page of the tenant's conversations, most recently active first. A page may hold
    /// fewer than `limit` (the filter's and expired contacts' leave gaps) with more to come.
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
            conditions.push("phone_number_id = :num");
        }
        if filter.unread_only {
            conditions.push(UNREAD);
        }
        let key_condition = if filter.since.is_some() {
            "activity_pk = :tpk AND activity_sk >= :since"
        } else {
            "activity_pk = :tpk"
        };
        let mut query = self
            .query("Query conversations", key_condition)
            .index(CONVERSATION_INDEX)
            .filter(conditions.join(" AND "))
            .value(":tpk", s(tenant_pk(tenant.as_str())))
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
        let live: Vec<_> = page
            .items
            .into_iter()
            .filter(|it| is_live(it, now))
            .collect();
        let conversations = self
            .repo::<ContactStore>()
            .profiles_of(tenant, &live, now)
            .await?
            .into_iter()
            .filter_map(|(it, profile)| Some((state_from_item(&it)?, profile)))
            .collect();
        Ok(ConversationPage {
            conversations,
            next: page.next,
        })
    }
}

impl ConversationStore {
    /// Every live conversation with the contact, one per number (a few).
    pub async fn conversations_of(
        &self,
        tenant: &TenantId,
        contact_id: &str,
        now: i64,
    ) -> Result<Vec<ConversationState>, StoreError> {
        let items = self
            .query_prefix(
                "Query a contact's conversations",
                contact_pk(tenant.as_str(), contact_id),
                CONVERSATION_PREFIX,
            )
            .await?;
        Ok(items
            .iter()
            .filter(|it| is_live(it, now))
            .filter_map(state_from_item)
            .collect())
    }
}
