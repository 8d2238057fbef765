use crate::domain::conversation::activity::Wrote;
use crate::domain::conversation::cycle::Conversation;
use crate::inbound::port::AuditTrail;
use crate::inbound::port::InboundTables;
use crate::store::contact::consent::ConsentRecords;
use crate::store::contact::resolve::ContactResolution;
use crate::store::contact::{ContactRecords, ResolvedContact};
use crate::store::conversation::ConversationStates;
use crate::store::event::TenantEventLog;
use crate::store::message::delivery::DeliveryStates;
use crate::store::message::inbound::InboundMessages;
use crate::store::number::NumberRecords;
use crate::store::template::TemplateStates;
use crate::tenants::Tenants;
use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::port::InboundStore;
use crate::clock::now_seconds;
use crate::domain::audit::AuditFact;
use crate::domain::coexistence::{piece_time, pieces_per_person};
use crate::domain::consent::{Action, ConsentEntry, ConsentSettings, Scope, Source};
use crate::domain::contact::ContactProfile;
use crate::domain::erasure::identifiers_in_value;
use crate::domain::event::{
    AccountChange, ConsentChanged, ConversationOpened, DomainEvent, MessageReceived, Published,
    StatusChanged,
};
use crate::domain::identity::{Phone, UserIdentity};
use crate::domain::management::{
    ManagementEvent, MarketingChoice, THROUGHPUT_UPGRADE_EVENT, parse_management,
    parse_marketing_preference,
};
use crate::domain::message::{
    InboundMessage, InteractiveReply, MessageContent, SystemEvent, parse_message,
};
use crate::domain::message_id::MessageId;
use crate::domain::outbound::{OutboundMessage, Recipient};
use crate::domain::retention::{ContentLife, DataClass};
use crate::domain::status::parse_status;
use crate::domain::tenant::{NumberQuality, Tenant, TenantId, UPGRADED_THROUGHPUT};
use crate::domain::timestamp::parse_seconds;
use crate::events::{PublishError, Subscribers};
use crate::outbound::{JobSink, OutboundJob, OutboundQueue};
use crate::queue::QueueError;
use crate::queue::event::{Door, EventKind, QUEUED_EVENT_VERSION, QueuedEvent};
use crate::store::StoreError;
use crate::store::contact::consent::Recorded;
use crate::store::contact::{ContactFacts, NumberChange};
use crate::store::event::TenantEvent;
use crate::store::message::delivery::StatusOutcome;
use crate::store::message::inbound::NewInbound;
use crate::store::template::TemplateAttribute;
use crate::store::{Expiry, PutOutcome};
use crate::telemetry::error_chain;

#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    #[error("the queued event is not readable")]
    Unreadable(#[source] serde_json::Error),
    #[error("the queued event has version {0}, this worker reads {QUEUED_EVENT_VERSION}")]
    UnknownVersion(u8),
    #[error("the queued event names an invalid tenant id")]
    BadTenant,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("a subscriber failed on the applied event")]
    Subscriber(#[from] PublishError),
    #[error("the confirmation of an opt-out could not be queued")]
    Reply(#[from] QueueError),
}

/// What became of an event; for logs and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Stored,
    Applied,
    /// A redelivery or a Meta duplicate: nothing changed.
    Duplicate,
    /// A status older than what the message already reached; kept in its history.
    LateStatus,
    /// Kept as a tenant event without being acted on (unknown field or type, calls, echoes).
    KeptUnknown,
    /// The tenant no longer exists; the event was dropped.
    TenantGone,
    /// The event is about a person erased after it was sent; it was dropped.
    PersonErased,
    /// The person restricted processing and the tenant drops what they write meanwhile.
    Restricted,
    /// A delivery status of a message to no contact the gateway holds (its person was
    /// erased, or their contact aged out): there is nothing to attach it to.
    NoContact,
}

/// Applies queued events through its ports: `S` stores, `R` takes the gateway's own
/// replies (the confirmation of an opt-out). What it applied it publishes as domain events
/// to its subscribers, in order.
pub struct InboundProcessor<S, R = OutboundQueue> {
    pub(super) store: S,
    pub(super) subscribers: Subscribers,
    pub(super) replies: Option<R>,
}

/// A `contacts[]` entry of a webhook: the user's profile as Meta knows it.
#[derive(Debug, Default, Deserialize)]
struct ContactEntry {
    #[serde(default)]
    wa_id: Option<String>,
    #[serde(default)]
    user_id: Option<String>,
    #[serde(default)]
    profile: Option<ProfileEntry>,
}

