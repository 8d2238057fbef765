//! Sends one outbound job: at most one accepted Cloud API call per job, whatever the
//! redeliveries. The job's message record is written once its fate is known; a job that
//! finds its record was handled before and is not sent again.

use std::time::Duration;

use crate::cloud_api::{CloudApiClient, ErrorClass, SendError};
use crate::domain::contact::ContactProfile;
use crate::domain::conversation::SendOutcome;
use crate::domain::conversation::activity::Wrote;
use crate::domain::event::{ConversationOpened, DomainEvent, Published};
use crate::domain::retention::DataClass;
use crate::domain::tenant::{MetaCallsBlocked, PhoneNumber, Tenant};
use crate::events::Subscribers;
use crate::secret_store::{SecretError, SecretStore};
use crate::store::contact::ContactFacts;
use crate::store::contact::activity::ContactActivity;
use crate::store::contact::resolve::ContactResolution;
use crate::store::conversation::ConversationStates;
use crate::store::message::delivery::DeliveryStates;
use crate::store::message::outbound::{NewOutbound, OutboundKey, OutboundMessages};
use crate::store::number::NumberRecords;
use crate::store::tenant::SendingStop;
use crate::store::{PutOutcome, StoreError};
use crate::tenants::{TenantDirectory, Tenants};

use super::consent::consent_allows;
use super::job::{JobError, OutboundJob, Purpose};
use super::pacer::{Pacer, SendSlots, now_us, sleep_until_us};
use super::pair::{PairLimiter, PairRate};
use super::retry::retry_delay;
use super::send_port::{CloudMeta, MetaSend, SendStore, SendTables};
use super::window::window_is_open;

/// A number paused by a spam or quality limit waits this long before sending again.
pub const PAUSE: Duration = Duration::from_secs(3600);
/// A pair-rate wait shorter than this is slept through; a longer one goes back to the queue.
const MAX_INLINE_WAIT: Duration = Duration::from_secs(2);

#[derive(Debug, Clone, Copy)]
pub struct SenderSettings {
    /// Attempts before a retryable failure is recorded as final.
    pub max_attempts: u32,
    pub pair_rate: PairRate,
}

impl Default for SenderSettings {
    fn default() -> Self {
        Self {
            max_attempts: 8,
            pair_rate: PairRate::default(),
        }
    }
}

/// One delivery of a job to this container.
#[derive(Debug, Clone, Copy)]
pub struct Delivery {
    /// Which delivery of the job this is, from 1.
    pub attempt: u32,
    /// Epoch seconds.
    pub now: i64,
    /// The latest send slot (epoch microseconds) this invocation can still use and record
    /// before it ends. A later slot gives the job back rather than risk a second delivery
    /// of a job whose send is under way.
    pub send_by_us: i64,
}

/// What became of a job this time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobResult {
    Done(Done),
    /// Try again after this long; `reason` is for the logs.
    RetryAfter {
        delay: Duration,
        reason: &'static str,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Done {
    Sent {
        wamid: String,
    },
    /// Handled by an earlier delivery of the job; nothing was sent now.
    AlreadyHandled,
    Refused,
    Failed,
    /// The job names a tenant or number that does not exist; nothing can be recorded.
    Dropped {
        reason: &'static str,
    },
}

