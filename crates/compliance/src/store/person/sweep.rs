//! Finding everything about one person in a tenant and deleting it: their contacts (a
//! person may have more than one: a number they moved from), the identity items that lead
//! to them, each contact's partition (profile, messages, delivery states) with the
//! idempotency records its messages name, the callback log's entries about them, and the
//! tenant events that name them. Every step is safe to repeat.

use crate::store::ContactStore;
use crate::store::person::PersonStore;
use std::collections::HashSet;
use wagate_integrations::store::CallbackStore;

use crate::domain::erasure::{ErasedCounts, identifiers_in};
use crate::domain::identity::{Bsuid, IdentityKey, Phone};
use crate::domain::tenant::TenantId;
use crate::store::StoreError;
use crate::store::contact::profile_from_item;
use crate::store::contact::resolve::{ID_HASHES, id_hashes_of};
use crate::store::event::{EVENT_CONTACT, EVENT_ID_HASHES, names_any};
use crate::store::keys::{
    CONSENT_PREFIX, CONVERSATION_PREFIX, IDEMPOTENCY_SK, IDENTITY_SK, MESSAGE_PREFIX, PROFILE_SK,
    contact_pk, events_pk, idempotency_pk_of_hash, identity_pk, legacy_identity_pk,
};
use crate::store::message::outbound::IDEMPOTENCY_HASH;
use crate::store::table::cursor::Cursor;
use crate::store::table::{get_i64, get_s, s, unsealed};
use wagate_integrations::store::callback::{delivery_log_pk, placeholders};

/// How many identifiers lead from one to the next (a phone to its contact, the contact to
/// its BSUID, ...) before the search stops: a person has a handful at most.
const MAX_IDENTIFIERS: usize = 16;

/// Whether finding a person opens profiles written before profiles listed their
/// identifiers (only while their keys are there).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Opening {
    OldProfiles,
    ListsOnly,
}

/// Whom an erasure is about, as the job carries it: contact ids and keyed hashes only.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PersonFootprint {
    pub contacts: Vec<String>,
    /// The blind index of every identifier of the person.
    pub blinded: Vec<String>,
    /// Identifiers whose identity items were written before blind indexes: deleted by the
    /// request itself, since only it knows them in plaintext.
    pub legacy: Vec<IdentityKey>,
}

/// One step of a sweep: what it deleted and where the next one starts (`None`: done).
#[derive(Debug, Default)]
pub struct SweepStep {
    pub erased: ErasedCounts,
    pub next: Option<Cursor>,
}

impl PersonStore {
    /// The person `key` names: every contact their identifiers lead to, and those
    /// identifiers' blind indexes (see [`PersonStore::person_closure`]). Read while their keys
    /// still open their profiles: profiles written before they listed their identifiers
    /// are opened for them.
    pub async fn person_footprint(
        &self,
        tenant: &TenantId,
        key: &IdentityKey,
        now: i64,
    ) -> Result<PersonFootprint, StoreError> {
        let keyring = self.keyring()?;
        let mut footprint = PersonFootprint {
            blinded: vec![keyring.blind(tenant.as_str(), &key.to_string()).await?],
            ..PersonFootprint::default()
        };
        // Identifiers known in plaintext: their items written before blind indexes are
        // found (and deleted by the request) that way only.
        let mut plain = vec![key.clone()];
        while !plain.is_empty() {
            for key in std::mem::take(&mut plain) {
                if let Some(found) = self
                    .repo::<ContactStore>()
                    .find_identity(tenant, &key, now)
                    .await?
                    && found.legacy
                {
                    footprint.legacy.push(key);
                    if !footprint.contacts.contains(&found.contact_id) {
                        footprint.contacts.push(found.contact_id);
                    }
                }
            }
            plain = self
                .person_closure(tenant, &mut footprint, None, Opening::OldProfiles)
                .await?;
        }
        Ok(footprint)
    }

