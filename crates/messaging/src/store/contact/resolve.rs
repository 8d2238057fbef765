//! Finding or making the one contact of a person. Each identifier (phone, BSUID) leads to
//! one contact through its identity item, and every write that makes a contact or links
//! an identifier to one is a transaction that also checks:
//!
//! - that each identity item is free (no other contact took the identifier meanwhile: two
//!   writers racing for one person, a business send and their first message, make one
//!   contact, and the loser reads the winner's);
//! - that each new identifier's tombstone is as it was read (an erasure that began
//!   meanwhile is seen), and that no erasure of a known identifier took place at or after
//!   the event (an event from before an erasure links nothing);
//! - for a contact that exists, that its erasure has not marked its key, whatever key a
//!   container has cached.
//!
//! The profile lists the blind indexes of every identifier ever linked to it (`id_hashes`,
//! written in the same transaction), so an erasure finds them all without opening
//! anything, however an identifier was first seen.

use crate::store::contact::{ContactStore, MADE_BY};
use crate::store::conversation::ConversationStore;
use crate::store::conversation::card::{CARD_REVISION, next_card_revision};
use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem};
use std::future::Future;

use super::{
    ContactFacts, NewProfile, ResolvedContact, TOUCHED_AT, identity_item, new_contact_id,
    new_profile_item, seal_on_profile,
};
use crate::domain::contact::{ContactDetails, ContactProfile};
use crate::domain::identity::{IdentityKey, UserIdentity};
use crate::domain::retention::{DataClass, Retention};
use crate::domain::tenant::TenantId;
use crate::store::contact::tombstone::Traces;
use crate::store::keys::{IDENTITY_SK, PROFILE_SK, contact_pk, identity_pk, legacy_identity_pk};
use crate::store::table::{Item, n, put_action, s};
use crate::store::{EXPIRES_AT, StoreError, Transacted};

/// The profile's attribute that lists the blind indexes of the contact's identifiers.
pub const ID_HASHES: &str = "id_hashes";

/// Tries before a writer that keeps losing races gives up (the caller retries later).
const RESOLVE_ATTEMPTS: usize = 4;

/// What an identity item is free for: none there, expired before TTL deleted it, or a
/// number its user moved away from.
const IDENTITY_FREE: &str =
    "attribute_not_exists(pk) OR expires_at <= :now OR attribute_exists(moved_at)";

/// One identifier of the person, by its blind index.
#[derive(Debug, Clone)]
pub(crate) struct Blinded {
    pub key: IdentityKey,
    pub hash: String,
}

/// What one look at the identifiers found.
struct Found {
    /// The contact the identifiers lead to, if any.
    contact_id: Option<String>,
    /// Identifiers that lead to it.
    linked: Vec<Blinded>,
    /// Identifiers that lead nowhere (or to a number its user moved away from).
    missing: Vec<Blinded>,
    /// Identity items written before blind indexes, moved once the contact is known.
    written_before_blinding: Vec<IdentityKey>,
}

/// What one try at a transaction came to: the contact, or `None` when another writer got
/// there first (look again).
type Attempt = Option<ResolvedContact>;

