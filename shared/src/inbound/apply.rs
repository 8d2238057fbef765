use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::port::{CallbackSink, InboundStore};
use crate::callbacks::emitter::{CallbackEmitter, EmitError};
use crate::callbacks::event::CallbackEvent;
use crate::callbacks::payload::{
    AccountChangeData, CallbackData, MarketingPreferenceData, MessageReceivedData,
    MessageStatusData,
};
use crate::domain::identity::{Phone, UserIdentity};
use crate::domain::management::{
    ManagementEvent, MarketingChoice, THROUGHPUT_UPGRADE_EVENT, parse_management,
    parse_marketing_preference,
};
use crate::domain::message::{MessageContent, SystemEvent, parse_message};
use crate::domain::retention::DataClass;
use crate::domain::status::parse_status;
use crate::domain::tenant::{NumberQuality, Tenant, TenantId, UPGRADED_THROUGHPUT};
use crate::domain::timestamp::{now_seconds, parse_seconds};
use crate::queue::event::{EventKind, QUEUED_EVENT_VERSION, QueuedEvent};
use crate::store::StoreError;
use crate::store::contact::{ContactFacts, NumberChange};
use crate::store::event::TenantEvent;
use crate::store::message::delivery::StatusOutcome;
use crate::store::message::inbound::NewInbound;
use crate::store::template::TemplateAttribute;
use crate::store::{Expiry, PutOutcome};
use crate::tenants::TenantDirectory;

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
    #[error("the event could not be queued for the tenant's callbacks")]
    Callbacks(#[from] EmitError),
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
}

/// Applies queued events through its two ports: `S` stores, `C` takes callbacks.
pub struct InboundProcessor<S = TenantDirectory, C = CallbackEmitter> {
    pub(super) store: S,
    pub(super) callbacks: Option<C>,
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

impl InboundProcessor {
    /// The worker's processor, over the table; callbacks are added with `with_callbacks`.
    pub fn new(directory: TenantDirectory) -> Self {
        Self::with_ports(directory, None)
    }
}

impl<S: InboundStore, C: CallbackSink> InboundProcessor<S, C> {
    pub fn with_ports(store: S, callbacks: Option<C>) -> Self {
        Self { store, callbacks }
    }

    /// Also hands every event it applies to the tenant's callback endpoints.
    pub fn with_callbacks(mut self, sink: C) -> Self {
        self.callbacks = Some(sink);
        self
    }

