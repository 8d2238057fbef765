//! The in-memory store implementing each storage port the use cases' unit tests need.

use super::FakeStore;
use super::accept::{live_claim, outbound_slot};
use super::blind::fake_blind;
use crate::domain::consent::{ConsentEntry, ConsentState};
use crate::domain::contact::ContactProfile;
use crate::domain::conversation::OutboundRecord;
use crate::domain::conversation::activity::{ConversationState, MessageEffect, Wrote};
use crate::domain::conversation::cycle::{Conversation, Moved, Transition};
use crate::domain::identity::{IdentityKey, UserIdentity};
use crate::domain::management::TemplateRef;
use crate::domain::message_id::MessageId;
use crate::domain::retention::Retention;
use crate::domain::status::StatusUpdate;
use crate::domain::tenant::{NumberQuality, PhoneNumber, Tenant, TenantId};
use crate::inbound::port::{AuditTrail, InboundStore};
use crate::outbound::accept_port::AcceptStore;
use crate::outbound::consent::TemplateCategories;
use crate::outbound::consent::TemplateIn;
use crate::outbound::send_port::SendStore;
use crate::store::contact::ContactRecords;
use crate::store::contact::activity::{ContactActivity, outbound_step_passed};
use crate::store::contact::consent::ConsentRecords;
use crate::store::contact::consent::Recorded;
use crate::store::contact::resolve::ContactResolution;
use crate::store::contact::{ContactFacts, NumberChange, ResolvedContact};
use crate::store::conversation::{ConversationStates, MoveOutcome};
use crate::store::event::TenantEvent;
use crate::store::event::TenantEventLog;
use crate::store::idempotency::IdempotencyClaims;
use crate::store::idempotency::{Claim, IdempotencyRecord};
use crate::store::message::delivery::DeliveryStates;
use crate::store::message::delivery::StatusOutcome;
use crate::store::message::inbound::InboundMessages;
use crate::store::message::inbound::{NewInbound, StoredInbound};
use crate::store::message::outbound::OutboundMessages;
use crate::store::message::outbound::{NewOutbound, OutboundKey, QueuedOutbound};
use crate::store::number::NumberRecords;
use crate::store::template::TemplateAttribute;
use crate::store::template::TemplateStates;
use crate::store::tenant::SendingStop;
use crate::store::{Expiry, PutOutcome, StoreError};
use crate::tenants::Tenants;

/// The fake holds every kind of stored thing, so it stands for each store.
impl InboundStore for FakeStore {
    fn tenants(&self) -> &impl Tenants {
        self
    }

    fn contacts(&self) -> &(impl ContactResolution + ContactRecords + ConsentRecords) {
        self
    }

    fn messages(&self) -> &(impl InboundMessages + DeliveryStates) {
        self
    }

    fn conversations(&self) -> &impl ConversationStates {
        self
    }

    fn templates(&self) -> &impl TemplateStates {
        self
    }

    fn numbers(&self) -> &impl NumberRecords {
        self
    }

    fn tenant_events(&self) -> &impl TenantEventLog {
        self
    }

    fn audit_trail(&self) -> &impl AuditTrail {
        self
    }
}

impl AcceptStore for FakeStore {
    fn tenants(&self) -> &(impl Tenants + TemplateCategories) {
        self
    }

    fn idempotency(&self) -> &impl IdempotencyClaims {
        self
    }

    fn contacts(
        &self,
    ) -> &(impl ContactResolution + ContactRecords + ConsentRecords + ContactActivity) {
        self
    }

    fn messages(&self) -> &impl OutboundMessages {
        self
    }

    fn conversations(&self) -> &impl ConversationStates {
        self
    }
}

impl Tenants for FakeStore {
    async fn tenant(&self, id: &TenantId) -> Result<Option<Tenant>, StoreError> {
        self.check("tenant")?;
        Ok(self.lock().tenants.get(id).cloned())
    }

    async fn phone_number(
        &self,
        tenant: &TenantId,
        phone_number_id: &str,
    ) -> Result<Option<PhoneNumber>, StoreError> {
        self.check("phone_number")?;
        Ok(self
            .lock()
            .numbers
            .iter()
            .find(|n| &n.tenant_id == tenant && n.phone_number_id == phone_number_id)
            .cloned())
    }

    /// The fake keeps no cache: a refresh reads what `phone_number` reads.
    async fn refresh_phone_number(
        &self,
        tenant: &TenantId,
        phone_number_id: &str,
    ) -> Result<Option<PhoneNumber>, StoreError> {
        self.check("refresh_phone_number")?;
        self.phone_number(tenant, phone_number_id).await
    }

    fn forget_tenant(&self, _id: &TenantId) {}
}