impl ContactStore {
    async fn try_resolve(
        &self,
        tenant: &TenantId,
        identity: &UserIdentity,
        facts: &ContactFacts<'_>,
        retention: &Retention,
        now: i64,
    ) -> Result<Attempt, StoreError> {
        let keys = identity.keys();
        let found = self.look_up(tenant, &keys, facts, now).await?;
        // An identifier that leads nowhere may have been erased: an event from before the
        // erasure is dropped, and a contact made or linked after it remembers when it was.
        // The same read finds the opt-outs a new contact starts with.
        let traces = match found.missing.is_empty() {
            true => Traces::default(),
            false => {
                let missing: Vec<IdentityKey> =
                    found.missing.iter().map(|b| b.key.clone()).collect();
                self.traces_of(tenant, &missing, now).await?
            }
        };
        if let (Some(at), Some(erased)) = (facts.event_at, traces.erased_at)
            && at <= erased
        {
            return Err(StoreError::PersonErased);
        }
        let existing = match &found.contact_id {
            Some(id) => self.contact_and_maker(tenant, id, now).await?,
            None => None,
        };
        let made_by_this_event = match (&existing, facts.made_by) {
            (Some((_, Some(maker))), Some(source)) => {
                *maker == self.maker_digest(tenant, source).await?
            }
            _ => false,
        };
        let attempt = match existing.map(|(profile, _)| profile) {
            Some(profile) if found.missing.is_empty() => Some(ResolvedContact {
                profile,
                created: false,
                new_id: false,
                made_by_this_event,
            }),
            Some(profile) => {
                let link = Link {
                    identity,
                    found: &found,
                    traces: &traces,
                    event_at: facts.event_at,
                };
                match self
                    .link(tenant, &profile.contact_id, &link, retention, now)
                    .await?
                {
                    true => Some(ResolvedContact {
                        // As the link wrote it: the identifiers go on the profile too.
                        profile: ContactProfile {
                            phone: identity
                                .phone
                                .as_ref()
                                .map(|p| p.as_str().to_owned())
                                .or(profile.phone),
                            bsuid: identity
                                .bsuid
                                .as_ref()
                                .map(|b| b.as_str().to_owned())
                                .or(profile.bsuid),
                            ..profile
                        },
                        created: false,
                        new_id: false,
                        made_by_this_event,
                    }),
                    false => None,
                }
            }
            None => {
                let new = NewContact {
                    identity,
                    facts,
                    found: &found,
                    traces: &traces,
                };
                self.create(tenant, &new, retention, now).await?
            }
        };
        if let Some(contact) = &attempt {
            self.move_identities_written_before(
                tenant,
                &found.written_before_blinding,
                &contact.profile.contact_id,
                retention,
                now,
            )
            .await?;
        }
        Ok(attempt)
    }

    /// Where each of `keys` leads.
    async fn look_up(
        &self,
        tenant: &TenantId,
        keys: &[IdentityKey],
        facts: &ContactFacts<'_>,
        now: i64,
    ) -> Result<Found, StoreError> {
        let keyring = self.keyring()?;
        let mut found = Found {
            contact_id: None,
            linked: Vec::new(),
            missing: Vec::new(),
            written_before_blinding: Vec::new(),
        };
        for key in keys {
            let blinded = Blinded {
                key: key.clone(),
                hash: keyring.blind(tenant.as_str(), &key.to_string()).await?,
            };
            match self.find_identity(tenant, key, now).await? {
                // An event from before an erasure of whoever held the identifier before
                // this contact: it must not land here.
                Some(identity)
                    if identity
                        .erased_before
                        .zip(facts.event_at)
                        .is_some_and(|(erased, at)| at <= erased) =>
                {
                    return Err(StoreError::PersonErased);
                }
                // The number moved to another of the user's numbers before this event:
                // it is free (a new contact takes it), but Meta's retries of what was sent
                // before the move still reach the old contact.
                Some(identity)
                    if identity
                        .moved_at
                        .is_some_and(|moved| facts.inbound_at.is_none_or(|at| at > moved)) =>
                {
                    found.missing.push(blinded);
                }
                Some(identity) => {
                    if identity.legacy {
                        found.written_before_blinding.push(key.clone());
                    }
                    match &found.contact_id {
                        None => found.contact_id = Some(identity.contact_id),
                        Some(first) if *first != identity.contact_id => {
                            tracing::warn!(tenant = %tenant, "a phone and a BSUID point to two contacts; using the phone's");
                        }
                        _ => {}
                    }
                    found.linked.push(blinded);
                }
                None => found.missing.push(blinded),
            }
        }
        Ok(found)
    }

