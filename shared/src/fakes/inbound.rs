//! The inbound processor's ports in memory.

use std::sync::Mutex;

use super::FakeStore;
use crate::callbacks::emitter::EmitError;
use crate::callbacks::event::{CallbackEvent, EventType};
use crate::domain::consent::{ConsentEntry, ConsentState};
use crate::domain::contact::ContactProfile;
use crate::domain::identity::IdentityKey;
use crate::domain::management::TemplateRef;
use crate::domain::message_id::MessageId;
use crate::domain::retention::Retention;
use crate::domain::status::StatusUpdate;
use crate::domain::tenant::{NumberQuality, PhoneNumber, TenantId};
use crate::inbound::{CallbackSink, InboundStore};
use crate::store::contact::consent::Recorded;
use crate::store::contact::{ContactFacts, NumberChange};
use crate::store::event::TenantEvent;
use crate::store::message::delivery::StatusOutcome;
use crate::store::message::inbound::{NewInbound, StoredInbound};
use crate::store::template::TemplateAttribute;
use crate::store::{Expiry, PutOutcome, StoreError};

impl InboundStore for FakeStore {
    async fn contact_for_event(
        &self,
        tenant: &TenantId,
        identity: &crate::domain::identity::UserIdentity,
        _at: i64,
        _now: i64,
    ) -> Result<Option<ContactProfile>, StoreError> {
        self.check("contact_for_event")?;
        Ok(self.find(tenant, identity))
    }

    async fn update_contact(
        &self,
        tenant: &TenantId,
        current: &ContactProfile,
        facts: &ContactFacts<'_>,
        _retention: &Retention,
        _now: i64,
    ) -> Result<(), StoreError> {
        self.check("update_contact")?;
        let mut t = self.lock();
        let Some(profile) = t
            .contacts
            .get_mut(&(tenant.clone(), current.contact_id.clone()))
        else {
            return Ok(());
        };
        if let Some(name) = facts.profile_name {
            profile.profile_name = Some(name.to_owned());
        }
        if let Some(username) = facts.username {
            profile.username = Some(username.to_owned());
        }
        if let Some(at) = facts.inbound_at {
            // Only ever forward, as the table's condition keeps it.
            if profile.last_inbound_at.is_none_or(|last| at > last) {
                profile.last_inbound_at = Some(at);
                profile.last_number = facts.inbound_number.map(str::to_owned);
            }
        }
        Ok(())
    }

    async fn move_contact_number(
        &self,
        tenant: &TenantId,
        change: &NumberChange<'_>,
        _retention: &Retention,
        _now: i64,
    ) -> Result<(), StoreError> {
        let NumberChange {
            contact_id,
            old,
            new,
            at,
        } = *change;
        self.check("move_contact_number")?;
        let mut t = self.lock();
        let new_key = (tenant.clone(), IdentityKey::Phone(new.clone()).to_string());
        t.identities.insert(new_key.clone(), contact_id.to_owned());
        t.moved.remove(&new_key);
        let old_key = (tenant.clone(), IdentityKey::Phone(old.clone()).to_string());
        if t.identities.get(&old_key).map(String::as_str) == Some(contact_id) {
            t.moved.entry(old_key).or_insert(at);
        }
        if let Some(profile) = t.contacts.get_mut(&(tenant.clone(), contact_id.to_owned())) {
            profile.phone = Some(new.as_str().to_owned());
        }
        Ok(())
    }

    async fn put_inbound_message(
        &self,
        tenant: &TenantId,
        inbound: &NewInbound<'_>,
        _expiry: Expiry,
        _now: i64,
    ) -> Result<StoredInbound, StoreError> {
        self.check("put_inbound_message")?;
        let key = (tenant.clone(), inbound.message.wamid.clone());
        let id = MessageId::inbound(
            inbound.contact_id,
            inbound.message.sent_at,
            &fake_blind(&inbound.message.wamid),
        );
        let mut t = self.lock();
        if t.messages.contains_key(&key) {
            return Ok(StoredInbound {
                outcome: PutOutcome::Duplicate,
                id,
            });
        }
        t.messages.insert(key, inbound.contact_id.to_owned());
        Ok(StoredInbound {
            outcome: PutOutcome::Stored,
            id,
        })
    }

    async fn apply_status(
        &self,
        tenant: &TenantId,
        _contact_id: &str,
        update: &StatusUpdate,
        _expires_at: i64,
    ) -> Result<StatusOutcome, StoreError> {
        self.check("apply_status")?;
        let mut t = self.lock();
        let state = t
            .deliveries
            .entry((tenant.clone(), update.wamid.clone()))
            .or_default();
        let name = update.status.as_str();
        let seen = state.history.contains_key(name);
        state.history.entry(name).or_insert(update.at);
        if state.status.is_none_or(|s| s.rank() < update.status.rank()) {
            state.status = Some(update.status);
            return Ok(StatusOutcome::Advanced);
        }
        Ok(if seen {
            StatusOutcome::Duplicate
        } else {
            StatusOutcome::Late
        })
    }