#[derive(Debug, Default, Deserialize)]
struct ProfileEntry {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    username: Option<String>,
}

impl<A: AuditTrail> InboundProcessor<InboundTables<A>> {
    /// The worker's processor, over the table; subscribers are added with
    /// `with_subscribers`.
    pub fn new(tables: InboundTables<A>) -> Self {
        Self::with_ports(tables)
    }
}

impl<S: InboundStore, R: JobSink> InboundProcessor<S, R> {
    pub fn with_ports(store: S) -> Self {
        Self {
            store,
            subscribers: Subscribers::new(),
            replies: None,
        }
    }

    /// Publishes what it applies to `subscribers`, in their order.
    pub fn with_subscribers(mut self, subscribers: Subscribers) -> Self {
        self.subscribers = subscribers;
        self
    }

    /// Also confirms opt-outs to the people who sent them, through `sink`.
    pub fn with_replies(mut self, sink: R) -> Self {
        self.replies = Some(sink);
        self
    }

    /// Processes one queue message body.
    pub async fn process(&self, body: &str) -> Result<Outcome, ProcessError> {
        let event: QueuedEvent = serde_json::from_str(body).map_err(ProcessError::Unreadable)?;
        if event.v != QUEUED_EVENT_VERSION {
            return Err(ProcessError::UnknownVersion(event.v));
        }
        let tenant_id = TenantId::parse(&event.tenant_id).map_err(|_| ProcessError::BadTenant)?;
        let Some(tenant) = self.store.tenants().tenant(&tenant_id).await? else {
            tracing::warn!(tenant = %tenant_id, "event for a tenant that no longer exists dropped");
            return Ok(Outcome::TenantGone);
        };
        let item: Value =
            serde_json::from_str(event.item.get()).map_err(ProcessError::Unreadable)?;
        let contact: ContactEntry = event
            .contact
            .as_ref()
            .and_then(|c| serde_json::from_str(c.get()).ok())
            .unwrap_or_default();
        let job = Job {
            tenant: &tenant,
            event: &event,
            item: &item,
            contact: &contact,
            now: now_seconds(),
        };
        let outcome = match event.kind {
            EventKind::Message => self.message(&job).await,
            EventKind::Status => self.status(&job).await,
            EventKind::UserPreference => self.user_preference(&job).await,
            EventKind::Change => self.change(&job).await,
            EventKind::Echo | EventKind::Call => {
                self.keep(
                    &job,
                    DataClass::Content,
                    Some("not acted on by this gateway"),
                )
                .await
            }
            EventKind::Error => {
                self.keep(&job, DataClass::Metadata, Some("error reported by Meta"))
                    .await
            }
        };
        match outcome {
            // About a person erased after the event was sent: nothing of it is kept.
            Err(ProcessError::Store(StoreError::PersonErased)) => {
                tracing::info!(tenant = %tenant_id, kind = event.kind.as_str(), "event about an erased person dropped");
                Ok(Outcome::PersonErased)
            }
            other => other,
        }
    }

