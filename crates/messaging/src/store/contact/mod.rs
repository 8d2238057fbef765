//! Contacts: one per person per tenant, found by phone and/or BSUID through identity items.
//! The profile item carries the business's details (`details`), its place in the name
//! index (`index`) and when each side last wrote (`activity`); `import` writes many at once;
//! `tombstone` keeps an erased person's identifiers from making a contact again.

pub mod activity;
pub mod consent;
pub mod details;
pub mod import;
pub mod index;
pub mod resolve;
pub mod restriction;
pub mod tombstone;

use rand::Rng;
use std::future::Future;

use crate::domain::contact::ContactProfile;
use crate::domain::identity::{IdentityKey, Phone, UserIdentity};
use crate::domain::retention::{DataClass, Retention};
use crate::domain::tenant::TenantId;
use crate::privacy::cipher::DataKey;
use crate::store::contact::details::details_from_item;
use crate::store::conversation::ConversationStore;
use crate::store::conversation::card::{CARD_REVISION, next_card_revision};
use crate::store::item_life::Ageing;
use crate::store::keys::{IDENTITY_SK, PROFILE_SK, contact_pk, identity_pk, legacy_identity_pk};
use crate::store::table::{Item, get_i64, get_s, item, n, plaintext_of, s, sealed, unsealed};
use crate::store::{EXPIRES_AT, StoreError, is_live};
use aws_sdk_dynamodb::types::AttributeValue;

/// `last_inbound_at` is rewritten only when it moves by at least this much, so that a
/// conversation's burst of messages costs one profile write, not one per message. Read
/// alone, it may thus close the 24-hour window up to five minutes early, never late; a
/// sender that needs the exact end reads the newest inbound message as well.
pub const LAST_INBOUND_GRANULARITY_SECS: i64 =
    crate::domain::conversation::activity::ACTIVITY_STEP_SECS;

/// The profile's keyed digest of the event that made the contact.
pub(crate) const MADE_BY: &str = "made_by";

/// A contact found or created by [`ContactResolution::resolve_contact`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedContact {
    pub profile: ContactProfile,
    /// Created by this call, with the facts already written.
    pub created: bool,
    /// Its id was made by this call: nothing was ever stored under it (a profile that
    /// expired while an identity lived on is created again under its old id).
    pub new_id: bool,
    /// Made for the event `ContactFacts::made_by` names, by this call or by an earlier
    /// delivery of the same event: a redelivery still knows the contact is its own.
    pub made_by_this_event: bool,
}

/// What an event tells about its user; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct ContactFacts<'a> {
    pub profile_name: Option<&'a str>,
    pub username: Option<&'a str>,
    pub inbound_at: Option<i64>,
    /// When the event or job happened (Meta's timestamp, or when a job was queued):
    /// about a person erased at or after it, it gets [`StoreError::PersonErased`] and
    /// nothing is written. `None` (a new API call) is never about the past.
    pub event_at: Option<i64>,
    /// The event this is, as the bytes Meta sent for it: a contact made for it keeps a
    /// keyed digest of them (never the bytes), so a redelivery of the event knows the
    /// contact is its own.
    pub made_by: Option<&'a str>,
}

crate::store::repository! {
    /// Contacts: profiles with their identities, details, index entries, consent and restriction.
    ContactStore
}

impl ContactStore {
    pub async fn get_contact(
        &self,
        tenant: &TenantId,
        contact_id: &str,
        now: i64,
    ) -> Result<Option<ContactProfile>, StoreError> {
        let found = self.live_profile(tenant, contact_id, now, false).await?;
        Ok(found.map(|(profile, _)| profile))
    }

    /// The live contact as its latest write left it (a strongly consistent read), with the
    /// revision of what its conversations' cards show (`conversation::card`).
    pub(crate) async fn latest_for_cards(
        &self,
        tenant: &TenantId,
        contact_id: &str,
        now: i64,
    ) -> Result<Option<(ContactProfile, i64)>, StoreError> {
        let found = self.live_profile(tenant, contact_id, now, true).await?;
        Ok(found.map(|(profile, it)| (profile, get_i64(&it, CARD_REVISION).unwrap_or(0))))
    }