impl TemplateCategories for FakeStore {
    async fn template_category(
        &self,
        tenant: &TenantId,
        template: TemplateIn<'_>,
    ) -> Result<Option<String>, StoreError> {
        self.check("template_category")?;
        let t = self.lock();
        let key = (
            tenant.clone(),
            template.waba_id.to_owned(),
            template.name.to_owned(),
            template.language.to_owned(),
        );
        Ok(t.template_categories.get(&key).cloned())
    }
}

impl ContactResolution for FakeStore {
    async fn resolve_contact(
        &self,
        tenant: &TenantId,
        identity: &UserIdentity,
        facts: &ContactFacts<'_>,
        _retention: &crate::domain::retention::Retention,
        _now: i64,
    ) -> Result<ResolvedContact, StoreError> {
        self.resolve(tenant, identity, facts)
    }

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
}

impl ContactRecords for FakeStore {
    async fn update_contact(
        &self,
        tenant: &TenantId,
        current: &ContactProfile,
        facts: &ContactFacts<'_>,
        _retention: &Retention,
        _now: i64,
    ) -> Result<bool, StoreError> {
        self.check("update_contact")?;
        let mut t = self.lock();
        let Some(profile) = t
            .contacts
            .get_mut(&(tenant.clone(), current.contact_id.clone()))
        else {
            return Ok(false);
        };
        // Written when something changed, as the table's update is.
        let mut changed = false;
        if let Some(name) = facts
            .profile_name
            .filter(|n| profile.profile_name.as_deref() != Some(*n))
        {
            profile.profile_name = Some(name.to_owned());
            changed = true;
        }
        if let Some(username) = facts
            .username
            .filter(|u| profile.username.as_deref() != Some(*u))
        {
            profile.username = Some(username.to_owned());
            changed = true;
        }
        if let Some(at) = facts.inbound_at {
            // Only ever forward, as the table's condition keeps it.
            if profile.last_inbound_at.is_none_or(|last| at > last) {
                profile.last_inbound_at = Some(at);
                changed = true;
            }
        }
        Ok(changed)
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

    async fn find_contact(
        &self,
        tenant: &TenantId,
        identity: &UserIdentity,
        _now: i64,
    ) -> Result<Option<ContactProfile>, StoreError> {
        self.check("find_contact")?;
        Ok(self.find(tenant, identity))
    }
}

impl ConsentRecords for FakeStore {
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

    async fn identifier_opt_outs(
        &self,
        tenant: &TenantId,
        identity: &UserIdentity,
        _now: i64,
    ) -> Result<crate::domain::consent::ConsentState, StoreError> {
        self.check("identifier_opt_outs")?;
        let t = self.lock();
        let mut state = crate::domain::consent::ConsentState::default();
        for key in identity.keys() {
            if let Some(found) = t.opt_outs.get(&(tenant.clone(), key.to_string())) {
                state.take_later(found);
            }
        }
        Ok(state)
    }
}

impl ContactActivity for FakeStore {
    async fn record_outbound_at(
        &self,
        tenant: &TenantId,
        contact: &ContactProfile,
        now: i64,
    ) -> Result<(), StoreError> {
        self.check("record_outbound_at")?;
        if !outbound_step_passed(contact, now) {
            return Ok(());
        }
        let mut t = self.lock();
        *t.outbound_activity
            .entry((tenant.clone(), contact.contact_id.clone()))
            .or_default() += 1;
        let key = (tenant.clone(), contact.contact_id.clone());
        if let Some(profile) = t.contacts.get_mut(&key) {
            profile.last_outbound_at = profile.last_outbound_at.max(Some(now));
        }
        Ok(())
    }
}

impl FakeStore {
    /// As the table does it: what the message does, written at once.
    pub fn conversation_message(
        &self,
        tenant: &TenantId,
        who: (&str, &str),
        wrote: Wrote,
    ) -> Option<Conversation> {
        let key = (tenant.clone(), who.0.to_owned(), who.1.to_owned());
        let mut t = self.lock();
        let current = t.conversations.get(&key).cloned();
        match ConversationState::after_message(current.as_ref(), who, wrote) {
            MessageEffect::Create(state) | MessageEffect::Move(state) => {
                t.conversations.insert(key, state.clone());
                Some(state.conversation)
            }
            MessageEffect::Touch(state, _, _) => {
                let opened = state.opened_by(wrote).then(|| state.conversation.clone());
                t.conversations.insert(key, state);
                opened
            }
            MessageEffect::Nothing => current
                .filter(|c| c.opened_by(wrote))
                .map(|c| c.conversation),
        }
    }
}

impl ConversationStates for FakeStore {
    async fn conversation(
        &self,
        tenant: &TenantId,
        contact_id: &str,
        number: &str,
    ) -> Result<Option<ConversationState>, StoreError> {
        self.check("conversation")?;
        let key = (tenant.clone(), contact_id.to_owned(), number.to_owned());
        Ok(self.lock().conversations.get(&key).cloned())
    }

