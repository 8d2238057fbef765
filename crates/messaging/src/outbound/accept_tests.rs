//! Accepting a send on in-memory ports: every refusal, the idempotency key's replay,
//! conflict and take-over, and what each failure leaves behind. The integration tests
//! (`business_messages`, `idempotent_send_survives_faults`) run the same code on the
//! local stack.

use super::accept::{AcceptError, AcceptedMessage, IdempotencyKey, Outbox, SendCommand};
use super::job::OutboundJob;
use crate::domain::conversation::SendOutcome;
use crate::domain::conversation::activity::Wrote;
use crate::domain::identity::UserIdentity;
use crate::domain::message_id::MessageId;
use crate::domain::outbound::{OutboundMessage, Recipient};
use crate::domain::tenant::{MetaCallsBlocked, TenantId, TenantStatus};
use crate::fakes::{FakeQueue, FakeStore, phone_number, tenant};
use crate::store::contact::ContactFacts;

const NUMBER: &str = "106540352242922";
const USER: &str = "4915112345678";
const NOW: i64 = 1_767_000_000;
/// The WABA of the fakes' numbers.
const WABA: &str = "102290129340398";

type TestOutbox = Outbox<FakeStore, FakeQueue>;

fn acme() -> TenantId {
    tenant("acme").id
}

fn given_a_tenant_with_a_number() -> TestOutbox {
    let store = FakeStore::with_tenant(tenant("acme"));
    store
        .lock()
        .numbers
        .push(phone_number(&acme(), NUMBER, "15551234567"));
    Outbox::with_ports(store, FakeQueue::default())
}

/// A contact who last wrote `ago` seconds before now.
fn and_a_user_who_wrote(outbox: &TestOutbox, ago: i64) -> String {
    let identity = user();
    let facts = ContactFacts {
        inbound_at: Some(NOW - ago),
        ..ContactFacts::default()
    };
    let contact = outbox.store.resolve(&acme(), &identity, &facts).unwrap();
    let person = Wrote::Person { sent_at: NOW - ago };
    let who = (contact.profile.contact_id.as_str(), NUMBER);
    outbox.store.conversation_message(&acme(), who, person);
    outbox
        .store
        .lock()
        .newest_inbound
        .insert((acme(), contact.profile.contact_id.clone()), NOW - ago);
    contact.profile.contact_id
}

fn user() -> UserIdentity {
    UserIdentity::from_parts(Some(USER), None).unwrap()
}

fn text(body: &str) -> OutboundMessage {
    OutboundMessage::text(NUMBER, recipient(), body)
}

fn template() -> OutboundMessage {
    OutboundMessage::template(NUMBER, recipient(), "order_shipped", "en_US")
}

fn recipient() -> Recipient {
    Recipient::parse(USER).unwrap()
}

fn command<'a>(
    tenant: &'a TenantId,
    message: &'a OutboundMessage,
    idempotency: Option<IdempotencyKey<'a>>,
) -> SendCommand<'a> {
    SendCommand {
        tenant,
        message,
        idempotency,
        now: NOW,
    }
}

fn key<'a>(key: &'a str, body: &'a str) -> Option<IdempotencyKey<'a>> {
    Some(IdempotencyKey {
        key,
        body: body.as_bytes(),
    })
}

async fn send(
    outbox: &TestOutbox,
    message: &OutboundMessage,
) -> Result<AcceptedMessage, AcceptError> {
    outbox.accept(command(&acme(), message, None)).await
}

fn records(outbox: &TestOutbox) -> usize {
    outbox.store.lock().outbound.len()
}

#[tokio::test]
async fn a_reply_in_the_window_is_recorded_queued_and_answers_the_conversation() {
    // GIVEN a user who wrote an hour ago
    let outbox = given_a_tenant_with_a_number();
    let contact_id = and_a_user_who_wrote(&outbox, 3600);
    // WHEN the business replies
    let accepted = send(&outbox, &text("It ships today.")).await.unwrap();
    // THEN the message is recorded as queued under the contact, its job queued once
    assert!(!accepted.replayed);
    assert_eq!(accepted.message.contact_id, contact_id);
    let t = outbox.store.lock();
    let record = t.outbound.values().next().unwrap();
    assert_eq!(record.state(), "queued");
    assert_eq!(record.message_type, "text");
    assert_eq!(outbox.queue.job_ids(), std::slice::from_ref(&record.job_id));
    // AND the conversation is answered, and the contact's outbound time moved
    let conversation = &t.conversations[&(acme(), contact_id.clone(), NUMBER.to_owned())];
    assert!(conversation.activity.answered());
    assert_eq!(t.outbound_activity.get(&(acme(), contact_id)), Some(&1));
    // AND the job says so, for the sender not to record it again
    assert!(outbox.queue.jobs()[0].activity_recorded);
}

