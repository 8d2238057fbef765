//! Deleting a tenant on the local stack: only the operator may; the tenant is cut off at
//! once (keys, numbers, routes), its data is erased in the background down to the last
//! item, and nothing of another tenant goes with it, not even of one whose id starts
//! with the deleted one's. The sweeps themselves: they go on from where a job stopped,
//! and a job of an earlier request, or for a tenant since made anew, does nothing.

use std::collections::HashMap;
use std::time::Duration;
use wagate_messaging::store::ApiKeyStore;
use wagate_messaging::store::NumberStore;

use aws_sdk_dynamodb::types::AttributeValue;
use reqwest::Method;
use serde_json::{Value, json};
use wagate_compliance::erasure::{ErasureJob, SweepOutcome, TenantEraser};
use wagate_messaging::access::{NewApiKey, Role};
use wagate_messaging::domain::tenant::TenantId;
use wagate_messaging::metrics::Metrics;
use wagate_messaging::queue::jobs::JobQueue;
use wagate_tests::{Stack, TestTenant, eventually, now, random_digits};

const WAIT: Duration = Duration::from_secs(60);

/// The sort keys of a tenant's items in the key table (its KEK, its contacts' keys).
async fn key_items_of(stack: &Stack, tenant: &str) -> Vec<String> {
    let mut sks: Vec<String> = stack
        .key_items(tenant)
        .await
        .iter()
        .filter_map(|it| it.get("sk").and_then(|v| v.as_s().ok()).cloned())
        .collect();
    sks.sort();
    sks
}

async fn items_of(stack: &Stack, tenant: &str) -> Vec<(String, String)> {
    let own = format!("T#{tenant}");
    let mut keys = Vec::new();
    let mut start: Option<HashMap<String, AttributeValue>> = None;
    loop {
        let out = stack
            .dynamo
            .scan()
            .table_name(&stack.table)
            .filter_expression("pk = :own OR begins_with(pk, :nested)")
            .expression_attribute_values(":own", AttributeValue::S(own.clone()))
            .expression_attribute_values(":nested", AttributeValue::S(format!("{own}#")))
            .projection_expression("pk, sk")
            .consistent_read(true)
            .set_exclusive_start_key(start.take())
            .send()
            .await
            .expect("scan the table");
        for it in out.items() {
            let text = |name: &str| it.get(name).and_then(|v| v.as_s().ok()).cloned();
            keys.push((text("pk").unwrap(), text("sk").unwrap()));
        }
        match out.last_evaluated_key {
            Some(key) if !key.is_empty() => start = Some(key),
            _ => {
                keys.sort();
                return keys;
            }
        }
    }
}

async fn key_of(stack: &Stack, tenant: &TenantId, role: Role) -> String {
    let key = NewApiKey::generate(tenant, "test", role, None, now());
    stack
        .store
        .repo::<ApiKeyStore>()
        .put_api_key(&key.record)
        .await
        .unwrap();
    key.key.expose().to_owned()
}