    /// Makes the contact (new, or its profile made again under its old id when it expired
    /// while an identity lived on) with its missing identities, in one transaction.
    async fn create(
        &self,
        tenant: &TenantId,
        new: &NewContact<'_>,
        retention: &Retention,
        now: i64,
    ) -> Result<Attempt, StoreError> {
        let NewContact {
            identity,
            facts,
            found,
            traces,
        } = *new;
        let new_id = found.contact_id.is_none();
        let id = found.contact_id.clone().unwrap_or_else(new_contact_id);
        let keyring = self.keyring()?;
        let key = keyring.person(tenant.as_str(), &id).await?;
        let index = self
            .contact_index_attrs(tenant, &id, facts.profile_name)
            .await?;
        // Someone who opted out before (under a contact that aged out or was erased)
        // starts opted out.
        let consent = if found.linked.is_empty() {
            traces.opt_outs.clone()
        } else {
            self.opt_outs_of(tenant, &identity.keys(), now).await?
        };
        let profile = NewProfile {
            contact_id: &id,
            key: &key,
            index,
        };
        let mut it = new_profile_item(tenant, profile, identity, facts, retention, now);
        it.extend(super::consent::consent_attrs(&consent));
        let hashes: Vec<String> = found
            .linked
            .iter()
            .chain(&found.missing)
            .map(|b| b.hash.clone())
            .collect();
        it.insert(ID_HASHES.into(), AttributeValue::Ss(hashes));
        if let Some(source) = facts.made_by {
            it.insert(MADE_BY.into(), s(&self.maker_digest(tenant, source).await?));
        }
        let table = self.table_name();
        let mut actions = vec![put_action(
            table,
            it,
            "attribute_not_exists(pk) OR expires_at <= :now",
            &[(":now", n(now))],
        )?];
        actions.extend(self.identity_actions(tenant, &id, found, traces, retention, now)?);
        if !new_id {
            actions.push(keyring.not_erased_check(tenant.as_str(), &id)?);
        }
        let not_erased = usize::from(!new_id);
        match self
            .transact("TransactWriteItems new contact", actions)
            .await?
        {
            Transacted::Written => {}
            // The old id's erasure marked its key: nothing is made for them again.
            Transacted::Cancelled { failed_conditions }
                if not_erased == 1 && failed_conditions.last() == Some(&true) =>
            {
                return Err(StoreError::PersonErased);
            }
            Transacted::Cancelled { .. } => return Ok(None),
        }
        Ok(Some(ResolvedContact {
            profile: ContactProfile {
                contact_id: id,
                phone: identity.phone.as_ref().map(|p| p.as_str().to_owned()),
                bsuid: identity.bsuid.as_ref().map(|b| b.as_str().to_owned()),
                profile_name: facts.profile_name.map(str::to_owned),
                username: facts.username.map(str::to_owned),
                last_inbound_at: facts.inbound_at,
                last_outbound_at: None,
                consent,
                restriction: None,
                details: ContactDetails::default(),
                expires_at: None,
            },
            created: true,
            new_id,
            made_by_this_event: facts.made_by.is_some(),
        }))
    }

    /// Links the missing identifiers to an existing contact, with the profile's record of
    /// them, in one transaction; false when a race cancelled it.
    async fn link(
        &self,
        tenant: &TenantId,
        contact_id: &str,
        link: &Link<'_>,
        retention: &Retention,
        now: i64,
    ) -> Result<bool, StoreError> {
        let keyring = self.keyring()?;
        let key = keyring.person(tenant.as_str(), contact_id).await?;
        let seal = |attribute: &str, text: &str| {
            seal_on_profile(&key, tenant, contact_id, attribute, text)
        };
        let profile = self
            .update(
                "UpdateItem contact identity",
                contact_pk(tenant.as_str(), contact_id),
                PROFILE_SK.into(),
            )
            .set(
                EXPIRES_AT,
                n(retention.expires_at(DataClass::ContactProfile, now)),
            )
            .set(TOUCHED_AT, n(now))
            .add(
                ID_HASHES,
                AttributeValue::Ss(link.found.missing.iter().map(|b| b.hash.clone()).collect()),
            )
            .condition("attribute_exists(pk)");
        let mut profile = next_card_revision(profile);
        // A newly linked identifier goes on the profile too, so that erasure and export
        // find every way the person was known.
        if let Some(p) = &link.identity.phone {
            profile = profile.set("phone", seal("phone", p.as_str()));
        }
        if let Some(b) = &link.identity.bsuid {
            profile = profile.set("bsuid", seal("bsuid", b.as_str()));
        }
        let mut actions = vec![profile.into_action()?];
        actions.extend(self.identity_actions(
            tenant,
            contact_id,
            link.found,
            link.traces,
            retention,
            now,
        )?);
        // What must hold for this event to touch the person at all: none of their known
        // identifiers erased since it was sent, and their contact not being erased.
        let mut refusals = Vec::new();
        if let Some(at) = link.event_at {
            for known in &link.found.linked {
                refusals.push(self.erased_before_check(tenant, &known.hash, at)?);
            }
        }
        refusals.push(keyring.not_erased_check(tenant.as_str(), contact_id)?);
        let first_refusal = actions.len();
        actions.extend(refusals);
        match self
            .transact("TransactWriteItems link identity", actions)
            .await?
        {
            Transacted::Written => {
                self.repo::<ConversationStore>()
                    .refresh_cards(tenant, contact_id)
                    .await?;
                Ok(true)
            }
            Transacted::Cancelled { failed_conditions }
                if failed_conditions.iter().skip(first_refusal).any(|f| *f) =>
            {
                Err(StoreError::PersonErased)
            }
            Transacted::Cancelled { .. } => Ok(false),
        }
    }

