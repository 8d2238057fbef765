//! A tenant's conversations, most recently active first, through the
//! `conversations-by-activity` index over the conversation items, each with the card of
//! its contact it carries (`card`): a page is one query. A conversation written before
//! cards has its contact's profile read instead (one BatchGetItem for those of a page).

use std::collections::HashMap;

use crate::domain::contact::ContactCard;
use crate::domain::conversation::ConversationFilter;
use crate::domain::conversation::activity::ConversationState;
use crate::domain::tenant::TenantId;
use crate::store::ContactStore;
use crate::store::conversation::ConversationStore;
use crate::store::conversation::card::{CARD_REVISION, card_from_item, card_sets, has_card};
use crate::store::conversation::item::{CONVERSATION_INDEX, state_from_item};
use crate::store::cursor::Cursor;
use crate::store::keys::{CONVERSATION_PREFIX, contact_pk, tenant_pk};
use crate::store::table::{Item, get_s, n, s};
use crate::store::{StoreError, is_live};

/// One page of a tenant's conversations.
#[derive(Debug, Clone)]
pub struct ConversationPage {
    /// Each conversation with its contact, most recently active first.
    pub conversations: Vec<(ConversationState, ContactCard)>,
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
        let conversations = self.with_cards(tenant, live, now).await?;
        Ok(ConversationPage {
            conversations,
            next: page.next,
        })
    }
}

impl ConversationStore {
    /// Each conversation with its contact's card, in their order. A card is only written
    /// under its person's key, so one whose key is gone is an erased person's (read while
    /// the erasure ran, or written by a writer that raced it): left out, as a conversation
    /// without a live profile is.
    async fn with_cards(
        &self,
        tenant: &TenantId,
        items: Vec<Item>,
        now: i64,
    ) -> Result<Vec<(ConversationState, ContactCard)>, StoreError> {
        let keys = self.reading_keys(tenant, &items).await?;
        let key_of = |it: &Item| get_s(it, "contact_id").and_then(|id| keys.get(id));
        let cardless: Vec<Item> = items.iter().filter(|it| !has_card(it)).cloned().collect();
        let profiles: HashMap<String, ContactCard> = match cardless.is_empty() {
            true => HashMap::new(),
            false => self
                .repo::<ContactStore>()
                .profiles_of(tenant, &cardless, now)
                .await?
                .into_iter()
                .map(|(_, profile)| (profile.contact_id.clone(), ContactCard::from(&profile)))
                .collect(),
        };
        Ok(items
            .iter()
            .filter_map(|it| {
                let card = match has_card(it) {
                    true => card_from_item(it, Some(key_of(it)?))?,
                    false => profiles.get(get_s(it, "contact_id")?)?.clone(),
                };
                Some((state_from_item(it)?, card))
            })
            .collect())
    }

    /// Makes the cards of the contact's conversations show its profile as it now stands,
    /// after a change of what they show (a name, an identifier, consent), which counted
    /// itself in the profile's card revision. Both reads are strongly consistent, so a
    /// refresh never writes less than the change that called it, and it writes a card only
    /// forward: of two refreshes that cross, the later change stays. The writers of a
    /// conversation set its card only when they make it.
    pub(crate) async fn refresh_cards(
        &self,
        tenant: &TenantId,
        contact_id: &str,
    ) -> Result<(), StoreError> {
        let pk = contact_pk(tenant.as_str(), contact_id);
        let items = self
            .query(
                "Query a contact's conversations",
                "pk = :pk AND begins_with(sk, :prefix)",
            )
            .value(":pk", s(&pk))
            .value(":prefix", s(CONVERSATION_PREFIX))
            .consistent()
            .all()
            .await?;
        if items.is_empty() {
            return Ok(());
        }
        let now = wagate_platform::clock::now_seconds();
        // Gone (expired, erased): the conversations go with it.
        let Some((profile, revision)) = self
            .repo::<ContactStore>()
            .latest_for_cards(tenant, contact_id, now)
            .await?
        else {
            return Ok(());
        };
        // No key (the person's erasure destroyed it and is deleting the partition): there
        // is nothing to show, and nothing to refresh.
        let key = match self.reading_key(tenant, contact_id).await {
            Ok(Some(key)) => key,
            Ok(None) | Err(StoreError::PersonErased) => return Ok(()),
            Err(e) => return Err(e),
        };
        let card = card_sets(&key, tenant, &profile);
        for it in items.iter().filter(|it| is_live(it, now)) {
            let Some(sk) = get_s(it, "sk") else { continue };
            let mut update = self.update("UpdateItem conversation card", pk.clone(), sk.to_owned());
            for (attribute, value) in &card {
                update = update.set_or_remove(attribute, value.clone());
            }
            // Gone meanwhile: nothing to refresh. Shown a later change by a refresh that
            // read after this one: left as it is.
            update
                .set(CARD_REVISION, n(revision))
                .condition("attribute_exists(pk) AND (attribute_not_exists(#rev) OR #rev < :rev)")
                .name("#rev", CARD_REVISION)
                .value(":rev", n(revision))
                .send()
                .await?;
        }
        Ok(())
    }

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