#[tokio::test]
async fn a_queued_message_is_published_with_its_job() {
    use crate::domain::event::DomainEvent;
    // GIVEN an outbox with a subscriber, and a user who wrote an hour ago
    let published = crate::fakes::FakeSubscriber::default();
    let outbox = given_a_tenant_with_a_number()
        .with_subscribers(crate::events::Subscribers::new().with(published.clone()));
    let contact_id = and_a_user_who_wrote(&outbox, 3600);
    // WHEN the business replies
    send(&outbox, &text("It ships today.")).await.unwrap();
    // THEN the queued message is published, naming its job and contact
    let job_id = outbox.queue.job_ids()[0].clone();
    assert!(
        matches!(&published.events()[..], [DomainEvent::MessageQueued(m)]
            if m.job_id == job_id && m.contact_id == contact_id && m.phone_number_id == NUMBER),
        "{:?}",
        published.events()
    );
}

#[tokio::test]
async fn a_free_form_message_outside_the_window_is_refused_before_anything_is_written() {
    // GIVEN a user who never wrote, and one who wrote 25 hours ago
    let outbox = given_a_tenant_with_a_number();
    // WHEN the business sends free-form text to either
    let never = send(&outbox, &text("Hello")).await;
    and_a_user_who_wrote(&outbox, 25 * 3600);
    let stale = send(&outbox, &text("Hello")).await;
    // THEN both are refused, nothing recorded or queued
    assert!(matches!(never, Err(AcceptError::WindowClosed)), "{never:?}");
    assert!(matches!(stale, Err(AcceptError::WindowClosed)), "{stale:?}");
    assert_eq!(records(&outbox), 0);
    assert!(outbox.queue.job_ids().is_empty());
}

#[tokio::test]
async fn near_the_windows_end_the_newest_message_decides() {
    // GIVEN a profile whose rounded time says "maybe" (24 hours and two minutes ago)
    let outbox = given_a_tenant_with_a_number();
    let contact_id = and_a_user_who_wrote(&outbox, 24 * 3600 + 120);
    // AND a newer message than the profile shows, a minute later
    outbox
        .store
        .lock()
        .newest_inbound
        .insert((acme(), contact_id), NOW - 24 * 3600 + 60);
    // WHEN the business replies, THEN the exact time keeps the window open
    assert!(send(&outbox, &text("Still here")).await.is_ok());
}

#[tokio::test]
async fn a_template_to_someone_new_makes_their_contact_and_opens_the_conversation() {
    use crate::domain::event::DomainEvent;
    let published = crate::fakes::FakeSubscriber::default();
    let outbox = given_a_tenant_with_a_number()
        .with_subscribers(crate::events::Subscribers::new().with(published.clone()));
    let accepted = send(&outbox, &template()).await.unwrap();
    let contact_id = accepted.message.contact_id.clone();
    {
        let t = outbox.store.lock();
        assert_eq!(t.contacts.len(), 1);
        assert_eq!(t.contacts.values().next().unwrap().contact_id, contact_id);
        // AND the conversation the business opened is answered, nothing unread
        let conversation = &t.conversations[&(acme(), contact_id.clone(), NUMBER.to_owned())];
        assert_eq!(conversation.conversation.cycle, 1);
        assert!(conversation.activity.answered());
    }
    assert_eq!(outbox.queue.job_ids().len(), 1);
    // AND its opening is published, by the business, before the queued message
    assert_eq!(published.names(), ["conversation_opened", "message_queued"]);
    assert!(
        matches!(&published.events()[0], DomainEvent::ConversationOpened(o)
        if o.contact_id == contact_id && !o.by_person && o.cycle == 1)
    );
    // AND a second message opens nothing
    send(&outbox, &template()).await.unwrap();
    assert_eq!(published.names().len(), 3);
}