    async fn message(&self, job: &Job<'_>) -> Result<Outcome, ProcessError> {
        let message = match parse_message(job.item) {
            Ok(m) => m,
            Err(e) => {
                return self
                    .keep(job, DataClass::Content, Some(&e.to_string()))
                    .await;
            }
        };
        let identity = identity_of(
            [message.from.as_deref(), job.contact.wa_id.as_deref()],
            [
                message.from_user_id.as_deref(),
                job.contact.user_id.as_deref(),
            ],
        );
        let Some(identity) = identity else {
            return self
                .keep(
                    job,
                    DataClass::Content,
                    Some("the sender has no valid phone number or BSUID"),
                )
                .await;
        };
        let store = &self.store;
        let retention = &job.tenant.retention;
        let profile = job.contact.profile.as_ref();
        let facts = ContactFacts {
            profile_name: profile.and_then(|p| p.name.as_deref()),
            username: profile.and_then(|p| p.username.as_deref()),
            inbound_at: Some(message.sent_at),
            event_at: Some(message.sent_at),
            made_by: Some(job.event.item.get()),
        };
        let contact = store
            .contacts()
            .resolve_contact(&job.tenant.id, &identity, &facts, retention, job.now)
            .await?;
        let restricted = contact.profile.restriction.is_some();
        if contact.profile.restriction.is_some_and(|r| !r.keep_inbound) {
            // Not stored, not handed on; their consent choice still counts.
            if let Some(choice) = consent_choice(&job.tenant.consent, &message.content) {
                let said = Said {
                    message: &message,
                    id: None,
                };
                self.record_choice(job, &contact.profile, &identity, said, choice)
                    .await?;
            }
            tracing::info!(tenant = %job.tenant.id, "a message from a person whose processing is restricted dropped");
            return Ok(Outcome::Restricted);
        }
        // The contact first, before anything about it: on redeliveries too, so that a
        // subscriber that failed on it sees it again.
        if contact.made_by_this_event {
            let created = DomainEvent::ContactCreated {
                contact_id: contact.profile.contact_id.clone(),
            };
            self.publish(job, &created, restricted).await?;
        }
        let stored = store
            .messages()
            .put_inbound_message(
                &job.tenant.id,
                &NewInbound {
                    contact_id: &contact.profile.contact_id,
                    phone_number_id: job.event.phone_number_id.as_deref(),
                    message: &message,
                    received_at_ms: job.event.received_at_ms,
                    content: job.content_life(),
                },
                job.message_expiry(),
                job.now,
            )
            .await?;
        // Runs on duplicates too: a worker stopped between the two writes left it undone.
        let profile_written = contact.created
            || store
                .contacts()
                .update_contact(&job.tenant.id, &contact.profile, &facts, retention, job.now)
                .await?;
        // On duplicates too: a redelivery of the message that opened the cycle publishes
        // its opening again (below, once every write is done).
        // The conversation shows the contact as this event left it (resolving it returned
        // the identifiers it linked), with the name the message came with.
        let mut shown = contact.profile.clone();
        if let Some(name) = facts.profile_name {
            shown.profile_name = Some(name.to_owned());
        }
        // Its end: from now when this event wrote the profile, else as read.
        if profile_written {
            shown.expires_at = None;
        }
        let opened = self
            .person_wrote(job, &contact, &shown, message.sent_at)
            .await?;
        // The user changed numbers: the contact, with its history, moves to the new one.
        // On duplicates too, for the same reason; the move is safe to repeat.
        if let MessageContent::System {
            kind: SystemEvent::UserChangedNumber,
            new_wa_id: Some(new),
            ..
        } = &message.content
            && let (Some(old), Ok(new)) = (&identity.phone, Phone::parse(new))
            && *old != new
        {
            let change = NumberChange {
                contact_id: &contact.profile.contact_id,
                old,
                new: &new,
                at: message.sent_at,
            };
            store
                .contacts()
                .move_contact_number(&job.tenant.id, &change, retention, job.now)
                .await?;
        }
        // On duplicates too: the choice is recorded once, and its confirmation is the
        // same job, sent once.
        if let Some(choice) = consent_choice(&job.tenant.consent, &message.content) {
            let said = Said {
                message: &message,
                id: Some(&stored.id),
            };
            self.record_choice(job, &contact.profile, &identity, said, choice)
                .await?;
        }
        if let Some(opened) = opened {
            let event = DomainEvent::ConversationOpened(ConversationOpened::of(&opened, true));
            self.publish(job, &event, restricted).await?;
        }
        let received = DomainEvent::MessageReceived(MessageReceived {
            contact_id: contact.profile.contact_id.clone(),
            message_id: stored.id.encode(),
            phone_number_id: job.event.phone_number_id.clone(),
            from: identity.phone.as_ref().map(|p| p.as_str().to_owned()),
            from_user_id: identity.bsuid.as_ref().map(|b| b.as_str().to_owned()),
            profile_name: facts.profile_name.map(str::to_owned),
            message: job.item.clone(),
            first_delivery: stored.outcome == PutOutcome::Stored,
        });
        // On duplicates too: a worker stopped after the write but before this left it
        // undone, and subscribers drop repeats by the event's source.
        self.publish(job, &received, restricted).await?;
        Ok(match stored.outcome {
            PutOutcome::Stored => Outcome::Stored,
            PutOutcome::Duplicate => Outcome::Duplicate,
        })
    }

    /// Moves the conversation on the number written to; the conversation when this
    /// message opened its cycle.
    async fn person_wrote(
        &self,
        job: &Job<'_>,
        contact: &ResolvedContact,
        shown: &ContactProfile,
        sent_at: i64,
    ) -> Result<Option<Conversation>, ProcessError> {
        let Some(number) = job.event.phone_number_id.as_deref() else {
            return Ok(None);
        };
        // No longer than the profile: its end moves in steps, and the conversation's with
        // the next message that writes it.
        let expires_at = shown.life_within(
            job.tenant
                .retention
                .expires_at(DataClass::ContactProfile, job.now),
        );
        let (conversations, who) = (self.store.conversations(), (shown, number));
        let (tenant, wrote) = (&job.tenant.id, Wrote::Person { sent_at });
        Ok(match contact.new_id {
            true => {
                conversations
                    .first_message(tenant, who, wrote, expires_at)
                    .await?
            }
            false => conversations.wrote(tenant, who, wrote, expires_at).await?,
        })
    }

