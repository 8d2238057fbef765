//! Contacts: one per person per tenant, found by phone and/or BSUID through identity items.
//! The profile item carries the business's details (`details`), its places in the
//! conversation and name indexes (`conversation`, `index`); `import` writes many at once.

pub mod conversation;
pub mod details;
pub mod import;
pub mod index;

use rand::Rng;

use crate::domain::contact::{ContactDetails, ContactProfile};
use crate::domain::identity::{IdentityKey, UserIdentity};
use crate::domain::retention::{DataClass, Retention};
use crate::domain::tenant::TenantId;
use crate::store::contact::conversation::conversation_attrs;
use crate::store::contact::index::contact_index_attrs;
use crate::store::keys::{IDENTITY_SK, PROFILE_SK, contact_pk, identity_pk};
use crate::store::table::{Item, bool_attr, get_bool, get_i64, get_s, item, n, s};
use crate::store::{EXPIRES_AT, Store, StoreError, is_live};

/// `last_inbound_at` is rewritten only when it moves by at least this much, so that a
/// conversation's burst of messages costs one profile write, not one per message. Read
/// alone, it may thus close the 24-hour window up to five minutes early, never late; a
/// sender that needs the exact end reads the newest inbound message as well.
pub const LAST_INBOUND_GRANULARITY_SECS: i64 = 300;

/// A contact found or created by [`Store::resolve_contact`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedContact {
    pub profile: ContactProfile,
    /// Created by this call, with the facts already written.
    pub created: bool,
    /// Its id was made by this call: nothing was ever stored under it (a profile that
    /// expired while an identity lived on is created again under its old id).
    pub new_id: bool,
}

/// What an event tells about its user; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct ContactFacts<'a> {
    pub profile_name: Option<&'a str>,
    pub username: Option<&'a str>,
    pub inbound_at: Option<i64>,
    /// The tenant's number the user wrote to.
    pub inbound_number: Option<&'a str>,
}

impl Store {
    /// The contact of `identity`, created on first sight with `facts` already in it (one
    /// write instead of two), and linked to any of the identity's keys it lacked.
    pub async fn resolve_contact(
        &self,
        tenant: &TenantId,
        identity: &UserIdentity,
        facts: &ContactFacts<'_>,
        retention: &Retention,
        now: i64,
    ) -> Result<ResolvedContact, StoreError> {
        let keys = identity.keys();
        let mut contact_id = None;
        let mut missing = Vec::new();
        for key in &keys {
            match self
                .get(identity_pk(tenant.as_str(), key), IDENTITY_SK.into())
                .await?
            {
                Some(found) if is_live(&found, now) => {
                    let found_id = get_s(&found, "contact_id").map(str::to_owned);
                    match (&contact_id, found_id) {
                        (None, Some(id)) => contact_id = Some(id),
                        (Some(first), Some(other)) if *first != other => {
                            tracing::warn!(tenant = %tenant, "a phone and a BSUID point to two contacts; using the phone's");
                        }
                        _ => {}
                    }
                }
                _ => missing.push(key.clone()),
            }
        }
        let new_id = contact_id.is_none();
        let existing = match &contact_id {
            Some(id) => self.get_contact(tenant, id, now).await?,
            None => None,
        };
        let (profile, created) = match existing {
            Some(profile) => (profile, false),
            None => {
                // New, or its profile expired while an identity item lived on: start afresh.
                let id = contact_id.unwrap_or_else(new_contact_id);
                (
                    self.create_profile(tenant, &id, identity, facts, retention, now)
                        .await?,
                    true,
                )
            }
        };
        for key in &missing {
            self.link_identity(tenant, key, &profile.contact_id, retention, now)
                .await?;
        }
        if !created && !missing.is_empty() {
            // A newly linked identity goes on the profile too, so that erasure and export
            // find every way the person was known.
            self.record_identity_on_profile(tenant, &profile.contact_id, identity, retention, now)
                .await?;
        }
        Ok(ResolvedContact {
            profile,
            created,
            new_id,
        })
    }

    /// The contact of `identity` if there is one; nothing is created.
    pub async fn find_contact(
        &self,
        tenant: &TenantId,
        identity: &UserIdentity,
        now: i64,
    ) -> Result<Option<ContactProfile>, StoreError> {
        for key in &identity.keys() {
            let found = self
                .get(identity_pk(tenant.as_str(), key), IDENTITY_SK.into())
                .await?
                .filter(|it| is_live(it, now));
            if let Some(contact_id) = found.as_ref().and_then(|it| get_s(it, "contact_id")) {
                return self.get_contact(tenant, contact_id, now).await;
            }
        }
        Ok(None)
    }

