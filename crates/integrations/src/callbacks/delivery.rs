//! Delivers one callback job: signs the event, POSTs it to the endpoint, logs the attempt,
//! and says what comes next: done, again after a delay (growing, with jitter), or given up
//! after the retry period (the caller moves it to the dead-letter queue).

use crate::store::CallbackStore;
use crate::store::ContactStore;
use crate::tenants::Tenants;
use std::time::Duration;

use rand::Rng;

use super::destination::{DeliveryFailure, PublicOnly, check_literal_host};
use super::emitter::{CallbackJob, EndpointDirectory};
use super::endpoint::CallbackEndpoint;
use super::signature::{EVENT_ID_HEADER, SIGNATURE_HEADER, sign};
use crate::callbacks::log::CallbackDeliveryState;
use crate::domain::retention::DataClass;
use crate::domain::tenant::Tenant;
use crate::secret_store::{SecretContext, SecretError, SecretPurpose, SecretStore};
use crate::store::StoreError;
use crate::store::callback::DeliveryAttempt;
use crate::tenants::TenantDirectory;

/// How long a receiver may take to answer one delivery.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// When to try again, and when to stop.
#[derive(Debug, Clone, Copy)]
pub struct RetrySchedule {
    /// The delay after the first failure; it doubles with each further one.
    pub first_retry: Duration,
    pub max_delay: Duration,
    /// Counted from the event's creation: the last attempt is made at this age.
    pub give_up_after: Duration,
}

impl Default for RetrySchedule {
    /// 30 s, 1 min, 2 min, … up to every 2 hours, for 24 hours: about 20 attempts.
    fn default() -> Self {
        Self {
            first_retry: Duration::from_secs(30),
            max_delay: Duration::from_secs(2 * 3600),
            give_up_after: Duration::from_secs(24 * 3600),
        }
    }
}

impl RetrySchedule {
    /// After failed attempt `attempt` (from 1) of an event `age` old: the delay to the next
    /// attempt, or `None` when the period is over.
    pub fn next_delay(&self, attempt: u32, age: Duration) -> Option<Duration> {
        if age >= self.give_up_after {
            return None;
        }
        let doubled = self
            .first_retry
            .saturating_mul(1u32 << attempt.saturating_sub(1).min(20));
        let backoff = doubled.min(self.max_delay);
        // Up to a tenth more, so that endpoints failing together do not retry together.
        let jitter = backoff.mul_f64(rand::rng().random_range(0.0..0.1));
        // The last attempt lands at the end of the period, not before it.
        Some(
            (backoff + jitter)
                .min(self.give_up_after - age)
                .max(Duration::from_secs(1)),
        )
    }
}

/// What to do with the job after this attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NextStep {
    Done,
    RetryAfter(Duration),
    /// The retry period is over: to the dead-letter queue, with the last failure.
    GiveUp(String),
    /// The endpoint was deleted (or the tenant is gone): the job is dropped.
    Dropped,
}

#[derive(Debug, thiserror::Error)]
pub enum CallbackDeliveryError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the endpoint's signing secret could not be decrypted")]
    Secret(#[from] SecretError),
}

pub struct Deliverer {
    tenants: TenantDirectory,
    endpoints: EndpointDirectory,
    secrets: SecretStore,
    http: reqwest::Client,
    schedule: RetrySchedule,
    /// Local stacks only: deliveries may go to loopback and private addresses.
    allow_internal: bool,
}

impl Deliverer {
    /// `http` comes from [`Deliverer::http_client`] with the same `allow_internal`.
    pub fn new(
        tenants: TenantDirectory,
        secrets: SecretStore,
        http: reqwest::Client,
        schedule: RetrySchedule,
        allow_internal: bool,
    ) -> Self {
        Self {
            endpoints: EndpointDirectory::new(tenants.store().clone()),
            tenants,
            secrets,
            http,
            schedule,
            allow_internal,
        }
    }

    /// The client deliveries need: public addresses only (unless `allow_internal`, on
    /// local stacks), no redirects (a receiver answers, it does not send us elsewhere), no
    /// proxy (a proxy would resolve the tenant's host itself, past the address check), a
    /// timeout, and nothing else shared with the Cloud API client.
    pub fn http_client(allow_internal: bool) -> reqwest::Result<reqwest::Client> {
        Self::client_resolving(PublicOnly::system(allow_internal))
    }