/// A failure of our own infrastructure: the job is retried as it stands.
#[derive(Debug, thiserror::Error)]
pub enum SenderError {
    #[error(transparent)]
    Job(#[from] JobError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the tenant's access token could not be decrypted")]
    Secret(#[from] SecretError),
    /// The outcome is recorded but a subscriber did not take it: the job comes back, finds
    /// its outcome, sends nothing and publishes it again.
    #[error(transparent)]
    Subscriber(#[from] crate::events::PublishError),
}

/// Sends jobs through its ports: `S` stores, `M` Meta's API, `P` the numbers' send slots.
pub struct Sender<S = SendTables, M = CloudMeta, P = Pacer> {
    store: S,
    meta: M,
    pacer: P,
    pairs: PairLimiter,
    settings: SenderSettings,
    subscribers: Subscribers,
}

/// After [`Sender::prepare`]: a job to send now, or what already became of it.
pub enum Prepared<'a> {
    Ready(Box<ReadyJob<'a>>),
    Finished(JobResult),
}

/// A job resolved to its tenant, number and contact, that passed every check made before
/// sending (idempotency, stop, pause, window) and waits only for its send slot.
pub struct ReadyJob<'a> {
    job: &'a OutboundJob,
    tenant: Tenant,
    number: PhoneNumber,
    /// The contact as it stood before the send.
    contact: ContactProfile,
    attempt: u32,
    now: i64,
    send_by_us: i64,
}

impl Sender {
    /// The worker's sender: the table, the Cloud API and the shared pacer.
    pub fn new(
        directory: TenantDirectory,
        secrets: SecretStore,
        api: CloudApiClient,
        settings: SenderSettings,
    ) -> Self {
        let pacer = Pacer::new(directory.store().clone());
        Self::with_ports(
            SendTables::new(directory),
            CloudMeta::new(secrets, api),
            pacer,
            settings,
        )
    }
}

impl<S: SendStore, M: MetaSend, P: SendSlots> Sender<S, M, P> {
    pub fn with_ports(store: S, meta: M, pacer: P, settings: SenderSettings) -> Self {
        Self {
            store,
            meta,
            pacer,
            pairs: PairLimiter::new(settings.pair_rate),
            settings,
            subscribers: Subscribers::new(),
        }
    }

    /// Publishes what becomes of each job it records to `subscribers`.
    pub fn with_subscribers(mut self, subscribers: Subscribers) -> Self {
        self.subscribers = subscribers;
        self
    }

    #[cfg(test)]
    pub(crate) fn store(&self) -> &S {
        &self.store
    }

    #[cfg(test)]
    pub(crate) fn meta(&self) -> &M {
        &self.meta
    }

    #[cfg(test)]
    pub(crate) fn pacer(&self) -> &P {
        &self.pacer
    }

    /// Sends `job`, or says why not or when to try again. `expected_from_number` is how
    /// many jobs of the same number this container is about to send (its pacing block).
    pub async fn process(
        &self,
        job: &OutboundJob,
        delivery: Delivery,
        expected_from_number: u32,
    ) -> Result<JobResult, SenderError> {
        match self.prepare(job, delivery).await? {
            Prepared::Ready(ready) => self.send_ready(*ready, expected_from_number).await,
            Prepared::Finished(result) => Ok(result),
        }
    }

    /// Everything before the send slot: resolves the job and makes the checks that may
    /// settle it without calling Meta. A batch prepares its jobs together and then leases
    /// slots for exactly those that are ready, so no leased slot waits for a slow read.
    pub async fn prepare<'a>(
        &self,
        job: &'a OutboundJob,
        delivery: Delivery,
    ) -> Result<Prepared<'a>, SenderError> {
        let now = delivery.now;
        let finished = |result| Ok(Prepared::Finished(result));
        let Some(tenant) = self.store.tenants().tenant(&job.tenant_id).await? else {
            return finished(JobResult::Done(Done::Dropped {
                reason: "unknown tenant",
            }));
        };
        let Some(number) = self
            .store
            .tenants()
            .phone_number(&tenant.id, job.phone_number_id())
            .await?
        else {
            return finished(JobResult::Done(Done::Dropped {
                reason: "the phone number is not the tenant's",
            }));
        };
        let store = &self.store;
        let facts = ContactFacts {
            event_at: Some(job.enqueued_at),
            ..ContactFacts::default()
        };
        let contact = match store
            .contacts()
            .resolve_contact(
                &tenant.id,
                &job.recipient()?,
                &facts,
                &tenant.retention,
                now,
            )
            .await
        {
            Err(StoreError::PersonErased) => {
                return finished(JobResult::Done(Done::Dropped {
                    reason: "the recipient was erased after the message was queued",
                }));
            }
            other => other?,
        };
        let ready = ReadyJob {
            job,
            contact: contact.profile.clone(),
            tenant,
            number,
            attempt: delivery.attempt,
            now,
            send_by_us: delivery.send_by_us,
        };
        // A contact made just now has no records: its first job skips the read.
        if !contact.new_id
            && let Some(outcome) = store
                .messages()
                .outbound_record(&ready.tenant.id, ready.key())
                .await?
                .and_then(|record| record.outcome)
        {
            // The delivery that recorded it may have stopped before its subscribers took
            // it: they take it again, and drop repeats by the job.
            self.publish(&ready, &outcome).await?;
            return finished(JobResult::Done(Done::AlreadyHandled));
        }
        // A delivery that died between Meta's answer and the record leaves no fate behind;
        // the message's statuses, which carry the job's tag, tell whether it reached Meta.
        if delivery.attempt > 1
            && !contact.new_id
            && let Some(wamid) = store
                .messages()
                .wamid_with_callback_data(
                    &ready.tenant.id,
                    &ready.contact.contact_id,
                    &job.status_tag(),
                )
                .await?
        {
            let outcome = SendOutcome::Accepted {
                wamid,
                message_status: "accepted".into(),
            };
            self.record(&ready, outcome).await?;
            tracing::warn!(tenant = %ready.tenant.id, job_id = %job.job_id, "an earlier delivery of the job reached Meta but died before recording it; recorded now, not sent again");
            return finished(JobResult::Done(Done::AlreadyHandled));
        }
        // The recipient may have restricted processing, or opted out, after the job was
        // queued; an opt-out's own confirmation is the one job consent lets through.
        if let Some(restriction) = ready.contact.restriction {
            let reason = format!(
                "the recipient's processing is restricted (since {}): nothing is sent to them",
                restriction.since
            );
            self.record(&ready, SendOutcome::Refused { reason }).await?;
            return finished(JobResult::Done(Done::Refused));
        }
        if job.purpose == Purpose::Message
            && let Err(opted_out) = consent_allows(
                store.tenants(),
                &ready.tenant,
                (&ready.number, &ready.contact),
                job.outgoing(),
            )
            .await?
        {
            let reason = opted_out.describe();
            self.record(&ready, SendOutcome::Refused { reason }).await?;
            tracing::info!(tenant = %ready.tenant.id, job_id = %job.job_id, scope = opted_out.scope.as_str(), "a queued job's recipient opted out; not sent");
            return finished(JobResult::Done(Done::Refused));
        }
        if let Err(blocked) = ready.tenant.may_call_meta() {
            let title = match blocked {
                MetaCallsBlocked::Suspended => {
                    "the tenant is suspended: its messages are not sent".to_owned()
                }
                stopped => stopped.to_string(),
            };
            return finished(self.fail(&ready, None, title, None).await?);
        }
        if let Some(until) = ready.number.paused_until.filter(|u| *u > now) {
            let reason = ready.number.pause_reason.clone().unwrap_or_default();
            let result = self
                .retry_or_fail(
                    &ready,
                    Duration::from_secs((until - now) as u64),
                    "the number is paused",
                    None,
                    format!("the number stayed paused: {reason}"),
                )
                .await?;
            return finished(result);
        }
        if job.free_form()
            && !window_is_open(store.messages(), &ready.tenant.id, &contact.profile, now).await?
        {
            let reason =
                "the 24-hour customer service window is closed: only a template may be sent";
            self.record(
                &ready,
                SendOutcome::Refused {
                    reason: reason.into(),
                },
            )
            .await?;
            return finished(JobResult::Done(Done::Refused));
        }
        Ok(Prepared::Ready(Box::new(ready)))
    }