    /// Processes one queue message body.
    pub async fn process(&self, body: &str) -> Result<Outcome, ProcessError> {
        let event: QueuedEvent = serde_json::from_str(body).map_err(ProcessError::Unreadable)?;
        if event.v != QUEUED_EVENT_VERSION {
            return Err(ProcessError::UnknownVersion(event.v));
        }
        let tenant_id = TenantId::parse(&event.tenant_id).map_err(|_| ProcessError::BadTenant)?;
        let Some(tenant) = self.store.tenant(&tenant_id).await? else {
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
            inbound_number: job.event.phone_number_id.as_deref(),
            event_at: Some(message.sent_at),
        };
        let contact = store
            .resolve_contact(&job.tenant.id, &identity, &facts, retention, job.now)
            .await?;
        let outcome = store
            .put_inbound_message(
                &job.tenant.id,
                &NewInbound {
                    contact_id: &contact.profile.contact_id,
                    phone_number_id: job.event.phone_number_id.as_deref(),
                    message: &message,
                    received_at_ms: job.event.received_at_ms,
                },
                job.expiry(DataClass::Content),
                job.now,
            )
            .await?;
        if !contact.created {
            // Runs on duplicates too: a worker stopped between the two writes left it undone.
            store
                .update_contact(&job.tenant.id, &contact.profile, &facts, retention, job.now)
                .await?;
        }
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
                .move_contact_number(&job.tenant.id, &change, retention, job.now)
                .await?;
        }
        let data = CallbackData::MessageReceived(MessageReceivedData {
            contact_id: contact.profile.contact_id.clone(),
            phone_number_id: job.event.phone_number_id.clone(),
            from: identity.phone.as_ref().map(|p| p.as_str().to_owned()),
            from_user_id: identity.bsuid.as_ref().map(|b| b.as_str().to_owned()),
            profile_name: facts.profile_name.map(str::to_owned),
            message: job.item.clone(),
        });
        // On duplicates too: a worker stopped after the write but before this left it
        // undone, and receivers drop repeats by the event's id.
        self.emit(job, &data).await?;
        Ok(match outcome {
            PutOutcome::Stored => Outcome::Stored,
            PutOutcome::Duplicate => Outcome::Duplicate,
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
        let facts = ContactFacts {
            event_at: Some(update.at),
            ..ContactFacts::default()
        };
        let contact = store
            .resolve_contact(&job.tenant.id, &identity, &facts, retention, job.now)
            .await?;
        let outcome = store
            .apply_status(
                &job.tenant.id,
                &contact.profile.contact_id,
                &update,
                retention.expires_at(DataClass::Metadata, job.now),
            )
            .await?;
        let data = CallbackData::MessageStatus(MessageStatusData {
            contact_id: contact.profile.contact_id.clone(),
            phone_number_id: job.event.phone_number_id.clone(),
            // Older than what the message already reached: kept in its history only.
            late: outcome == StatusOutcome::Late,
            status: job.item.clone(),
        });
        self.emit(job, &data).await?;
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
        let at = preference.at.unwrap_or(job.now);
        let facts = ContactFacts {
            event_at: Some(at),
            ..ContactFacts::default()
        };
        let contact = store
            .resolve_contact(
                &job.tenant.id,
                &identity,
                &facts,
                &job.tenant.retention,
                job.now,
            )
            .await?;
        store
            .set_marketing_opt_out(&job.tenant.id, &contact.profile.contact_id, opted_out, at)
            .await?;
        let data = CallbackData::MarketingPreference(MarketingPreferenceData {
            contact_id: contact.profile.contact_id.clone(),
            marketing_opt_out: opted_out,
            at,
        });
        self.emit(job, &data).await?;
        self.record(job, DataClass::Metadata, None)
            .await
            .map(|_| Outcome::Applied)
    }

    async fn change(&self, job: &Job<'_>) -> Result<Outcome, ProcessError> {
        let store = &self.store;
        let tenant = &job.tenant.id;
        let time = job.event_time();
        let management = parse_management(&job.event.field, job.item);
        let event_type = match &management {
            ManagementEvent::TemplateStatus { .. }
            | ManagementEvent::TemplateQuality { .. }
            | ManagementEvent::TemplateCategory { .. }
            | ManagementEvent::TemplateComponents { .. } => {
                Some(CallbackData::TemplateUpdate as fn(AccountChangeData) -> CallbackData)
            }
            ManagementEvent::AccountUpdate { .. }
            | ManagementEvent::PhoneNumberQuality { .. }
            | ManagementEvent::PhoneNumberName { .. } => Some(CallbackData::AccountUpdate as _),
            ManagementEvent::Other => None,
        };
        match management {
            ManagementEvent::TemplateStatus {
                template, status, ..
            } => {
                store
                    .update_template(tenant, &template, TemplateAttribute::Status, &status, time)
                    .await?
            }
            ManagementEvent::TemplateQuality { template, quality } => {
                store
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
            ManagementEvent::Other => {
                return self
                    .keep(job, DataClass::Metadata, Some("field not acted on"))
                    .await;
            }
            ManagementEvent::TemplateComponents { .. }
            | ManagementEvent::AccountUpdate { .. }
            | ManagementEvent::PhoneNumberName { .. } => {}
        }
        self.record(job, DataClass::Metadata, None).await?;
        if let Some(data) = event_type.map(|wrap| {
            wrap(AccountChangeData {
                field: job.event.field.clone(),
                waba_id: job.event.waba_id.clone(),
                value: job.item.clone(),
            })
        }) {
            self.emit(job, &data).await?;
        }
        Ok(Outcome::Applied)
    }

    /// Queues the event for the tenant's callback endpoints, when this worker has them.
    async fn emit(&self, job: &Job<'_>, data: &CallbackData) -> Result<(), ProcessError> {
        let Some(emitter) = &self.callbacks else {
            return Ok(());
        };
        let event = CallbackEvent::of(
            job.tenant.id.as_str(),
            job.event.item.get(),
            job.event.received_at_ms / 1000,
            data,
        );
        emitter.emit(&job.tenant.id, &event).await?;
        Ok(())
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
        let numbers = store.phone_numbers_of(&job.tenant.id).await?;
        let Some(number) = numbers
            .iter()
            .find(|n| digits(&n.display_phone_number) == wanted && n.waba_id == job.event.waba_id)
        else {
            tracing::warn!(tenant = %job.tenant.id, event = %quality.event, "a quality update for a number the tenant has not registered");
            return Ok(());
        };
        store
            .record_number_quality(&job.tenant.id, &number.phone_number_id, quality)
            .await?;
        if quality.event == THROUGHPUT_UPGRADE_EVENT {
            store
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

    async fn record(
        &self,
        job: &Job<'_>,
        class: DataClass,
        reason: Option<&str>,
    ) -> Result<PutOutcome, ProcessError> {
        let raw = job.event.item.get();
        let digest = hex::encode(Sha256::digest(
            format!("{}\n{}\n{}", job.event.field, job.event.kind.as_str(), raw).as_bytes(),
        ));
        let event = TenantEvent {
            event_time: job.event_time(),
            digest: &digest,
            field: &job.event.field,
            kind: job.event.kind.as_str(),
            unhandled_reason: reason,
            raw,
            expiry: job.expiry(class),
        };
        Ok(self
            .store
            .put_tenant_event(&job.tenant.id, &event, job.now)
            .await?)
    }
}

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
