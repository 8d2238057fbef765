//! Every item carries `expires_at` from its tenant's retention, and reads hide what has
//! expired even before DynamoDB's TTL deletes it. A shorter retention reaches what is
//! already stored through an ageing run, which also lets expired content go from storage.

use std::time::Duration;
use wagate_compliance::store::AgeingStore;
use wagate_messaging::store::ContactStore;
use wagate_messaging::store::MessageStore;
use wagate_messaging::store::TenantStore;
use wagate_messaging::store::contact::resolve::ContactResolution;
use wagate_messaging::store::message::inbound::InboundMessages;

use reqwest::Method;

use wagate_compliance::store::ageing::RetentionCache;
use wagate_messaging::domain::identity::UserIdentity;
use wagate_messaging::domain::message::InboundMessage;
use wagate_messaging::domain::message::parse_message;
use wagate_messaging::domain::retention::Aged;
use wagate_messaging::domain::retention::{ContentLife, Retention};
use wagate_messaging::store::contact::ContactFacts;
use wagate_messaging::store::message::inbound::NewInbound;
use wagate_messaging::store::{Expiry, PutOutcome};
use wagate_tests::{Stack, TestTenant, eventually, now, text, wamid, with_sk_prefix};

const DAY: i64 = 86_400;

fn inbound<'a>(contact_id: &'a str, message: &'a InboundMessage) -> NewInbound<'a> {
    NewInbound {
        contact_id,
        phone_number_id: None,
        message,
        received_at_ms: now() * 1000,
        content: ContentLife::Until(now() + DAY),
    }
}

fn expires_at(item: &wagate_messaging::store::Item) -> i64 {
    item.get("expires_at")
        .and_then(|v| v.as_n().ok())
        .and_then(|n| n.parse().ok())
        .expect("expires_at")
}

#[tokio::test]
async fn items_expire_by_the_tenants_retention_for_their_data_class() {
    let stack = Stack::connect().await;
    let retention = Retention {
        content_days: 3,
        metadata_days: 5,
        contact_days: 30,
        dedup_days: 8,
        audit_days: 365,
    };
    let tenant = TestTenant::create_with(&stack, retention).await;
    let user = "4915112345030";
    let started = now();
    assert_eq!(
        stack
            .post_signed(&tenant.text_from(user, &wamid(), now(), "short-lived"))
            .await
            .0,
        200
    );
    assert_eq!(
        stack
            .post_signed(&tenant.status_of(user, &wamid(), "sent", now()))
            .await
            .0,
        200
    );
    let items = eventually(
        Duration::from_secs(30),
        "the message and the status",
        || async {
            let items = stack.tenant_items(tenant.id.as_str()).await;
            (!with_sk_prefix(&items, "MSG#").is_empty()
                && !with_sk_prefix(&items, "WAMID#").is_empty())
            .then_some(items)
        },
    )
    .await;
    let within = |item: &wagate_messaging::store::Item, days: i64| {
        let at = expires_at(item);
        at >= started + days * DAY && at <= now() + days * DAY
    };
    // The message's metadata lives 5 days, its content 3.
    let message = with_sk_prefix(&items, "MSG#")[0];
    assert!(within(message, 5), "message metadata: 5 days");
    let content_end: i64 = message["content_expires_at"]
        .as_n()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        content_end >= started + 3 * DAY && content_end <= now() + 3 * DAY,
        "content: 3 days"
    );
    assert!(
        within(with_sk_prefix(&items, "WAMID#")[0], 5),
        "metadata: 5 days"
    );
    assert!(
        within(with_sk_prefix(&items, "PROFILE")[0], 30),
        "contact profile: 30 days"
    );
}

#[tokio::test]
async fn reads_hide_items_whose_expires_at_has_passed() {
    let stack = Stack::connect().await;
    let tenant = TestTenant::create(&stack).await;
    let contact = "c_expirytest";
    let raw = |id: &str| serde_json::json!({"from": "4915112345031", "id": id, "timestamp": now().to_string(), "type": "text", "text": {"body": "x"}});
    let live = parse_message(&raw("wamid.live")).unwrap();
    let expired = parse_message(&raw("wamid.expired")).unwrap();
    let store = &stack.store;
    let expiry = |at| Expiry {
        at,
        dedup_until: at,
    };
    store
        .repo::<MessageStore>()
        .put_inbound_message(
            &tenant.id,
            &inbound(contact, &live),
            expiry(now() + DAY),
            now(),
        )
        .await
        .unwrap();
    store
        .repo::<MessageStore>()
        .put_inbound_message(
            &tenant.id,
            &inbound(contact, &expired),
            expiry(now() - 1),
            now(),
        )
        .await
        .unwrap();
    let read = store
        .repo::<MessageStore>()
        .messages_of(&tenant.id, contact, now(), 50)
        .await
        .unwrap();
    let wamids: Vec<&str> = read.iter().map(|m| m.wamid.as_str()).collect();
    assert_eq!(wamids, ["wamid.live"]);
}

