//! Conversations: one item per contact and business number (`CONV#<phone number id>`) in
//! the contact's partition, so erasing, exporting and ageing the person take it with the
//! rest. It holds where the cycle stands (`domain::conversation::cycle`) with a version
//! every move advances, and the activity the listing shows (`activity`). A move reads the
//! item and writes it on the condition that its version is still the one read; a writer
//! that loses reads again and applies its move to what won. `listing` reads a tenant's
//! conversations by latest activity through the `conversations-by-activity` index.

pub mod card;
pub mod item;
pub mod listing;

use std::future::Future;

use aws_sdk_dynamodb::types::AttributeValue;

use crate::domain::contact::ContactProfile;
use crate::domain::conversation::activity::{Activity, ConversationState, MessageEffect, Wrote};
use crate::domain::conversation::cycle::{Conversation, IllegalTransition, Moved, Transition};
use crate::domain::tenant::TenantId;
use crate::store::keys::{PROFILE_SK, contact_pk, conversation_sk};
use crate::store::table::{Item, Update, get_i64, n};
use crate::store::table::{Transacted, check_action, put_action};
use crate::store::{EXPIRES_AT, StoreError, is_live};
use item::{
    PROFILE_CONVERSATION_ATTRIBUTES, activity_keys, stage_sets, state_from_item,
    state_from_old_profile, state_item,
};