/// The operator creates tenant `id`.
async fn create_tenant(stack: &Stack, id: &str) {
    let (status, body) = stack
        .admin(
            Method::POST,
            "/admin/v1/tenants",
            Some(&stack.operator_key),
            Some(json!({"id": id, "name": "Acme"})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
}

/// A tenant created through the admin API whose id is `id`, with one contact.
async fn tenant_with_a_contact(stack: &Stack, id: &str) -> String {
    create_tenant(stack, id).await;
    let key = key_of(stack, &TenantId::parse(id).unwrap(), Role::Admin).await;
    let phone = format!("4915{}", random_digits(9));
    let (status, body) = stack
        .api(
            Method::POST,
            "/v1/contacts",
            Some(&key),
            Some(json!({"phone": phone, "name": "Nora"})),
            &[],
        )
        .await;
    assert_eq!(status, 201, "{body}");
    key
}

/// The tenant has an inbound conversation, a sent and read reply (with its idempotency
/// record), and a contact created through the API.
async fn fill(stack: &Stack, tenant: &TestTenant, key: &str) {
    let phone = format!("4917{}", random_digits(9));
    tenant.user_writes(stack, &phone, "Hello").await;
    eventually(
        WAIT,
        "the inbound message to create the contact",
        || async { stack.contact_of(&tenant.id, &phone).await },
    )
    .await;
    let (status, sent) = stack
        .api(
            Method::POST,
            "/v1/messages",
            Some(key),
            Some(json!({"from": tenant.phone_number_id, "to": phone, "type": "text", "text": {"body": "Hi"}})),
            &[("Idempotency-Key", "reply-1")],
        )
        .await;
    assert_eq!(status, 202, "{sent}");
    let path = format!("/v1/messages/{}", sent["id"].as_str().unwrap());
    // Wait for the last status, so that no worker still writes for the tenant.
    eventually(WAIT, "the reply to be read", || async {
        let (_, m) = stack.api(Method::GET, &path, Some(key), None, &[]).await;
        (m["state"] == "read").then_some(())
    })
    .await;
    let (status, body) = stack
        .api(
            Method::POST,
            "/v1/contacts",
            Some(key),
            Some(json!({"phone": format!("4916{}", random_digits(9)), "name": "Zoe"})),
            &[],
        )
        .await;
    assert_eq!(status, 201, "{body}");
}

fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn a_deleted_tenant_is_cut_off_at_once_and_erased_to_the_last_item() {
    let stack = Stack::connect().await;
    let tenant = TestTenant::create(&stack).await;
    tenant.register_at_sim(&stack, json!({})).await;
    let id = tenant.id.as_str().to_owned();
    let admin = tenant.api_key(&stack, Role::Admin).await;
    fill(&stack, &tenant, &admin).await;
    // A tenant whose id starts with the deleted one's keeps everything.
    let neighbour_id = format!("{id}-b");
    let neighbour_key = tenant_with_a_contact(&stack, &neighbour_id).await;
    let neighbour_before = items_of(&stack, &neighbour_id).await;
    let before = items_of(&stack, &id).await;
    assert!(before.iter().any(|(pk, _)| *pk == format!("T#{id}")));
    for part in ["#C#", "#ID#", "#IDEM#"] {
        assert!(
            before.iter().any(|(pk, _)| pk.contains(part)),
            "no {part} item to erase: {before:?}"
        );
    }

    let keys = key_items_of(&stack, &id).await;
    assert!(keys.contains(&"KEK".to_owned()), "{keys:?}");
    let export = stack
        .person_request_done(&id, "exports", &admin, json!({"phone": "4915100000001"}))
        .await;
    let export_url = export["download_url"].as_str().unwrap().to_owned();
    assert_eq!(reqwest::get(&export_url).await.unwrap().status(), 200);
    assert!(keys.iter().any(|k| k.starts_with("DEK#")), "{keys:?}");
    let neighbour_keys = key_items_of(&stack, &neighbour_id).await;

    // Only the operator deletes, and only tenants that exist.
    let path = format!("/admin/v1/tenants/{id}");
    let (status, body) = stack.admin(Method::DELETE, &path, Some(&admin), None).await;
    assert_eq!((status, code(&body)), (403, "forbidden"), "{body}");
    let (status, body) = stack
        .admin(Method::DELETE, &path, Some(&neighbour_key), None)
        .await;
    assert_eq!(status, 404, "another tenant's key: {body}");
    let (status, _) = stack
        .admin(
            Method::DELETE,
            &format!("/admin/v1/tenants/t-{}", random_digits(12)),
            Some(&stack.operator_key),
            None,
        )
        .await;
    assert_eq!(status, 404);

    let (status, body) = stack
        .admin(Method::DELETE, &path, Some(&stack.operator_key), None)
        .await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["status"], "deleting");
    assert_eq!(body["id"], id.as_str());
    // Its key-encryption key went first: nothing sealed for its people opens any more.
    let keys = key_items_of(&stack, &id).await;
    assert!(!keys.contains(&"KEK".to_owned()), "{keys:?}");

    // Cut off at once: no route to the number, no key, no change to its settings.
    assert_eq!(
        stack
            .store
            .repo::<NumberStore>()
            .tenant_for_phone_number(&tenant.phone_number_id)
            .await
            .unwrap(),
        None
    );
    let (status, body) = stack
        .admin(
            Method::PATCH,
            &path,
            Some(&stack.operator_key),
            Some(json!({"status": "active"})),
        )
        .await;
    assert_eq!(status, 404, "a tenant being deleted is not resumed: {body}");
    let (status, body) = stack
        .admin(
            Method::POST,
            &format!("{path}/keys"),
            Some(&stack.operator_key),
            Some(json!({"name": "late", "role": "admin"})),
        )
        .await;
    assert_eq!(status, 404, "no new key for a tenant being deleted: {body}");
    eventually(
        Duration::from_secs(15),
        "the tenant's key to stop working",
        || async {
            let (status, _) = stack
                .api(Method::GET, "/v1/contacts", Some(&admin), None, &[])
                .await;
            (status == 401).then_some(())
        },
    )
    .await;

    // Erased in the background; then the tenant itself is gone and its id is free.
    // A scan of the whole table: on a busy CI host with every other test's data, it may
    // take a while.
    eventually(
        Duration::from_secs(240),
        "the tenant to be erased",
        || async {
            let (status, _) = stack
                .admin(Method::GET, &path, Some(&stack.operator_key), None)
                .await;
            (status == 404).then_some(())
        },
    )
    .await;
    let left = items_of(&stack, &id).await;
    assert!(left.is_empty(), "left behind: {left:?}");
    assert_eq!(key_items_of(&stack, &id).await, Vec::<String>::new());
    assert_eq!(
        reqwest::get(&export_url).await.unwrap().status(),
        404,
        "the export's files went with the tenant"
    );
    assert_eq!(key_items_of(&stack, &neighbour_id).await, neighbour_keys);
    // Gone from the operator's listing too, while the neighbour is listed.
    let listed: Vec<String> = stack
        .all_tenants()
        .await
        .iter()
        .filter_map(|t| t["id"].as_str().map(str::to_owned))
        .collect();
    assert!(!listed.contains(&id), "{id} still listed");
    assert!(listed.contains(&neighbour_id), "{neighbour_id} not listed");
    assert_eq!(items_of(&stack, &neighbour_id).await, neighbour_before);
    let (status, page) = stack
        .api(Method::GET, "/v1/contacts", Some(&neighbour_key), None, &[])
        .await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["contacts"].as_array().map(Vec::len), Some(1), "{page}");
    // The id is free again.
    create_tenant(&stack, &id).await;
}