    /// The delivery client, names resolved by `resolver` (a fixed table in tests).
    pub fn client_resolving(resolver: PublicOnly) -> reqwest::Result<reqwest::Client> {
        crate::http::client_builder()
            .dns_resolver(resolver)
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(REQUEST_TIMEOUT)
            .connect_timeout(Duration::from_secs(5))
            .user_agent(concat!("wagate-callbacks/", env!("CARGO_PKG_VERSION")))
            .build()
    }

    /// Attempt `attempt` (from 1) of `job` at `now` (epoch seconds).
    pub async fn deliver(
        &self,
        job: &CallbackJob,
        attempt: u32,
        now: i64,
    ) -> Result<NextStep, CallbackDeliveryError> {
        let Ok(tenant_id) = crate::domain::tenant::TenantId::parse(&job.event.tenant_id) else {
            return Ok(NextStep::Dropped);
        };
        let Some(tenant) = self.tenants.tenant(&tenant_id).await? else {
            return Ok(NextStep::Dropped);
        };
        let Some(endpoint) = self.endpoint(&tenant_id, &job.endpoint_id).await? else {
            tracing::info!(tenant = %tenant_id, endpoint = %job.endpoint_id, "callback endpoint deleted; delivery dropped");
            return Ok(NextStep::Dropped);
        };
        // The tenant asked to erase the person since: what is about them is not sent.
        if let Some(contact) = job.event.contact_id()
            && self
                .tenants
                .store()
                .repo::<ContactStore>()
                .is_contact_erased(&tenant_id, contact)
                .await?
        {
            tracing::info!(tenant = %tenant_id, event_id = %job.event.id, "callback about an erased person dropped");
            return Ok(NextStep::Dropped);
        }
        let body = serde_json::to_string(&job.event).expect("an event serialises");
        // The person restricted processing: recorded, not sent (a replay once it is lifted
        // sends it).
        if let Some(contact) = job.event.contact_id()
            && self
                .tenants
                .store()
                .repo::<ContactStore>()
                .contact_restriction(&tenant_id, contact, now)
                .await?
                .is_some()
        {
            tracing::info!(tenant = %tenant_id, event_id = %job.event.id, "callback about a person whose processing is restricted withheld");
            let withheld = Attempted {
                state: CallbackDeliveryState::Withheld,
                http_status: None,
                failure: None,
            };
            return self
                .record(
                    &tenant,
                    &endpoint.id,
                    job,
                    &body,
                    attempt,
                    withheld,
                    now,
                    NextStep::Done,
                )
                .await;
        }
        let secret = self
            .secrets
            .decrypt(
                &endpoint.secret_ciphertext,
                &SecretContext::tenant(SecretPurpose::CallbackSigningSecret, tenant_id.as_str()),
            )
            .await?;
        let (http_status, failure) = self
            .post(&endpoint.url, job, secret.expose(), now, &body)
            .await;
        let failure = failure.map(|f| f.to_string());
        let age = Duration::from_secs((now - job.event.created_at).max(0) as u64);
        let step = match &failure {
            None => NextStep::Done,
            Some(why) => match self.schedule.next_delay(attempt, age) {
                Some(delay) => NextStep::RetryAfter(delay),
                None => NextStep::GiveUp(why.clone()),
            },
        };
        let state = match step {
            NextStep::Done => CallbackDeliveryState::Delivered,
            NextStep::RetryAfter(_) => CallbackDeliveryState::Retrying,
            _ => CallbackDeliveryState::Dead,
        };
        let attempted = Attempted {
            state,
            http_status,
            failure: failure.as_deref(),
        };
        self.record(
            &tenant,
            &endpoint.id,
            job,
            &body,
            attempt,
            attempted,
            now,
            step,
        )
        .await
    }

