//! Erasures that race what they erase, on the local stack: first messages still being
//! handled when their people's erasures are asked for, a STOP mid-handling, an identifier
//! first seen while the erasure runs, a business send racing a first message, an export
//! racing an erasure. After each erasure's receipt says done, nothing about the person is
//! in either table or the bucket, their earlier events brought back (Meta's retries, a
//! redriven queue message) are dropped, and their next message starts a new contact.

use std::sync::Arc;
use std::time::Duration;
use wagate_messaging::store::ContactStore;
use wagate_messaging::store::contact::ContactRecords;
use wagate_messaging::store::contact::resolve::ContactResolution;

use futures_util::future::join_all;
use reqwest::Method;
use serde_json::{Value, json};
use wagate_compliance::erasure::person::{ErasureTiming, PersonEraser, PersonOutcome};
use wagate_compliance::erasure::{ErasureJob, PersonSweep};
use wagate_compliance::receipt::ReceiptSigner;
use wagate_messaging::access::Role;
use wagate_messaging::domain::identity::{IdentityKey, Phone, UserIdentity};
use wagate_messaging::metrics::Metrics;
use wagate_messaging::queue::jobs::JobQueue;
use wagate_messaging::store::contact::ContactFacts;
use wagate_tests::scan::holders_anywhere;
use wagate_tests::{Stack, TestTenant, eventually, now, random_digits, wamid_of};

const WAIT: Duration = Duration::from_secs(60);
/// Fifty erasures run one job at a time in the erasure function, two passes each.
const MANY: Duration = Duration::from_secs(300);

fn person() -> String {
    format!("4916{}", random_digits(9))
}

/// Asks for the person's erasure; the erasure's id.
async fn start_erasure(stack: &Stack, tenant: &str, key: &str, phone: &str) -> String {
    loop {
        let (status, started) = stack
            .admin(
                Method::POST,
                &format!("/admin/v1/tenants/{tenant}/erasures"),
                Some(key),
                Some(json!({"phone": format!("+{phone}")})),
            )
            .await;
        // Fifty asked at once are more than one key's rate: a 429 is asked again.
        if status == 429 {
            tokio::time::sleep(Duration::from_secs(1)).await;
            continue;
        }
        assert_eq!(status, 202, "{started}");
        return started["id"].as_str().expect("an id").to_owned();
    }
}

/// Waits for the erasure to be done; its view, receipt and all.
async fn done(stack: &Stack, tenant: &str, key: &str, id: &str, within: Duration) -> Value {
    let path = format!("/admin/v1/tenants/{tenant}/erasures/{id}");
    eventually(within, "the erasure done", || async {
        let (status, view) = stack.admin(Method::GET, &path, Some(key), None).await;
        // Fifty waiting callers ask faster than one key may: a 429 is a wait.
        if status == 429 {
            tokio::time::sleep(Duration::from_secs(1)).await;
            return None;
        }
        assert_eq!(status, 200, "{view}");
        assert_ne!(view["state"], "failed", "{view}");
        (view["state"] == "done").then_some(view)
    })
    .await
}

/// Waits until the inbound queue holds nothing, visible or in flight: every event posted
/// so far has been handled.
async fn inbound_drained(stack: &Stack) {
    eventually(WAIT, "the inbound queue drained", || async {
        let out = stack
            .sqs
            .get_queue_attributes()
            .queue_url(&stack.inbound_queue_url)
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::All)
            .send()
            .await
            .expect("the queue's attributes");
        let count = |name| {
            out.attributes()
                .and_then(|a| a.get(&name))
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0)
        };
        use aws_sdk_sqs::types::QueueAttributeName as A;
        (count(A::ApproximateNumberOfMessages) + count(A::ApproximateNumberOfMessagesNotVisible)
            == 0)
            .then_some(())
    })
    .await;
}

/// Asserts that nothing in either table shows any of `people`'s numbers, and that none of
/// them is a contact.
async fn nothing_left(stack: &Stack, tenant: &TestTenant, people: &[String]) {
    let needles: Vec<&str> = people.iter().map(String::as_str).collect();
    let found = holders_anywhere(stack, &needles).await;
    assert!(found.is_empty(), "left behind: {found:#?}");
    for phone in people {
        assert_eq!(stack.contact_of(&tenant.id, phone).await, None, "{phone}");
    }
}