    async fn status(&self, job: &Job<'_>) -> Result<Outcome, ProcessError> {
        let update = match parse_status(job.item) {
            Ok(u) => u,
            Err(e) => {
                return self
                    .keep(job, DataClass::Metadata, Some(&e.to_string()))
                    .await;
            }
        };
        let identity = identity_of(
            [update.recipient_id.as_deref(), job.contact.wa_id.as_deref()],
            [
                update.recipient_user_id.as_deref(),
                job.contact.user_id.as_deref(),
            ],
        );
        let is_group = job.item.get("recipient_type").and_then(Value::as_str) == Some("group");
        let (Some(identity), false) = (identity, is_group) else {
            return self
                .keep(
                    job,
                    DataClass::Metadata,
                    Some("the status has no single recipient"),
                )
                .await;
        };
        let store = &self.store;
        let retention = &job.tenant.retention;
        // A status is about a message sent to a contact that existed then: it never makes
        // one (an erased person's late statuses would bring them back).
        let Some(contact) = store
            .contacts()
            .contact_for_event(&job.tenant.id, &identity, update.at, job.now)
            .await?
        else {
            tracing::info!(tenant = %job.tenant.id, "a status of a message to no contact dropped");
            return Ok(Outcome::NoContact);
        };
        let outcome = store
            .messages()
            .apply_status(
                &job.tenant.id,
                &contact.contact_id,
                &update,
                retention.expires_at(DataClass::Metadata, job.now),
            )
            .await?;
        let changed = DomainEvent::StatusChanged(StatusChanged {
            contact_id: contact.contact_id.clone(),
            phone_number_id: job.event.phone_number_id.clone(),
            // Older than what the message already reached: kept in its history only.
            late: outcome == StatusOutcome::Late,
            status: job.item.clone(),
        });
        self.publish(job, &changed, contact.restriction.is_some())
            .await?;
        Ok(match outcome {
            StatusOutcome::Advanced => Outcome::Applied,
            StatusOutcome::Late => Outcome::LateStatus,
            StatusOutcome::Duplicate => Outcome::Duplicate,
        })
    }

    async fn user_preference(&self, job: &Job<'_>) -> Result<Outcome, ProcessError> {
        let Some(preference) = parse_marketing_preference(job.item) else {
            return self
                .keep(job, DataClass::Metadata, Some("not a marketing preference"))
                .await;
        };
        let identity = identity_of(
            [preference.wa_id.as_deref(), job.contact.wa_id.as_deref()],
            [
                preference.user_id.as_deref(),
                job.contact.user_id.as_deref(),
            ],
        );
        let (Some(identity), Some(opted_out)) = (identity, opt_out_of(preference.choice)) else {
            return self
                .keep(
                    job,
                    DataClass::Metadata,
                    Some("no user or no stop/resume choice"),
                )
                .await;
        };
        let store = &self.store;
        // A choice is never dated after it reached us: one dated ahead would outrank every
        // later choice.
        let at = preference.at.unwrap_or(job.now).min(job.now);
        let facts = ContactFacts {
            event_at: Some(at),
            made_by: Some(job.event.item.get()),
            ..ContactFacts::default()
        };
        let contact = store
            .contacts()
            .resolve_contact(
                &job.tenant.id,
                &identity,
                &facts,
                &job.tenant.retention,
                job.now,
            )
            .await?;
        let restricted = contact.profile.restriction.is_some();
        if contact.made_by_this_event {
            let created = DomainEvent::ContactCreated {
                contact_id: contact.profile.contact_id.clone(),
            };
            self.publish(job, &created, restricted).await?;
        }
        let entry = ConsentEntry {
            scope: Scope::Marketing,
            action: if opted_out {
                Action::OptOut
            } else {
                Action::OptIn
            },
            source: Source::Meta,
            evidence: None,
            at,
            via_tenant_app: job.event.door == Door::TenantApp,
        };
        self.record_entry(
            job,
            &contact.profile.contact_id,
            &identity,
            &entry,
            restricted,
        )
        .await?;
        self.record(job, DataClass::Metadata, None)
            .await
            .map(|_| Outcome::Applied)
    }