    /// Records what became of an attempt in the delivery log; `step` unless the person
    /// was erased meanwhile (then nothing is kept).
    #[allow(clippy::too_many_arguments)]
    async fn record(
        &self,
        tenant: &Tenant,
        endpoint_id: &str,
        job: &CallbackJob,
        body: &str,
        attempt: u32,
        attempted: Attempted<'_>,
        now: i64,
        step: NextStep,
    ) -> Result<NextStep, CallbackDeliveryError> {
        // A tenant that stores no content keeps the log entry without the body: the
        // delivery's facts, not what the person wrote (a replay cannot send it again).
        let kept_body =
            if job.event.carries_content() && !tenant.content.stores(job.event.phone_number_id()) {
                ""
            } else {
                body
            };
        let recorded = self
            .tenants
            .store()
            .repo::<CallbackStore>()
            .record_delivery(&DeliveryAttempt {
                tenant: &tenant.id,
                endpoint_id,
                event_id: &job.event.id,
                event_type: job.event.event_type,
                event_created_at: job.event.created_at,
                body: kept_body,
                contact_id: job.event.contact_id(),
                state: attempted.state,
                attempt,
                http_status: attempted.http_status,
                error: attempted.failure,
                now,
                expires_at: tenant.retention.expires_at(DataClass::Content, now),
            })
            .await;
        match recorded {
            // Erased during the delivery: its log entry is not kept.
            Err(StoreError::PersonErased) => Ok(NextStep::Dropped),
            other => other.map(|()| step).map_err(Into::into),
        }
    }

    /// POSTs the signed event: the receiver's status, and the failure when it was not a
    /// delivery.
    async fn post(
        &self,
        url: &str,
        job: &CallbackJob,
        secret: &str,
        now: i64,
        body: &str,
    ) -> (Option<u16>, Option<DeliveryFailure>) {
        let Ok(parsed) = reqwest::Url::parse(url) else {
            return (None, Some(DeliveryFailure::Request));
        };
        if check_literal_host(&parsed, self.allow_internal).is_err() {
            return (None, Some(DeliveryFailure::RefusedDestination));
        }
        let answer = self
            .http
            .post(parsed)
            .header("content-type", "application/json")
            .header(EVENT_ID_HEADER, &job.event.id)
            .header(SIGNATURE_HEADER, sign(secret, now, body.as_bytes()))
            .body(body.to_owned())
            .send()
            .await;
        match answer {
            Ok(response) if response.status().is_success() => {
                (Some(response.status().as_u16()), None)
            }
            Ok(response) => {
                let status = response.status().as_u16();
                (Some(status), Some(DeliveryFailure::Status(status)))
            }
            Err(e) => (None, Some(DeliveryFailure::of(&e))),
        }
    }

    /// The endpoint, read again once when this container's copy does not know it (a new
    /// endpoint replayed to at once).
    async fn endpoint(
        &self,
        tenant: &crate::domain::tenant::TenantId,
        id: &str,
    ) -> Result<Option<CallbackEndpoint>, StoreError> {
        let find = |list: &[CallbackEndpoint]| list.iter().find(|e| e.id == id).cloned();
        if let Some(found) = find(&self.endpoints.of(tenant).await?) {
            return Ok(Some(found));
        }
        Ok(find(&self.endpoints.refresh(tenant).await?))
    }
}

/// What one attempt met, for its log entry.
struct Attempted<'a> {
    state: CallbackDeliveryState,
    http_status: Option<u16>,
    failure: Option<&'a str>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_up_to_the_cap_and_stop_after_the_period() {
        let schedule = RetrySchedule::default();
        let secs = |attempt, age: u64| {
            schedule
                .next_delay(attempt, Duration::from_secs(age))
                .map(|d| d.as_secs())
        };
        let first = secs(1, 0).unwrap();
        assert!((30..=33).contains(&first), "{first}");
        let fourth = secs(4, 300).unwrap();
        assert!((240..=264).contains(&fourth), "{fourth}");
        let late = secs(15, 3600).unwrap();
        assert!((7200..=7920).contains(&late), "capped: {late}");
        assert_eq!(secs(12, 86_400 - 60), Some(60), "the last attempt at 24 h");
        assert_eq!(secs(13, 86_400), None);
        // Over 24 hours the default schedule makes about twenty attempts.
        let mut age = 0;
        let mut attempts = 1;
        while let Some(delay) = secs(attempts, age) {
            age += delay;
            attempts += 1;
        }
        assert!((15..=25).contains(&attempts), "{attempts}");
        assert!(age >= 86_400);
    }
}