#[tokio::test]
async fn fifty_first_messages_in_flight_while_their_erasures_are_asked_for_leave_nothing() {
    let stack = Stack::connect().await;
    let tenant = TestTenant::create(&stack).await;
    let admin = tenant.api_key(&stack, Role::Admin).await;
    let t = tenant.id.as_str();
    let people: Vec<String> = (0..50).map(|_| person()).collect();
    let sent_at = now() - 5;
    let deliveries: Vec<String> = people
        .iter()
        .map(|p| tenant.text_from(p, &wamid_of(p), sent_at, "hello, and please forget me"))
        .collect();

    // Every first message posted and every erasure asked for at once.
    let posts = join_all(deliveries.iter().map(|d| stack.post_signed(d)));
    let asks = join_all(people.iter().map(|p| start_erasure(&stack, t, &admin, p)));
    let (posted, ids) = tokio::join!(posts, asks);
    assert!(
        posted.iter().all(|(status, _)| *status == 200),
        "{posted:?}"
    );
    for id in &ids {
        let view = done(&stack, t, &admin, id, MANY).await;
        assert_eq!(view["receipt"]["receipt"]["version"], 2, "{view}");
    }
    inbound_drained(&stack).await;
    nothing_left(&stack, &tenant, &people).await;

    // Meta's retries of what they sent before are dropped.
    for delivery in &deliveries {
        assert_eq!(stack.post_signed(delivery).await.0, 200);
    }
    inbound_drained(&stack).await;
    nothing_left(&stack, &tenant, &people).await;

    // The next message of one of them starts a new contact, holding that message alone.
    let again = &people[0];
    let next = tenant.text_from(again, &wamid_of(again), now(), "it's me again");
    assert_eq!(stack.post_signed(&next).await.0, 200);
    let contact = eventually(WAIT, "a new contact", || async {
        stack.contact_of(&tenant.id, again).await
    })
    .await;
    let (_, page) = stack
        .api_get(&format!("/v1/conversations/{contact}/messages"), &admin)
        .await;
    assert_eq!(page["messages"].as_array().map(Vec::len), Some(1), "{page}");
}

#[tokio::test]
async fn a_stop_still_being_handled_when_its_person_is_erased_leaves_nothing() {
    let stack = Stack::connect().await;
    let tenant = TestTenant::create(&stack).await;
    let admin = tenant.api_key(&stack, Role::Admin).await;
    let t = tenant.id.as_str();
    let people: Vec<String> = (0..5).map(|_| person()).collect();
    // Each writes STOP, and their erasure is asked for while it is handled.
    let mut ids = Vec::new();
    for phone in &people {
        tenant.user_writes(&stack, phone, "STOP").await;
        ids.push(start_erasure(&stack, t, &admin, phone).await);
    }
    for id in &ids {
        done(&stack, t, &admin, id, WAIT).await;
    }
    inbound_drained(&stack).await;
    nothing_left(&stack, &tenant, &people).await;
    // At most one confirmation went out to each, none after the erasure.
    for phone in &people {
        let confirmations = tenant
            .sim_received(&stack)
            .await
            .into_iter()
            .filter(|r| r["to"] == phone.as_str())
            .count();
        assert!(confirmations <= 1, "{phone}: {confirmations}");
    }
}

/// The erasure function's eraser, run in this process on a queue of the test's own, so
/// that the test decides what happens between the request and each pass.
async fn eraser_in_process(stack: &Stack) -> (PersonEraser, JobQueue, String) {
    let metrics = Arc::new(Metrics::default());
    let url = stack
        .sqs
        .create_queue()
        .queue_name(format!("erasure-race-{}", random_digits(10)))
        .send()
        .await
        .expect("a queue")
        .queue_url
        .expect("its url");
    let queue = JobQueue::new(stack.sqs.clone(), url.clone(), metrics.clone());
    let receipts = ReceiptSigner::new(
        aws_sdk_kms::Client::new(&stack.sdk),
        std::env::var("RECEIPT_KEY_ID").expect("RECEIPT_KEY_ID"),
        metrics,
    );
    let timing = ErasureTiming {
        final_pass_delay: Duration::from_secs(1),
        key_recovery_days: 7,
    };
    let eraser =
        PersonEraser::new(stack.store.clone(), queue.clone(), receipts).with_timing(timing);
    (eraser, queue, url)
}

