//! Sending a job on in-memory ports, one outcome each: sent, retried, paused, refused
//! (consent, restriction, window), failed (suspension, a refused credential), dropped
//! (erasure), and the redelivery that finds its job already handled. The integration
//! tests (`outbound_round_trip`, `outbound_failures`, `idempotent_send_survives_faults`)
//! run the same code against the local stack and the simulator.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;

use super::job::{MetaBody, OutboundJob};
use super::pacer::{SendSlots, now_us};
use super::send_port::MetaSend;
use super::sender::{Delivery, Done, JobResult, PAUSE, Sender, SenderSettings};
use crate::cloud_api::{MetaApiError, SendAccepted, SendError};
use crate::domain::consent::{ConsentMark, ConsentState, Source};
use crate::domain::contact::ContactProfile;
use crate::domain::conversation::SendOutcome;
use crate::domain::conversation::activity::Wrote;
use crate::domain::identity::UserIdentity;
use crate::domain::outbound::{OutboundMessage, Recipient};
use crate::domain::tenant::{PhoneNumber, TenantId, TenantStatus};
use crate::fakes::{FakeStore, phone_number, tenant};
use crate::secret::Secret;
use crate::secret_store::SecretError;
use crate::store::StoreError;
use crate::store::contact::ContactFacts;

const NUMBER: &str = "106540352242922";
const USER: &str = "4915112345678";

/// Meta as the sender sees it: the answers it is told to give, in order (acceptance once
/// they run out), and every request it was sent.
#[derive(Default)]
struct FakeMeta {
    answers: Mutex<VecDeque<Result<SendAccepted, SendError>>>,
    sent: Mutex<Vec<String>>,
}

impl FakeMeta {
    fn answers(self, answers: Vec<Result<SendAccepted, SendError>>) -> Self {
        *self.answers.lock().unwrap() = answers.into();
        self
    }

    fn calls(&self) -> usize {
        self.sent.lock().unwrap().len()
    }
}

impl MetaSend for FakeMeta {
    async fn token(&self, _number: &PhoneNumber) -> Result<Secret, SecretError> {
        Ok(Secret::new("EAAG-token".into()))
    }

    async fn send(
        &self,
        _phone_number_id: &str,
        _token: &Secret,
        request: &MetaBody<'_>,
    ) -> Result<SendAccepted, SendError> {
        self.sent
            .lock()
            .unwrap()
            .push(serde_json::to_string(request).unwrap());
        let next = self.answers.lock().unwrap().pop_front();
        next.unwrap_or_else(|| Ok(accepted("wamid.SENT")))
    }
}

/// Send slots that are always now, remembering what the sender asked of them.
#[derive(Default)]
struct FakeSlots {
    slowed: Mutex<u32>,
    held_until: Mutex<Option<i64>>,
}

impl SendSlots for FakeSlots {
    async fn next_slot(
        &self,
        _tenant: &TenantId,
        _phone_number_id: &str,
        _per_second: u32,
        _wanted: u32,
    ) -> Result<i64, StoreError> {
        Ok(now_us())
    }

    async fn slow_down(
        &self,
        _tenant: &TenantId,
        _phone_number_id: &str,
    ) -> Result<(), StoreError> {
        *self.slowed.lock().unwrap() += 1;
        Ok(())
    }

    async fn hold_until(
        &self,
        _tenant: &TenantId,
        _phone_number_id: &str,
        resume_us: i64,
    ) -> Result<(), StoreError> {
        *self.held_until.lock().unwrap() = Some(resume_us);
        Ok(())
    }
}

type TestSender = Sender<FakeStore, FakeMeta, FakeSlots>;

fn accepted(wamid: &str) -> SendAccepted {
    SendAccepted {
        wamid: wamid.into(),
        message_status: Some("accepted".into()),
        wa_id: Some(USER.into()),
    }
}

/// Meta's refusal with `code`.
fn refused(code: i64) -> SendError {
    SendError::Refused {
        status: 400,
        error: Box::new(MetaApiError {
            code,
            message: Some("refused".into()),
            error_type: None,
            error_subcode: None,
            error_data: None,
            is_transient: None,
            fbtrace_id: None,
        }),
    }
}

fn acme() -> TenantId {
    tenant("acme").id
}

fn now() -> i64 {
    now_us() / 1_000_000
}

/// A tenant with one number, and Meta answering `meta`'s answers.
fn given_a_tenant(meta: FakeMeta) -> TestSender {
    let store = FakeStore::with_tenant(tenant("acme"));
    store
        .lock()
        .numbers
        .push(phone_number(&acme(), NUMBER, "15551234567"));
    Sender::with_ports(store, meta, FakeSlots::default(), SenderSettings::default())
}