    /// The writes of the missing identity items, each only while free, and the checks
    /// that their tombstones are as they were read.
    fn identity_actions(
        &self,
        tenant: &TenantId,
        contact_id: &str,
        found: &Found,
        traces: &Traces,
        retention: &Retention,
        now: i64,
    ) -> Result<Vec<TransactWriteItem>, StoreError> {
        let mut actions = Vec::with_capacity(found.missing.len() * 2);
        for blinded in &found.missing {
            let mut it = identity_item(
                identity_pk(tenant.as_str(), &blinded.hash),
                contact_id,
                retention,
                now,
            );
            // A person who held the identifier before was erased then: events sent until
            // then are not this contact's.
            if let Some(at) = traces.erased_at {
                it.insert("erased_before".into(), n(at));
            }
            actions.push(put_action(
                self.table_name(),
                it,
                IDENTITY_FREE,
                &[(":now", n(now))],
            )?);
            let seen = traces
                .tombstones
                .iter()
                .find(|(hash, _)| *hash == blinded.hash)
                .and_then(|(_, at)| *at);
            actions.push(self.tombstone_as_read_check(tenant, &blinded.hash, seen)?);
        }
        Ok(actions)
    }

    /// Moves identity items written before blind indexes under their blind index, once
    /// their person is known again.
    async fn move_identities_written_before(
        &self,
        tenant: &TenantId,
        keys: &[IdentityKey],
        contact_id: &str,
        retention: &Retention,
        now: i64,
    ) -> Result<(), StoreError> {
        for key in keys {
            let pk = self.identity_key(tenant, key).await?;
            self.put_if(
                "PutItem identity under its blind index",
                identity_item(pk, contact_id, retention, now),
                IDENTITY_FREE,
                &[],
                &[(":now", n(now))],
            )
            .await?;
            self.delete_item(
                "DeleteItem identity before blinding",
                legacy_identity_pk(tenant.as_str(), key),
                IDENTITY_SK.into(),
            )
            .await?;
        }
        Ok(())
    }

    /// Links a user's new number to their contact (Meta's `user_changed_number` of time
    /// `at`): its identity item (only while free), the profile's phone and its record of
    /// identifiers, the check that the contact is not being erased and the check that the
    /// new number was not erased at or after the change (a retried or redriven change
    /// brings nothing back), in one transaction. False when the new number was erased
    /// after the change: nothing is linked, and the old number must stay as it is.
    pub(crate) async fn link_new_number(
        &self,
        tenant: &TenantId,
        contact_id: &str,
        (new, phone, at): (&IdentityKey, &str, i64),
        retention: &Retention,
        now: i64,
    ) -> Result<bool, StoreError> {
        let keyring = self.keyring()?;
        let key = keyring.person(tenant.as_str(), contact_id).await?;
        let hash = keyring.blind(tenant.as_str(), &new.to_string()).await?;
        let pk = identity_pk(tenant.as_str(), &hash);
        // A retry finds the number already linked to this contact: that holds too.
        let identity = put_action(
            self.table_name(),
            identity_item(pk, contact_id, retention, now),
            "attribute_not_exists(pk) OR expires_at <= :now OR attribute_exists(moved_at) OR contact_id = :contact",
            &[(":now", n(now)), (":contact", s(contact_id))],
        )?;
        let profile = self
            .update(
                "UpdateItem contact phone",
                contact_pk(tenant.as_str(), contact_id),
                PROFILE_SK.into(),
            )
            .set(
                "phone",
                seal_on_profile(&key, tenant, contact_id, "phone", phone),
            )
            .add(ID_HASHES, AttributeValue::Ss(vec![hash.clone()]))
            .add(CARD_REVISION, n(1))
            .condition("attribute_exists(pk)")
            .into_action()?;
        let actions = vec![
            identity,
            profile,
            keyring.not_erased_check(tenant.as_str(), contact_id)?,
            self.erased_before_check(tenant, &hash, at)?,
        ];
        let Transacted::Cancelled { failed_conditions } = self
            .transact("TransactWriteItems new number", actions)
            .await?
        else {
            self.repo::<ConversationStore>()
                .refresh_cards(tenant, contact_id)
                .await?;
            return Ok(true);
        };
        match failed_conditions.as_slice() {
            [_, profile, erased, _] if *profile || *erased => Err(StoreError::PersonErased),
            [.., true] => {
                tracing::warn!(tenant = %tenant, "a user's new number was erased after the change; not linked");
                Ok(false)
            }
            // The new number belongs to another contact already: the user moved onto a
            // number someone else wrote from. It stays theirs.
            [true, ..] => {
                tracing::warn!(tenant = %tenant, "a user's new number already leads to another contact; not moved");
                Ok(true)
            }
            // Another writer's transaction on the same items: the event is tried again.
            _ => Err(StoreError::Contended("a user's new number")),
        }
    }
}

