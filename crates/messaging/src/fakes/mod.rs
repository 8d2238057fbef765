//! In-memory ports for unit tests. They keep the promises the DynamoDB adapters keep (a
//! put of a known key is a duplicate, statuses merge by rank, a late change never
//! overwrites a newer one, a claimed key stays claimed) and can be told to fail one
//! operation, as an outage or a crash between two writes would.

mod accept;
pub(crate) mod blind;
mod events;
mod ports;

use crate::domain::conversation::activity::ConversationState;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Mutex;

pub use accept::FakeQueue;
pub use events::{DownSubscriber, FakeSubscriber};

use crate::domain::consent::ConsentState;
use crate::domain::contact::ContactProfile;
use crate::domain::conversation::OutboundRecord;
use crate::domain::identity::UserIdentity;
use crate::domain::status::DeliveryStatus;
use crate::domain::tenant::{PhoneNumber, Tenant, TenantId};
use crate::store::StoreError;
use crate::store::contact::{ContactFacts, ResolvedContact};
use crate::store::idempotency::IdempotencyRecord;

/// One wamid's merged delivery state.
#[derive(Debug, Clone, Default)]
pub struct FakeDelivery {
    pub status: Option<DeliveryStatus>,
    pub history: BTreeMap<&'static str, i64>,
}

#[derive(Default)]
pub struct Tables {
    pub tenants: HashMap<TenantId, Tenant>,
    /// (tenant, identity key as text) → contact id.
    pub identities: HashMap<(TenantId, String), String>,
    /// When each identity's user moved to another number, for those who did.
    pub moved: HashMap<(TenantId, String), i64>,
    /// When each erased identity's person was erased (its tombstone).
    pub erased: HashMap<(TenantId, String), i64>,
    pub contacts: HashMap<(TenantId, String), ContactProfile>,
    /// (tenant, contact id) → the event that made the contact.
    pub made_by: HashMap<(TenantId, String), String>,
    /// (tenant, wamid) → contact id.
    pub messages: HashMap<(TenantId, String), String>,
    pub deliveries: HashMap<(TenantId, String), FakeDelivery>,
    /// (tenant, identity key as text) → the opt-outs that outlive its contact.
    pub opt_outs: HashMap<(TenantId, String), ConsentState>,
    /// (tenant, contact id, entry id): the consent ledger.
    pub consent_entries: HashSet<(TenantId, String, String)>,
    /// What was appended to each tenant's audit log, in order.
    pub audit: Vec<(TenantId, crate::domain::audit::AuditFact)>,
    /// (tenant, WABA, template name, language) → Meta's category.
    pub template_categories: HashMap<(TenantId, String, String, String), String>,
    /// (tenant, template id, attribute) → (value, when).
    pub templates: HashMap<(TenantId, String, &'static str), (String, i64)>,
    pub numbers: Vec<PhoneNumber>,
    pub events: HashMap<(TenantId, i64, String), Option<String>>,
    /// (tenant, key) → the live claim.
    pub idempotency: HashMap<(TenantId, String), IdempotencyRecord>,
    /// (tenant, contact id, job id) → the outbound message.
    pub outbound: HashMap<(TenantId, String, String), OutboundRecord>,
    /// (tenant, contact id) → when the contact's newest inbound message was sent.
    pub newest_inbound: HashMap<(TenantId, String), i64>,
    /// (tenant, contact id, status tag) → the wamid of the message Meta accepted with it.
    pub accepted_tags: HashMap<(TenantId, String, String), String>,
    /// How often the profile's outbound time moved, by (tenant, contact id).
    pub outbound_activity: HashMap<(TenantId, String), u32>,
    /// (tenant, contact id, number) → the conversation.
    pub conversations: HashMap<(TenantId, String, String), ConversationState>,
    /// Operations that fail once each, by name, as a crash or an outage would.
    pub fail_next: HashSet<&'static str>,
    pub next_contact: u32,
}

#[derive(Default)]
pub struct FakeStore {
    pub tables: Mutex<Tables>,
}

impl FakeStore {
    pub fn with_tenant(tenant: Tenant) -> Self {
        let store = Self::default();
        store.lock().tenants.insert(tenant.id.clone(), tenant);
        store
    }

    pub fn lock(&self) -> std::sync::MutexGuard<'_, Tables> {
        self.tables
            .lock()
            .expect("the fake's lock is never poisoned")
    }

    /// Makes the next call of `operation` fail.
    pub fn fail_once(&self, operation: &'static str) {
        self.lock().fail_next.insert(operation);
    }

    fn check(&self, operation: &'static str) -> Result<(), StoreError> {
        if self.lock().fail_next.remove(operation) {
            return Err(StoreError::Unprocessed(operation));
        }
        Ok(())
    }