    async fn change(&self, job: &Job<'_>) -> Result<Outcome, ProcessError> {
        let store = &self.store;
        let tenant = &job.tenant.id;
        let time = job.event_time();
        let management = parse_management(&job.event.field, job.item);
        let event_kind = match &management {
            ManagementEvent::TemplateStatus { .. }
            | ManagementEvent::TemplateQuality { .. }
            | ManagementEvent::TemplateCategory { .. }
            | ManagementEvent::TemplateComponents { .. } => {
                Some(DomainEvent::TemplateChanged as fn(AccountChange) -> DomainEvent)
            }
            ManagementEvent::AccountUpdate { .. }
            | ManagementEvent::PhoneNumberQuality { .. }
            | ManagementEvent::PhoneNumberName { .. } => Some(DomainEvent::AccountChanged as _),
            ManagementEvent::Other => None,
        };
        match management {
            ManagementEvent::TemplateStatus {
                template, status, ..
            } => {
                store
                    .templates()
                    .update_template(tenant, &template, TemplateAttribute::Status, &status, time)
                    .await?
            }
            ManagementEvent::TemplateQuality { template, quality } => {
                store
                    .templates()
                    .update_template(
                        tenant,
                        &template,
                        TemplateAttribute::Quality,
                        &quality,
                        time,
                    )
                    .await?
            }
            ManagementEvent::TemplateCategory { template, category } => {
                store
                    .templates()
                    .update_template(
                        tenant,
                        &template,
                        TemplateAttribute::Category,
                        &category,
                        time,
                    )
                    .await?
            }
            ManagementEvent::PhoneNumberQuality {
                display_phone_number,
                event,
                current_limit,
            } => {
                let quality = NumberQuality {
                    event,
                    messaging_limit: current_limit,
                    at: time,
                };
                self.number_quality(job, &display_phone_number, &quality)
                    .await?
            }
            // A change the gateway does not act on may hold what people wrote (a
            // coexistence history, an address book): kept as content, one person at a time
            // where it names several.
            ManagementEvent::Other => {
                return self.keep_unknown_change(job).await;
            }
            ManagementEvent::TemplateComponents { .. }
            | ManagementEvent::AccountUpdate { .. }
            | ManagementEvent::PhoneNumberName { .. } => {}
        }
        self.record(job, DataClass::Metadata, None).await?;
        if let Some(changed) = event_kind.map(|wrap| {
            wrap(AccountChange {
                field: job.event.field.clone(),
                waba_id: job.event.waba_id.clone(),
                value: job.item.clone(),
            })
        }) {
            self.publish(job, &changed, false).await?;
        }
        Ok(Outcome::Applied)
    }

    /// Records a person's keyword or button choice in their ledger; an opt-out that
    /// changed their state is confirmed to them, once.
    async fn record_choice(
        &self,
        job: &Job<'_>,
        contact: &ContactProfile,
        identity: &UserIdentity,
        said: Said<'_>,
        choice: Choice,
    ) -> Result<(), ProcessError> {
        let settings = &job.tenant.consent;
        let message = said.message;
        let evidence = said.evidence();
        let entry = ConsentEntry {
            scope: settings.keyword_scope,
            action: choice.action,
            source: choice.source,
            evidence: Some(evidence.clone()),
            // Never dated after it reached us (see the preference's time above).
            at: message.sent_at.min(job.now),
            via_tenant_app: job.event.door == Door::TenantApp,
        };
        let recorded = self
            .record_entry(
                job,
                &contact.contact_id,
                identity,
                &entry,
                contact.restriction.is_some(),
            )
            .await?;
        tracing::info!(tenant = %job.tenant.id, action = entry.action.as_str(), scope = entry.scope.as_str(), source = entry.source.as_str(), duplicate = recorded.duplicate, "consent recorded");
        // This message is what opted them out (not a second STOP, not an older one).
        let opted_out_by_this = recorded
            .state
            .mark(entry.scope)
            .is_some_and(|m| m.opted_out && m.evidence.as_deref() == Some(evidence.as_str()));
        // A person whose processing is restricted gets nothing, a confirmation neither.
        let restricted = contact.restriction.is_some();
        if entry.action == Action::OptOut
            && settings.acknowledge
            && opted_out_by_this
            && !restricted
        {
            self.acknowledge(
                job,
                identity,
                (message, &evidence),
                choice.language.as_deref(),
            )
            .await?;
        }
        Ok(())
    }