/// Takes the jobs SQS hands out in one receive (waiting up to a second) off the queue.
async fn take_jobs(stack: &Stack, queue_url: &str) -> Vec<ErasureJob> {
    let out = stack
        .sqs
        .receive_message()
        .queue_url(queue_url)
        .max_number_of_messages(10)
        .wait_time_seconds(1)
        .send()
        .await
        .unwrap();
    let mut jobs = Vec::new();
    for message in out.messages() {
        jobs.push(serde_json::from_str(message.body().unwrap()).unwrap());
        stack
            .sqs
            .delete_message()
            .queue_url(queue_url)
            .receipt_handle(message.receipt_handle().unwrap())
            .send()
            .await
            .unwrap();
    }
    jobs
}

/// Runs the jobs on `queue` one page at a time (each job stops after its first page and
/// queues the rest), until none is left; the outcomes in order.
async fn drain(stack: &Stack, queue_url: &str, eraser: &TenantEraser) -> Vec<SweepOutcome> {
    let mut outcomes = Vec::new();
    let mut idle = 0;
    while idle < 3 {
        let jobs = take_jobs(stack, queue_url).await;
        idle = if jobs.is_empty() { idle + 1 } else { 0 };
        for job in &jobs {
            outcomes.push(eraser.run(job, || false).await.expect("the sweep runs"));
        }
    }
    outcomes
}