#[tokio::test]
async fn content_kept_shorter_than_metas_retry_window_still_deduplicates_after_it_is_gone() {
    let stack = Stack::connect().await;
    let tenant = TestTenant::create(&stack).await;
    let contact = "c_shortretention";
    let message = parse_message(&serde_json::json!({"from": "4915112345032", "id": "wamid.short", "timestamp": now().to_string(),
        "type": "text", "text": {"body": "gone soon"}}))
    .unwrap();
    // Content lives one day, Meta may retry for seven: a key-only record covers the gap.
    let expiry = Expiry {
        at: now() + DAY,
        dedup_until: now() + 8 * DAY,
    };
    let new = inbound(contact, &message);
    let messages: MessageStore = stack.store.repo();
    let put = || messages.put_inbound_message(&tenant.id, &new, expiry, now());
    assert_eq!(put().await.unwrap().outcome, PutOutcome::Stored);
    assert_eq!(put().await.unwrap().outcome, PutOutcome::Duplicate);
    // TTL deletes the message after a day; a retry after that is still a duplicate.
    let items = stack.tenant_items(tenant.id.as_str()).await;
    let stored = with_sk_prefix(&items, "MSG#");
    assert_eq!(stored.len(), 1);
    let sk = text(stored[0], "sk").unwrap().to_owned();
    assert!(
        !sk.contains("wamid."),
        "the wamid is blinded in the key: {sk}"
    );
    stack
        .dynamo
        .delete_item()
        .table_name(&stack.table)
        .key(
            "pk",
            aws_sdk_dynamodb::types::AttributeValue::S(format!("T#{}#C#{contact}", tenant.id)),
        )
        .key("sk", aws_sdk_dynamodb::types::AttributeValue::S(sk))
        .send()
        .await
        .unwrap();
    assert_eq!(put().await.unwrap().outcome, PutOutcome::Duplicate);
    let items = stack.tenant_items(tenant.id.as_str()).await;
    let dedup = with_sk_prefix(&items, "DEDUP#");
    assert_eq!(dedup.len(), 1);
    assert_eq!(
        dedup[0].len(),
        3,
        "the dedup record holds its key and expiry only"
    );
}

#[tokio::test]
async fn content_past_its_time_is_hidden_while_the_message_stays_and_no_content_is_never_written() {
    let stack = Stack::connect().await;
    let tenant = TestTenant::create(&stack).await;
    let contact = "c_ageingtest";
    let raw = |id: &str| serde_json::json!({"from": "4915112345033", "id": id, "timestamp": now().to_string(), "type": "text", "text": {"body": "aged words"}});
    let aged = parse_message(&raw("wamid.aged")).unwrap();
    let unstored = parse_message(&raw("wamid.unstored")).unwrap();
    let store = &stack.store;
    let expiry = Expiry {
        at: now() + DAY,
        dedup_until: now() + DAY,
    };
    // Content whose time passed a second ago, on a message that lives a day more.
    let mut new = inbound(contact, &aged);
    new.content = ContentLife::Until(now() - 1);
    store
        .repo::<MessageStore>()
        .put_inbound_message(&tenant.id, &new, expiry, now())
        .await
        .unwrap();
    // And one whose content was never to be stored.
    let mut new = inbound(contact, &unstored);
    new.content = ContentLife::NotStored;
    store
        .repo::<MessageStore>()
        .put_inbound_message(&tenant.id, &new, expiry, now())
        .await
        .unwrap();
    let read = store
        .repo::<MessageStore>()
        .messages_of(&tenant.id, contact, now(), 50)
        .await
        .unwrap();
    assert_eq!(read.len(), 2, "the messages stay");
    for message in &read {
        assert_eq!(message.message_type, "text");
        assert_eq!(message.content, "", "{}: content shown", message.wamid);
    }
    let items = stack.tenant_items(tenant.id.as_str()).await;
    let blinded = stack
        .blind_wamid(tenant.id.as_str(), "wamid.unstored")
        .await;
    let unstored_item = with_sk_prefix(&items, "MSG#")
        .into_iter()
        .find(|it| text(it, "sk").is_some_and(|sk| sk.ends_with(&blinded)))
        .unwrap();
    assert!(!unstored_item.contains_key("content"), "{unstored_item:?}");
}

/// A contact of `phone`, made as the pipeline makes one, with its profile in the contact
/// index (which a tenant's ageing walk follows): its id.
async fn contact_of(stack: &Stack, tenant: &TestTenant, phone: &str) -> String {
    let identity = UserIdentity::from_parts(Some(phone), None).unwrap();
    stack
        .store
        .repo::<ContactStore>()
        .resolve_contact(
            &tenant.id,
            &identity,
            &ContactFacts::default(),
            &Retention::default(),
            now(),
        )
        .await
        .unwrap()
        .profile
        .contact_id
}

