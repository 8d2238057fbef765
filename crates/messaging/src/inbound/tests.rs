//! The processor's rules on in-memory ports: every outcome, and what a failure half-way
//! leaves for the redelivery. The integration tests run the same code on the local stack.

use std::ops::Deref;

use serde_json::{Value, json};

use super::{InboundProcessor, Outcome, ProcessError};
use crate::domain::conversation::cycle::Transition;
use crate::domain::event::DomainEvent;
use crate::domain::status::DeliveryStatus;
use crate::domain::tenant::{Tenant, TenantId, UPGRADED_THROUGHPUT};
use crate::events::Subscribers;
use crate::fakes::{DownSubscriber, FakeQueue, FakeStore, FakeSubscriber, phone_number};
use crate::store::conversation::{ConversationStates, MoveOutcome};

const NUMBER: &str = "106540352242922";
const WABA: &str = "102290129340398";
const USER: &str = "4915112345678";

fn tenant() -> Tenant {
    crate::fakes::tenant("acme")
}

fn acme() -> TenantId {
    tenant().id
}

/// The processor over fakes, with a recorder of what it publishes as its one subscriber.
struct Processor {
    inner: InboundProcessor<FakeStore, FakeQueue>,
    published: FakeSubscriber,
}

impl Deref for Processor {
    type Target = InboundProcessor<FakeStore, FakeQueue>;

    fn deref(&self) -> &Self::Target {
        &self.inner
    }
}

fn given_a_tenant() -> Processor {
    given(tenant())
}

fn given(tenant: Tenant) -> Processor {
    over(FakeStore::with_tenant(tenant))
}

fn over(store: FakeStore) -> Processor {
    let published = FakeSubscriber::default();
    Processor {
        inner: InboundProcessor::with_ports(store)
            .with_subscribers(Subscribers::new().with(published.clone()))
            .with_replies(FakeQueue::default()),
        published,
    }
}

fn replies(p: &Processor) -> Vec<crate::outbound::OutboundJob> {
    p.replies.as_ref().unwrap().jobs.lock().unwrap().clone()
}

fn store(p: &Processor) -> &FakeStore {
    &p.store
}

fn published(p: &Processor) -> &FakeSubscriber {
    &p.published
}

/// A queue message body as the webhook writes it.
fn queued(kind: &str, field: &str, item: Value, contact: Option<Value>) -> String {
    let mut event = json!({
        "v": 1,
        "tenant_id": "acme",
        "waba_id": WABA,
        "field": field,
        "kind": kind,
        "phone_number_id": NUMBER,
        "received_at_ms": 1_767_000_000_000_i64,
        "item": item,
    });
    if let Some(contact) = contact {
        event["contact"] = contact;
    }
    event.to_string()
}

fn text_message(wamid: &str, at: i64) -> String {
    queued(
        "message",
        "messages",
        json!({"from": USER, "id": wamid, "timestamp": at.to_string(), "type": "text",
               "text": {"body": "Is my order on its way?"}}),
        Some(json!({"wa_id": USER, "profile": {"name": "Ana"}})),
    )
}

fn status(wamid: &str, status: &str, at: i64) -> String {
    queued(
        "status",
        "messages",
        json!({"id": wamid, "status": status, "timestamp": at.to_string(), "recipient_id": USER}),
        None,
    )
}

fn change(field: &str, value: Value) -> String {
    let mut body: Value = serde_json::from_str(&queued("change", field, value, None)).unwrap();
    body["entry_time"] = json!(1_767_000_100);
    body.as_object_mut().unwrap().remove("phone_number_id");
    body.to_string()
}

#[tokio::test]
async fn a_new_users_message_is_stored_with_a_new_contact_and_published() {
    // GIVEN a tenant that has never heard from the user
    let p = given_a_tenant();
    // WHEN the user writes
    let outcome = p
        .process(&text_message("wamid.A", 1_767_000_000))
        .await
        .unwrap();
    // THEN the message is stored under a new contact named as Meta names them
    assert_eq!(outcome, Outcome::Stored);
    {
        let t = store(&p).lock();
        assert_eq!(t.messages.len(), 1);
        let profile = t.contacts.values().next().unwrap();
        assert_eq!(profile.profile_name.as_deref(), Some("Ana"));
        assert_eq!(profile.phone.as_deref(), Some(USER));
        assert_eq!(profile.last_inbound_at, Some(1_767_000_000));
        // AND the conversation on the number opened, unread
        let (key, conversation) = t.conversations.iter().next().unwrap();
        assert_eq!(
            (key.1.as_str(), key.2.as_str()),
            (profile.contact_id.as_str(), NUMBER)
        );
        assert_eq!(conversation.conversation.cycle, 1);
        assert!(conversation.activity.unread());
    }
    // AND the contact's making, the conversation's opening and the message are
    // published, with the contact's id
    assert_eq!(
        published(&p).names(),
        ["contact_created", "conversation_opened", "message_received"]
    );
    let Some(DomainEvent::MessageReceived(received)) = published(&p).events().pop() else {
        panic!("a received message");
    };
    assert_eq!(received.contact_id, profile_id(&p));
    assert_eq!(received.from.as_deref(), Some(USER));
    assert_eq!(received.message["id"], json!("wamid.A"));
    assert!(received.first_delivery);
}