    /// Sends a prepared job at its recipient's pair rate and its number's next send slot.
    pub async fn send_ready(
        &self,
        ready: ReadyJob<'_>,
        expected_from_number: u32,
    ) -> Result<JobResult, SenderError> {
        let job = ready.job;
        if let Err(wait) = self.pairs.try_take(job.phone_number_id(), job.to()) {
            if wait > MAX_INLINE_WAIT {
                return Ok(JobResult::RetryAfter {
                    delay: wait,
                    reason: "pair rate",
                });
            }
            tokio::time::sleep(wait).await;
        }
        self.send(&ready, expected_from_number).await
    }

    async fn send(
        &self,
        sending: &ReadyJob<'_>,
        expected_from_number: u32,
    ) -> Result<JobResult, SenderError> {
        let job = sending.job;
        let mut number = sending.number.clone();
        let mut token = self.meta.token(&number).await?;
        let mut refreshed = false;
        loop {
            let slot = self
                .pacer
                .next_slot(
                    &sending.tenant.id,
                    job.phone_number_id(),
                    number.send_rate(),
                    expected_from_number,
                )
                .await?;
            if slot > sending.send_by_us {
                // The slot is leased and lost; a rare waste next to a job sent twice.
                return Ok(JobResult::RetryAfter {
                    delay: Duration::from_micros((slot - now_us()).max(0) as u64),
                    reason: "no send slot before the invocation ends",
                });
            }
            sleep_until_us(slot).await;
            let error = match self
                .meta
                .send(job.phone_number_id(), &token, &job.request_for_meta())
                .await
            {
                Ok(accepted) => {
                    let outcome = SendOutcome::Accepted {
                        wamid: accepted.wamid.clone(),
                        message_status: accepted
                            .message_status
                            .unwrap_or_else(|| "accepted".into()),
                    };
                    self.record(sending, outcome).await?;
                    self.mark_answered(sending).await;
                    return Ok(JobResult::Done(Done::Sent {
                        wamid: accepted.wamid,
                    }));
                }
                Err(e) => e,
            };
            let class = error.class();
            if class == ErrorClass::StopTenantCredential && !refreshed {
                // The token may have been rotated since this container cached it.
                refreshed = true;
                if let Some(fresh) = self
                    .store
                    .tenants()
                    .refresh_phone_number(&sending.tenant.id, job.phone_number_id())
                    .await?
                    .filter(|f| f.access_token_ciphertext != number.access_token_ciphertext)
                {
                    token = self.meta.token(&fresh).await?;
                    number = fresh;
                    continue;
                }
            }
            return self.after_error(sending, &error, class).await;
        }
    }