#[tokio::test]
async fn sweeps_go_on_page_by_page_and_stale_jobs_do_nothing() {
    let stack = Stack::connect().await;
    // A queue of this test's own, so that the stack's erasure function does not take the jobs.
    let queue_url = stack
        .sqs
        .create_queue()
        .queue_name(format!("erasure-test-{}", random_digits(10)))
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let queue = JobQueue::new(
        stack.sqs.clone(),
        queue_url.clone(),
        std::sync::Arc::new(Metrics::default()),
    );
    // Small pages: every segment takes several, whatever else the table holds.
    let eraser = TenantEraser::new(stack.store.clone(), queue)
        .with_segments(3)
        .with_page_items(40);
    let id = format!("t-{}", random_digits(12));
    let key = tenant_with_a_contact(&stack, &id).await;
    let tenant = TenantId::parse(&id).unwrap();
    let rows: Vec<Value> = (0..150)
        .map(|i| json!({"phone": format!("4930{}{i:03}", random_digits(6)), "name": format!("C{i}")}))
        .collect();
    let (status, report) = stack
        .api(
            Method::POST,
            "/v1/contacts/import",
            Some(&key),
            Some(json!({"contacts": rows})),
            &[],
        )
        .await;
    assert_eq!(
        (status, report["created"].as_u64()),
        (200, Some(150)),
        "{report}"
    );
    assert!(items_of(&stack, &id).await.len() > 300);

    let number = random_digits(15);
    let waba = random_digits(15);
    let token = format!("EAATEST{}", random_digits(20));
    stack
        .sim_post(
            "/_sim/numbers",
            json!({"phone_number_id": number, "display_phone_number": "15550001111",
                   "waba_id": waba, "access_token": token, "app_secret": random_digits(32),
                   "webhook_url": stack.tenant_webhook_url(&id)}),
        )
        .await;
    let (status, body) = stack
        .admin(
            Method::PUT,
            &format!("/admin/v1/tenants/{id}/numbers/{number}"),
            Some(&stack.operator_key),
            Some(json!({"waba_id": waba, "display_phone_number": "+15550001111", "access_token": token})),
        )
        .await;
    assert_eq!(status, 200, "{body}");

    // A first request whose jobs are overtaken by a second one: they do nothing.
    let started = now();
    eraser
        .start(&tenant, started, Duration::ZERO)
        .await
        .unwrap()
        .expect("the tenant exists");
    // The number's senders are held back past their caches, as for a disconnected number.
    let pace = stack
        .dynamo
        .get_item()
        .table_name(&stack.table)
        .key("pk", AttributeValue::S(format!("T#{id}")))
        .key("sk", AttributeValue::S(format!("PACE#{number}")))
        .send()
        .await
        .unwrap()
        .item
        .expect("the number's pacing is kept until the sweep");
    let next_us: i64 = pace["next_us"].as_n().unwrap().parse().unwrap();
    assert!(next_us >= (started + 100) * 1_000_000, "{next_us}");
    assert_eq!(
        stack
            .store
            .repo::<NumberStore>()
            .tenant_for_phone_number(&number)
            .await
            .unwrap(),
        None
    );
    let first_run = receive_all(&stack, &queue_url).await;
    assert_eq!(first_run.len(), 3);
    eraser
        .start(&tenant, now(), Duration::ZERO)
        .await
        .unwrap()
        .expect("the tenant exists");
    for job in &first_run {
        assert_eq!(
            eraser.run(job, || false).await.unwrap(),
            SweepOutcome::Stale
        );
    }

    let outcomes = drain(&stack, &queue_url, &eraser).await;
    let continued = outcomes
        .iter()
        .filter(|o| matches!(o, SweepOutcome::Continued { .. }))
        .count();
    assert!(continued >= 3, "every segment takes pages: {outcomes:?}");
    assert_eq!(
        outcomes
            .iter()
            .filter(|o| matches!(o, SweepOutcome::TenantErased { .. }))
            .count(),
        1,
        "{outcomes:?}"
    );
    assert_eq!(
        outcomes
            .iter()
            .filter(|o| matches!(o, SweepOutcome::SegmentDone { .. }))
            .count(),
        2,
        "{outcomes:?}"
    );
    let deleted: usize = outcomes
        .iter()
        .map(|o| match o {
            SweepOutcome::Continued { deleted }
            | SweepOutcome::SegmentDone { deleted }
            | SweepOutcome::TenantErased { deleted } => *deleted,
            SweepOutcome::Stale => 0,
        })
        .sum();
    assert!(deleted > 300, "{deleted}");
    assert_eq!(items_of(&stack, &id).await, Vec::<(String, String)>::new());

    // A job that comes back after the tenant was made anew leaves the new one alone.
    tenant_with_a_contact(&stack, &id).await;
    let fresh = items_of(&stack, &id).await;
    for job in &first_run {
        assert_eq!(
            eraser.run(job, || false).await.unwrap(),
            SweepOutcome::Stale
        );
    }
    assert_eq!(items_of(&stack, &id).await, fresh);
    stack
        .sqs
        .delete_queue()
        .queue_url(&queue_url)
        .send()
        .await
        .unwrap();
}

/// The first request's three jobs, taken off the queue.
async fn receive_all(stack: &Stack, queue_url: &str) -> Vec<ErasureJob> {
    let mut jobs = Vec::new();
    for _ in 0..5 {
        jobs.extend(take_jobs(stack, queue_url).await);
        if jobs.len() == 3 {
            break;
        }
    }
    jobs
}