    async fn wrote(
        &self,
        tenant: &TenantId,
        (contact, number): (&ContactProfile, &str),
        wrote: Wrote,
        _expires_at: i64,
    ) -> Result<Option<Conversation>, StoreError> {
        self.check(match wrote {
            Wrote::Person { .. } => "person_wrote",
            Wrote::Business { .. } => "business_wrote",
        })?;
        Ok(self.conversation_message(tenant, (&contact.contact_id, number), wrote))
    }

    async fn record_read(
        &self,
        tenant: &TenantId,
        contact_id: &str,
        number: &str,
        read_up_to: i64,
    ) -> Result<(), StoreError> {
        self.check("record_read")?;
        let key = (tenant.clone(), contact_id.to_owned(), number.to_owned());
        if let Some(state) = self.lock().conversations.get_mut(&key) {
            state.activity.last_read_at = state.activity.last_read_at.max(Some(read_up_to));
        }
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
        self.check("move_conversation")?;
        let key = (tenant.clone(), contact_id.to_owned(), number.to_owned());
        let mut t = self.lock();
        let Some(state) = t.conversations.get_mut(&key) else {
            return Ok(MoveOutcome::NotFound);
        };
        Ok(match state.conversation.apply(transition, at) {
            Ok(Moved::To(next)) => {
                state.conversation = next.clone();
                MoveOutcome::Moved(next)
            }
            Ok(Moved::Unchanged) => MoveOutcome::Unchanged(state.conversation.clone()),
            Err(refused) => MoveOutcome::Refused(refused),
        })
    }
}

impl InboundMessages for FakeStore {
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
}

impl DeliveryStates for FakeStore {
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

    async fn wamid_with_callback_data(
        &self,
        tenant: &TenantId,
        contact_id: &str,
        callback_data: &str,
    ) -> Result<Option<String>, StoreError> {
        self.check("wamid_with_callback_data")?;
        let slot = (
            tenant.clone(),
            contact_id.to_owned(),
            callback_data.to_owned(),
        );
        Ok(self.lock().accepted_tags.get(&slot).cloned())
    }
}

impl OutboundMessages for FakeStore {
    async fn outbound_record(
        &self,
        tenant: &TenantId,
        key: OutboundKey<'_>,
    ) -> Result<Option<OutboundRecord>, StoreError> {
        self.check("outbound_record")?;
        Ok(self
            .lock()
            .outbound
            .get(&outbound_slot(tenant, key))
            .cloned())
    }

    async fn newest_inbound_since(
        &self,
        tenant: &TenantId,
        contact_id: &str,
        since: i64,
    ) -> Result<Option<i64>, StoreError> {
        self.check("newest_inbound_since")?;
        Ok(self
            .lock()
            .newest_inbound
            .get(&(tenant.clone(), contact_id.to_owned()))
            .copied()
            .filter(|at| *at >= since))
    }

    async fn put_queued_outbound(
        &self,
        tenant: &TenantId,
        message: &QueuedOutbound<'_>,
    ) -> Result<PutOutcome, StoreError> {
        self.check("put_queued_outbound")?;
        let mut t = self.lock();
        let slot = outbound_slot(tenant, message.key);
        if t.outbound.contains_key(&slot) {
            return Ok(PutOutcome::Duplicate);
        }
        t.outbound.insert(
            slot,
            OutboundRecord {
                job_id: message.key.job_id.to_owned(),
                phone_number_id: message.phone_number_id.to_owned(),
                message_type: message.message_type.to_owned(),
                content: message.content.to_owned(),
                sent_at: message.key.enqueued_at,
                outcome: None,
                attempts: 0,
                decided_at: None,
                expires_at: Some(message.expires_at),
            },
        );
        Ok(PutOutcome::Stored)
    }

    async fn delete_queued_outbound(
        &self,
        tenant: &TenantId,
        key: OutboundKey<'_>,
    ) -> Result<(), StoreError> {
        self.check("delete_queued_outbound")?;
        let mut t = self.lock();
        let slot = outbound_slot(tenant, key);
        if t.outbound.get(&slot).is_some_and(|r| r.outcome.is_none()) {
            t.outbound.remove(&slot);
        }
        Ok(())
    }