    async fn after_error(
        &self,
        sending: &ReadyJob<'_>,
        error: &SendError,
        class: ErrorClass,
    ) -> Result<JobResult, SenderError> {
        let job = sending.job;
        let (code, title, details) = describe(error);
        let tenant = &sending.tenant.id;
        match class {
            ErrorClass::StopTenantCredential => {
                let reason = format!("Meta refused the access token (code {})", code_text(code));
                self.store.sending().stop_sending(tenant, &reason).await?;
                self.store.tenants().forget_tenant(tenant);
                tracing::error!(alert = "tenant_sending_stopped", tenant = %tenant, code, "Meta refused the tenant's credentials; sending is stopped");
                self.fail(sending, code, title, details).await
            }
            ErrorClass::StopAccount => {
                self.pause(sending, code, "the account or number is restricted")
                    .await?;
                self.fail(sending, code, title, details).await
            }
            ErrorClass::PauseNumber => {
                self.pause(sending, code, "Meta limited the number (spam or quality)")
                    .await?;
                self.retry_or_fail(sending, PAUSE, "number paused", code, title)
                    .await
            }
            ErrorClass::Permanent(_) => self.fail(sending, code, title, details).await,
            retryable => {
                if retryable == ErrorClass::RetryThrottled {
                    self.pacer.slow_down(tenant, job.phone_number_id()).await?;
                }
                if retryable == ErrorClass::RetryRecipient {
                    self.pairs.exhausted(job.phone_number_id(), job.to());
                }
                tracing::warn!(tenant = %tenant, code, attempt = sending.attempt, error = %error, "send failed; will retry");
                let delay = retry_delay(retryable, sending.attempt);
                self.retry_or_fail(sending, delay, "retryable error", code, title)
                    .await
            }
        }
    }