/// The user as a contact who last wrote `ago` seconds ago; their contact id.
fn and_a_user_who_wrote(sender: &TestSender, ago: i64) -> String {
    let facts = ContactFacts {
        inbound_at: Some(now() - ago),
        ..ContactFacts::default()
    };
    let contact = store(sender).resolve(&acme(), &user(), &facts).unwrap();
    let id = contact.profile.contact_id;
    let person = Wrote::Person {
        sent_at: now() - ago,
    };
    store(sender).conversation_message(&acme(), (id.as_str(), NUMBER), person);
    store(sender)
        .lock()
        .newest_inbound
        .insert((acme(), id.clone()), now() - ago);
    id
}

/// Changes the contact as something after the job was queued did.
fn edit_contact(sender: &TestSender, contact: &str, change: impl FnOnce(&mut ContactProfile)) {
    let mut t = store(sender).lock();
    change(t.contacts.get_mut(&(acme(), contact.to_owned())).unwrap());
}

fn store(sender: &TestSender) -> &FakeStore {
    sender.store()
}

fn user() -> UserIdentity {
    UserIdentity::from_parts(Some(USER), None).unwrap()
}

fn reply() -> OutboundJob {
    let message = OutboundMessage::text(
        NUMBER,
        Recipient::parse(USER).unwrap(),
        "Your order shipped",
    );
    OutboundJob::new(&acme(), &message, None, now()).unwrap()
}

fn delivery(attempt: u32) -> Delivery {
    Delivery {
        attempt,
        now: now(),
        send_by_us: i64::MAX,
    }
}

/// What was recorded of `job` for `contact`, if anything.
fn recorded(sender: &TestSender, contact: &str, job: &OutboundJob) -> Option<SendOutcome> {
    store(sender)
        .lock()
        .outbound
        .get(&(acme(), contact.to_owned(), job.job_id.clone()))
        .and_then(|r| r.outcome.clone())
}

/// Processes `job` and checks that it was refused before any call to Meta, its refusal
/// recorded with a reason that says `why`.
async fn is_refused_without_calling_meta(
    sender: &TestSender,
    contact: &str,
    job: &OutboundJob,
    why: &str,
) {
    let result = sender.process(job, delivery(1), 1).await.unwrap();
    assert_eq!(result, JobResult::Done(Done::Refused));
    assert_eq!(sender.meta().calls(), 0);
    assert!(
        matches!(recorded(sender, contact, job), Some(SendOutcome::Refused { reason }) if reason.contains(why)),
        "{:?}",
        recorded(sender, contact, job)
    );
}

#[tokio::test]
async fn a_reply_in_the_window_is_sent_once_recorded_and_answers_the_conversation() {
    // GIVEN a user who wrote a minute ago
    let sender = given_a_tenant(FakeMeta::default());
    let contact = and_a_user_who_wrote(&sender, 60);
    let job = reply();
    // WHEN the reply's job is processed
    let result = sender.process(&job, delivery(1), 1).await.unwrap();
    // THEN Meta gets one request, and its acceptance is recorded
    assert_eq!(
        result,
        JobResult::Done(Done::Sent {
            wamid: "wamid.SENT".into()
        })
    );
    assert_eq!(sender.meta().calls(), 1);
    assert!(matches!(
        recorded(&sender, &contact, &job),
        Some(SendOutcome::Accepted { wamid, .. }) if wamid == "wamid.SENT"
    ));
    // AND the request carries the job's status tag, so a redelivery can find it
    assert!(sender.meta().sent.lock().unwrap()[0].contains(&job.status_tag()));
    // AND the unread conversation is answered
    let t = store(&sender).lock();
    assert!(
        t.conversations[&(acme(), contact.clone(), NUMBER.to_owned())]
            .activity
            .answered()
    );
    assert_eq!(t.outbound_activity[&(acme(), contact)], 1);
}