fn number(item: &wagate_messaging::store::Item, name: &str) -> Option<i64> {
    item.get(name)
        .and_then(|v| v.as_n().ok())
        .and_then(|n| n.parse().ok())
}

async fn wait_for_ageing(stack: &Stack, path: &str, key: &str) -> serde_json::Value {
    // The erasure function runs one job at a time, other tests' erasures among them.
    eventually(Duration::from_secs(120), "the ageing run", || async {
        let (status, body) = stack.admin(Method::GET, path, Some(key), None).await;
        assert_eq!(status, 200, "{body}");
        (body["ageing"]["state"] == "done").then(|| body["ageing"].clone())
    })
    .await
}

#[tokio::test]
async fn a_shorter_retention_reaches_what_is_stored_and_content_past_its_time_leaves_storage() {
    let stack = Stack::connect().await;
    let tenant = TestTenant::create(&stack).await;
    let contact = &contact_of(&stack, &tenant, "4915112345034").await;
    let store = &stack.store;
    let written = |days_ago: i64, id: &str| {
        let sent = now() - days_ago * DAY;
        let raw = serde_json::json!({"from": "4915112345034", "id": id, "timestamp": sent.to_string(), "type": "text", "text": {"body": "kept words"}});
        (sent, parse_message(&raw).unwrap())
    };
    // Written under the defaults (90 days of content and of metadata): one 40 days ago,
    // one an hour ago, and one whose content's time has just passed.
    let (old_at, old) = written(40, "wamid.forty_days");
    let (new_at, new) = written(0, "wamid.an_hour");
    let (_, done) = written(0, "wamid.content_done");
    for (message, sent, content_end) in [
        (&old, old_at, old_at + 90 * DAY),
        (&new, new_at, new_at + 90 * DAY),
        (&done, new_at, now() - 1),
    ] {
        let mut item = inbound(contact, message);
        item.content = ContentLife::Until(content_end);
        let expiry = Expiry {
            at: sent + 90 * DAY,
            dedup_until: sent + 8 * DAY,
        };
        store
            .repo::<MessageStore>()
            .put_inbound_message(&tenant.id, &item, expiry, sent)
            .await
            .unwrap();
    }

    // Content 30 days, metadata 60: shorter, so the change starts a run for the tenant.
    let path = format!("/admin/v1/tenants/{}/retention", tenant.id);
    let shorter = serde_json::json!({"content_days": 30, "metadata_days": 60, "contact_days": 365, "dedup_days": 8});
    let (status, body) = stack
        .admin(
            Method::PUT,
            &path,
            Some(&stack.operator_key),
            Some(shorter.clone()),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(body["ageing"]["run"].is_string(), "{body}");
    let run = wait_for_ageing(&stack, &path, &stack.operator_key).await;
    assert_eq!(run["segments_done"], run["segments"], "{run}");
    assert_eq!(run["shortened"], 3, "{run}");
    assert_eq!(run["contents_removed"], 2, "{run}");

    let items = stack.tenant_items(tenant.id.as_str()).await;
    let mut blinded = std::collections::HashMap::new();
    for wamid in ["wamid.forty_days", "wamid.an_hour", "wamid.content_done"] {
        blinded.insert(wamid, stack.blind_wamid(tenant.id.as_str(), wamid).await);
    }
    let message = |wamid: &str| {
        with_sk_prefix(&items, "MSG#")
            .into_iter()
            .find(|it| text(it, "sk").is_some_and(|sk| sk.ends_with(&blinded[wamid])))
            .unwrap()
    };
    // 40 days old: past 30 days of content, so it is gone; the record lives 60 days.
    let forty = message("wamid.forty_days");
    assert!(!forty.contains_key("content"), "{forty:?}");
    assert_eq!(expires_at(forty), old_at + 60 * DAY);
    // An hour old: its content now ends at 30 days, the record at 60.
    let recent = message("wamid.an_hour");
    assert!(recent.contains_key("content"), "{recent:?}");
    assert_eq!(
        number(recent, "content_expires_at"),
        Some(new_at + 30 * DAY)
    );
    assert_eq!(expires_at(recent), new_at + 60 * DAY);
    // Content whose time had passed is let go from storage, not only hidden.
    assert!(!message("wamid.content_done").contains_key("content"));

    // A walk done again changes nothing: a redelivered job, or the daily run after this.
    let (again, _) = store
        .repo::<AgeingStore>()
        .age_contacts_page(&tenant.id, None, 100, &mut RetentionCache::default(), now())
        .await
        .unwrap();
    assert_eq!(again, Aged::default());
    assert_eq!(stack.tenant_items(tenant.id.as_str()).await, items);
    // The daily run over every tenant is the operator's to start by hand (the whole stack
    // is shared by the tests running beside this one, so it is not started here).
    // A tenant's key may not start the run over every tenant.
    let key = tenant
        .api_key(&stack, wagate_messaging::access::Role::Admin)
        .await;
    let (status, _) = stack
        .admin(
            Method::POST,
            "/admin/v1/maintenance/ageing",
            Some(&key),
            None,
        )
        .await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn a_tenants_ageing_walk_delivered_twice_counts_each_change_once_and_a_newer_run_stops_it() {
    use std::sync::Arc;
    use wagate_compliance::erasure::{AgeingOutcome, ErasureJob, RetentionAger, WalkPosition};
    use wagate_messaging::domain::retention::RetentionSettings;
    use wagate_messaging::queue::jobs::JobQueue;

    let stack = Stack::connect().await;
    let tenant = TestTenant::create(&stack).await;
    let contact = contact_of(&stack, &tenant, "4915112345035").await;
    // Two messages written 40 days ago under the defaults.
    for id in ["wamid.twice_one", "wamid.twice_two"] {
        let sent = now() - 40 * DAY;
        let raw = serde_json::json!({"from": "4915112345035", "id": id, "timestamp": sent.to_string(), "type": "text", "text": {"body": "words"}});
        let message = parse_message(&raw).unwrap();
        let mut item = inbound(&contact, &message);
        item.content = ContentLife::Until(sent + 90 * DAY);
        let expiry = Expiry {
            at: sent + 90 * DAY,
            dedup_until: sent + 8 * DAY,
        };
        stack
            .store
            .repo::<MessageStore>()
            .put_inbound_message(&tenant.id, &item, expiry, sent)
            .await
            .unwrap();
    }
    // The retention shortened in the table alone: this test runs the ageing itself, its
    // jobs on a queue of its own.
    let shorter = Retention {
        content_days: 30,
        metadata_days: 60,
        ..Retention::default()
    };
    stack
        .store
        .repo::<TenantStore>()
        .set_retention_settings(
            &tenant.id,
            &RetentionSettings {
                retention: shorter,
                content_ceiling_days: 90,
            },
        )
        .await
        .unwrap();
    let queue = stack
        .sqs
        .create_queue()
        .queue_name(format!("ageing-twice-{}", wagate_tests::random_digits(10)))
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let metrics = Arc::new(wagate_messaging::metrics::Metrics::default());
    let ager = RetentionAger::new(
        stack.store.clone(),
        JobQueue::new(stack.sqs.clone(), queue.clone(), metrics),
    );
    ager.start(Some(&tenant.id)).await.unwrap();
    // Every job runs twice, as SQS delivers one again after a worker died before deleting
    // it; a walk too long for one job hands its rest on, and that runs twice too.
    let mut seen = std::collections::HashSet::new();
    let mut first_walks = Vec::new();
    loop {
        let received = stack
            .sqs
            .receive_message()
            .queue_url(&queue)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .send()
            .await
            .unwrap();
        if received.messages().is_empty() {
            break;
        }
        for message in received.messages() {
            stack
                .sqs
                .delete_message()
                .queue_url(&queue)
                .receipt_handle(message.receipt_handle().unwrap())
                .send()
                .await
                .unwrap();
            let body = message.body().unwrap().to_owned();
            if !seen.insert(body.clone()) {
                continue;
            }
            let Ok(ErasureJob::TenantAgeing(walk)) = serde_json::from_str::<ErasureJob>(&body)
            else {
                panic!("a tenant's ageing walk: {body}");
            };
            for _ in 0..2 {
                let outcome = ager.walk(&walk, || true).await.unwrap();
                assert!(
                    matches!(
                        outcome,
                        AgeingOutcome::SegmentDone(_) | AgeingOutcome::Continued(_)
                    ),
                    "{outcome:?}"
                );
            }
            if walk.at == WalkPosition::default() {
                first_walks.push(walk);
            }
        }
    }
    assert_eq!(first_walks.len(), 1, "one walk over the tenant");
    let run = ager.latest(Some(&tenant.id)).await.unwrap().unwrap();
    assert!(run.finished_at.is_some(), "{run:?}");
    assert_eq!((run.segments_done, run.segments), (1, 1));
    assert_eq!(run.aged.shortened, 2, "{run:?}");
    assert_eq!(run.aged.contents_removed, 2, "{run:?}");
    // A newer run replaces it: the older run's jobs, delivered late, stop.
    ager.start(Some(&tenant.id)).await.unwrap();
    assert_eq!(
        ager.walk(&first_walks[0], || true).await.unwrap(),
        AgeingOutcome::Stale
    );
}