    async fn pause(
        &self,
        sending: &ReadyJob<'_>,
        code: Option<i64>,
        why: &str,
    ) -> Result<(), SenderError> {
        let tenant = &sending.tenant.id;
        let number = sending.job.phone_number_id();
        let reason = format!("{why} (code {})", code_text(code));
        let until = sending.now + PAUSE.as_secs() as i64;
        self.store
            .numbers()
            .pause_number(tenant, number, until, &reason)
            .await?;
        self.pacer
            .hold_until(tenant, number, until * 1_000_000)
            .await?;
        self.store
            .tenants()
            .refresh_phone_number(tenant, number)
            .await?;
        tracing::error!(alert = "number_paused", tenant = %tenant, phone_number_id = %number, code, until, "sends from the number are paused");
        Ok(())
    }

    async fn retry_or_fail(
        &self,
        sending: &ReadyJob<'_>,
        delay: Duration,
        reason: &'static str,
        code: Option<i64>,
        final_title: String,
    ) -> Result<JobResult, SenderError> {
        if sending.attempt < self.settings.max_attempts {
            return Ok(JobResult::RetryAfter { delay, reason });
        }
        let title = format!("gave up after {} attempts: {final_title}", sending.attempt);
        self.fail(sending, code, title, None).await
    }

    async fn fail(
        &self,
        sending: &ReadyJob<'_>,
        code: Option<i64>,
        title: String,
        details: Option<String>,
    ) -> Result<JobResult, SenderError> {
        self.record(
            sending,
            SendOutcome::Failed {
                code,
                title,
                details,
            },
        )
        .await?;
        Ok(JobResult::Done(Done::Failed))
    }

    async fn record(
        &self,
        sending: &ReadyJob<'_>,
        outcome: SendOutcome,
    ) -> Result<(), SenderError> {
        let job = sending.job;
        let stored = job.stored_form();
        let written = match self
            .store
            .messages()
            .put_outbound(
                &sending.tenant.id,
                &NewOutbound {
                    key: sending.key(),
                    phone_number_id: job.phone_number_id(),
                    message_type: &stored.message_type,
                    content: &stored.content,
                    content_life: sending.tenant.retention.content_life(
                        sending.tenant.content.stores(Some(job.phone_number_id())),
                        sending.now,
                    ),
                    outcome: outcome.clone(),
                    attempts: sending.attempt,
                    expires_at: sending.tenant.retention.message_expires_at(sending.now),
                    now: sending.now,
                },
            )
            .await
        {
            // Erased while the job was under way: nothing about them is recorded.
            Err(StoreError::PersonErased) => {
                tracing::info!(tenant = %sending.tenant.id, job_id = %job.job_id, "the recipient was erased; the job's outcome is not recorded");
                return Ok(());
            }
            other => other?,
        };
        match written {
            // What another delivery recorded was published by it; this outcome never was.
            PutOutcome::Duplicate => {
                tracing::warn!(tenant = %sending.tenant.id, job_id = %job.job_id, "the job's outcome was already recorded by another delivery");
            }
            PutOutcome::Stored => self.publish(sending, &outcome).await?,
        }
        Ok(())
    }