    pub async fn get_contact(
        &self,
        tenant: &TenantId,
        contact_id: &str,
        now: i64,
    ) -> Result<Option<ContactProfile>, StoreError> {
        let found = self
            .get(contact_pk(tenant.as_str(), contact_id), PROFILE_SK.into())
            .await?;
        Ok(found
            .filter(|it| is_live(it, now))
            .map(|it| profile_from_item(contact_id, &it)))
    }

    /// Writes what changed about a contact, and nothing when nothing did: this runs for
    /// every inbound message and a write unit costs money.
    pub async fn update_contact(
        &self,
        tenant: &TenantId,
        current: &ContactProfile,
        facts: &ContactFacts<'_>,
        retention: &Retention,
        now: i64,
    ) -> Result<(), StoreError> {
        let mut update = self.update(
            "UpdateItem contact",
            contact_pk(tenant.as_str(), &current.contact_id),
            PROFILE_SK.into(),
        );
        let mut changed = false;
        if let Some(name) = facts
            .profile_name
            .filter(|n| Some(*n) != current.profile_name.as_deref())
        {
            update = update.set("profile_name", s(name));
            if current.details.name.is_none() {
                // The name the contact shows changed: so does its place in the index.
                for (attribute, value) in
                    contact_index_attrs(tenant, &current.contact_id, Some(name))
                {
                    update = update.set(attribute, value);
                }
            }
            changed = true;
        }
        if let Some(username) = facts
            .username
            .filter(|u| Some(*u) != current.username.as_deref())
        {
            update = update.set("username", s(username));
            changed = true;
        }
        // Also written when the business had answered: the conversation becomes unread.
        let stale = |at: i64| {
            current
                .last_inbound_at
                .is_none_or(|last| at >= last + LAST_INBOUND_GRANULARITY_SECS)
                || current.answered()
        };
        let inbound_at = facts.inbound_at.filter(|at| stale(*at));
        if let Some(at) = inbound_at {
            update = update.set("last_inbound_at", n(at));
            let activity = at.max(current.last_outbound_at.unwrap_or(0));
            for (attribute, value) in
                conversation_attrs(tenant, &current.contact_id, activity, facts.inbound_number)
            {
                update = update.set(attribute, value);
            }
            changed = true;
        }
        if !changed {
            return Ok(());
        }
        update = update.set(
            EXPIRES_AT,
            n(retention.expires_at(DataClass::ContactProfile, now)),
        );
        // last_inbound_at only ever moves forward, even when events arrive out of order.
        update = match inbound_at {
            Some(at) => update
                .condition("attribute_exists(pk) AND (attribute_not_exists(last_inbound_at) OR last_inbound_at < :at)")
                .value(":at", n(at)),
            None => update.condition("attribute_exists(pk)"),
        };
        update.send().await?;
        Ok(())
    }

    /// Records a user's marketing choice; `at` guards against an older choice arriving late.
    pub async fn set_marketing_opt_out(
        &self,
        tenant: &TenantId,
        contact_id: &str,
        opted_out: bool,
        at: i64,
    ) -> Result<(), StoreError> {
        self.update(
            "UpdateItem marketing opt-out",
            contact_pk(tenant.as_str(), contact_id),
            PROFILE_SK.into(),
        )
        .set("marketing_opt_out", bool_attr(opted_out))
        .set("marketing_changed_at", n(at))
        .condition(
            "attribute_exists(pk) AND (attribute_not_exists(marketing_changed_at) OR marketing_changed_at <= :at)",
        )
        .value(":at", n(at))
        .send()
        .await?;
        Ok(())
    }

    async fn create_profile(
        &self,
        tenant: &TenantId,
        contact_id: &str,
        identity: &UserIdentity,
        facts: &ContactFacts<'_>,
        retention: &Retention,
        now: i64,
    ) -> Result<ContactProfile, StoreError> {
        let it = new_profile_item(tenant, contact_id, identity, facts, retention, now);
        self.put("PutItem contact", it).await?;
        Ok(ContactProfile {
            contact_id: contact_id.to_owned(),
            phone: identity.phone.as_ref().map(|p| p.as_str().to_owned()),
            bsuid: identity.bsuid.as_ref().map(|b| b.as_str().to_owned()),
            profile_name: facts.profile_name.map(str::to_owned),
            username: facts.username.map(str::to_owned),
            last_inbound_at: facts.inbound_at,
            last_outbound_at: None,
            last_number: facts
                .inbound_at
                .and(facts.inbound_number.map(str::to_owned)),
            last_read_at: None,
            marketing_opt_out: false,
            details: ContactDetails::default(),
        })
    }