#[tokio::test]
async fn a_reply_whose_activity_the_api_recorded_is_sent_without_touching_the_conversation() {
    // GIVEN a user who wrote a minute ago, and a reply the business API accepted (which
    // recorded the business's activity itself)
    let sender = given_a_tenant(FakeMeta::default());
    let contact = and_a_user_who_wrote(&sender, 60);
    let mut job = reply();
    job.activity_recorded = true;
    // WHEN the reply's job is processed
    let result = sender.process(&job, delivery(1), 1).await.unwrap();
    // THEN it is sent and recorded
    assert!(matches!(result, JobResult::Done(Done::Sent { .. })));
    assert!(recorded(&sender, &contact, &job).is_some());
    // AND the sender writes no activity: the conversation is as the user left it
    let t = store(&sender).lock();
    assert!(
        !t.conversations[&(acme(), contact.clone(), NUMBER.to_owned())]
            .activity
            .answered()
    );
    assert!(!t.outbound_activity.contains_key(&(acme(), contact)));
}

#[tokio::test]
async fn a_passing_failure_is_retried_and_recorded_failed_only_at_the_last_attempt() {
    // GIVEN Meta answering 503 twice
    let sender = given_a_tenant(FakeMeta::default().answers(vec![
        Err(SendError::Http { status: 503 }),
        Err(SendError::Http { status: 503 }),
    ]));
    let contact = and_a_user_who_wrote(&sender, 60);
    let job = reply();
    // WHEN the job's first delivery is processed
    let first = sender.process(&job, delivery(1), 1).await.unwrap();
    // THEN it is given back to try later, and nothing is recorded
    assert!(matches!(first, JobResult::RetryAfter { .. }), "{first:?}");
    assert_eq!(recorded(&sender, &contact, &job), None);
    // AND at the last attempt the failure is final
    let last = sender
        .process(&job, delivery(SenderSettings::default().max_attempts), 1)
        .await
        .unwrap();
    assert_eq!(last, JobResult::Done(Done::Failed));
    assert!(matches!(
        recorded(&sender, &contact, &job),
        Some(SendOutcome::Failed { title, .. }) if title.starts_with("gave up after")
    ));
}

#[tokio::test]
async fn a_throughput_throttle_slows_every_instance_down_and_retries() {
    let sender = given_a_tenant(FakeMeta::default().answers(vec![Err(refused(130429))]));
    and_a_user_who_wrote(&sender, 60);
    let result = sender.process(&reply(), delivery(1), 1).await.unwrap();
    assert!(matches!(result, JobResult::RetryAfter { .. }), "{result:?}");
    assert_eq!(*sender.pacer().slowed.lock().unwrap(), 1);
}

#[tokio::test]
async fn a_spam_limit_pauses_the_number_and_later_jobs_wait_without_calling_meta() {
    // GIVEN Meta limiting the number for spam
    let sender = given_a_tenant(FakeMeta::default().answers(vec![Err(refused(131048))]));
    let contact = and_a_user_who_wrote(&sender, 60);
    // WHEN a job is sent
    let result = sender.process(&reply(), delivery(1), 1).await.unwrap();
    // THEN it waits out the pause, the number is paused and every instance holds it
    assert_eq!(
        result,
        JobResult::RetryAfter {
            delay: PAUSE,
            reason: "number paused"
        }
    );
    let paused_until = store(&sender).lock().numbers[0].paused_until.unwrap();
    assert!(paused_until >= now() + PAUSE.as_secs() as i64 - 1);
    assert_eq!(
        *sender.pacer().held_until.lock().unwrap(),
        Some(paused_until * 1_000_000)
    );
    // AND the next job waits too, without a call to Meta
    let next = reply();
    let waited = sender.process(&next, delivery(1), 1).await.unwrap();
    assert!(
        matches!(waited, JobResult::RetryAfter { reason: "the number is paused", delay } if delay > Duration::from_secs(3500)),
        "{waited:?}"
    );
    assert_eq!(sender.meta().calls(), 1);
    assert_eq!(recorded(&sender, &contact, &next), None);
}

#[tokio::test]
async fn a_recipient_who_opted_out_after_the_job_was_queued_is_not_sent_to() {
    // GIVEN a user who opted out of every message
    let sender = given_a_tenant(FakeMeta::default());
    let contact = and_a_user_who_wrote(&sender, 60);
    edit_contact(&sender, &contact, |c| {
        c.consent = ConsentState {
            all: Some(ConsentMark {
                opted_out: true,
                at: now() - 10,
                source: Some(Source::Keyword),
                evidence: None,
            }),
            ..ConsentState::default()
        }
    });
    // WHEN the job is processed, THEN nothing is sent and the refusal is recorded
    is_refused_without_calling_meta(&sender, &contact, &reply(), "opted out").await;
}