#[tokio::test]
async fn the_tenant_the_number_and_the_message_are_checked_first() {
    let outbox = given_a_tenant_with_a_number();
    and_a_user_who_wrote(&outbox, 60);
    // an invalid message
    let empty = send(&outbox, &text("")).await;
    assert!(matches!(empty, Err(AcceptError::Invalid(_))), "{empty:?}");
    // a number that is not the tenant's
    let message = text("Hi");
    let mut from_another_number = message.clone();
    from_another_number.from = "999999".into();
    let unknown = send(&outbox, &from_another_number).await;
    assert!(
        matches!(unknown, Err(AcceptError::UnknownNumber)),
        "{unknown:?}"
    );
    // a tenant that does not exist
    let ghost = TenantId::parse("ghost").unwrap();
    let gone = outbox.accept(command(&ghost, &message, None)).await;
    assert!(matches!(gone, Err(AcceptError::UnknownTenant)), "{gone:?}");
    // a suspended tenant
    outbox.store.lock().tenants.get_mut(&acme()).unwrap().status = TenantStatus::Suspended;
    let blocked = send(&outbox, &message).await;
    assert!(
        matches!(
            blocked,
            Err(AcceptError::Blocked(MetaCallsBlocked::Suspended))
        ),
        "{blocked:?}"
    );
    assert_eq!(records(&outbox), 0);
    assert!(outbox.queue.job_ids().is_empty());
}

#[tokio::test]
async fn the_same_key_and_body_replay_the_message_and_another_body_conflicts() {
    // GIVEN a message accepted under a key
    let outbox = given_a_tenant_with_a_number();
    and_a_user_who_wrote(&outbox, 60);
    let message = text("It ships today.");
    let first = outbox
        .accept(command(&acme(), &message, key("order-1", "sha-a")))
        .await
        .unwrap();
    // WHEN the call is made again with the key, once as it was and once with another body
    let again = outbox
        .accept(command(&acme(), &message, key("order-1", "sha-a")))
        .await
        .unwrap();
    let other = outbox
        .accept(command(
            &acme(),
            &text("Something else"),
            key("order-1", "sha-b"),
        ))
        .await;
    // THEN the replay names the same message; the other body is a conflict
    assert!(again.replayed);
    assert_eq!(again.message, first.message);
    assert!(
        matches!(other, Err(AcceptError::IdempotencyConflict)),
        "{other:?}"
    );
    assert_eq!(records(&outbox), 1);
    // AND a message still queued has the same job queued again (SQS drops the repeat)
    let jobs = outbox.queue.job_ids();
    assert_eq!(jobs.len(), 2);
    assert_eq!(jobs[0], jobs[1]);
}

#[tokio::test]
async fn a_replay_of_a_decided_message_queues_nothing() {
    let outbox = given_a_tenant_with_a_number();
    and_a_user_who_wrote(&outbox, 60);
    let message = text("It ships today.");
    outbox
        .accept(command(&acme(), &message, key("order-1", "sha-a")))
        .await
        .unwrap();
    // GIVEN the sender decided its fate
    for record in outbox.store.lock().outbound.values_mut() {
        record.outcome = Some(SendOutcome::Accepted {
            wamid: "wamid.OUT".into(),
            message_status: "accepted".into(),
        });
    }
    // WHEN the call is repeated, THEN it replays without queueing
    let again = outbox
        .accept(command(&acme(), &message, key("order-1", "sha-a")))
        .await
        .unwrap();
    assert!(again.replayed);
    assert_eq!(outbox.queue.job_ids().len(), 1);
}

#[tokio::test]
async fn without_a_key_a_queue_failure_takes_the_record_back() {
    // GIVEN a queue that fails once
    let outbox = given_a_tenant_with_a_number();
    and_a_user_who_wrote(&outbox, 60);
    outbox.queue.fail_once();
    // WHEN a message without a key is sent
    let failed = send(&outbox, &text("Hi")).await;
    // THEN the call fails and leaves no record that nothing would ever send
    assert!(matches!(failed, Err(AcceptError::Queue(_))), "{failed:?}");
    assert_eq!(records(&outbox), 0);
    // AND a retry is a new message, sent once
    send(&outbox, &text("Hi")).await.unwrap();
    assert_eq!(records(&outbox), 1);
    assert_eq!(outbox.queue.job_ids().len(), 1);
}