    /// Records `entry` in the contact's ledger and the state of the contact and its
    /// identifiers; the ledger line lives as long as a contact does.
    async fn record_entry(
        &self,
        job: &Job<'_>,
        contact_id: &str,
        identity: &UserIdentity,
        entry: &ConsentEntry,
        person_restricted: bool,
    ) -> Result<Recorded, ProcessError> {
        let expires_at = job
            .tenant
            .retention
            .expires_at(DataClass::ContactProfile, job.now);
        let recorded = self
            .store
            .contacts()
            .record_consent(
                &job.tenant.id,
                contact_id,
                &identity.keys(),
                entry,
                expires_at,
            )
            .await?;
        if !recorded.duplicate {
            self.audit_choice(job, contact_id, entry).await;
        }
        let changed = DomainEvent::ConsentChanged(ConsentChanged {
            contact_id: contact_id.to_owned(),
            scope: entry.scope,
            action: entry.action,
            source: entry.source,
            at: entry.at,
            duplicate: recorded.duplicate,
        });
        self.publish(job, &changed, person_restricted).await?;
        Ok(recorded)
    }

    /// Appends a consent change no API call made (the person's keyword or button, Meta's
    /// preference) to the tenant's audit log: who (`person` or `meta`), what, the ledger
    /// line's id; never the words. An append that fails is queued and retried by the
    /// erasure worker; one that can be neither appended nor queued is an alert, not a
    /// failed event: the ledger holds the change, and a retry would find it a duplicate.
    async fn audit_choice(&self, job: &Job<'_>, contact_id: &str, entry: &ConsentEntry) {
        let fact = AuditFact {
            actor: match entry.source {
                Source::Meta => "meta",
                _ => "person",
            }
            .to_owned(),
            action: format!(
                "consent {} {} by {}",
                entry.action.as_str(),
                entry.scope.as_str(),
                entry.source.as_str()
            ),
            target: format!("/v1/contacts/{contact_id}/consent"),
            status: 0,
            request_id: entry.id(),
            at: job.now,
        };
        // The tenant, read for this event, holds the log's retention.
        let expires_at = job.tenant.retention.expires_at(DataClass::Audit, job.now);
        if let Err(e) = self
            .store
            .audit_trail()
            .record_fact(&job.tenant.id, fact, expires_at)
            .await
        {
            tracing::error!(alert = "audit_append_failed", tenant = %job.tenant.id, error = %error_chain(&e), "a consent change could be neither appended to the audit log nor queued");
        }
    }

    /// Queues the confirmation of an opt-out (`message`, whose evidence is `evidence`): a
    /// reply from the number they wrote to.
    async fn acknowledge(
        &self,
        job: &Job<'_>,
        identity: &UserIdentity,
        (message, evidence): (&InboundMessage, &str),
        language: Option<&str>,
    ) -> Result<(), ProcessError> {
        let (Some(replies), Some(number)) = (&self.replies, job.event.phone_number_id.as_deref())
        else {
            return Ok(());
        };
        let to = match (&identity.phone, &identity.bsuid) {
            (Some(phone), _) => Recipient::Phone(phone.clone()),
            (None, Some(bsuid)) => Recipient::Bsuid(bsuid.clone()),
            (None, None) => return Ok(()),
        };
        let text = job.tenant.consent.acknowledgement(language.unwrap_or("en"));
        let reply = OutboundMessage::text(number, to, text);
        match OutboundJob::consent_ack(&job.tenant.id, &reply, evidence, message.sent_at) {
            Ok(ack) => replies.enqueue(&ack).await?,
            // A tenant's confirmation text Meta would refuse: the opt-out stands unconfirmed.
            Err(e) => {
                tracing::warn!(tenant = %job.tenant.id, error = %e, "the opt-out's confirmation is not a valid message; not sent");
            }
        }
        Ok(())
    }

    /// Hands what was applied to the worker's subscribers, in order.
    async fn publish(
        &self,
        job: &Job<'_>,
        event: &DomainEvent,
        person_restricted: bool,
    ) -> Result<(), ProcessError> {
        let published = Published {
            tenant: &job.tenant.id,
            source: job.event.item.get(),
            received_at: job.event.received_at_ms / 1000,
            person_restricted,
            event,
        };
        Ok(self.subscribers.publish(published).await?)
    }