    async fn record_identity_on_profile(
        &self,
        tenant: &TenantId,
        contact_id: &str,
        identity: &UserIdentity,
        retention: &Retention,
        now: i64,
    ) -> Result<(), StoreError> {
        let mut update = self
            .update(
                "UpdateItem contact identity",
                contact_pk(tenant.as_str(), contact_id),
                PROFILE_SK.into(),
            )
            .set(
                EXPIRES_AT,
                n(retention.expires_at(DataClass::ContactProfile, now)),
            )
            .set("contact_id", s(contact_id));
        if let Some(p) = &identity.phone {
            update = update.set("phone", s(p.as_str()));
        }
        if let Some(b) = &identity.bsuid {
            update = update.set("bsuid", s(b.as_str()));
        }
        update.send().await?;
        Ok(())
    }

    async fn link_identity(
        &self,
        tenant: &TenantId,
        key: &IdentityKey,
        contact_id: &str,
        retention: &Retention,
        now: i64,
    ) -> Result<(), StoreError> {
        let it = identity_item(tenant, key, contact_id, retention, now);
        self.put("PutItem identity", it).await
    }
}

/// A new contact profile item, with its identity, the facts known and its index keys.
pub(crate) fn new_profile_item(
    tenant: &TenantId,
    contact_id: &str,
    identity: &UserIdentity,
    facts: &ContactFacts<'_>,
    retention: &Retention,
    now: i64,
) -> Item {
    let mut it = item([
        ("pk", s(contact_pk(tenant.as_str(), contact_id))),
        ("sk", s(PROFILE_SK)),
        ("contact_id", s(contact_id)),
        ("created_at", n(now)),
        (
            EXPIRES_AT,
            n(retention.expires_at(DataClass::ContactProfile, now)),
        ),
    ]);
    add_identity_attrs(&mut it, identity);
    for (name, value) in contact_index_attrs(tenant, contact_id, facts.profile_name) {
        it.insert(name.to_owned(), value);
    }
    if let Some(name) = facts.profile_name {
        it.insert("profile_name".into(), s(name));
    }
    if let Some(username) = facts.username {
        it.insert("username".into(), s(username));
    }
    if let Some(at) = facts.inbound_at {
        it.insert("last_inbound_at".into(), n(at));
        for (attribute, value) in conversation_attrs(tenant, contact_id, at, facts.inbound_number) {
            it.insert(attribute.to_owned(), value);
        }
    }
    it
}

/// The item that leads from a phone or BSUID to its contact.
pub(crate) fn identity_item(
    tenant: &TenantId,
    key: &IdentityKey,
    contact_id: &str,
    retention: &Retention,
    now: i64,
) -> Item {
    item([
        ("pk", s(identity_pk(tenant.as_str(), key))),
        ("sk", s(IDENTITY_SK)),
        ("contact_id", s(contact_id)),
        (
            EXPIRES_AT,
            n(retention.expires_at(DataClass::ContactProfile, now)),
        ),
    ])
}

fn add_identity_attrs(it: &mut Item, identity: &UserIdentity) {
    if let Some(p) = &identity.phone {
        it.insert("phone".into(), s(p.as_str()));
    }
    if let Some(b) = &identity.bsuid {
        it.insert("bsuid".into(), s(b.as_str()));
    }
}

pub(crate) fn profile_from_item(contact_id: &str, it: &Item) -> ContactProfile {
    let text = |name: &str| get_s(it, name).map(str::to_owned);
    ContactProfile {
        contact_id: contact_id.to_owned(),
        phone: text("phone"),
        bsuid: text("bsuid"),
        profile_name: text("profile_name"),
        username: text("username"),
        last_inbound_at: get_i64(it, "last_inbound_at"),
        last_outbound_at: get_i64(it, "last_outbound_at"),
        last_number: text("last_number"),
        last_read_at: get_i64(it, "last_read_at"),
        marketing_opt_out: get_bool(it, "marketing_opt_out").unwrap_or(false),
        details: ContactDetails::from_item(it),
    }
}

/// A random, unguessable contact id: `c_` and 20 hex digits.
pub(crate) fn new_contact_id() -> String {
    let bytes: [u8; 10] = rand::rng().random();
    format!("c_{}", hex::encode(bytes))
}