#[tokio::test]
async fn with_a_key_a_queue_failure_is_finished_by_the_next_call() {
    // GIVEN a call with a key whose job could not be queued
    let outbox = given_a_tenant_with_a_number();
    and_a_user_who_wrote(&outbox, 60);
    let message = text("It ships today.");
    outbox.queue.fail_once();
    let failed = outbox
        .accept(command(&acme(), &message, key("order-1", "sha-a")))
        .await;
    assert!(failed.is_err());
    // THEN the record and the key stay for the next call
    assert_eq!(records(&outbox), 1);
    // WHEN the caller retries with the key
    let retried = outbox
        .accept(command(&acme(), &message, key("order-1", "sha-a")))
        .await
        .unwrap();
    // THEN the same message's job is queued, once
    let record_job = outbox
        .store
        .lock()
        .outbound
        .values()
        .next()
        .unwrap()
        .job_id
        .clone();
    assert_eq!(outbox.queue.job_ids(), [record_job]);
    assert!(retried.replayed);
    // AND it leaves the business's activity to the sender, not knowing whether the failed
    // call recorded it
    assert!(!outbox.queue.jobs()[0].activity_recorded);
}

#[tokio::test]
async fn a_key_whose_call_died_before_the_record_is_taken_over_under_its_id() {
    // GIVEN a call that claimed its key, then failed to record the message
    let outbox = given_a_tenant_with_a_number();
    and_a_user_who_wrote(&outbox, 60);
    let message = text("It ships today.");
    outbox.store.fail_once("put_queued_outbound");
    let failed = outbox
        .accept(command(&acme(), &message, key("order-1", "sha-a")))
        .await;
    assert!(matches!(failed, Err(AcceptError::Store(_))), "{failed:?}");
    assert_eq!(records(&outbox), 0);
    assert_eq!(outbox.store.lock().idempotency.len(), 1);
    // WHEN the caller retries with the key
    let retried = outbox
        .accept(command(&acme(), &message, key("order-1", "sha-a")))
        .await
        .unwrap();
    // THEN the message is made under the id the key names, and queued once
    assert!(!retried.replayed);
    let held = outbox
        .store
        .lock()
        .idempotency
        .values()
        .next()
        .unwrap()
        .clone();
    assert_eq!(held.resource_id, retried.message.encode());
    assert_eq!(records(&outbox), 1);
    assert_eq!(outbox.queue.job_ids().len(), 1);
}

#[tokio::test]
async fn a_claim_made_before_keyed_digests_still_replays_its_message() {
    use crate::store::idempotency::{BodyDigest, IdempotencyRecord};
    use sha2::{Digest, Sha256};
    // GIVEN a claim as it was written before: the body's SHA-256, and a message whose job
    // id was derived from the key itself
    let outbox = given_a_tenant_with_a_number();
    let contact = and_a_user_who_wrote(&outbox, 60);
    let message = text("It ships today.");
    let body = "the body";
    let job = OutboundJob::of_valid(&acme(), &message, Some("order-1"), NOW - 30);
    let earlier = MessageId::outbound(&contact, job.enqueued_at, &job.job_id);
    outbox.store.lock().idempotency.insert(
        (acme(), "order-1".to_owned()),
        IdempotencyRecord {
            body: BodyDigest::Sha256(hex::encode(Sha256::digest(body))),
            resource_id: earlier.encode(),
            created_at: NOW - 30,
        },
    );
    // WHEN the call is repeated with the key and body
    let again = outbox
        .accept(command(&acme(), &message, key("order-1", body)))
        .await
        .unwrap();
    // THEN it names the same message, made under the job the key named then
    assert_eq!(again.message, earlier);
    assert_eq!(outbox.queue.job_ids(), [job.job_id]);
    // AND another body under the key is still a conflict
    let other = outbox
        .accept(command(&acme(), &message, key("order-1", "another body")))
        .await;
    assert!(matches!(other, Err(AcceptError::IdempotencyConflict)));
}

#[tokio::test]
async fn a_job_made_under_a_key_has_an_id_that_an_unkeyed_hash_of_the_key_is_not() {
    let outbox = given_a_tenant_with_a_number();
    and_a_user_who_wrote(&outbox, 60);
    let key_text = "welcome-4915112345678";
    outbox
        .accept(command(&acme(), &text("Hi"), key(key_text, "b")))
        .await
        .unwrap();
    let unkeyed = OutboundJob::of_valid(&acme(), &text("Hi"), Some(key_text), NOW);
    assert_ne!(outbox.queue.job_ids(), [unkeyed.job_id]);
}

#[tokio::test]
async fn a_failed_conversation_update_does_not_fail_a_queued_message() {
    let outbox = given_a_tenant_with_a_number();
    and_a_user_who_wrote(&outbox, 60);
    outbox.store.fail_once("business_wrote");
    let accepted = send(&outbox, &text("Hi")).await;
    assert!(accepted.is_ok(), "{accepted:?}");
    assert_eq!(outbox.queue.job_ids().len(), 1);
}