    /// Tells the subscribers what became of the job. The outcome is recorded, so a
    /// subscriber's failure fails the job without sending it again: its next delivery
    /// finds the outcome and publishes it again (the durable path counts each send so).
    async fn publish(
        &self,
        sending: &ReadyJob<'_>,
        outcome: &SendOutcome,
    ) -> Result<(), crate::events::PublishError> {
        let message = sending.job.reference(&sending.contact.contact_id);
        let event = match outcome {
            SendOutcome::Accepted { wamid, .. } => DomainEvent::MessageSent {
                message,
                wamid: wamid.clone(),
            },
            SendOutcome::Failed { code, .. } => DomainEvent::MessageFailed {
                message,
                code: *code,
                refused: false,
            },
            SendOutcome::Refused { .. } => DomainEvent::MessageFailed {
                message,
                code: None,
                refused: true,
            },
        };
        self.publish_event(sending, &event).await
    }

    async fn publish_event(
        &self,
        sending: &ReadyJob<'_>,
        event: &DomainEvent,
    ) -> Result<(), crate::events::PublishError> {
        let published = Published {
            tenant: &sending.tenant.id,
            source: &sending.job.job_id,
            received_at: sending.now,
            person_restricted: sending.contact.restriction.is_some(),
            event,
        };
        self.subscribers.publish(published).await
    }

    /// The business wrote to someone who wrote before: the contact's and the
    /// conversation's activity, unless the path that queued the message recorded them
    /// (the API does when it accepts a send; a bot or a script does not), and the
    /// conversation opened when this is the first message on this number.
    async fn mark_answered(&self, sending: &ReadyJob<'_>) {
        let tenant = &sending.tenant.id;
        let contact = &sending.contact;
        // Someone who never wrote has no conversation to answer: a campaign's send to them
        // costs no read and no write here.
        if sending.job.activity_recorded || contact.last_inbound_at.is_none() {
            return;
        }
        if let Err(e) = self
            .store
            .contacts()
            .record_outbound_at(tenant, contact, sending.now)
            .await
        {
            tracing::warn!(tenant = %tenant, error = %crate::telemetry::error_chain(&e), "the contact's activity was not recorded");
        }
        let expires_at = contact.life_within(
            sending
                .tenant
                .retention
                .expires_at(DataClass::ContactProfile, sending.now),
        );
        let who = (contact, sending.phone_number_id());
        let wrote = Wrote::Business { at: sending.now };
        match self
            .store
            .conversations()
            .wrote(tenant, who, wrote, expires_at)
            .await
        {
            Ok(Some(opened)) => {
                // Logged, not the job's failure: a redelivery would find the conversation
                // open and publish nothing (the durable path counts this at most once).
                let event = DomainEvent::ConversationOpened(ConversationOpened::of(&opened, false));
                if let Err(e) = self.publish_event(sending, &event).await {
                    tracing::warn!(tenant = %tenant, job_id = %sending.job.job_id, error = %crate::telemetry::error_chain(&e), "a subscriber failed on an opened conversation");
                }
            }
            Ok(None) => {}
            // The message is sent: its conversation shows as unread until the next reply.
            Err(e) => {
                tracing::warn!(tenant = %tenant, error = %crate::telemetry::error_chain(&e), "the answered conversation was not marked");
            }
        }
    }
}

impl ReadyJob<'_> {
    pub fn phone_number_id(&self) -> &str {
        self.job.phone_number_id()
    }

    fn key(&self) -> OutboundKey<'_> {
        OutboundKey {
            contact_id: &self.contact.contact_id,
            enqueued_at: self.job.enqueued_at,
            job_id: &self.job.job_id,
        }
    }
}

/// Meta's code, title and details of an error, or our description of a failure without.
fn describe(error: &SendError) -> (Option<i64>, String, Option<String>) {
    match error {
        SendError::Refused { error, .. } => (
            Some(error.code),
            error
                .message
                .clone()
                .unwrap_or_else(|| format!("Meta error {}", error.code)),
            error.error_data.as_ref().and_then(|d| d.details.clone()),
        ),
        other => (None, other.to_string(), None),
    }
}

fn code_text(code: Option<i64>) -> String {
    code.map_or_else(|| "none".into(), |c| c.to_string())
}