    /// Grows `footprint` until it holds every contact its identifiers lead to and every
    /// identifier its contacts list (read consistently, each leading to the next, at most
    /// [`MAX_IDENTIFIERS`]): an identity item that leads elsewhere is someone else's unless
    /// it was made before the erasure at `erased_at` (a contact made after it remembers
    /// that erasure in `erased_before`). With [`Opening::OldProfiles`], profiles written
    /// before they listed their identifiers are opened for them: answers those identifiers
    /// found so, not known to it before.
    pub async fn person_closure(
        &self,
        tenant: &TenantId,
        footprint: &mut PersonFootprint,
        erased_at: Option<i64>,
        opening: Opening,
    ) -> Result<Vec<IdentityKey>, StoreError> {
        let keyring = self.keyring()?;
        let mut opened = Vec::new();
        let (mut next_hash, mut next_contact) = (0, 0);
        while next_hash < footprint.blinded.len() || next_contact < footprint.contacts.len() {
            if footprint.blinded.len() > MAX_IDENTIFIERS {
                tracing::warn!(tenant = %tenant, "a person's identifiers lead on past the bound; the rest is not followed");
                break;
            }
            while let Some(hash) = footprint.blinded.get(next_hash).cloned() {
                next_hash += 1;
                let Some(it) = self
                    .get_consistent(identity_pk(tenant.as_str(), &hash), IDENTITY_SK.into())
                    .await?
                else {
                    continue;
                };
                let made_after = get_i64(&it, "erased_before")
                    .zip(erased_at)
                    .is_some_and(|(before, at)| before >= at);
                if let (Some(contact), false) = (get_s(&it, "contact_id"), made_after)
                    && !footprint.contacts.iter().any(|c| c == contact)
                {
                    footprint.contacts.push(contact.to_owned());
                }
            }
            while let Some(contact) = footprint.contacts.get(next_contact).cloned() {
                next_contact += 1;
                let Some(it) = self
                    .get_consistent(contact_pk(tenant.as_str(), &contact), PROFILE_SK.into())
                    .await?
                else {
                    continue;
                };
                for hash in id_hashes_of(&it) {
                    if !footprint.blinded.contains(&hash) {
                        footprint.blinded.push(hash);
                    }
                }
                if opening == Opening::OldProfiles && !it.contains_key(ID_HASHES) {
                    let key = self.reading_key(tenant, &contact).await?;
                    let profile = profile_from_item(&contact, &it, key.as_deref());
                    let phone = profile.phone.as_deref().and_then(|p| Phone::parse(p).ok());
                    let bsuid = profile.bsuid.as_deref().and_then(|b| Bsuid::parse(b).ok());
                    for other in [phone.map(IdentityKey::Phone), bsuid.map(IdentityKey::Bsuid)]
                        .into_iter()
                        .flatten()
                    {
                        let hash = keyring.blind(tenant.as_str(), &other.to_string()).await?;
                        if !footprint.blinded.contains(&hash) {
                            footprint.blinded.push(hash);
                            opened.push(other);
                        }
                    }
                }
            }
        }
        Ok(opened)
    }

    /// Deletes the identity items written before blind indexes (their keys hold the
    /// identifier itself); answers how many there were.
    pub async fn delete_legacy_identities(
        &self,
        tenant: &TenantId,
        keys: &[IdentityKey],
    ) -> Result<u64, StoreError> {
        let mut deleted = 0;
        for key in keys {
            let existed = self
                .delete_existing(
                    "DeleteItem identity before blinding",
                    legacy_identity_pk(tenant.as_str(), key),
                    IDENTITY_SK.into(),
                )
                .await?;
            deleted += u64::from(existed.is_some());
        }
        Ok(deleted)
    }

    /// Deletes the identity items of the blinded identifiers that lead to one of
    /// `contacts`: one that leads elsewhere by now (the person wrote again after the
    /// erasure and is a new contact) stays. Answers how many were deleted.
    pub async fn delete_identities(
        &self,
        tenant: &TenantId,
        blinded: &[String],
        contacts: &[String],
    ) -> Result<u64, StoreError> {
        if contacts.is_empty() {
            return Ok(0);
        }
        let condition = format!("contact_id IN ({})", placeholders(":c", contacts.len()));
        let names: Vec<String> = (0..contacts.len()).map(|i| format!(":c{i}")).collect();
        let values: Vec<(&str, _)> = names
            .iter()
            .zip(contacts)
            .map(|(name, id)| (name.as_str(), s(id)))
            .collect();
        let mut deleted = 0;
        for hash in blinded {
            let gone = self
                .delete_if(
                    "DeleteItem identity",
                    (identity_pk(tenant.as_str(), hash), IDENTITY_SK.into()),
                    &condition,
                    &[],
                    &values,
                )
                .await?;
            deleted += u64::from(gone);
        }
        Ok(deleted)
    }