#[tokio::test]
async fn a_recipient_who_restricted_processing_is_not_sent_to() {
    let sender = given_a_tenant(FakeMeta::default());
    let contact = and_a_user_who_wrote(&sender, 60);
    edit_contact(&sender, &contact, |c| {
        c.restriction = Some(crate::domain::contact::Restriction {
            since: now() - 5,
            keep_inbound: true,
        })
    });
    is_refused_without_calling_meta(&sender, &contact, &reply(), "restricted").await;
}

#[tokio::test]
async fn free_form_text_outside_the_window_is_refused_without_calling_meta() {
    // GIVEN a user who last wrote 25 hours ago
    let sender = given_a_tenant(FakeMeta::default());
    let contact = and_a_user_who_wrote(&sender, 25 * 3600);
    // WHEN a free-form reply's job is processed, THEN it is refused: only a template may
    // be sent
    is_refused_without_calling_meta(&sender, &contact, &reply(), "window is closed").await;
}

#[tokio::test]
async fn a_suspended_tenants_jobs_fail_without_calling_meta() {
    let sender = given_a_tenant(FakeMeta::default());
    let contact = and_a_user_who_wrote(&sender, 60);
    store(&sender)
        .lock()
        .tenants
        .get_mut(&acme())
        .unwrap()
        .status = TenantStatus::Suspended;
    let job = reply();
    let result = sender.process(&job, delivery(1), 1).await.unwrap();
    assert_eq!(result, JobResult::Done(Done::Failed));
    assert_eq!(sender.meta().calls(), 0);
    assert!(matches!(
        recorded(&sender, &contact, &job),
        Some(SendOutcome::Failed { title, .. }) if title.contains("suspended")
    ));
}

#[tokio::test]
async fn a_refused_credential_stops_the_tenants_sending() {
    let sender = given_a_tenant(FakeMeta::default().answers(vec![Err(refused(190))]));
    let contact = and_a_user_who_wrote(&sender, 60);
    let job = reply();
    let result = sender.process(&job, delivery(1), 1).await.unwrap();
    assert_eq!(result, JobResult::Done(Done::Failed));
    assert!(
        store(&sender).lock().tenants[&acme()]
            .sending_stopped
            .as_deref()
            .is_some_and(|r| r.contains("190"))
    );
    assert!(matches!(
        recorded(&sender, &contact, &job),
        Some(SendOutcome::Failed {
            code: Some(190),
            ..
        })
    ));
}

#[tokio::test]
async fn a_recipient_erased_after_the_job_was_queued_is_dropped_and_nothing_recorded() {
    // GIVEN a job queued for a person erased since
    let sender = given_a_tenant(FakeMeta::default());
    let job = reply();
    store(&sender)
        .lock()
        .erased
        .insert((acme(), user().keys()[0].to_string()), now() + 1);
    // WHEN it is processed
    let result = sender.process(&job, delivery(1), 1).await.unwrap();
    // THEN nothing is sent, made or recorded about them
    assert!(
        matches!(result, JobResult::Done(Done::Dropped { .. })),
        "{result:?}"
    );
    assert_eq!(sender.meta().calls(), 0);
    let t = store(&sender).lock();
    assert!(t.contacts.is_empty() && t.outbound.is_empty());
}

#[tokio::test]
async fn a_redelivery_after_meta_accepted_records_the_send_and_does_not_send_again() {
    // GIVEN a delivery that reached Meta and died before recording it: the message's
    // statuses carry the job's tag
    let sender = given_a_tenant(FakeMeta::default());
    let contact = and_a_user_who_wrote(&sender, 60);
    let job = reply();
    store(&sender).lock().accepted_tags.insert(
        (acme(), contact.clone(), job.status_tag()),
        "wamid.EARLIER".into(),
    );
    // WHEN SQS delivers the job again
    let result = sender.process(&job, delivery(2), 1).await.unwrap();
    // THEN Meta is not called, and the earlier acceptance is recorded
    assert_eq!(result, JobResult::Done(Done::AlreadyHandled));
    assert_eq!(sender.meta().calls(), 0);
    assert!(matches!(
        recorded(&sender, &contact, &job),
        Some(SendOutcome::Accepted { wamid, .. }) if wamid == "wamid.EARLIER"
    ));
}

#[tokio::test]
async fn a_job_whose_fate_is_recorded_is_not_sent_again() {
    // GIVEN a job sent and recorded
    let sender = given_a_tenant(FakeMeta::default());
    and_a_user_who_wrote(&sender, 60);
    let job = reply();
    sender.process(&job, delivery(1), 1).await.unwrap();
    // WHEN SQS delivers it again
    let again = sender.process(&job, delivery(2), 1).await.unwrap();
    // THEN it is handled, and Meta was called once in all
    assert_eq!(again, JobResult::Done(Done::AlreadyHandled));
    assert_eq!(sender.meta().calls(), 1);
}