#[tokio::test]
async fn an_event_sent_before_its_persons_erasure_is_dropped_and_a_later_one_starts_afresh() {
    // GIVEN a user erased at a time, whose identity no longer leads anywhere
    let p = given_a_tenant();
    let erased_at = 1_767_000_100;
    store(&p)
        .lock()
        .erased
        .insert((acme(), format!("phone:{USER}")), erased_at);
    // WHEN Meta retries a message they sent before the erasure
    let outcome = p
        .process(&text_message("wamid.OLD", erased_at - 50))
        .await
        .unwrap();
    // THEN it is dropped: no contact, no message, no callback
    assert_eq!(outcome, Outcome::PersonErased);
    {
        let t = store(&p).lock();
        assert!(t.contacts.is_empty() && t.messages.is_empty());
    }
    assert!(published(&p).names().is_empty());
    // AND a message they send afterwards makes a new contact
    let outcome = p
        .process(&text_message("wamid.NEW", erased_at + 1))
        .await
        .unwrap();
    assert_eq!(outcome, Outcome::Stored);
    assert_eq!(store(&p).lock().contacts.len(), 1);
}

fn profile_id(p: &Processor) -> String {
    store(p)
        .lock()
        .contacts
        .values()
        .next()
        .unwrap()
        .contact_id
        .clone()
}

fn message_from(from: &str, wamid: &str, at: i64) -> String {
    queued(
        "message",
        "messages",
        json!({"from": from, "id": wamid, "timestamp": at.to_string(), "type": "text",
               "text": {"body": "hello"}}),
        Some(json!({"wa_id": from, "profile": {"name": "Ana"}})),
    )
}

fn changed_number(wamid: &str, new: &str, at: i64) -> String {
    queued(
        "message",
        "messages",
        json!({"from": USER, "id": wamid, "timestamp": at.to_string(), "type": "system",
               "system": {"body": "User A changed from 4915112345678 to 4917000000001",
                          "wa_id": new, "type": "user_changed_number"}}),
        Some(json!({"wa_id": USER, "profile": {"name": "Ana"}})),
    )
}

fn contact_of(p: &Processor, phone: &str) -> Option<String> {
    store(p)
        .lock()
        .identities
        .get(&(acme(), format!("phone:{phone}")))
        .cloned()
}

#[tokio::test]
async fn a_user_who_changed_numbers_keeps_their_contact_and_history_on_the_new_one() {
    const NEW: &str = "4917000000001";
    // GIVEN a user who wrote from their old number
    let p = given_a_tenant();
    p.process(&text_message("wamid.A", 1_767_000_000))
        .await
        .unwrap();
    let ana = profile_id(&p);
    // WHEN Meta tells that they changed numbers (and retries the notice)
    let notice = changed_number("wamid.SYS", NEW, 1_767_000_100);
    assert_eq!(p.process(&notice).await.unwrap(), Outcome::Stored);
    assert_eq!(p.process(&notice).await.unwrap(), Outcome::Duplicate);
    // THEN the new number leads to the same contact, which shows it
    assert_eq!(contact_of(&p, NEW).as_deref(), Some(ana.as_str()));
    assert_eq!(
        store(&p).lock().contacts[&(acme(), ana.clone())]
            .phone
            .as_deref(),
        Some(NEW)
    );
    // AND their next message from the new number joins the same conversation
    p.process(&message_from(NEW, "wamid.B", 1_767_000_200))
        .await
        .unwrap();
    assert_eq!(
        store(&p).lock().messages[&(acme(), "wamid.B".to_owned())],
        ana
    );
    // AND a late retry of what they sent from the old number before the move still does
    p.process(&message_from(USER, "wamid.LATE", 1_767_000_050))
        .await
        .unwrap();
    assert_eq!(
        store(&p).lock().messages[&(acme(), "wamid.LATE".to_owned())],
        ana
    );
    // AND whoever writes from the old number after the move is someone new
    p.process(&message_from(USER, "wamid.C", 1_767_000_300))
        .await
        .unwrap();
    let stranger = store(&p).lock().messages[&(acme(), "wamid.C".to_owned())].clone();
    assert_ne!(stranger, ana);
    assert_eq!(contact_of(&p, USER).as_deref(), Some(stranger.as_str()));
}