/// The user, who wrote an hour ago, records `scope`'s opt-out; the outbox's tenant has
/// `policy` and knows `order_shipped` as UTILITY and `spring_sale` as MARKETING.
fn and_the_user_opted_out(
    outbox: &TestOutbox,
    scope: crate::domain::consent::Scope,
    policy: crate::domain::consent::NonMarketingPolicy,
) {
    use crate::domain::consent::{Action, ConsentEntry, Source};
    let contact_id = and_a_user_who_wrote(outbox, 3600);
    let entry = ConsentEntry {
        scope,
        action: Action::OptOut,
        source: Source::Keyword,
        evidence: Some("msg.STOP".into()),
        at: NOW - 60,
        via_tenant_app: false,
    };
    let mut t = outbox.store.lock();
    t.contacts
        .get_mut(&(acme(), contact_id))
        .unwrap()
        .consent
        .apply(&entry);
    t.tenants.get_mut(&acme()).unwrap().consent.non_marketing = policy;
    for (name, category) in [("order_shipped", "UTILITY"), ("spring_sale", "MARKETING")] {
        t.template_categories.insert(
            (acme(), WABA.into(), name.into(), "en_US".into()),
            category.into(),
        );
    }
}

fn named_template(name: &str) -> OutboundMessage {
    OutboundMessage::template(NUMBER, recipient(), name, "en_US")
}

async fn refused_scope(
    outbox: &TestOutbox,
    message: &OutboundMessage,
) -> Option<crate::domain::consent::Scope> {
    match send(outbox, message).await {
        Err(AcceptError::OptedOut(o)) => {
            assert_eq!(o.at, NOW - 60);
            assert_eq!(o.origin, Some(crate::domain::consent::Source::Keyword));
            Some(o.scope)
        }
        Ok(_) => None,
        Err(other) => panic!("refused for another reason: {other:?}"),
    }
}

#[tokio::test]
async fn a_utility_twin_in_another_waba_does_not_let_a_marketing_template_through() {
    use crate::domain::consent::{NonMarketingPolicy, Scope};
    // GIVEN a user who stopped marketing, and a tenant with two WABAs: `promo` is a
    // marketing template in the WABA of the number it is sent from and a utility one in
    // the other; `other_waba_only` exists only in the other
    let outbox = given_a_tenant_with_a_number();
    and_the_user_opted_out(&outbox, Scope::Marketing, NonMarketingPolicy::Allow);
    {
        let mut t = outbox.store.lock();
        let mut insert = |waba: &str, name: &str, category: &str| {
            let key = (acme(), waba.into(), name.into(), "en_US".into());
            t.template_categories.insert(key, category.into());
        };
        insert(WABA, "promo", "MARKETING");
        insert("999000111222333", "promo", "UTILITY");
        insert("999000111222333", "other_waba_only", "UTILITY");
    }
    // WHEN either is sent from the number, THEN both are refused: the other WABA's
    // utility twin says nothing here, and a template unknown here counts as marketing
    for name in ["promo", "other_waba_only"] {
        assert_eq!(
            refused_scope(&outbox, &named_template(name)).await,
            Some(Scope::Marketing),
            "{name}"
        );
    }
    assert_eq!(records(&outbox), 0);
}

#[tokio::test]
async fn after_a_marketing_opt_out_marketing_and_unknown_templates_are_refused_and_others_go() {
    use crate::domain::consent::{NonMarketingPolicy, Scope};
    // GIVEN a user who stopped marketing, at a tenant with the default policy
    let outbox = given_a_tenant_with_a_number();
    and_the_user_opted_out(&outbox, Scope::Marketing, NonMarketingPolicy::Allow);
    // WHEN the business sends a marketing template, or one the gateway does not know
    // THEN both are refused before anything is written or queued
    assert_eq!(
        refused_scope(&outbox, &named_template("spring_sale")).await,
        Some(Scope::Marketing)
    );
    assert_eq!(
        refused_scope(&outbox, &named_template("never_synced")).await,
        Some(Scope::Marketing)
    );
    assert_eq!(records(&outbox), 0);
    assert!(outbox.queue.job_ids().is_empty());
    // AND a utility template and a reply inside the window go
    assert_eq!(
        refused_scope(&outbox, &named_template("order_shipped")).await,
        None
    );
    assert_eq!(
        refused_scope(&outbox, &text("Your parcel left.")).await,
        None
    );
    assert_eq!(outbox.queue.job_ids().len(), 2);
}