    async fn record_consent(
        &self,
        tenant: &TenantId,
        contact_id: &str,
        identifiers: &[IdentityKey],
        entry: &ConsentEntry,
        _expires_at: i64,
    ) -> Result<Recorded, StoreError> {
        self.check("record_consent")?;
        let mut t = self.lock();
        let duplicate =
            !t.consent_entries
                .insert((tenant.clone(), contact_id.to_owned(), entry.id()));
        for key in identifiers {
            t.opt_outs
                .entry((tenant.clone(), key.to_string()))
                .or_default()
                .apply(entry);
        }
        let state = match t.contacts.get_mut(&(tenant.clone(), contact_id.to_owned())) {
            Some(profile) => {
                profile.consent.apply(entry);
                profile.consent.clone()
            }
            None => ConsentState::default(),
        };
        Ok(Recorded { duplicate, state })
    }

    async fn update_template(
        &self,
        tenant: &TenantId,
        template: &TemplateRef,
        attribute: TemplateAttribute,
        value: &str,
        event_time: i64,
    ) -> Result<(), StoreError> {
        self.check("update_template")?;
        let name = match attribute {
            TemplateAttribute::Status => "status",
            TemplateAttribute::Quality => "quality",
            TemplateAttribute::Category => "category",
        };
        let mut t = self.lock();
        let slot = t
            .templates
            .entry((tenant.clone(), template.id.clone(), name))
            .or_insert((value.to_owned(), event_time));
        if slot.1 <= event_time {
            *slot = (value.to_owned(), event_time);
        }
        Ok(())
    }

    async fn phone_numbers_of(&self, tenant: &TenantId) -> Result<Vec<PhoneNumber>, StoreError> {
        self.check("phone_numbers_of")?;
        Ok(self
            .lock()
            .numbers
            .iter()
            .filter(|n| &n.tenant_id == tenant)
            .cloned()
            .collect())
    }

    async fn record_number_quality(
        &self,
        tenant: &TenantId,
        phone_number_id: &str,
        quality: &NumberQuality,
    ) -> Result<(), StoreError> {
        self.check("record_number_quality")?;
        let mut t = self.lock();
        if let Some(number) = t
            .numbers
            .iter_mut()
            .find(|n| &n.tenant_id == tenant && n.phone_number_id == phone_number_id)
            && number.quality.as_ref().is_none_or(|q| q.at <= quality.at)
        {
            number.quality = Some(quality.clone());
        }
        Ok(())
    }

    async fn set_throughput(
        &self,
        tenant: &TenantId,
        phone_number_id: &str,
        per_second: u32,
    ) -> Result<(), StoreError> {
        self.check("set_throughput")?;
        let mut t = self.lock();
        if let Some(number) = t
            .numbers
            .iter_mut()
            .find(|n| &n.tenant_id == tenant && n.phone_number_id == phone_number_id)
        {
            number.throughput_per_second = per_second;
        }
        Ok(())
    }

    async fn put_tenant_event(
        &self,
        tenant: &TenantId,
        event: &TenantEvent<'_>,
        _now: i64,
    ) -> Result<PutOutcome, StoreError> {
        self.check("put_tenant_event")?;
        let key = (tenant.clone(), event.event_time, event.identity.to_owned());
        let mut t = self.lock();
        if t.events.contains_key(&key) {
            return Ok(PutOutcome::Duplicate);
        }
        t.events
            .insert(key, event.unhandled_reason.map(str::to_owned));
        Ok(PutOutcome::Stored)
    }

    async fn audit(
        &self,
        tenant: &TenantId,
        fact: crate::domain::audit::AuditFact,
        _expires_at: i64,
    ) -> Result<(), crate::audit::AuditError> {
        self.check("audit")?;
        self.lock().audit.push((tenant.clone(), fact));
        Ok(())
    }
}

/// Keeps what the processor emitted, in order.
#[derive(Default)]
pub struct FakeCallbacks {
    pub emitted: Mutex<Vec<(TenantId, EventType, serde_json::Value)>>,
}

impl FakeCallbacks {
    pub fn types(&self) -> Vec<EventType> {
        let emitted = self.emitted.lock().expect("never poisoned");
        emitted.iter().map(|(_, t, _)| *t).collect()
    }

    /// The data of the `index`th event emitted.
    pub fn data(&self, index: usize) -> serde_json::Value {
        let emitted = self.emitted.lock().expect("never poisoned");
        emitted[index].2.clone()
    }

    pub fn last_data(&self) -> serde_json::Value {
        let emitted = self.emitted.lock().expect("never poisoned");
        emitted
            .last()
            .map(|(_, _, d)| d.clone())
            .unwrap_or_default()
    }
}

impl CallbackSink for FakeCallbacks {
    async fn emit(&self, tenant: &TenantId, event: &CallbackEvent) -> Result<(), EmitError> {
        self.emitted.lock().expect("never poisoned").push((
            tenant.clone(),
            event.event_type,
            event.data.clone(),
        ));
        Ok(())
    }
}

/// What stands for a wamid in the fake's ids, as the blind index does in the store's.
pub(crate) fn fake_blind(wamid: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(&Sha256::digest(wamid.as_bytes())[..16])
}