#[tokio::test]
async fn a_redelivered_message_is_a_duplicate_that_stores_nothing_again() {
    // GIVEN a stored message
    let p = given_a_tenant();
    let body = text_message("wamid.A", 1_767_000_000);
    p.process(&body).await.unwrap();
    // WHEN Meta delivers it again
    let outcome = p.process(&body).await.unwrap();
    // THEN nothing new is stored, and the message is published again, marked as an
    // earlier delivery's (subscribers drop repeats by its source; a worker that died
    // before publishing needs this)
    assert_eq!(outcome, Outcome::Duplicate);
    assert_eq!(store(&p).lock().messages.len(), 1);
    assert_eq!(store(&p).lock().contacts.len(), 1);
    assert_eq!(
        published(&p).names(),
        [
            "contact_created",
            "conversation_opened",
            "message_received",
            "contact_created",
            "conversation_opened",
            "message_received"
        ]
    );
    let firsts: Vec<bool> = published(&p)
        .events()
        .iter()
        .filter_map(|e| match e {
            DomainEvent::MessageReceived(m) => Some(m.first_delivery),
            _ => None,
        })
        .collect();
    assert_eq!(firsts, [true, false]);
}

#[tokio::test]
async fn the_first_message_after_a_resolve_opens_the_next_cycle_and_says_so() {
    // GIVEN a conversation the business resolved after the person's first message
    let p = given_a_tenant();
    p.process(&text_message("wamid.A", 1_767_000_000))
        .await
        .unwrap();
    let contact_id = store(&p)
        .lock()
        .contacts
        .values()
        .next()
        .unwrap()
        .contact_id
        .clone();
    let resolved = store(&p)
        .move_conversation(
            &acme(),
            &contact_id,
            NUMBER,
            &Transition::Resolve,
            1_767_000_050,
        )
        .await
        .unwrap();
    assert!(matches!(resolved, MoveOutcome::Moved(_)), "{resolved:?}");
    // WHEN a late copy of an earlier message arrives, then the person writes again
    p.process(&text_message("wamid.late", 1_767_000_040))
        .await
        .unwrap();
    p.process(&text_message("wamid.B", 1_767_000_100))
        .await
        .unwrap();
    // THEN only the message sent after the resolve opens a cycle: the second, opened at
    // its send time, by the person
    let opened: Vec<_> = published(&p)
        .events()
        .into_iter()
        .filter_map(|e| match e {
            DomainEvent::ConversationOpened(o) => Some((o.cycle, o.opened_at, o.by_person)),
            _ => None,
        })
        .collect();
    assert_eq!(opened, [(1, 1_767_000_000, true), (2, 1_767_000_100, true)]);
    let t = store(&p).lock();
    let conversation = &t.conversations[&(acme(), contact_id, NUMBER.to_owned())];
    assert_eq!(conversation.conversation.stage.name(), "open");
    assert!(conversation.activity.unread());
}

#[tokio::test]
async fn a_known_users_next_message_updates_their_contact_instead_of_making_one() {
    // GIVEN a contact who wrote before
    let p = given_a_tenant();
    p.process(&text_message("wamid.A", 1_767_000_000))
        .await
        .unwrap();
    // WHEN they write again, later
    let outcome = p
        .process(&text_message("wamid.B", 1_767_003_600))
        .await
        .unwrap();
    // THEN the message joins the same contact, whose last inbound time moves forward
    assert_eq!(outcome, Outcome::Stored);
    {
        let t = store(&p).lock();
        assert_eq!(t.contacts.len(), 1);
        assert_eq!(t.messages.len(), 2);
        let profile = t.contacts.values().next().unwrap();
        assert_eq!(profile.last_inbound_at, Some(1_767_003_600));
    }
}

#[tokio::test]
async fn a_crash_between_the_contact_and_the_message_loses_nothing_on_redelivery() {
    // GIVEN a first attempt that made the contact, then failed to store the message
    let p = given_a_tenant();
    let body = text_message("wamid.A", 1_767_000_000);
    store(&p).fail_once("put_inbound_message");
    let first = p.process(&body).await;
    assert!(matches!(first, Err(ProcessError::Store(_))), "{first:?}");
    assert_eq!(store(&p).lock().messages.len(), 0);
    assert_eq!(
        published(&p).names(),
        ["contact_created"],
        "the contact, stored, is published; the message, not stored, is not"
    );
    // WHEN SQS delivers the record again
    let second = p.process(&body).await.unwrap();
    // THEN the message is stored once, under the contact the first attempt made, and the
    // contact's making is published again, though the first attempt made it
    assert_eq!(second, Outcome::Stored);
    assert_eq!(
        published(&p).names(),
        [
            "contact_created",
            "contact_created",
            "conversation_opened",
            "message_received"
        ]
    );
    let t = store(&p).lock();
    assert_eq!(t.messages.len(), 1);
    assert_eq!(t.contacts.len(), 1);
}