/// The card's attributes as a write sets them (`card::card_sets`).
type CardSets = [(&'static str, Option<AttributeValue>)];

/// How often a move reads again after losing to another writer before it gives up (the
/// batch or call is retried): each loss means another move won, so this many writers can
/// race for one conversation (agents taking it, a bot, a manager) and each lands.
const MOVE_ATTEMPTS: usize = 12;

crate::store::repository! {
    /// The conversations with contacts on the tenant's numbers.
    ConversationStore
}

/// What creating a conversation came to.
enum Created {
    Written,
    /// Another writer made it first: read again.
    Raced,
}

/// What moving a conversation came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MoveOutcome {
    /// The conversation as it is now.
    Moved(Conversation),
    /// Nothing to change.
    Unchanged(Conversation),
    /// Its stage does not allow the move.
    Refused(IllegalTransition),
    /// There is no conversation with the contact on that number.
    NotFound,
}

/// Where a conversation stands and what it shows, as messages and people move it.
pub trait ConversationStates: Send + Sync {
    /// The conversation with `contact_id` on `number`, if there is one.
    fn conversation(
        &self,
        tenant: &TenantId,
        contact_id: &str,
        number: &str,
    ) -> impl Future<Output = Result<Option<ConversationState>, StoreError>> + Send;

    /// Someone wrote on the conversation `who` names (the contact as the writer read it,
    /// whose card the conversation then carries, and the number); what is written lives
    /// until `expires_at`. The person's message opens the conversation, or its next
    /// cycle after a resolve, and marks it unread; the business's opens one that does not
    /// exist (answered with it) and marks it answered, and writing to one that exists
    /// does not lengthen its life, as it does not the contact's. Answers the conversation
    /// when this message opened its current cycle (the person's, also on a redelivery).
    fn wrote(
        &self,
        tenant: &TenantId,
        who: (&ContactProfile, &str),
        wrote: Wrote,
        expires_at: i64,
    ) -> impl Future<Output = Result<Option<Conversation>, StoreError>> + Send;

    /// As [`wrote`](Self::wrote), for the message that made its contact under a new id:
    /// no conversation can exist with it yet, so a store need not read one first.
    fn first_message(
        &self,
        tenant: &TenantId,
        who: (&ContactProfile, &str),
        wrote: Wrote,
        expires_at: i64,
    ) -> impl Future<Output = Result<Option<Conversation>, StoreError>> + Send {
        self.wrote(tenant, who, wrote, expires_at)
    }

    /// The business read the person's messages up to the one sent at `read_up_to`; only
    /// ever forward.
    fn record_read(
        &self,
        tenant: &TenantId,
        contact_id: &str,
        number: &str,
        read_up_to: i64,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Moves the conversation by `transition` at `at`, conditionally on the version read.
    fn move_conversation(
        &self,
        tenant: &TenantId,
        contact_id: &str,
        number: &str,
        transition: &Transition,
        at: i64,
    ) -> impl Future<Output = Result<MoveOutcome, StoreError>> + Send;
}

impl ConversationStore {
    async fn read(
        &self,
        tenant: &TenantId,
        contact_id: &str,
        number: &str,
        consistent: bool,
    ) -> Result<Option<ConversationState>, StoreError> {
        let (pk, sk) = (
            contact_pk(tenant.as_str(), contact_id),
            conversation_sk(number),
        );
        let found = if consistent {
            self.get_consistent(pk, sk).await?
        } else {
            self.get(pk, sk).await?
        };
        // An expired conversation is gone, even before TTL deletes it: a message to its
        // contact makes a new one rather than bringing back what retention ended.
        let now = wagate_platform::clock::now_seconds();
        found
            .filter(|it| is_live(it, now))
            .map(|it| {
                state_from_item(&it)
                    .ok_or_else(|| StoreError::corrupt("CONV", "unreadable conversation"))
            })
            .transpose()
    }

    /// Writes a conversation that did not exist (or expired). A plain conditional put, as a message's
    /// is, not a transaction checking the profile (which cost three times as much): the
    /// writers made it for a contact they had just read, a person's erasure deletes what
    /// such a writer wrote meanwhile in its final pass, and the conversation ends no later
    /// than the profile (`expires_at`).
    async fn create(
        &self,
        tenant: &TenantId,
        state: &ConversationState,
        card: &CardSets,
        expires_at: i64,
    ) -> Result<Created, StoreError> {
        let mut it = state_item(tenant, state, expires_at);
        for (attribute, value) in card {
            if let Some(value) = value {
                it.insert((*attribute).to_owned(), value.clone());
            }
        }
        // Over an expired one too (its TTL deletion may lag by days): nothing of it stays.
        let now = wagate_platform::clock::now_seconds();
        let written = self
            .put_if(
                "PutItem new conversation",
                it,
                "attribute_not_exists(pk) OR expires_at <= :now",
                &[],
                &[(":now", n(now))],
            )
            .await?;
        Ok(match written {
            true => Created::Written,
            false => Created::Raced,
        })
    }

    /// Writes a conversation that did not exist while its contact's profile does, in one
    /// transaction: for the migration, which works from a page of items scanned a while
    /// ago, unlike a writer that has just read the contact. Without a card: the listing
    /// reads such a conversation's profile. False when either condition failed.
    async fn create_beside_profile(
        &self,
        tenant: &TenantId,
        state: &ConversationState,
        expires_at: i64,
    ) -> Result<bool, StoreError> {
        let it = state_item(tenant, state, expires_at);
        let profile = (
            contact_pk(tenant.as_str(), &state.conversation.contact_id),
            PROFILE_SK.to_owned(),
        );
        let actions = vec![
            put_action(self.table_name(), it, "attribute_not_exists(pk)", &[])?,
            check_action(self.table_name(), profile, "attribute_exists(pk)", &[])?,
        ];
        let done = self
            .transact("TransactWriteItems moved conversation", actions)
            .await?;
        Ok(matches!(done, Transacted::Written))
    }

    /// Writes `next` over the conversation read at `read_version` with `activity`'s
    /// changes; false when another move came first.
    async fn write_move(
        &self,
        tenant: &TenantId,
        next: &Conversation,
        read_version: u64,
        activity: Option<(&Activity, &str, i64)>,
        expires_at: Option<i64>,
    ) -> Result<bool, StoreError> {
        let mut update = self.update(
            "UpdateItem conversation move",
            contact_pk(tenant.as_str(), &next.contact_id),
            conversation_sk(&next.phone_number_id),
        );
        for (attribute, value) in stage_sets(next) {
            update = update.set_or_remove(attribute, value);
        }
        if let Some((activity, moved, at)) = activity {
            for (attribute, value) in activity_keys(tenant, &next.contact_id, activity, at) {
                update = update.set(attribute, value);
            }
            update = update.set(moved, n(at));
        }
        if let Some(at) = expires_at {
            update = update.set(EXPIRES_AT, n(at));
        }
        update
            .condition("version = :read")
            .value(":read", n(read_version))
            .send()
            .await
    }

    /// Writes `activity`, which a message at `at` moved; only forward, whatever move
    /// happened meanwhile (a stage write leaves these attributes alone).
    async fn write_activity(
        &self,
        tenant: &TenantId,
        state: &ConversationState,
        (attribute, at): (&str, i64),
        expires_at: Option<i64>,
    ) -> Result<(), StoreError> {
        let conversation = &state.conversation;
        let who = (
            conversation.contact_id.as_str(),
            conversation.phone_number_id.as_str(),
        );
        let mut update = self.advance(
            "UpdateItem conversation activity",
            tenant,
            who,
            attribute,
            at,
        );
        for (name, value) in activity_keys(tenant, &conversation.contact_id, &state.activity, at) {
            update = update.set(name, value);
        }
        if let Some(expires_at) = expires_at {
            update = update.set(EXPIRES_AT, n(expires_at));
        }
        update.send().await?;
        Ok(())
    }

    /// An update that moves one time of an existing conversation forward, never back:
    /// two writers a moment apart (a reply, a message in flight) cannot undo each other.
    fn advance(
        &self,
        op: &'static str,
        tenant: &TenantId,
        (contact_id, number): (&str, &str),
        attribute: &str,
        at: i64,
    ) -> Update<'_> {
        self.update(
            op,
            contact_pk(tenant.as_str(), contact_id),
            conversation_sk(number),
        )
        .set(attribute, n(at))
        .condition("attribute_exists(pk) AND (attribute_not_exists(#moved) OR #moved < :at)")
        .name("#moved", attribute)
        .value(":at", n(at))
    }

    /// Applies what `wrote` does to the conversation; answers it when the message opened
    /// its current cycle (the business's first, or the person's, also on a redelivery).
    /// `known_absent`: the caller knows there is none, so the first try reads nothing
    /// (a racer that made one meanwhile fails its create, and the next try reads).
    async fn message(
        &self,
        tenant: &TenantId,
        (contact, number): (&ContactProfile, &str),
        wrote: Wrote,
        expires_at: i64,
        known_absent: bool,
    ) -> Result<Option<Conversation>, StoreError> {
        let contact_id = contact.contact_id.as_str();
        let who = (contact_id, number);
        for attempt in 0..MOVE_ATTEMPTS {
            // Read strongly: the previous message's write, a moment ago, decides whether
            // this one writes at all, and a stale read would only cost a write more.
            let current = match known_absent && attempt == 0 {
                true => None,
                false => self.read(tenant, contact_id, number, true).await?,
            };
            match ConversationState::after_message(current.as_ref(), who, wrote) {
                MessageEffect::Create(state) => {
                    let key = self.keyring()?.person(tenant.as_str(), contact_id).await?;
                    let card = card::card_sets(&key, tenant, contact);
                    match self.create(tenant, &state, &card, expires_at).await? {
                        Created::Written => return Ok(Some(state.conversation)),
                        Created::Raced => {}
                    }
                }
                MessageEffect::Move(next) => {
                    let read_version = current.map_or(0, |c| c.conversation.version);
                    // Only the person's message opens a next cycle, at its send time.
                    let at = next.conversation.opened_at;
                    let written = self
                        .write_move(
                            tenant,
                            &next.conversation,
                            read_version,
                            Some((&next.activity, "last_inbound_at", at)),
                            Some(expires_at),
                        )
                        .await?;
                    if written {
                        return Ok(Some(next.conversation));
                    }
                }
                MessageEffect::Touch(state, attribute, at) => {
                    // The person writing keeps their conversation as long as their profile;
                    // the business writing keeps neither (as it keeps no profile longer).
                    let life = matches!(wrote, Wrote::Person { .. }).then_some(expires_at);
                    self.write_activity(tenant, &state, (attribute, at), life)
                        .await?;
                    return Ok(state.opened_by(wrote).then_some(state.conversation));
                }
                MessageEffect::Nothing => {
                    let opened = current.filter(|c| c.opened_by(wrote));
                    return Ok(opened.map(|c| c.conversation));
                }
            }
        }
        Err(StoreError::Contended("UpdateItem conversation"))
    }
}

impl ConversationStates for ConversationStore {
    async fn conversation(
        &self,
        tenant: &TenantId,
        contact_id: &str,
        number: &str,
    ) -> Result<Option<ConversationState>, StoreError> {
        self.read(tenant, contact_id, number, false).await
    }

    async fn wrote(
        &self,
        tenant: &TenantId,
        who: (&ContactProfile, &str),
        wrote: Wrote,
        expires_at: i64,
    ) -> Result<Option<Conversation>, StoreError> {
        self.message(tenant, who, wrote, expires_at, false).await
    }

    async fn first_message(
        &self,
        tenant: &TenantId,
        who: (&ContactProfile, &str),
        wrote: Wrote,
        expires_at: i64,
    ) -> Result<Option<Conversation>, StoreError> {
        self.message(tenant, who, wrote, expires_at, true).await
    }

    async fn record_read(
        &self,
        tenant: &TenantId,
        contact_id: &str,
        number: &str,
        read_up_to: i64,
    ) -> Result<(), StoreError> {
        let who = (contact_id, number);
        self.advance(
            "UpdateItem conversation read",
            tenant,
            who,
            "last_read_at",
            read_up_to,
        )
        .send()
        .await?;
        Ok(())
    }

    async fn move_conversation(
        &self,
        tenant: &TenantId,
        contact_id: &str,
        number: &str,
        transition: &Transition,
        at: i64,
    ) -> Result<MoveOutcome, StoreError> {
        for attempt in 0..MOVE_ATTEMPTS {
            let Some(state) = self.read(tenant, contact_id, number, attempt > 0).await? else {
                return Ok(MoveOutcome::NotFound);
            };
            let next = match state.conversation.apply(transition, at) {
                Ok(Moved::To(next)) => next,
                Ok(Moved::Unchanged) => return Ok(MoveOutcome::Unchanged(state.conversation)),
                Err(refused) => return Ok(MoveOutcome::Refused(refused)),
            };
            // The item keeps the life the messages gave it: a move is not activity.
            if self
                .write_move(tenant, &next, state.conversation.version, None, None)
                .await?
            {
                return Ok(MoveOutcome::Moved(next));
            }
        }
        Err(StoreError::Contended("UpdateItem conversation"))
    }
}

impl ConversationStore {
    /// Moves the conversation a profile written before conversations were items held onto
    /// its own item, and takes its attributes off the profile; true when it did. Safe to
    /// repeat: a conversation item written since wins, and the profile is changed once.
    pub async fn move_from_profile(
        &self,
        tenant: &TenantId,
        contact_id: &str,
        profile: &Item,
    ) -> Result<bool, StoreError> {
        if !profile.contains_key("conv_pk") {
            return Ok(false);
        }
        if let Some(state) = state_from_old_profile(contact_id, profile)
            && let Some(expires_at) = get_i64(profile, EXPIRES_AT)
        {
            self.create_beside_profile(tenant, &state, expires_at)
                .await?;
        }
        let mut update = self.update(
            "UpdateItem profile's old conversation",
            contact_pk(tenant.as_str(), contact_id),
            PROFILE_SK.into(),
        );
        for attribute in PROFILE_CONVERSATION_ATTRIBUTES {
            update = update.remove(attribute);
        }
        update.condition("attribute_exists(conv_pk)").send().await
    }
}