/// The next erasure job on the test's queue.
async fn next_sweep(stack: &Stack, url: &str) -> PersonSweep {
    eventually(WAIT, "the erasure's job", || async {
        let out = stack
            .sqs
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(1)
            .send()
            .await
            .expect("read the queue");
        let message = out.messages().first()?.clone();
        stack
            .sqs
            .delete_message()
            .queue_url(url)
            .receipt_handle(message.receipt_handle()?)
            .send()
            .await
            .expect("take the job");
        match serde_json::from_str(message.body()?).expect("a job") {
            ErasureJob::PersonSweep(sweep) => Some(sweep),
            other => panic!("not an erasure of a person: {other:?}"),
        }
    })
    .await
}

#[tokio::test]
async fn a_bsuid_first_seen_while_the_erasure_runs_is_erased_with_the_person() {
    let stack = Stack::connect().await;
    let tenant = TestTenant::create(&stack).await;
    let phone = person();
    let bsuid = format!("DE.{}", random_digits(16));
    tenant.user_writes(&stack, &phone, "hello").await;
    let contact = eventually(WAIT, "the contact", || async {
        stack.contact_of(&tenant.id, &phone).await
    })
    .await;
    let (eraser, _queue, url) = eraser_in_process(&stack).await;
    let asked = IdentityKey::Phone(Phone::parse(&phone).unwrap());
    eraser
        .request(&tenant.id, &asked, "test", now())
        .await
        .expect("the erasure starts");

    // Before its job runs, the person writes from their BSUID, seen for the first time:
    // the worker links it to the contact being erased.
    let with_bsuid = tenant.delivery(
        "messages",
        json!({"messaging_product": "whatsapp", "metadata": tenant.metadata(),
            "contacts": [{"wa_id": phone, "user_id": bsuid, "profile": {"name": "X"}}],
            "messages": [{"from": phone, "from_user_id": bsuid, "id": wamid_of(&phone),
                "timestamp": (now() + 1).to_string(), "type": "text", "text": {"body": "still me"}}]}),
    );
    assert_eq!(stack.post_signed(&with_bsuid).await.0, 200);
    let by_bsuid = UserIdentity::from_parts(None, Some(&bsuid)).unwrap();
    eventually(WAIT, "the BSUID linked to the contact", || async {
        let found = stack
            .store
            .repo::<ContactStore>()
            .find_contact(&tenant.id, &by_bsuid, now())
            .await
            .unwrap();
        (found.map(|c| c.contact_id).as_deref() == Some(contact.as_str())).then_some(())
    })
    .await;

    // Both passes, then: nothing of the phone or the BSUID.
    let first = next_sweep(&stack, &url).await;
    let outcome = eraser.sweep(&first, || true).await.unwrap();
    assert!(
        matches!(outcome, PersonOutcome::FirstPassDone(_)),
        "{outcome:?}"
    );
    let last = next_sweep(&stack, &url).await;
    assert!(last.final_pass);
    let outcome = eraser.sweep(&last, || true).await.unwrap();
    assert!(matches!(outcome, PersonOutcome::Done(_)), "{outcome:?}");
    let found = stack
        .store
        .repo::<ContactStore>()
        .find_contact(&tenant.id, &by_bsuid, now())
        .await
        .unwrap();
    assert_eq!(found, None, "the BSUID still leads somewhere");
    let found = holders_anywhere(&stack, &[&phone, &bsuid]).await;
    assert!(found.is_empty(), "left behind: {found:#?}");

    // A message from the BSUID now starts a new contact.
    let next = tenant.delivery(
        "messages",
        json!({"messaging_product": "whatsapp", "metadata": tenant.metadata(),
            "contacts": [{"user_id": bsuid, "profile": {"name": "X"}}],
            "messages": [{"from_user_id": bsuid, "id": wamid_of(&bsuid),
                "timestamp": now().to_string(), "type": "text", "text": {"body": "hello again"}}]}),
    );
    assert_eq!(stack.post_signed(&next).await.0, 200);
    let new = eventually(WAIT, "a new contact", || async {
        stack
            .store
            .repo::<ContactStore>()
            .find_contact(&tenant.id, &by_bsuid, now())
            .await
            .unwrap()
    })
    .await;
    assert_ne!(new.contact_id, contact);
}