#[tokio::test]
async fn a_failed_subscriber_fails_the_record_and_the_redelivery_publishes_again() {
    // GIVEN a worker whose second subscriber is down
    let first = FakeSubscriber::default();
    let p: InboundProcessor<FakeStore, FakeQueue> =
        InboundProcessor::with_ports(FakeStore::with_tenant(tenant()))
            .with_subscribers(Subscribers::new().with(first.clone()).with(DownSubscriber));
    // WHEN a message arrives
    let result = p.process(&text_message("wamid.A", 1_767_000_000)).await;
    // THEN the record fails, naming the subscriber, after the contact was made and before
    // anything else was written about it
    let Err(ProcessError::Subscriber(e)) = result else {
        panic!("{result:?}");
    };
    assert_eq!((e.subscriber, e.event), ("down", "contact_created"));
    assert_eq!(p.store.lock().contacts.len(), 1);
    assert_eq!(p.store.lock().messages.len(), 0);
    // AND its redelivery publishes the contact's making again, though the contact exists
    let again = p.process(&text_message("wamid.A", 1_767_000_000)).await;
    assert!(matches!(again, Err(ProcessError::Subscriber(_))));
    assert_eq!(first.names(), ["contact_created", "contact_created"]);
    // AND the person's next message finds the contact another event made: no making
    // is published for it, and the conversation it opens is
    p.process(&text_message("wamid.B", 1_767_000_100))
        .await
        .unwrap_err();
    assert_eq!(
        first.names(),
        ["contact_created", "contact_created", "conversation_opened"]
    );
}

#[tokio::test]
async fn a_failed_contact_update_fails_the_record_and_the_redelivery_finishes_it() {
    // GIVEN storage that takes the message but a contact update that fails
    let p = given_a_tenant();
    p.process(&text_message("wamid.A", 1_767_000_000))
        .await
        .unwrap();
    store(&p).fail_once("update_contact");
    // WHEN the next message is processed
    let result = p.process(&text_message("wamid.B", 1_767_003_600)).await;
    // THEN the record fails (SQS redelivers it) and the redelivery finishes the update
    assert!(result.is_err());
    assert_eq!(
        p.process(&text_message("wamid.B", 1_767_003_600))
            .await
            .unwrap(),
        Outcome::Duplicate
    );
    let t = store(&p).lock();
    assert_eq!(
        t.contacts.values().next().unwrap().last_inbound_at,
        Some(1_767_003_600)
    );
}

/// The user as a contact: someone the business has sent to.
fn and_the_user_is_a_contact(p: &Processor) {
    let identity = crate::domain::identity::UserIdentity::from_parts(Some(USER), None).unwrap();
    store(p)
        .resolve(
            &TenantId::parse("acme").unwrap(),
            &identity,
            &crate::store::contact::ContactFacts::default(),
        )
        .unwrap();
}