    /// Deletes one page (up to `limit` items) of the contact's partition, with the
    /// idempotency records its outbound messages name. `next` is set while items remain.
    pub async fn delete_contact_page(
        &self,
        tenant: &TenantId,
        contact_id: &str,
        limit: i32,
    ) -> Result<SweepStep, StoreError> {
        let pk = contact_pk(tenant.as_str(), contact_id);
        let page = self
            .query("Query contact to erase", "pk = :pk")
            .value(":pk", s(&pk))
            .limit(limit)
            .consistent()
            .page()
            .await?;
        let mut step = SweepStep {
            next: page.next,
            ..SweepStep::default()
        };
        let mut keys: Vec<(String, String)> = Vec::with_capacity(page.items.len());
        for it in &page.items {
            let Some(sk) = get_s(it, "sk") else { continue };
            let erased = &mut step.erased;
            match sk {
                PROFILE_SK => erased.contacts += 1,
                _ if sk.starts_with(MESSAGE_PREFIX) => erased.messages += 1,
                _ if sk.starts_with(CONSENT_PREFIX) => erased.consent_entries += 1,
                _ if sk.starts_with(CONVERSATION_PREFIX) => erased.conversations += 1,
                _ => erased.delivery_states += 1,
            }
            if let Some(hash) = get_s(it, IDEMPOTENCY_HASH) {
                erased.idempotency_records += 1;
                keys.push((
                    idempotency_pk_of_hash(tenant.as_str(), hash),
                    IDEMPOTENCY_SK.to_owned(),
                ));
            }
            keys.push((pk.clone(), sk.to_owned()));
        }
        self.batch_delete(keys.iter().map(|(pk, sk)| (pk.as_str(), sk.as_str())))
            .await?;
        Ok(step)
    }

    /// Deletes the callback log's entries about `contacts` in one page of the log, from
    /// `start`.
    pub async fn delete_callback_log_page(
        &self,
        tenant: &TenantId,
        contacts: &[String],
        start: Option<&Cursor>,
        limit: i32,
    ) -> Result<SweepStep, StoreError> {
        let (records, next) = self
            .repo::<CallbackStore>()
            .deliveries_about(tenant, contacts, start, limit, None)
            .await?;
        let pk = delivery_log_pk(tenant.as_str());
        self.batch_delete(records.iter().map(|r| (pk.as_str(), r.log_key.as_str())))
            .await?;
        Ok(SweepStep {
            erased: ErasedCounts {
                callback_deliveries: records.len() as u64,
                ..ErasedCounts::default()
            },
            next,
        })
    }

    /// Deletes the tenant events in one page of them, from `start`, that name one of the
    /// blinded identifiers or are about one of `contacts`: by the keyed hashes they list,
    /// or, for events stored before they listed them, by opening each (under the tenant's
    /// key) and blinding its identifiers in turn.
    pub async fn delete_events_naming_page(
        &self,
        tenant: &TenantId,
        (blinded, contacts): (&[String], &[String]),
        start: Option<&Cursor>,
        limit: i32,
    ) -> Result<SweepStep, StoreError> {
        let wanted: HashSet<&str> = blinded.iter().map(String::as_str).collect();
        let page = self
            .query("Query tenant events to erase", "pk = :pk")
            .value(":pk", s(events_pk(tenant.as_str())))
            .limit(limit)
            .after(start)
            .page()
            .await?;
        let keys = self.opening_keys(tenant.as_str(), &[]).await?;
        let keyring = self.keyring()?;
        let mut doomed: Vec<(String, String)> = Vec::new();
        for it in &page.items {
            let listed = it.contains_key(EVENT_ID_HASHES) || it.contains_key(EVENT_CONTACT);
            if listed {
                if let (true, Some(pk), Some(sk)) = (
                    names_any(it, blinded, contacts),
                    get_s(it, "pk"),
                    get_s(it, "sk"),
                ) {
                    doomed.push((pk.to_owned(), sk.to_owned()));
                }
                continue;
            }
            let Some(raw) = unsealed(keys.of(None), it, "raw") else {
                continue;
            };
            let mut names_them = false;
            for key in identifiers_in(&raw) {
                let hash = keyring.blind(tenant.as_str(), &key.to_string()).await?;
                if wanted.contains(hash.as_str()) {
                    names_them = true;
                    break;
                }
            }
            if let (true, Some(pk), Some(sk)) = (names_them, get_s(it, "pk"), get_s(it, "sk")) {
                doomed.push((pk.to_owned(), sk.to_owned()));
            }
        }
        self.batch_delete(doomed.iter().map(|(pk, sk)| (pk.as_str(), sk.as_str())))
            .await?;
        Ok(SweepStep {
            erased: ErasedCounts {
                tenant_events: doomed.len() as u64,
                ..ErasedCounts::default()
            },
            next: page.next,
        })
    }
}