#[tokio::test]
async fn a_failed_record_after_meta_accepted_fails_the_job_for_its_redelivery() {
    // GIVEN a store that fails to record the outcome once
    let sender = given_a_tenant(FakeMeta::default());
    and_a_user_who_wrote(&sender, 60);
    store(&sender).fail_once("put_outbound");
    // WHEN the job is sent
    let result = sender.process(&reply(), delivery(1), 1).await;
    // THEN the job fails as an infrastructure error (SQS redelivers it, and the
    // redelivery finds Meta's acceptance by the job's tag)
    assert!(
        matches!(result, Err(super::sender::SenderError::Store(_))),
        "{result:?}"
    );
    assert_eq!(sender.meta().calls(), 1);
}

/// A sender over a tenant with a number, publishing to `subscribers`.
fn sender_publishing_to(subscribers: crate::events::Subscribers) -> TestSender {
    let fakes = FakeStore::with_tenant(tenant("acme"));
    fakes
        .lock()
        .numbers
        .push(phone_number(&acme(), NUMBER, "15551234567"));
    Sender::with_ports(
        fakes,
        FakeMeta::default(),
        FakeSlots::default(),
        SenderSettings::default(),
    )
    .with_subscribers(subscribers)
}

#[tokio::test]
async fn each_recorded_fate_is_published() {
    use crate::domain::event::DomainEvent;
    use crate::events::Subscribers;
    use crate::fakes::FakeSubscriber;
    // GIVEN a sender whose subscriber records what it is told
    let published = FakeSubscriber::default();
    let sender = sender_publishing_to(Subscribers::new().with(published.clone()));
    let contact = and_a_user_who_wrote(&sender, 60);
    // WHEN one reply is sent and one refused (the window closed meanwhile)
    let sent = reply();
    assert!(matches!(
        sender.process(&sent, delivery(1), 1).await.unwrap(),
        JobResult::Done(Done::Sent { .. })
    ));
    edit_contact(&sender, &contact, |c| {
        c.last_inbound_at = Some(now() - 25 * 3600)
    });
    store(&sender)
        .lock()
        .newest_inbound
        .insert((acme(), contact.clone()), now() - 25 * 3600);
    let refused = reply();
    assert_eq!(
        sender.process(&refused, delivery(1), 1).await.unwrap(),
        JobResult::Done(Done::Refused)
    );
    // THEN each fate is published, naming its job
    let events = published.events();
    assert!(
        matches!(&events[..], [
            DomainEvent::MessageSent { message: a, wamid },
            DomainEvent::MessageFailed { message: b, code: None, refused: true },
        ] if a.job_id == sent.job_id && wamid == "wamid.SENT" && b.job_id == refused.job_id
            && a.contact_id == contact),
        "{events:?}"
    );
}

#[tokio::test]
async fn a_failing_subscriber_fails_the_job_whose_redelivery_publishes_again_and_sends_nothing() {
    use crate::domain::event::DomainEvent;
    use crate::events::Subscribers;
    use crate::fakes::{DownSubscriber, FakeSubscriber};
    // GIVEN a sender whose second subscriber is down
    let published = FakeSubscriber::default();
    let sender = sender_publishing_to(
        Subscribers::new()
            .with(published.clone())
            .with(DownSubscriber),
    );
    let contact = and_a_user_who_wrote(&sender, 60);
    let job = reply();
    // WHEN the reply is sent
    let first = sender.process(&job, delivery(1), 1).await;
    // THEN it was sent and recorded, but the job fails, to come back
    assert!(
        matches!(first, Err(super::sender::SenderError::Subscriber(_))),
        "{first:?}"
    );
    assert_eq!(sender.meta().calls(), 1);
    assert!(matches!(
        recorded(&sender, &contact, &job),
        Some(SendOutcome::Accepted { .. })
    ));
    // AND its redelivery sends nothing again, and publishes the recorded fate again
    let again = sender.process(&job, delivery(2), 1).await;
    assert!(matches!(
        again,
        Err(super::sender::SenderError::Subscriber(_))
    ));
    assert_eq!(sender.meta().calls(), 1, "sent once");
    let sent: Vec<_> = published
        .events()
        .into_iter()
        .filter_map(|e| match e {
            DomainEvent::MessageSent { message, .. } => Some(message.job_id),
            _ => None,
        })
        .collect();
    assert_eq!(sent, [job.job_id.clone(), job.job_id]);
}