    /// As the table: written once, over nothing or over the job's queued record; nothing
    /// about an erased contact.
    async fn put_outbound(
        &self,
        tenant: &TenantId,
        message: &NewOutbound<'_>,
    ) -> Result<PutOutcome, StoreError> {
        self.check("put_outbound")?;
        let mut t = self.lock();
        let contact = (tenant.clone(), message.key.contact_id.to_owned());
        if !t.contacts.contains_key(&contact) {
            return Err(StoreError::PersonErased);
        }
        let slot = outbound_slot(tenant, message.key);
        if t.outbound.get(&slot).is_some_and(|r| r.outcome.is_some()) {
            return Ok(PutOutcome::Duplicate);
        }
        t.outbound.insert(
            slot,
            OutboundRecord {
                job_id: message.key.job_id.to_owned(),
                phone_number_id: message.phone_number_id.to_owned(),
                message_type: message.message_type.to_owned(),
                content: message.content.to_owned(),
                sent_at: message.key.enqueued_at,
                outcome: Some(message.outcome.clone()),
                attempts: message.attempts,
                decided_at: Some(message.now),
                expires_at: Some(message.expires_at),
            },
        );
        Ok(PutOutcome::Stored)
    }
}

impl NumberRecords for FakeStore {
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

    async fn pause_number(
        &self,
        tenant: &TenantId,
        phone_number_id: &str,
        until: i64,
        reason: &str,
    ) -> Result<(), StoreError> {
        self.check("pause_number")?;
        let mut t = self.lock();
        for number in t.numbers.iter_mut() {
            if &number.tenant_id == tenant && number.phone_number_id == phone_number_id {
                number.paused_until = Some(until);
                number.pause_reason = Some(reason.to_owned());
            }
        }
        Ok(())
    }
}

impl TemplateStates for FakeStore {
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
}

impl TenantEventLog for FakeStore {
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
}

impl IdempotencyClaims for FakeStore {
    async fn body_digest(&self, tenant: &TenantId, body: &[u8]) -> Result<String, StoreError> {
        // Keyed by the tenant, as the store's is by its index key.
        use sha2::{Digest, Sha256};
        let mut keyed = tenant.as_str().as_bytes().to_vec();
        keyed.push(0);
        keyed.extend_from_slice(body);
        Ok(hex::encode(Sha256::digest(keyed)))
    }

    async fn idempotency_key_digest(
        &self,
        tenant: &TenantId,
        key: &str,
    ) -> Result<String, StoreError> {
        self.body_digest(tenant, key.as_bytes()).await
    }

    async fn idempotency_record(
        &self,
        tenant: &TenantId,
        key: &str,
        now: i64,
    ) -> Result<Option<IdempotencyRecord>, StoreError> {
        self.check("idempotency_record")?;
        Ok(self
            .lock()
            .idempotency
            .get(&(tenant.clone(), key.to_owned()))
            .filter(|r| live_claim(r, now))
            .cloned())
    }

    async fn claim_idempotency_key(
        &self,
        tenant: &TenantId,
        key: &str,
        record: &IdempotencyRecord,
    ) -> Result<Claim, StoreError> {
        self.check("claim_idempotency_key")?;
        let mut t = self.lock();
        let slot = (tenant.clone(), key.to_owned());
        if let Some(held) = t.idempotency.get(&slot)
            && live_claim(held, record.created_at)
        {
            return Ok(Claim::Taken(held.clone()));
        }
        t.idempotency.insert(slot, record.clone());
        Ok(Claim::Claimed)
    }
}

impl AuditTrail for FakeStore {
    type Error = StoreError;

    async fn record_fact(
        &self,
        tenant: &TenantId,
        fact: crate::domain::audit::AuditFact,
        _expires_at: i64,
    ) -> Result<(), StoreError> {
        self.check("audit")?;
        self.lock().audit.push((tenant.clone(), fact));
        Ok(())
    }
}

impl SendingStop for FakeStore {
    async fn stop_sending(&self, tenant: &TenantId, reason: &str) -> Result<(), StoreError> {
        self.check("stop_sending")?;
        if let Some(t) = self.lock().tenants.get_mut(tenant) {
            t.sending_stopped = Some(reason.to_owned());
        }
        Ok(())
    }
}

impl SendStore for FakeStore {
    fn tenants(&self) -> &(impl Tenants + TemplateCategories) {
        self
    }

    fn contacts(&self) -> &(impl ContactResolution + ContactActivity) {
        self
    }

    fn messages(&self) -> &(impl OutboundMessages + DeliveryStates) {
        self
    }

    fn numbers(&self) -> &impl NumberRecords {
        self
    }

    fn sending(&self) -> &impl SendingStop {
        self
    }

    fn conversations(&self) -> &impl ConversationStates {
        self
    }
}