    /// Records the number's quality event; a throughput upgrade also raises the rate the
    /// sender paces it at.
    async fn number_quality(
        &self,
        job: &Job<'_>,
        display_phone_number: &str,
        quality: &NumberQuality,
    ) -> Result<(), StoreError> {
        let store = &self.store;
        let wanted = digits(display_phone_number);
        let numbers = store.numbers().phone_numbers_of(&job.tenant.id).await?;
        let Some(number) = numbers
            .iter()
            .find(|n| digits(&n.display_phone_number) == wanted && n.waba_id == job.event.waba_id)
        else {
            tracing::warn!(tenant = %job.tenant.id, event = %quality.event, "a quality update for a number the tenant has not registered");
            return Ok(());
        };
        store
            .numbers()
            .record_number_quality(&job.tenant.id, &number.phone_number_id, quality)
            .await?;
        if quality.event == THROUGHPUT_UPGRADE_EVENT {
            store
                .numbers()
                .set_throughput(&job.tenant.id, &number.phone_number_id, UPGRADED_THROUGHPUT)
                .await?;
        }
        Ok(())
    }

    /// Stores the event as a tenant event that was not acted on.
    async fn keep(
        &self,
        job: &Job<'_>,
        class: DataClass,
        reason: Option<&str>,
    ) -> Result<Outcome, ProcessError> {
        tracing::info!(
            tenant = %job.tenant.id,
            field = %job.event.field,
            kind = job.event.kind.as_str(),
            reason = reason.unwrap_or(""),
            "event kept without action"
        );
        match self.record(job, class, reason).await? {
            PutOutcome::Stored => Ok(Outcome::KeptUnknown),
            PutOutcome::Duplicate => Ok(Outcome::Duplicate),
        }
    }

    /// Keeps a change the gateway does not act on, as content: whole, or a piece per
    /// person for coexistence's `history` and `smb_app_state_sync`.
    async fn keep_unknown_change(&self, job: &Job<'_>) -> Result<Outcome, ProcessError> {
        let reason = Some("field not acted on");
        let Some(pieces) = pieces_per_person(&job.event.field, job.item) else {
            return self.keep(job, DataClass::Content, reason).await;
        };
        tracing::info!(tenant = %job.tenant.id, field = %job.event.field, pieces = pieces.len(), "coexistence change kept a person at a time");
        let mut outcome = Outcome::Duplicate;
        for piece in &pieces {
            let raw = piece.to_string();
            let piece = Piece {
                raw: &raw,
                value: piece,
                at: piece_time(piece),
            };
            if self
                .record_piece(job, piece, DataClass::Content, reason)
                .await?
                == PutOutcome::Stored
            {
                outcome = Outcome::KeptUnknown;
            }
        }
        Ok(outcome)
    }

    async fn record(
        &self,
        job: &Job<'_>,
        class: DataClass,
        reason: Option<&str>,
    ) -> Result<PutOutcome, ProcessError> {
        let whole = Piece {
            raw: job.event.item.get(),
            value: job.item,
            at: None,
        };
        self.record_piece(job, whole, class, reason).await
    }

    /// Stores `piece` of the event as a tenant event, with the people it names.
    async fn record_piece(
        &self,
        job: &Job<'_>,
        piece: Piece<'_>,
        class: DataClass,
        reason: Option<&str>,
    ) -> Result<PutOutcome, ProcessError> {
        let raw = piece.raw;
        let identity = format!("{}\n{}\n{}", job.event.field, job.event.kind.as_str(), raw);
        let mut named = Vec::new();
        identifiers_in_value(piece.value, &mut named);
        // What may hold what a person wrote is not kept by a tenant that stores no
        // content: the event's field, kind and time are.
        let raw = if class == DataClass::Content && job.content_life() == ContentLife::NotStored {
            CONTENT_NOT_STORED
        } else {
            raw
        };
        // A piece's own time when Meta gave the change none (coexistence pieces carry
        // their messages' and entries' times): the same on every retry.
        let event_time = match (job.event.entry_time, piece.at) {
            (None, Some(at)) => at.min(job.event.received_at_ms / 1000),
            _ => job.event_time(),
        };
        let event = TenantEvent {
            event_time,
            identity: &identity,
            field: &job.event.field,
            kind: job.event.kind.as_str(),
            unhandled_reason: reason,
            raw,
            named: &named,
            class,
            expiry: job.expiry(class),
        };
        Ok(self
            .store
            .tenant_events()
            .put_tenant_event(&job.tenant.id, &event, job.now)
            .await?)
    }
}