    /// A contact as `resolve_contact` finds or makes it.
    pub fn resolve(
        &self,
        tenant: &TenantId,
        identity: &UserIdentity,
        facts: &ContactFacts<'_>,
    ) -> Result<ResolvedContact, StoreError> {
        self.check("resolve_contact")?;
        let mut t = self.lock();
        let keys: Vec<String> = identity.keys().iter().map(ToString::to_string).collect();
        // As the table: a number moved away from leads to its contact only for events
        // sent before the move.
        let known = keys.iter().find_map(|k| {
            let slot = (tenant.clone(), k.clone());
            match t.moved.get(&slot) {
                Some(moved) if facts.inbound_at.is_none_or(|at| at > *moved) => None,
                _ => t.identities.get(&slot).cloned(),
            }
        });
        let (contact_id, new_id) = match known {
            Some(id) => (id, false),
            // As the table: an event from before the erasure of an unknown identity's
            // person is about them, and makes nothing.
            None if keys.iter().any(|k| {
                let erased = t.erased.get(&(tenant.clone(), k.clone()));
                erased.zip(facts.event_at).is_some_and(|(e, at)| at <= *e)
            }) =>
            {
                return Err(StoreError::PersonErased);
            }
            None => {
                t.next_contact += 1;
                (format!("c_fake{}", t.next_contact), true)
            }
        };
        for key in keys {
            let slot = (tenant.clone(), key);
            let kept = t.moved.contains_key(&slot) && t.identities.get(&slot) == Some(&contact_id);
            if !kept {
                t.moved.remove(&slot);
                t.identities.insert(slot, contact_id.clone());
            }
        }
        let slot = (tenant.clone(), contact_id.clone());
        if let Some(profile) = t.contacts.get(&slot) {
            let made_by_this_event = facts.made_by.is_some()
                && t.made_by.get(&slot).map(String::as_str) == facts.made_by;
            return Ok(ResolvedContact {
                profile: profile.clone(),
                created: false,
                new_id,
                made_by_this_event,
            });
        }
        let mut profile = new_profile(&contact_id, identity, facts);
        // As the table: someone who opted out before starts opted out.
        for key in identity.keys() {
            if let Some(kept) = t.opt_outs.get(&(tenant.clone(), key.to_string())) {
                profile.consent.take_later(kept);
            }
        }
        if let Some(source) = facts.made_by {
            t.made_by.insert(slot.clone(), source.to_owned());
        }
        t.contacts.insert(slot, profile.clone());
        Ok(ResolvedContact {
            profile,
            created: true,
            new_id,
            made_by_this_event: facts.made_by.is_some(),
        })
    }

    /// The contact of `identity`, if one was made.
    pub(crate) fn find(
        &self,
        tenant: &TenantId,
        identity: &UserIdentity,
    ) -> Option<ContactProfile> {
        let t = self.lock();
        let id = identity
            .keys()
            .iter()
            .find_map(|k| t.identities.get(&(tenant.clone(), k.to_string())))?
            .clone();
        t.contacts.get(&(tenant.clone(), id)).cloned()
    }
}

fn new_profile(
    contact_id: &str,
    identity: &UserIdentity,
    facts: &ContactFacts<'_>,
) -> ContactProfile {
    ContactProfile {
        contact_id: contact_id.to_owned(),
        phone: identity.phone.as_ref().map(|p| p.as_str().to_owned()),
        bsuid: identity.bsuid.as_ref().map(|b| b.as_str().to_owned()),
        profile_name: facts.profile_name.map(str::to_owned),
        username: facts.username.map(str::to_owned),
        last_inbound_at: facts.inbound_at,
        ..ContactProfile::default()
    }
}

/// A connected number of `tenant`, paced at 80 messages a second.
pub fn phone_number(tenant: &TenantId, phone_number_id: &str, display: &str) -> PhoneNumber {
    PhoneNumber {
        tenant_id: tenant.clone(),
        phone_number_id: phone_number_id.to_owned(),
        waba_id: "102290129340398".to_owned(),
        display_phone_number: display.to_owned(),
        access_token_ciphertext: Vec::new(),
        throughput_per_second: 80,
        coexistence: false,
        paused_until: None,
        pause_reason: None,
        token_fingerprint: None,
        token_set_at: None,
        verified_name: None,
        quality_rating: None,
        quality: None,
    }
}

/// An active tenant with default retention.
pub fn tenant(id: &str) -> Tenant {
    Tenant {
        id: TenantId::parse(id).expect("a valid tenant id"),
        name: id.to_owned(),
        status: crate::domain::tenant::TenantStatus::Active,
        retention: crate::domain::retention::Retention::default(),
        consent: Default::default(),
        content: Default::default(),
        meta_app: None,
        sending_stopped: None,
    }
}
