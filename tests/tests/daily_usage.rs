//! The durable path on the local stack: the workers hand what reports count to the
//! reporting queue, the reporting worker counts each event once (a record delivered twice,
//! or counted by two workers at once, counts once), and `GET /v1/usage` reads it back, for
//! managers and admins of the tenant only.

use std::sync::Arc;
use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use wagate_messaging::access::Role;
use wagate_messaging::domain::calendar::Day;
use wagate_messaging::domain::event_record::{EventRecord, Tally};
use wagate_messaging::metrics::Metrics;
use wagate_messaging::queue::jobs::JobQueue;
use wagate_reporting::store::UsageStore;
use wagate_reporting::store::usage::Counted;
use wagate_tests::{Stack, TestTenant, eventually, now, random_digits};

const WAIT: Duration = Duration::from_secs(60);

async fn usage(stack: &Stack, key: &str, query: &str) -> (u16, Value) {
    stack
        .api(
            Method::GET,
            &format!("/v1/usage?{query}"),
            Some(key),
            None,
            &[],
        )
        .await
}

fn today() -> String {
    Day::of_seconds(now()).to_string()
}

#[tokio::test]
async fn what_a_number_received_and_sent_is_counted_per_day_and_read_back() {
    let stack = Stack::connect().await;
    let tenant = TestTenant::create(&stack).await;
    tenant.register_at_sim(&stack, json!({})).await;
    let manager = tenant.api_key(&stack, Role::Manager).await;
    let phone = format!("49155{}", random_digits(8));
    // GIVEN a person who writes twice, and a reply
    tenant.user_writes(&stack, &phone, "Hello").await;
    tenant.user_writes(&stack, &phone, "Anyone?").await;
    eventually(WAIT, "the contact", || async {
        stack.contact_of(&tenant.id, &phone).await
    })
    .await;
    let (status, answer) = tenant.reply(&stack, &manager, &phone, "Here!").await;
    assert_eq!(status, 202, "{answer}");
    // THEN the day's usage of the number shows them, each once
    let query = format!(
        "from={day}&to={day}&number={}",
        tenant.phone_number_id,
        day = today()
    );
    let day = eventually(WAIT, "the counts", || async {
        let (status, answer) = usage(&stack, &manager, &query).await;
        assert_eq!(status, 200, "{answer}");
        let day = answer["days"].get(0).cloned()?;
        (day["received"] == 2 && day["sent"] == 1 && day["conversations_opened_by_person"] == 1)
            .then_some(day)
    })
    .await;
    assert_eq!(day["day"], today());
    assert_eq!(day["phone_number_id"], tenant.phone_number_id.as_str());
    assert_eq!(day["failed"], 0);
    assert_eq!(day["conversations_opened_by_business"], 0);
    // AND the record holds no person: nothing of them in the answer
    assert!(!day.to_string().contains(&phone));
}

/// A record id as the gateway makes them: 128 bits, in hex.
fn rand_id() -> u128 {
    random_digits(30).parse().unwrap()
}

#[tokio::test]
async fn a_record_delivered_twice_or_counted_at_once_by_two_workers_counts_once() {
    let stack = Stack::connect().await;
    let tenant = TestTenant::create(&stack).await;
    let admin = tenant.api_key(&stack, Role::Admin).await;
    let record = |id: &str| EventRecord {
        id: id.to_owned(),
        tenant_id: tenant.id.as_str().to_owned(),
        phone_number_id: tenant.phone_number_id.clone(),
        at: now(),
        what: Tally::MessageFailed { refused: true },
    };
    // WHEN one record reaches the queue twice (a worker that published, died and published
    // again on redelivery)
    let queue = JobQueue::new(
        stack.sqs.clone(),
        std::env::var("REPORTING_QUEUE_URL").expect("REPORTING_QUEUE_URL"),
        Arc::new(Metrics::default()),
    );
    let twice = record(&format!("{:032x}", rand_id()));
    queue.send(&[twice.clone(), twice]).await.unwrap();
    // AND two workers count another at the same moment
    let counters: UsageStore = stack.store_counting(Arc::new(Metrics::default())).repo();
    let raced = record(&format!("{:032x}", rand_id()));
    let (a, b) = tokio::join!(
        counters.count_once(&raced, now()),
        counters.count_once(&raced, now())
    );
    let mut outcomes = [a.unwrap(), b.unwrap()];
    outcomes.sort_by_key(|c| *c == Counted::Already);
    assert_eq!(outcomes, [Counted::Counted, Counted::Already]);
    // THEN each is counted once
    let query = format!("from={day}&to={day}", day = today());
    eventually(WAIT, "both records counted", || async {
        let (_, answer) = usage(&stack, &admin, &query).await;
        (answer["days"][0]["refused"] == 2).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (_, answer) = usage(&stack, &admin, &query).await;
    assert_eq!(answer["days"][0]["refused"], 2, "{answer}");
}

#[tokio::test]
async fn only_managers_and_admins_read_usage_and_the_dates_are_checked() {
    let stack = Stack::connect().await;
    let tenant = TestTenant::create(&stack).await;
    let agent = tenant.api_key(&stack, Role::Agent).await;
    let manager = tenant.api_key(&stack, Role::Manager).await;
    let day = today();
    let (status, answer) = usage(&stack, &agent, &format!("from={day}&to={day}")).await;
    assert_eq!(status, 403, "{answer}");
    for (query, field) in [
        ("from=2026-02-30&to=2026-03-01", "from"),
        ("from=2026-03-01&to=tomorrow", "to"),
        ("from=2026-03-02&to=2026-03-01", "to"),
        ("from=2026-01-01&to=2026-12-31", "to"),
    ] {
        let (status, answer) = usage(&stack, &manager, query).await;
        assert_eq!(status, 400, "{query}: {answer}");
        assert_eq!(answer["error"]["field"], field, "{query}: {answer}");
    }
    let (status, answer) = usage(&stack, &manager, "from=2026-03-01").await;
    assert_eq!(status, 400, "`to` is required: {answer}");
}