    /// The live contact with the digest of the event that made it, when one did.
    pub(crate) async fn contact_and_maker(
        &self,
        tenant: &TenantId,
        contact_id: &str,
        now: i64,
    ) -> Result<Option<(ContactProfile, Option<String>)>, StoreError> {
        let found = self.live_profile(tenant, contact_id, now, false).await?;
        Ok(found.map(|(profile, it)| (profile, get_s(&it, MADE_BY).map(str::to_owned))))
    }

    /// The live profile, opened with its person's key, and the item it was read from.
    async fn live_profile(
        &self,
        tenant: &TenantId,
        contact_id: &str,
        now: i64,
        consistent: bool,
    ) -> Result<Option<(ContactProfile, Item)>, StoreError> {
        let (pk, sk) = (contact_pk(tenant.as_str(), contact_id), PROFILE_SK.into());
        let found = match consistent {
            true => self.get_consistent(pk, sk).await?,
            false => self.get(pk, sk).await?,
        };
        let Some(found) = found.filter(|it| is_live(it, now)) else {
            return Ok(None);
        };
        let key = self.reading_key(tenant, contact_id).await?;
        let profile = profile_from_item(contact_id, &found, key.as_deref());
        Ok(Some((profile, found)))
    }

    /// The keyed digest a contact made for `source` keeps (`ContactFacts::made_by`).
    pub(crate) async fn maker_digest(
        &self,
        tenant: &TenantId,
        source: &str,
    ) -> Result<String, StoreError> {
        self.keyring()?
            .blind(tenant.as_str(), &format!("made_by:{source}"))
            .await
    }

    /// The key of an identity's item: its blind index in the tenant.
    pub(crate) async fn identity_key(
        &self,
        tenant: &TenantId,
        key: &IdentityKey,
    ) -> Result<String, StoreError> {
        let blinded = self
            .keyring()?
            .blind(tenant.as_str(), &key.to_string())
            .await?;
        Ok(identity_pk(tenant.as_str(), &blinded))
    }

    /// The live identity item of `key`: under its blind index, or else as written before
    /// blind indexes.
    pub async fn find_identity(
        &self,
        tenant: &TenantId,
        key: &IdentityKey,
        now: i64,
    ) -> Result<Option<FoundIdentity>, StoreError> {
        let places = [
            (self.identity_key(tenant, key).await?, false),
            (legacy_identity_pk(tenant.as_str(), key), true),
        ];
        for (pk, legacy) in places {
            let Some(found) = self
                .get(pk, IDENTITY_SK.into())
                .await?
                .filter(|it| is_live(it, now))
            else {
                continue;
            };
            if let Some(contact_id) = get_s(&found, "contact_id").map(str::to_owned) {
                return Ok(Some(FoundIdentity {
                    contact_id,
                    legacy,
                    moved_at: get_i64(&found, "moved_at"),
                    erased_before: get_i64(&found, "erased_before"),
                }));
            }
        }
        Ok(None)
    }
}

/// A user's change of phone number, as Meta reports it.
#[derive(Debug, Clone, Copy)]
pub struct NumberChange<'a> {
    pub contact_id: &'a str,
    pub old: &'a Phone,
    pub new: &'a Phone,
    /// When the user changed numbers (Meta's timestamp).
    pub at: i64,
}

/// How long a number its user moved away from still leads to their contact: Meta retries
/// for 7 days, and a day's margin.
pub const MOVED_IDENTITY_SECS: i64 = 8 * 86_400;

/// The contact an identity item leads to, whether the item predates blind indexes, when
/// its user moved to another number, if they did, and when an earlier holder was erased.
pub struct FoundIdentity {
    pub contact_id: String,
    pub legacy: bool,
    pub moved_at: Option<i64>,
    /// A person who held the identifier before was erased then.
    pub erased_before: Option<i64>,
}