/// An event, or a piece of one: its JSON as it is kept, and parsed.
#[derive(Clone, Copy)]
struct Piece<'a> {
    raw: &'a str,
    value: &'a Value,
    /// Its own time, for a piece of a coexistence change.
    at: Option<i64>,
}

/// A kept event's body when its content is not stored.
const CONTENT_NOT_STORED: &str = r#"{"content_not_stored":true}"#;

struct Job<'a> {
    tenant: &'a Tenant,
    event: &'a QueuedEvent,
    item: &'a Value,
    contact: &'a ContactEntry,
    now: i64,
}

impl Job<'_> {
    /// The expiry of an item of `class` written now, and how long its key deduplicates.
    fn expiry(&self, class: DataClass) -> Expiry {
        let retention = &self.tenant.retention;
        Expiry {
            at: retention.expires_at(class, self.now),
            dedup_until: retention.expires_at(DataClass::Dedup, self.now),
        }
    }

    /// A message item's expiry: its metadata's (the longer class); its content may go
    /// sooner, see [`Job::content_life`].
    fn message_expiry(&self) -> Expiry {
        let retention = &self.tenant.retention;
        Expiry {
            at: retention.message_expires_at(self.now),
            dedup_until: retention.expires_at(DataClass::Dedup, self.now),
        }
    }

    /// Whether the content of the event's number is stored, and until when.
    fn content_life(&self) -> ContentLife {
        let stored = self
            .tenant
            .content
            .stores(self.event.phone_number_id.as_deref());
        self.tenant.retention.content_life(stored, self.now)
    }

    /// When the event happened by Meta's clock; stable across retries, unlike ours.
    fn event_time(&self) -> i64 {
        self.event
            .entry_time
            .or_else(|| self.item.get("timestamp").and_then(parse_seconds))
            .unwrap_or(self.event.received_at_ms / 1000)
    }
}

/// The first valid phone and the first valid BSUID among the candidates.
fn identity_of<const N: usize>(
    phones: [Option<&str>; N],
    bsuids: [Option<&str>; N],
) -> Option<UserIdentity> {
    let phone = phones
        .into_iter()
        .flatten()
        .find(|p| crate::domain::identity::Phone::parse(p).is_ok());
    let bsuid = bsuids
        .into_iter()
        .flatten()
        .find(|b| crate::domain::identity::Bsuid::parse(b).is_ok());
    UserIdentity::from_parts(phone, bsuid).ok()
}

/// A message that holds a consent choice, and its public id once stored.
#[derive(Clone, Copy)]
struct Said<'a> {
    message: &'a InboundMessage,
    id: Option<&'a MessageId>,
}

impl Said<'_> {
    /// What the ledger keeps as the choice's evidence: the message's id (which names no
    /// one), or, for a message not stored, a digest of it that names no one either.
    fn evidence(&self) -> String {
        match self.id {
            Some(id) => id.encode(),
            None => format!("unstored:{}", unstored_mark(self.message)),
        }
    }
}

/// What stands for a message that was not stored (its person restricted processing): the
/// same for a redelivery, and not the wamid, whose base64 holds the number. An unkeyed
/// digest is enough here: a wamid's random 88-bit id makes it unguessable, unlike a number.
fn unstored_mark(message: &InboundMessage) -> String {
    let digest = Sha256::digest(format!("{}\n{}", message.sent_at, message.wamid).as_bytes());
    hex::encode(&digest[..16])
}

/// A person's consent choice found in a message they sent.
struct Choice {
    action: Action,
    source: Source,
    /// The keyword's language, for the confirmation.
    language: Option<String>,
}

fn consent_choice(settings: &ConsentSettings, content: &MessageContent) -> Option<Choice> {
    let button = |payload: &str| {
        settings.is_opt_out_button(payload).then_some(Choice {
            action: Action::OptOut,
            source: Source::Button,
            language: None,
        })
    };
    match content {
        MessageContent::Text { body } => settings.find_keyword(body).map(|found| Choice {
            action: found.action,
            source: Source::Keyword,
            language: Some(found.language),
        }),
        MessageContent::Button { payload, .. } => button(payload),
        MessageContent::Interactive {
            reply: InteractiveReply::ButtonReply { id, .. },
        } => button(id),
        _ => None,
    }
}

fn opt_out_of(choice: MarketingChoice) -> Option<bool> {
    match choice {
        MarketingChoice::Stop => Some(true),
        MarketingChoice::Resume => Some(false),
        MarketingChoice::Other => None,
    }
}

fn digits(phone: &str) -> String {
    phone.chars().filter(char::is_ascii_digit).collect()
}