#[tokio::test]
async fn one_identifier_leads_to_one_contact_however_its_first_writers_race() {
    let stack = Stack::connect().await;
    let tenant = TestTenant::create(&stack).await;
    let retention = wagate_messaging::domain::retention::Retention::default();
    let contacts: ContactStore = stack.store.repo();
    // In this process: an API call and a webhook event for a new person at the same time.
    for _ in 0..20 {
        let phone = person();
        let identity = UserIdentity::from_parts(Some(&phone), None).unwrap();
        let api = ContactFacts::default();
        let inbound = ContactFacts {
            inbound_at: Some(now()),
            event_at: Some(now()),
            ..ContactFacts::default()
        };
        let (a, b) = tokio::join!(
            contacts.resolve_contact(&tenant.id, &identity, &api, &retention, now()),
            contacts.resolve_contact(&tenant.id, &identity, &inbound, &retention, now()),
        );
        let (a, b) = (a.unwrap(), b.unwrap());
        assert_eq!(a.profile.contact_id, b.profile.contact_id);
        assert!(!(a.created && b.created), "both made it");
    }
    // On the stack: a template and the person's first message at the same time.
    let admin = tenant.api_key(&stack, Role::Admin).await;
    for _ in 0..5 {
        let phone = person();
        let template = json!({"from": tenant.phone_number_id, "to": phone, "type": "template",
            "template": {"name": "order_update", "language": "en_US"}});
        let (sent, _) = tokio::join!(
            stack.api(
                Method::POST,
                "/v1/messages",
                Some(&admin),
                Some(template),
                &[]
            ),
            tenant.user_writes(&stack, &phone, "hi"),
        );
        assert_eq!(sent.0, 202, "{}", sent.1);
        let contact = sent.1["contact_id"].as_str().unwrap().to_owned();
        eventually(WAIT, "both in one conversation", || async {
            let (_, page) = stack
                .api_get(&format!("/v1/conversations/{contact}/messages"), &admin)
                .await;
            (page["messages"].as_array().map(Vec::len) == Some(2)).then_some(())
        })
        .await;
        let (_, found) = stack
            .api_get(&format!("/v1/contacts?phone=%2B{phone}"), &admin)
            .await;
        assert_eq!(
            found["contacts"].as_array().map(Vec::len),
            Some(1),
            "{found}"
        );
    }
}

#[tokio::test]
async fn an_export_racing_its_persons_erasure_leaves_no_file() {
    let stack = Stack::connect().await;
    let tenant = TestTenant::create(&stack).await;
    let admin = tenant.api_key(&stack, Role::Admin).await;
    let t = tenant.id.as_str();
    let phone = person();
    tenant.user_writes(&stack, &phone, "send me my data").await;
    eventually(WAIT, "the contact", || async {
        stack.contact_of(&tenant.id, &phone).await
    })
    .await;
    // The export is asked for, and at once the erasure.
    let (status, export) = stack
        .admin(
            Method::POST,
            &format!("/admin/v1/tenants/{t}/exports"),
            Some(&admin),
            Some(json!({"phone": format!("+{phone}"), "csv": true})),
        )
        .await;
    assert_eq!(status, 202, "{export}");
    let id = start_erasure(&stack, t, &admin, &phone).await;
    done(&stack, t, &admin, &id, WAIT).await;
    // Whichever ended first, the export's record and files are gone, and so is any upload
    // it had under way.
    let path = format!(
        "/admin/v1/tenants/{t}/exports/{}",
        export["id"].as_str().unwrap()
    );
    eventually(WAIT, "the export gone", || async {
        let (status, _) = stack.admin(Method::GET, &path, Some(&admin), None).await;
        (status == 404).then_some(())
    })
    .await;
    let s3 = wagate_compliance::s3::s3_client(&stack.sdk);
    let bucket = std::env::var("EXPORT_BUCKET").expect("EXPORT_BUCKET");
    let folder = format!("exports/{t}/");
    // An export job that was under way ends a moment later and deletes what it wrote.
    eventually(WAIT, "no export file or upload", || async {
        let objects = s3
            .list_objects_v2()
            .bucket(&bucket)
            .prefix(&folder)
            .send()
            .await
            .expect("list the bucket");
        let uploads = s3
            .list_multipart_uploads()
            .bucket(&bucket)
            .prefix(&folder)
            .send()
            .await
            .expect("list the uploads");
        (objects.contents().is_empty() && uploads.uploads().is_empty()).then_some(())
    })
    .await;
    nothing_left(&stack, &tenant, std::slice::from_ref(&phone)).await;
}