#[tokio::test]
async fn a_strict_tenant_refuses_everything_after_a_marketing_opt_out() {
    use crate::domain::consent::{NonMarketingPolicy, Scope};
    let outbox = given_a_tenant_with_a_number();
    and_the_user_opted_out(&outbox, Scope::Marketing, NonMarketingPolicy::Refuse);
    assert_eq!(
        refused_scope(&outbox, &named_template("order_shipped")).await,
        Some(Scope::Marketing)
    );
    assert_eq!(
        refused_scope(&outbox, &text("Your parcel left.")).await,
        Some(Scope::Marketing)
    );
    assert!(outbox.queue.job_ids().is_empty());
}

#[tokio::test]
async fn an_opt_out_of_all_refuses_every_message_without_reading_templates() {
    use crate::domain::consent::{NonMarketingPolicy, Scope};
    let outbox = given_a_tenant_with_a_number();
    and_the_user_opted_out(&outbox, Scope::All, NonMarketingPolicy::Allow);
    // The category is not needed: a lookup would fail the call.
    outbox.store.lock().fail_next.insert("template_category");
    for message in [
        named_template("order_shipped"),
        named_template("spring_sale"),
        text("Hi"),
    ] {
        assert_eq!(refused_scope(&outbox, &message).await, Some(Scope::All));
    }
    assert_eq!(records(&outbox), 0);
    assert!(outbox.queue.job_ids().is_empty());
}

#[tokio::test]
async fn a_contact_whose_processing_is_restricted_gets_nothing() {
    use crate::domain::contact::Restriction;
    // GIVEN a user who wrote an hour ago and then restricted processing
    let outbox = given_a_tenant_with_a_number();
    let contact_id = and_a_user_who_wrote(&outbox, 3600);
    outbox
        .store
        .lock()
        .contacts
        .get_mut(&(acme(), contact_id))
        .unwrap()
        .restriction = Some(Restriction {
        since: NOW - 10,
        keep_inbound: true,
    });
    // WHEN the business replies or sends a template
    // THEN both are refused, nothing recorded or queued
    for message in [text("Hello"), template()] {
        let refused = send(&outbox, &message).await;
        assert!(
            matches!(refused, Err(AcceptError::Restricted(since)) if since == NOW - 10),
            "{refused:?}"
        );
    }
    assert_eq!(records(&outbox), 0);
    assert!(outbox.queue.job_ids().is_empty());
}

#[tokio::test]
async fn someone_new_whose_number_opted_out_is_refused_and_no_contact_is_made_for_them() {
    use crate::domain::consent::{Action, ConsentEntry, ConsentState, Scope, Source};
    // GIVEN a number that opted out of marketing under a contact now gone (its opt-out is
    // kept for the identifier alone)
    let outbox = given_a_tenant_with_a_number();
    let mut kept = ConsentState::default();
    kept.apply(&ConsentEntry {
        scope: Scope::Marketing,
        action: Action::OptOut,
        source: Source::Keyword,
        evidence: None,
        at: NOW - 60,
        via_tenant_app: false,
    });
    {
        let mut t = outbox.store.lock();
        for key in user().keys() {
            t.opt_outs.insert((acme(), key.to_string()), kept.clone());
        }
        t.template_categories.insert(
            (acme(), WABA.into(), "spring_sale".into(), "en_US".into()),
            "MARKETING".into(),
        );
        t.template_categories.insert(
            (acme(), WABA.into(), "order_shipped".into(), "en_US".into()),
            "UTILITY".into(),
        );
    }
    // WHEN the business sends them a marketing template
    let refused = send(&outbox, &named_template("spring_sale")).await;
    // THEN it is refused, and nothing about them is written
    assert!(
        matches!(refused, Err(AcceptError::OptedOut(_))),
        "{refused:?}"
    );
    assert!(outbox.store.lock().contacts.is_empty());
    assert!(outbox.queue.job_ids().is_empty());
    // WHEN a utility template follows, THEN their contact is made, starting opted out
    send(&outbox, &named_template("order_shipped"))
        .await
        .unwrap();
    let t = outbox.store.lock();
    assert_eq!(t.contacts.len(), 1);
    assert!(
        t.contacts
            .values()
            .next()
            .unwrap()
            .consent
            .marketing_opt_out()
    );
}