/// A contact about to be made: who, what the event told, and what looking found.
#[derive(Clone, Copy)]
struct NewContact<'a> {
    identity: &'a UserIdentity,
    facts: &'a ContactFacts<'a>,
    found: &'a Found,
    traces: &'a Traces,
}

/// Identifiers about to be linked to an existing contact.
struct Link<'a> {
    identity: &'a UserIdentity,
    found: &'a Found,
    traces: &'a Traces,
    /// When the event was sent; `None` for a new API call.
    event_at: Option<i64>,
}

/// The blind indexes a profile lists (none on profiles written before it did).
pub fn id_hashes_of(it: &Item) -> Vec<String> {
    match it.get(ID_HASHES) {
        Some(AttributeValue::Ss(hashes)) => hashes.clone(),
        _ => Vec::new(),
    }
}

/// Finding the contact an event or a send is about, and making it on first sight.
pub trait ContactResolution: Send + Sync {
    /// The contact of `identity`, created on first sight with `facts` already in it (one
    /// write instead of two), and linked to any of the identity's keys it lacked.
    fn resolve_contact(
        &self,
        tenant: &TenantId,
        identity: &UserIdentity,
        facts: &ContactFacts<'_>,
        retention: &Retention,
        now: i64,
    ) -> impl Future<Output = Result<ResolvedContact, StoreError>> + Send;

    /// The live contact an event about `identity` sent at `at` belongs to, if there is
    /// one; nothing is made. An event sent before an erasure of whoever holds the
    /// identifier now is [`StoreError::PersonErased`].
    fn contact_for_event(
        &self,
        tenant: &TenantId,
        identity: &UserIdentity,
        at: i64,
        now: i64,
    ) -> impl Future<Output = Result<Option<ContactProfile>, StoreError>> + Send;
}

impl ContactResolution for ContactStore {
    async fn resolve_contact(
        &self,
        tenant: &TenantId,
        identity: &UserIdentity,
        facts: &ContactFacts<'_>,
        retention: &Retention,
        now: i64,
    ) -> Result<ResolvedContact, StoreError> {
        for _ in 0..RESOLVE_ATTEMPTS {
            if let Some(contact) = self
                .try_resolve(tenant, identity, facts, retention, now)
                .await?
            {
                return Ok(contact);
            }
        }
        Err(StoreError::Contended("a person's contact"))
    }

    async fn contact_for_event(
        &self,
        tenant: &TenantId,
        identity: &UserIdentity,
        at: i64,
        now: i64,
    ) -> Result<Option<ContactProfile>, StoreError> {
        let facts = ContactFacts {
            event_at: Some(at),
            ..ContactFacts::default()
        };
        let found = self.look_up(tenant, &identity.keys(), &facts, now).await?;
        match &found.contact_id {
            Some(id) => self.get_contact(tenant, id, now).await,
            None => Ok(None),
        }
    }
}