/// What a new profile is made of besides what is known about the person: its id, its
/// data key and its name index attributes.
pub(crate) struct NewProfile<'a> {
    pub contact_id: &'a str,
    pub key: &'a DataKey,
    pub index: [(&'static str, AttributeValue); 2],
}

/// A new contact profile item, with its identity, the facts known and its index keys.
pub(crate) fn new_profile_item(
    tenant: &TenantId,
    NewProfile {
        contact_id,
        key,
        index,
    }: NewProfile<'_>,
    identity: &UserIdentity,
    facts: &ContactFacts<'_>,
    retention: &Retention,
    now: i64,
) -> Item {
    let seal =
        |attribute: &str, text: &str| seal_on_profile(key, tenant, contact_id, attribute, text);
    let mut it = item([
        ("pk", s(contact_pk(tenant.as_str(), contact_id))),
        ("sk", s(PROFILE_SK)),
        ("contact_id", s(contact_id)),
        ("created_at", n(now)),
        (
            EXPIRES_AT,
            n(retention.expires_at(DataClass::ContactProfile, now)),
        ),
        (TOUCHED_AT, n(now)),
        // Its cards' revision starts from its making, in thousandths of a second: a profile
        // made again under its old id starts above any card its old conversations show.
        (CARD_REVISION, n(now * 1000)),
    ]);
    if let Some(p) = &identity.phone {
        it.insert("phone".into(), seal("phone", p.as_str()));
    }
    if let Some(b) = &identity.bsuid {
        it.insert("bsuid".into(), seal("bsuid", b.as_str()));
    }
    for (name, value) in index {
        it.insert(name.to_owned(), value);
    }
    if let Some(name) = facts.profile_name {
        it.insert("profile_name".into(), seal("profile_name", name));
    }
    if let Some(username) = facts.username {
        it.insert("username".into(), seal("username", username));
    }
    if let Some(at) = facts.inbound_at {
        it.insert("last_inbound_at".into(), n(at));
    }
    it
}

/// The item that leads from a phone or BSUID (blinded in `pk`) to its contact.
pub(crate) fn identity_item(pk: String, contact_id: &str, retention: &Retention, now: i64) -> Item {
    item([
        ("pk", s(pk)),
        ("sk", s(IDENTITY_SK)),
        ("contact_id", s(contact_id)),
        (
            EXPIRES_AT,
            n(retention.expires_at(DataClass::ContactProfile, now)),
        ),
    ])
}

/// The profile's attributes sealed under its person's key.
pub const SEALED_ATTRIBUTES: [&str; 7] = [
    "phone",
    "bsuid",
    "profile_name",
    "username",
    "name",
    "email",
    "attributes",
];

impl ContactStore {
    /// Seals a profile written before sealing and keys its name index by bucket; true when
    /// anything was rewritten.
    pub async fn seal_profile_written_before(
        &self,
        tenant: &TenantId,
        contact_id: &str,
        it: &Item,
    ) -> Result<bool, StoreError> {
        let plain = !plaintext_of(it, &SEALED_ATTRIBUTES).is_empty();
        let indexed = get_s(it, "cname_sk");
        let bucketed = indexed.is_some_and(index::is_bucket_key);
        if !plain && bucketed {
            return Ok(false);
        }
        let key = self.keyring()?.person(tenant.as_str(), contact_id).await?;
        let sealed = self
            .seal_written_before("UpdateItem seal profile", it, &SEALED_ATTRIBUTES, &key)
            .await?;
        // Read as written (plaintext), to find the name's bucket.
        let profile = profile_from_item(contact_id, it, Some(&key));
        self.reindex_contact_name(tenant, &profile, indexed).await?;
        Ok(sealed || !bucketed)
    }

    /// Moves an identity item written before blind indexes (`identifier` in its key) under
    /// its blind index; true when moved.
    pub async fn move_identity_written_before(
        &self,
        tenant: &TenantId,
        identifier: &str,
        it: &Item,
    ) -> Result<bool, StoreError> {
        let Some(legacy) = get_s(it, "pk") else {
            return Ok(false);
        };
        let blinded = self.keyring()?.blind(tenant.as_str(), identifier).await?;
        let mut moved = it.clone();
        moved.insert("pk".into(), s(identity_pk(tenant.as_str(), &blinded)));
        // One already there (its person wrote in since) is the newer: it stays.
        self.put_new("PutItem identity under its blind index", moved)
            .await?;
        self.delete_item(
            "DeleteItem identity before blinding",
            legacy.to_owned(),
            IDENTITY_SK.into(),
        )
        .await?;
        Ok(true)
    }
}

/// A person's field of the profile of `contact_id`, sealed under their key.
pub(crate) fn seal_on_profile(
    key: &DataKey,
    tenant: &TenantId,
    contact_id: &str,
    attribute: &str,
    text: &str,
) -> AttributeValue {
    sealed(
        key,
        &contact_pk(tenant.as_str(), contact_id),
        PROFILE_SK,
        attribute,
        text,
    )
}

/// The profile in `it`, its person's fields opened with `key` (absent without it).
pub fn profile_from_item(contact_id: &str, it: &Item, key: Option<&DataKey>) -> ContactProfile {
    let personal = |name: &str| unsealed(key, it, name);
    ContactProfile {
        contact_id: contact_id.to_owned(),
        phone: personal("phone"),
        bsuid: personal("bsuid"),
        profile_name: personal("profile_name"),
        username: personal("username"),
        last_inbound_at: get_i64(it, "last_inbound_at"),
        last_outbound_at: get_i64(it, "last_outbound_at"),
        consent: consent::consent_state_of(it),
        restriction: restriction::restriction_of(it),
        details: details_from_item(it, key),
        expires_at: get_i64(it, EXPIRES_AT),
    }
}

/// A random, unguessable contact id: `c_` and 20 hex digits.
pub(crate) fn new_contact_id() -> String {
    let bytes: [u8; 10] = rand::rng().random();
    format!("c_{}", hex::encode(bytes))
}

/// When the profile's life was last counted from (the contact's activity, a correction):
/// what the ageing sweep counts a shorter period from.
pub(crate) const TOUCHED_AT: &str = "touched_at";

/// A profile's sooner end under `retention`. A profile written before `touched_at`
/// existed counts from its last message or its creation.
pub fn ageing(it: &Item, retention: &Retention) -> Option<Ageing> {
    let base = [
        TOUCHED_AT,
        "created_at",
        "last_inbound_at",
        "last_outbound_at",
    ]
    .iter()
    .filter_map(|a| get_i64(it, a))
    .max()?;
    let stored = get_i64(it, EXPIRES_AT)?;
    Ageing::end(retention.shortened_end(DataClass::ContactProfile, base, stored))
}

/// Reading a contact and writing what events tell about it.
pub trait ContactRecords: Send + Sync {
    /// The contact of `identity` if there is one; nothing is created.
    fn find_contact(
        &self,
        tenant: &TenantId,
        identity: &UserIdentity,
        now: i64,
    ) -> impl Future<Output = Result<Option<ContactProfile>, StoreError>> + Send;

    /// Writes what changed about a contact, and nothing when nothing did: this runs for
    /// every inbound message and a write unit costs money. True when it wrote, so that the
    /// profile's life now runs from `now`.
    fn update_contact(
        &self,
        tenant: &TenantId,
        current: &ContactProfile,
        facts: &ContactFacts<'_>,
        retention: &Retention,
        now: i64,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// A user changed numbers (Meta's `user_changed_number`): from the change's time on,
    /// the new phone leads to the contact, the old one only for events sent before it
    /// (Meta's retries) and only for [`MOVED_IDENTITY_SECS`]; the profile shows the new
    /// phone. The conversation's history stays with the contact. Safe to repeat.
    fn move_contact_number(
        &self,
        tenant: &TenantId,
        change: &NumberChange<'_>,
        retention: &Retention,
        now: i64,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

impl ContactRecords for ContactStore {
    async fn find_contact(
        &self,
        tenant: &TenantId,
        identity: &UserIdentity,
        now: i64,
    ) -> Result<Option<ContactProfile>, StoreError> {
        for key in &identity.keys() {
            // A number its user moved away from is no longer theirs.
            if let Some(found) = self.find_identity(tenant, key, now).await?
                && found.moved_at.is_none()
            {
                return self.get_contact(tenant, &found.contact_id, now).await;
            }
        }
        Ok(None)
    }

    async fn update_contact(
        &self,
        tenant: &TenantId,
        current: &ContactProfile,
        facts: &ContactFacts<'_>,
        retention: &Retention,
        now: i64,
    ) -> Result<bool, StoreError> {
        let mut update = self.update(
            "UpdateItem contact",
            contact_pk(tenant.as_str(), &current.contact_id),
            PROFILE_SK.into(),
        );
        let mut changed = false;
        let new_name = facts
            .profile_name
            .filter(|n| Some(*n) != current.profile_name.as_deref());
        let new_username = facts
            .username
            .filter(|u| Some(*u) != current.username.as_deref());
        // The person's key only when one of their fields changes: most messages change none.
        if new_name.is_some() || new_username.is_some() {
            let key = self
                .keyring()?
                .person(tenant.as_str(), &current.contact_id)
                .await?;
            let seal = |attribute: &str, text: &str| {
                seal_on_profile(&key, tenant, &current.contact_id, attribute, text)
            };
            if let Some(name) = new_name {
                update = next_card_revision(update);
                update = update.set("profile_name", seal("profile_name", name));
                if current.details.name.is_none() {
                    // The name the contact shows changed: so does its place in the index.
                    for (attribute, value) in self
                        .contact_index_attrs(tenant, &current.contact_id, Some(name))
                        .await?
                    {
                        update = update.set(attribute, value);
                    }
                }
            }
            if let Some(username) = new_username {
                update = update.set("username", seal("username", username));
            }
            changed = true;
        }
        // Unread and answered are the conversation's (`store::conversation`): the profile's
        // time moves in steps only.
        let stale = |at: i64| {
            current
                .last_inbound_at
                .is_none_or(|last| at >= last + LAST_INBOUND_GRANULARITY_SECS)
        };
        let inbound_at = facts.inbound_at.filter(|at| stale(*at));
        if let Some(at) = inbound_at {
            update = update.set("last_inbound_at", n(at));
            changed = true;
        }
        if !changed {
            return Ok(false);
        }
        update = update
            .set(
                EXPIRES_AT,
                n(retention.expires_at(DataClass::ContactProfile, now)),
            )
            .set(TOUCHED_AT, n(now));
        // last_inbound_at only ever moves forward, even when events arrive out of order.
        update = match inbound_at {
            Some(at) => update
                .condition("attribute_exists(pk) AND (attribute_not_exists(last_inbound_at) OR last_inbound_at < :at)")
                .value(":at", n(at)),
            None => update.condition("attribute_exists(pk)"),
        };
        let written = update.send().await?;
        // After the profile: a card never shows a name the profile does not. Should this
        // fail, the retried event finds the name unchanged, and the cards show the old one
        // until the contact's next change.
        if written && new_name.is_some() {
            self.repo::<ConversationStore>()
                .refresh_cards(tenant, &current.contact_id)
                .await?;
        }
        Ok(written)
    }

    async fn move_contact_number(
        &self,
        tenant: &TenantId,
        change: &NumberChange<'_>,
        retention: &Retention,
        now: i64,
    ) -> Result<(), StoreError> {
        let NumberChange {
            contact_id,
            old,
            new,
            at,
        } = *change;
        let new_key = IdentityKey::Phone(new.clone());
        let linked = self
            .link_new_number(
                tenant,
                contact_id,
                (&new_key, new.as_str(), at),
                retention,
                now,
            )
            .await?;
        if !linked {
            return Ok(());
        }
        let old_pk = self
            .identity_key(tenant, &IdentityKey::Phone(old.clone()))
            .await?;
        // Only this contact's, and only the first time: a retry leaves it as it is.
        self.update("UpdateItem identity moved", old_pk, IDENTITY_SK.into())
            .set("moved_at", n(at))
            .set(EXPIRES_AT, n(at + MOVED_IDENTITY_SECS))
            .condition("contact_id = :contact AND attribute_not_exists(moved_at)")
            .value(":contact", s(contact_id))
            .send()
            .await?;
        Ok(())
    }
}