#[tokio::test]
async fn statuses_advance_in_rank_and_a_late_one_is_kept_in_history_only() {
    // GIVEN a message we sent
    let p = given_a_tenant();
    and_the_user_is_a_contact(&p);
    // WHEN its statuses arrive out of order, one of them twice
    let read = p
        .process(&status("wamid.OUT", "read", 1_767_000_030))
        .await
        .unwrap();
    let delivered = p
        .process(&status("wamid.OUT", "delivered", 1_767_000_020))
        .await
        .unwrap();
    let again = p
        .process(&status("wamid.OUT", "delivered", 1_767_000_020))
        .await
        .unwrap();
    // THEN read stands, the late delivered is history, the repeat changes nothing
    assert_eq!(read, Outcome::Applied);
    assert_eq!(delivered, Outcome::LateStatus);
    assert_eq!(again, Outcome::Duplicate);
    let t = store(&p).lock();
    let state = t.deliveries.values().next().unwrap();
    assert_eq!(state.status, Some(DeliveryStatus::Read));
    assert_eq!(state.history.len(), 2);
    // AND each is published, the late one marked late
    let late: Vec<bool> = published(&p)
        .events()
        .iter()
        .map(|e| match e {
            DomainEvent::StatusChanged(s) => s.late,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(late, [false, true, false], "the repeat is no late status");
}

#[tokio::test]
async fn a_status_of_a_message_to_no_contact_is_dropped_and_makes_none() {
    // GIVEN a user who is no contact (erased, or aged out, since the message was sent)
    let p = given_a_tenant();
    // WHEN a status of a message to them arrives
    let outcome = p
        .process(&status("wamid.OUT", "delivered", 1_767_000_020))
        .await
        .unwrap();
    // THEN nothing is made or kept, and nothing is published
    assert_eq!(outcome, Outcome::NoContact);
    let t = store(&p).lock();
    assert!(t.contacts.is_empty() && t.identities.is_empty() && t.deliveries.is_empty());
    assert!(t.events.is_empty());
    drop(t);
    assert!(published(&p).names().is_empty());
}

#[tokio::test]
async fn a_group_status_is_kept_unacted_on() {
    let p = given_a_tenant();
    let body = queued(
        "status",
        "messages",
        json!({"id": "wamid.G", "status": "sent", "timestamp": "1767000000",
               "recipient_id": USER, "recipient_type": "group"}),
        None,
    );
    assert_eq!(p.process(&body).await.unwrap(), Outcome::KeptUnknown);
    assert!(store(&p).lock().deliveries.is_empty());
    assert_eq!(store(&p).lock().events.len(), 1);
}

#[tokio::test]
async fn a_message_of_an_unknown_type_is_stored_whole_not_lost() {
    // GIVEN a message of a type this gateway does not know yet
    let p = given_a_tenant();
    let body = queued(
        "message",
        "messages",
        json!({"from": USER, "id": "wamid.X", "timestamp": "1767000000", "type": "hologram"}),
        None,
    );
    // WHEN it arrives, THEN it is stored as a message (its raw JSON kept) and handed on
    assert_eq!(p.process(&body).await.unwrap(), Outcome::Stored);
    assert_eq!(store(&p).lock().messages.len(), 1);
    let Some(DomainEvent::MessageReceived(received)) = published(&p).events().pop() else {
        panic!("a received message");
    };
    assert_eq!(received.message["type"], json!("hologram"));
}

#[tokio::test]
async fn a_message_meta_sent_malformed_is_kept_as_an_event_once() {
    // GIVEN a message without its timestamp
    let p = given_a_tenant();
    let body = queued(
        "message",
        "messages",
        json!({"from": USER, "id": "wamid.X", "type": "text", "text": {"body": "hi"}}),
        None,
    );
    // WHEN it arrives, twice
    let first = p.process(&body).await.unwrap();
    let second = p.process(&body).await.unwrap();
    // THEN it is kept once as a tenant event with the reason, and no message is stored
    assert_eq!((first, second), (Outcome::KeptUnknown, Outcome::Duplicate));
    {
        let t = store(&p).lock();
        assert!(t.messages.is_empty());
        assert_eq!(t.events.len(), 1);
        assert!(
            t.events.values().next().unwrap().is_some(),
            "the reason is kept"
        );
    }
}

#[tokio::test]
async fn a_message_without_a_valid_sender_is_kept_not_stored() {
    let p = given_a_tenant();
    let body = queued(
        "message",
        "messages",
        json!({"from": "not-a-phone", "id": "wamid.Y", "timestamp": "1767000000",
               "type": "text", "text": {"body": "hi"}}),
        None,
    );
    assert_eq!(p.process(&body).await.unwrap(), Outcome::KeptUnknown);
    assert!(store(&p).lock().contacts.is_empty());
}

#[tokio::test]
async fn echoes_calls_and_errors_are_kept_without_action() {
    let p = given_a_tenant();
    for (kind, item) in [
        ("echo", json!({"id": "wamid.E", "to": USER, "type": "text"})),
        ("call", json!({"id": "call.1", "event": "connect"})),
        (
            "error",
            json!({"code": 131000, "title": "Something went wrong"}),
        ),
    ] {
        let outcome = p
            .process(&queued(kind, "messages", item, None))
            .await
            .unwrap();
        assert_eq!(outcome, Outcome::KeptUnknown, "{kind}");
    }
    assert_eq!(store(&p).lock().events.len(), 3);
    assert!(published(&p).names().is_empty());
}

#[tokio::test]
async fn an_event_for_a_tenant_that_is_gone_is_dropped_and_writes_nothing() {
    // GIVEN no tenant (deleted, or being deleted)
    let p = over(FakeStore::default());
    // WHEN its user's message arrives
    let outcome = p
        .process(&text_message("wamid.A", 1_767_000_000))
        .await
        .unwrap();
    // THEN it is dropped
    assert_eq!(outcome, Outcome::TenantGone);
    let t = store(&p).lock();
    assert!(t.contacts.is_empty() && t.messages.is_empty() && t.events.is_empty());
}

#[tokio::test]
async fn unreadable_records_and_unknown_versions_fail_without_writing() {
    let p = given_a_tenant();
    assert!(matches!(
        p.process("{not json").await,
        Err(ProcessError::Unreadable(_))
    ));
    let mut body: Value = serde_json::from_str(&text_message("wamid.A", 1)).unwrap();
    body["v"] = json!(9);
    assert!(matches!(
        p.process(&body.to_string()).await,
        Err(ProcessError::UnknownVersion(9))
    ));
    body["v"] = json!(1);
    body["tenant_id"] = json!("../other");
    assert!(matches!(
        p.process(&body.to_string()).await,
        Err(ProcessError::BadTenant)
    ));
    assert!(store(&p).lock().contacts.is_empty());
}

#[tokio::test]
async fn a_marketing_stop_then_an_older_resume_leaves_the_user_opted_out() {
    // GIVEN a user who stops marketing messages
    let p = given_a_tenant();
    let preference = |value: &str, at: i64| {
        queued(
            "user_preference",
            "user_preferences",
            json!({"wa_id": USER, "category": "marketing_messages", "value": value,
                   "timestamp": at}),
            None,
        )
    };
    let stop = p.process(&preference("stop", 1_767_000_100)).await.unwrap();
    // WHEN an older resume arrives late
    let resume = p
        .process(&preference("resume", 1_767_000_050))
        .await
        .unwrap();
    // THEN the stop stands
    assert_eq!((stop, resume), (Outcome::Applied, Outcome::Applied));
    let consent = store(&p)
        .lock()
        .contacts
        .values()
        .next()
        .unwrap()
        .consent
        .clone();
    let marketing = consent.marketing.unwrap();
    assert_eq!((marketing.opted_out, marketing.at), (true, 1_767_000_100));
    assert_eq!(marketing.source, Some(crate::domain::consent::Source::Meta));
    assert!(
        replies(&p).is_empty(),
        "Meta's own stop is not confirmed by us"
    );
    assert_eq!(
        published(&p).names(),
        ["contact_created", "consent_changed", "consent_changed"]
    );
    // AND both are Meta's marketing choices, which the tenant's callbacks report
    for event in published(&p).events().iter().skip(1) {
        let DomainEvent::ConsentChanged(c) = event else {
            panic!("{event:?}");
        };
        assert_eq!(
            (c.source, c.scope),
            (
                crate::domain::consent::Source::Meta,
                crate::domain::consent::Scope::Marketing
            )
        );
    }
    // AND a preference of another category is kept unacted on
    let other = queued(
        "user_preference",
        "user_preferences",
        json!({"wa_id": USER, "category": "something_else", "value": "stop"}),
        None,
    );
    assert_eq!(p.process(&other).await.unwrap(), Outcome::KeptUnknown);
}

#[tokio::test]
async fn a_template_status_update_sets_the_status_and_is_published() {
    let p = given_a_tenant();
    let body = change(
        "message_template_status_update",
        json!({"event": "APPROVED", "message_template_id": 5_550_001,
               "message_template_name": "order_shipped", "message_template_language": "en_US",
               "reason": "NONE"}),
    );
    assert_eq!(p.process(&body).await.unwrap(), Outcome::Applied);
    {
        let t = store(&p).lock();
        let (value, _) = t
            .templates
            .get(&(acme(), "5550001".into(), "status"))
            .unwrap();
        assert_eq!(value, "APPROVED");
        assert_eq!(t.events.len(), 1, "the event is recorded too");
    }
    assert_eq!(published(&p).names(), ["template_changed"]);
}

#[tokio::test]
async fn a_throughput_upgrade_raises_the_numbers_rate_and_an_unknown_field_is_kept() {
    // GIVEN a tenant with one number
    let p = given_a_tenant();
    store(&p)
        .lock()
        .numbers
        .push(phone_number(&acme(), NUMBER, "15551234567"));
    // WHEN Meta reports a throughput upgrade for its display number
    let body = change(
        "phone_number_quality_update",
        json!({"display_phone_number": "+1 555-123-4567", "event": "THROUGHPUT_UPGRADE",
               "current_limit": "TIER_UNLIMITED"}),
    );
    assert_eq!(p.process(&body).await.unwrap(), Outcome::Applied);
    // THEN the number's quality and rate follow
    {
        let t = store(&p).lock();
        let number = &t.numbers[0];
        assert_eq!(number.throughput_per_second, UPGRADED_THROUGHPUT);
        assert_eq!(number.quality.as_ref().unwrap().event, "THROUGHPUT_UPGRADE");
    }
    assert_eq!(published(&p).names(), ["account_changed"]);
    // AND a field this gateway does not act on is kept as an event, nothing else
    let unknown = change("some_future_field", json!({"anything": 1}));
    assert_eq!(p.process(&unknown).await.unwrap(), Outcome::KeptUnknown);
    assert_eq!(published(&p).names().len(), 1);
}

#[tokio::test]
async fn a_worker_without_subscribers_still_stores() {
    let p: InboundProcessor<FakeStore, FakeQueue> =
        InboundProcessor::with_ports(FakeStore::with_tenant(tenant()));
    let outcome = p
        .process(&text_message("wamid.A", 1_767_000_000))
        .await
        .unwrap();
    assert_eq!(outcome, Outcome::Stored);
}

fn text_from(user: &str, wamid: &str, at: i64, body: &str) -> String {
    queued(
        "message",
        "messages",
        json!({"from": user, "id": wamid, "timestamp": at.to_string(), "type": "text",
               "text": {"body": body}}),
        Some(json!({"wa_id": user, "profile": {"name": "Ana"}})),
    )
}

fn consent_of(p: &Processor) -> crate::domain::consent::ConsentState {
    let t = store(p).lock();
    t.contacts.values().next().unwrap().consent.clone()
}

/// The public id of the message `wamid` sent at `at` by the one contact: what consent keeps
/// as evidence (never the wamid, whose base64 holds the number).
fn evidence_of(p: &Processor, wamid: &str, at: i64) -> String {
    let t = store(p).lock();
    let contact = &t.contacts.values().next().unwrap().contact_id;
    crate::domain::message_id::MessageId::inbound(
        contact,
        at,
        &crate::fakes::blind::fake_blind(wamid),
    )
    .encode()
}

#[tokio::test]
async fn a_stop_keyword_opts_out_of_all_and_is_confirmed_once_in_its_language() {
    use crate::domain::consent::{Scope, Source};
    // GIVEN a tenant with the default keywords
    let p = given_a_tenant();
    // WHEN the user writes "¡Parar!" and Meta delivers it twice
    let stop = text_from(USER, "wamid.STOP", 1_767_000_000, "¡Parar!");
    assert_eq!(p.process(&stop).await.unwrap(), Outcome::Stored);
    assert_eq!(p.process(&stop).await.unwrap(), Outcome::Duplicate);
    // THEN they are opted out of everything, by keyword, with the message's id as evidence
    let all = consent_of(&p).all.unwrap();
    assert!(all.opted_out);
    assert_eq!((all.at, all.source), (1_767_000_000, Some(Source::Keyword)));
    let evidence = evidence_of(&p, "wamid.STOP", 1_767_000_000);
    assert_eq!(all.evidence.as_deref(), Some(evidence.as_str()));
    // AND the confirmation is one job (queued twice, the same id: SQS and the sender keep
    // it to one send), in Spanish, marked so consent does not stop it
    let jobs = replies(&p);
    assert_eq!(jobs.len(), 2);
    assert_eq!(jobs[0], jobs[1]);
    assert_eq!(jobs[0].purpose, crate::outbound::job::Purpose::ConsentAck);
    assert!(jobs[0].to_body().contains("ALTA"), "{}", jobs[0].to_body());
    // WHEN they write STOP again later
    p.process(&text_from(USER, "wamid.STOP2", 1_767_000_500, "stop"))
        .await
        .unwrap();
    // THEN nothing new is confirmed, and the first opt-out stands
    assert_eq!(replies(&p).len(), 2);
    assert_eq!(
        consent_of(&p).all.unwrap().evidence.as_deref(),
        Some(evidence.as_str())
    );
    // WHEN they write START
    p.process(&text_from(USER, "wamid.START", 1_767_000_900, "Start"))
        .await
        .unwrap();
    // THEN they are back in, for marketing too
    let state = consent_of(&p);
    assert!(!state.marketing_opt_out());
    assert!(!state.mark(Scope::All).unwrap().opted_out);
    assert_eq!(replies(&p).len(), 2);
    // AND the audit log holds each of the three entries once, by the person, without words
    let audit = store(&p).lock().audit.clone();
    let actions: Vec<&str> = audit.iter().map(|(_, f)| f.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "consent opt_out all by keyword",
            "consent opt_out all by keyword",
            "consent opt_in all by keyword"
        ]
    );
    for (_, fact) in &audit {
        assert_eq!(fact.actor, "person");
        assert!(fact.target.ends_with("/consent"), "{fact:?}");
        assert!(!format!("{fact:?}").contains("Parar"), "{fact:?}");
    }
}

#[tokio::test]
async fn a_sentence_holding_stop_is_a_message_not_an_opt_out() {
    let p = given_a_tenant();
    p.process(&text_from(
        USER,
        "wamid.A",
        1_767_000_000,
        "please stop by the shop",
    ))
    .await
    .unwrap();
    assert_eq!(consent_of(&p), Default::default());
    assert!(replies(&p).is_empty());
}

#[tokio::test]
async fn a_declared_button_opts_out_of_marketing_as_the_tenant_set_it() {
    use crate::domain::consent::{ConsentSettings, Scope, Source};
    // GIVEN a tenant whose "UNSUB_PROMO" button opts out of marketing, confirmed in its words
    let mut t = tenant();
    t.consent = ConsentSettings {
        opt_out_button_payloads: vec!["UNSUB_PROMO".into()],
        keyword_scope: Scope::Marketing,
        acknowledgements: [("en".to_owned(), "Done: no more offers.".to_owned())].into(),
        ..ConsentSettings::default()
    };
    let p = given(t);
    // WHEN the user presses it
    let pressed = queued(
        "message",
        "messages",
        json!({"from": USER, "id": "wamid.BTN", "timestamp": "1767000000", "type": "button",
               "button": {"payload": "UNSUB_PROMO", "text": "Stop promotions"}}),
        Some(json!({"wa_id": USER})),
    );
    p.process(&pressed).await.unwrap();
    // THEN marketing alone is stopped, by button, and the tenant's text confirms it
    let state = consent_of(&p);
    assert!(state.marketing_opt_out() && state.all.is_none());
    assert_eq!(state.marketing.unwrap().source, Some(Source::Button));
    let jobs = replies(&p);
    assert_eq!(jobs.len(), 1);
    assert!(jobs[0].to_body().contains("no more offers"));
}

#[tokio::test]
async fn no_confirmation_when_the_tenant_turned_it_off_and_a_failed_queue_is_retried() {
    use crate::domain::consent::ConsentSettings;
    let mut t = tenant();
    t.consent = ConsentSettings {
        acknowledge: false,
        ..ConsentSettings::default()
    };
    let quiet = given(t);
    quiet
        .process(&text_from(USER, "wamid.S", 1_767_000_000, "STOP"))
        .await
        .unwrap();
    assert!(consent_of(&quiet).all.unwrap().opted_out);
    assert!(replies(&quiet).is_empty());

    // GIVEN the confirmation's queue fails once
    let p = given_a_tenant();
    p.replies.as_ref().unwrap().fail_once();
    let stop = text_from(USER, "wamid.S", 1_767_000_000, "STOP");
    // THEN the event fails, to be redelivered, and its redelivery confirms it
    assert!(matches!(
        p.process(&stop).await,
        Err(ProcessError::Reply(_))
    ));
    assert_eq!(p.process(&stop).await.unwrap(), Outcome::Duplicate);
    assert_eq!(replies(&p).len(), 1);
}

#[tokio::test]
async fn someone_who_opted_out_under_a_contact_now_gone_starts_opted_out() {
    // GIVEN a user who opted out, whose contact is then gone (aged out or erased)
    let p = given_a_tenant();
    p.process(&text_from(USER, "wamid.S", 1_767_000_000, "STOP"))
        .await
        .unwrap();
    {
        let mut t = store(&p).lock();
        t.contacts.clear();
        t.identities.clear();
    }
    // WHEN they write again
    p.process(&text_from(USER, "wamid.B", 1_767_100_000, "hello"))
        .await
        .unwrap();
    // THEN their new contact is opted out as they left it
    let all = consent_of(&p).all.unwrap();
    assert!(all.opted_out && all.at == 1_767_000_000);
}

fn restrict(p: &Processor, keep_inbound: bool) {
    let mut t = store(p).lock();
    let profile = t.contacts.values_mut().next().unwrap();
    profile.restriction = Some(crate::domain::contact::Restriction {
        since: 1_767_000_050,
        keep_inbound,
    });
}

#[tokio::test]
async fn a_restricted_persons_messages_are_stored_or_dropped_as_the_business_said() {
    // GIVEN a user who restricted processing, the business keeping what they write
    let p = given_a_tenant();
    p.process(&text_message("wamid.A", 1_767_000_000))
        .await
        .unwrap();
    restrict(&p, true);
    // WHEN they write, and write STOP
    let kept = p
        .process(&text_message("wamid.B", 1_767_000_100))
        .await
        .unwrap();
    p.process(&text_from(USER, "wamid.S", 1_767_000_200, "STOP"))
        .await
        .unwrap();
    // THEN both are stored, the opt-out counts, but nothing is sent to them
    assert_eq!(kept, Outcome::Stored);
    assert_eq!(store(&p).lock().messages.len(), 3);
    assert!(consent_of(&p).all.unwrap().opted_out);
    assert!(replies(&p).is_empty(), "no confirmation while restricted");
    // AND what is published about them says they restricted processing, so that no bot or
    // assignment acts on them
    let restricted: Vec<bool> = published(&p)
        .kept()
        .iter()
        .map(|k| k.person_restricted)
        .collect();
    assert_eq!(
        restricted,
        [false, false, false, true, true, true],
        "{:?}",
        published(&p).names()
    );

    // GIVEN the business drops what they write meanwhile
    restrict(&p, false);
    let published_before = published(&p).names().len();
    // WHEN they write
    let dropped = p
        .process(&text_message("wamid.C", 1_767_000_300))
        .await
        .unwrap();
    // THEN nothing is stored or handed on
    assert_eq!(dropped, Outcome::Restricted);
    assert_eq!(store(&p).lock().messages.len(), 3);
    assert_eq!(published(&p).names().len(), published_before);
}
