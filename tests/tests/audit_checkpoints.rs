//! The audit chains' signed checkpoints on the local stack: a chain rewritten from some
//! entry on, cut short at either end, or given a forged checkpoint is found by
//! `audit/verify` though every link still holds; a chain left a day without a checkpoint
//! is found too, and the daily job (through the erasure function) signs every chain; a
//! shorter audit retention leaves the entries already written as they were; an append
//! that fails is queued and made by the erasure function, once.

use std::sync::Arc;
use std::time::Duration;

use aws_sdk_dynamodb::config::interceptors::BeforeSerializationInterceptorContextRef;
use aws_sdk_dynamodb::config::{ConfigBag, Intercept};
use aws_sdk_dynamodb::error::BoxError;
use aws_sdk_dynamodb::operation::put_item::PutItemInput;
use aws_sdk_dynamodb::types::AttributeValue;
use reqwest::Method;
use serde_json::{Value, json};
use wagate_audit::AuditAppend;
use wagate_audit::backlog::Retried;
use wagate_audit::{AuditLog, Recorded, Signed};
use wagate_messaging::access::Role;
use wagate_messaging::domain::audit::checkpoint::STALE_AFTER_SECS;
use wagate_messaging::domain::audit::{AuditEntry, AuditFact};
use wagate_messaging::metrics::Metrics;
use wagate_tests::audit::{
    Item, checkpoint_key, delete, entry, entry_key, number, put, read, verify,
};
use wagate_tests::{Stack, TestTenant, eventually, now};

fn fact(i: u64, at: i64) -> AuditFact {
    AuditFact {
        actor: "operator".into(),
        action: "TEST checkpoint".into(),
        target: format!("/test/{i}"),
        status: 200,
        request_id: format!("cp-{i}"),
        at,
    }
}

async fn append(log: &AuditLog, chain: &str, range: std::ops::RangeInclusive<u64>, at: i64) {
    for i in range {
        log.append(chain, fact(i, at)).await.unwrap();
    }
}

fn problem(report: &Value) -> (u64, String) {
    assert_eq!(report["valid"], false, "{report}");
    (
        report["broken"]["seq"].as_u64().unwrap(),
        report["broken"]["problem"].as_str().unwrap().to_owned(),
    )
}

/// The entries `range` of `chain` as stored.
async fn entries(stack: &Stack, chain: &str, range: std::ops::RangeInclusive<u64>) -> Vec<Item> {
    let mut items = Vec::new();
    for seq in range {
        items.push(entry(stack, chain, seq).await);
    }
    items
}

async fn put_all(stack: &Stack, items: &[Item]) {
    for item in items {
        put(stack, item.clone()).await;
    }
}

fn text(item: &Item, name: &str) -> String {
    item[name].as_s().unwrap().clone()
}

/// `items`, rewritten as one who can write the table but not sign would: each names
/// another actor and is chained to the one before, so that every link holds.
fn rewritten(items: &[Item], mut prev_hash: String) -> Vec<Item> {
    items
        .iter()
        .map(|item| {
            let mut entry = AuditEntry {
                seq: number(item, "seq") as u64,
                at: number(item, "at"),
                actor: "key:intruder".into(),
                action: text(item, "action"),
                target: text(item, "target"),
                status: number(item, "status") as u16,
                request_id: text(item, "request_id"),
                prev_hash: prev_hash.clone(),
                expires_at: Some(number(item, "expires_at")),
                prev_expires_at: Some(number(item, "prev_expires_at")),
                hash: String::new(),
            };
            entry.hash = entry.computed_hash();
            prev_hash = entry.hash.clone();
            let mut changed = item.clone();
            for (name, value) in [
                ("actor", &entry.actor),
                ("prev_hash", &entry.prev_hash),
                ("hash", &entry.hash),
            ] {
                changed.insert(name.into(), AttributeValue::S(value.clone()));
            }
            changed
        })
        .collect()
}

#[tokio::test]
async fn a_chain_rewritten_cut_short_or_given_a_forged_checkpoint_is_found() {
    let stack = Stack::connect().await;
    let tenant = TestTenant::create(&stack).await;
    let t = tenant.id.as_str().to_owned();
    let log = stack.audit_log(stack.store.clone());
    append(&log, &t, 1..=230, now()).await;

    // Signed at 100 and 200 (and perhaps at 230, by a daily job another test queued).
    let report = verify(&stack, &t).await;
    assert_eq!(report["valid"], true, "{report}");
    assert_eq!(report["entries"], 230);
    assert!(report["checkpoints"].as_u64() >= Some(2), "{report}");
    let newest = report["signed"]["seq"].as_u64().unwrap();
    assert!(newest >= 200, "{report}");
    assert!(!report["signed"]["key_id"].as_str().unwrap().is_empty());

    // Rewritten from entry 150 on, every link holding: the signed head at 200 differs.
    let original = entries(&stack, &t, 150..=230).await;
    let before = text(&entry(&stack, &t, 149).await, "hash");
    put_all(&stack, &rewritten(&original, before)).await;
    let (seq, why) = problem(&verify(&stack, &t).await);
    // At 200, or at the daily job's checkpoint if it signed between 150 and 200.
    assert!((150..=200).contains(&seq), "{seq}");
    assert!(why.contains("rewritten"), "{why}");
    put_all(&stack, &original).await;
    assert_eq!(verify(&stack, &t).await["valid"], true);

    // The newest entries deleted: the chain falls short of the signed head.
    for seq in 190..=230 {
        delete(&stack, entry_key(&t, seq)).await;
    }
    let (seq, why) = problem(&verify(&stack, &t).await);
    assert_eq!(seq, 190);
    assert!(why.contains("newest entries were deleted"), "{why}");
    put_all(&stack, &original[40..]).await;
    assert_eq!(verify(&stack, &t).await["valid"], true);

    // The oldest entries deleted, as expiry would: the checkpoints say they live on.
    let oldest = entries(&stack, &t, 1..=120).await;
    for seq in 1..=120 {
        delete(&stack, entry_key(&t, seq)).await;
    }
    // Entry 121 names entry 120's end, which has not passed.
    let (seq, why) = problem(&verify(&stack, &t).await);
    assert_eq!(seq, 121);
    assert!(why.contains("oldest entries were deleted"), "{why}");
    // Their ends moved into the past instead: the signed ends still say otherwise.
    let expired: Vec<Item> = oldest
        .iter()
        .map(|item| {
            let mut item = item.clone();
            item.insert("expires_at".into(), AttributeValue::N("1".into()));
            item
        })
        .collect();
    put_all(&stack, &expired).await;
    let (_, why) = problem(&verify(&stack, &t).await);
    assert!(why.contains("oldest entries were deleted"), "{why}");
    put_all(&stack, &oldest).await;
    assert_eq!(verify(&stack, &t).await["valid"], true);

    // A checkpoint changed, or one made up to accuse the chain, is not the key's.
    let signed = read(&stack, checkpoint_key(&t, newest)).await.unwrap();
    let mut changed = signed.clone();
    changed.insert("oldest_seq".into(), AttributeValue::N("50".into()));
    put(&stack, changed).await;
    let (seq, why) = problem(&verify(&stack, &t).await);
    assert_eq!(seq, newest);
    assert!(why.contains("not signed"), "{why}");
    put(&stack, signed.clone()).await;
    let mut made_up = signed.clone();
    made_up.extend(checkpoint_key(&t, 229));
    made_up.insert("seq".into(), AttributeValue::N("229".into()));
    put(&stack, made_up).await;
    let (seq, why) = problem(&verify(&stack, &t).await);
    assert_eq!(seq, 229);
    assert!(why.contains("not signed"), "{why}");
    delete(&stack, checkpoint_key(&t, 229)).await;

    // Signing refuses a chain that no longer agrees with its newest checkpoint.
    for seq in 195..=230 {
        delete(&stack, entry_key(&t, seq)).await;
    }
    let refused = log.sign_checkpoint(&t, now()).await.unwrap();
    assert!(matches!(refused, Signed::Refused(_)), "{refused:?}");
    put_all(&stack, &original[45..]).await;
    let report = verify(&stack, &t).await;
    assert_eq!(report["valid"], true, "{report}");
}

#[tokio::test]
async fn deleting_the_start_of_a_chain_is_found_once_its_oldest_signed_entry_has_ended() {
    let stack = Stack::connect().await;
    let tenant = TestTenant::create(&stack).await;
    let t = tenant.id.as_str().to_owned();
    let log = stack.audit_log(stack.store.clone());
    // Five entries that end in a few seconds, then thirty-five kept a year.
    let soon = now() + 3;
    for i in 1..=5 {
        log.append_until(&t, fact(i, now()), soon).await.unwrap();
    }
    append(&log, &t, 6..=40, now()).await;
    assert_eq!(
        log.sign_checkpoint(&t, now()).await.unwrap(),
        Signed::Head(40)
    );
    tokio::time::sleep(Duration::from_secs(4)).await;
    let report = verify(&stack, &t).await;
    assert_eq!(report["valid"], true, "{report}");
    assert_eq!(report["first_seq"], 6, "the first five ended");
    // The checkpoint's oldest entry has ended; most of the year's entries are deleted.
    let deleted = entries(&stack, &t, 6..=30).await;
    for seq in 6..=30 {
        delete(&stack, entry_key(&t, seq)).await;
    }
    let (seq, why) = problem(&verify(&stack, &t).await);
    assert_eq!(seq, 31);
    assert!(why.contains("oldest entries were deleted"), "{why}");
    // Nor will the signing sign it.
    let refused = log.sign_checkpoint(&t, now()).await.unwrap();
    assert!(matches!(refused, Signed::Refused(_)), "{refused:?}");
    put_all(&stack, &deleted).await;
    assert_eq!(verify(&stack, &t).await["valid"], true);
}

#[tokio::test]
async fn the_hundredth_entry_has_the_erasure_function_sign_a_checkpoint() {
    let stack = Stack::connect().await;
    let tenant = TestTenant::create(&stack).await;
    let t = tenant.id.as_str().to_owned();
    // As the business API's and the inbound worker's logs: no audit key, the erasure queue.
    let log = AuditLog::new(stack.store.clone()).with_jobs(stack.erasure_jobs());
    append(&log, &t, 1..=100, now()).await;
    let report = eventually(Duration::from_secs(60), "the checkpoint", || async {
        let report = verify(&stack, &t).await;
        report["signed"]["seq"].as_u64().map(|_| report)
    })
    .await;
    assert_eq!(report["valid"], true, "{report}");
    assert!(report["signed"]["seq"].as_u64() >= Some(100), "{report}");
    // Without the key, it neither signs nor checks.
    assert!(log.sign_checkpoint(&t, now()).await.is_err());
    assert!(log.verify(&t, now()).await.is_err());
}

#[tokio::test]
async fn a_day_without_a_checkpoint_shows_and_the_daily_job_signs_every_chain() {
    let stack = Stack::connect().await;
    let tenant = TestTenant::create(&stack).await;
    let t = tenant.id.as_str().to_owned();
    let log = stack.audit_log(stack.store.clone());
    let long_ago = now() - STALE_AFTER_SECS - 3_600;
    append(&log, &t, 1..=3, long_ago).await;

    let (_, why) = problem(&verify(&stack, &t).await);
    assert!(why.contains("no checkpoint"), "{why}");
    let signed = log.sign_checkpoint(&t, long_ago + 60).await.unwrap();
    assert_eq!(signed, Signed::Head(3));
    let (seq, why) = problem(&verify(&stack, &t).await);
    assert_eq!(seq, 4);
    assert!(why.contains("more than a day ago"), "{why}");

    // Something in the operator's chain, so that it has a head to sign.
    let (status, made) = stack
        .admin(
            Method::POST,
            "/admin/v1/tenants",
            Some(&stack.operator_key),
            Some(json!({"id": format!("t-{}", wagate_tests::random_digits(12)), "name": "Signed"})),
        )
        .await;
    assert_eq!(status, 201, "{made}");
    // The daily schedule's message, through the erasure function.
    let asked = now();
    stack
        .sqs
        .send_message()
        .queue_url(&stack.erasure_queue_url)
        .message_body(r#"{"job":"audit_checkpoints"}"#)
        .send()
        .await
        .unwrap();
    let report = eventually(Duration::from_secs(120), "the daily signing", || async {
        let report = verify(&stack, &t).await;
        (report["signed"]["at"].as_i64() >= Some(asked)).then_some(report)
    })
    .await;
    assert_eq!(report["valid"], true, "{report}");
    assert_eq!(report["signed"]["seq"], 3);
    let (status, operator) = stack
        .admin(
            Method::POST,
            "/admin/v1/audit/verify",
            Some(&stack.operator_key),
            None,
        )
        .await;
    assert_eq!(status, 200, "{operator}");
    assert!(
        operator["signed"]["at"].as_i64() >= Some(asked),
        "{operator}"
    );

    // Its checkpoint deleted (the chain could be rewritten next), the chain is not signed
    // again by itself: it holds entries older than a day and no checkpoint.
    delete(&stack, checkpoint_key(&t, 3)).await;
    let refused = log.sign_checkpoint(&t, now()).await.unwrap();
    assert!(matches!(refused, Signed::Refused(_)), "{refused:?}");
    let (_, why) = problem(&verify(&stack, &t).await);
    assert!(why.contains("no checkpoint"), "{why}");
    // The operator, having found it sound, adopts it: the erasure function walks and signs.
    let adopted = now();
    let (status, queued) = stack
        .admin(
            Method::POST,
            "/admin/v1/maintenance/audit-checkpoints",
            Some(&stack.operator_key),
            None,
        )
        .await;
    assert_eq!(status, 202, "{queued}");
    let report = eventually(Duration::from_secs(120), "the adoption", || async {
        let report = verify(&stack, &t).await;
        (report["signed"]["at"].as_i64() >= Some(adopted)).then_some(report)
    })
    .await;
    assert_eq!(report["valid"], true, "{report}");
}

#[tokio::test]
async fn a_shorter_audit_retention_leaves_written_entries_as_they_were() {
    let stack = Stack::connect().await;
    let tenant = TestTenant::create(&stack).await;
    let t = tenant.id.as_str().to_owned();
    let admin = tenant.api_key(&stack, Role::Admin).await;
    let log = stack.audit_log(stack.store.clone());
    append(&log, &t, 1..=3, now()).await;
    let ends_before: Vec<i64> = entries(&stack, &t, 1..=3)
        .await
        .iter()
        .map(|e| number(e, "expires_at"))
        .collect();

    let retention = format!("/admin/v1/tenants/{t}/retention");
    let body = json!({"content_days": 30, "metadata_days": 60, "contact_days": 365, "dedup_days": 8, "audit_days": 90});
    let (status, answer) = stack
        .admin(Method::PUT, &retention, Some(&admin), Some(body))
        .await;
    assert_eq!(status, 200, "{answer}");
    // The ageing run the change started ends before the entries are read again.
    eventually(
        Duration::from_secs(60),
        "the tenant's ageing run",
        || async {
            let (_, settings) = stack
                .admin(Method::GET, &retention, Some(&admin), None)
                .await;
            (settings["ageing"]["state"] == "done").then_some(())
        },
    )
    .await;
    let ends_after: Vec<i64> = entries(&stack, &t, 1..=3)
        .await
        .iter()
        .map(|e| number(e, "expires_at"))
        .collect();
    assert_eq!(ends_after, ends_before);
    // The entries after the change are the chain's newest, and none ends before the
    // entry it follows: the chain ages from its oldest end only.
    let head = entries(&stack, &t, 4..=4).await;
    let head_ends = number(&head[0], "expires_at");
    assert!(
        head_ends >= ends_before[2],
        "{head_ends} < {}",
        ends_before[2]
    );
    assert_eq!(verify(&stack, &t).await["valid"], true);
}

/// Fails every PutItem into one audit chain, as a throttled or unreachable table would.
#[derive(Debug, Clone)]
struct ChainUnwritable {
    pk: String,
}

impl Intercept for ChainUnwritable {
    fn name(&self) -> &'static str {
        "audit chain unwritable"
    }

    fn read_before_execution(
        &self,
        context: &BeforeSerializationInterceptorContextRef<'_>,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let into_chain = context
            .input()
            .downcast_ref::<PutItemInput>()
            .and_then(|put| put.item())
            .and_then(|item| item.get("pk"))
            .is_some_and(|pk| pk.as_s().is_ok_and(|pk| *pk == self.pk));
        if into_chain {
            return Err("injected failure: the audit chain cannot be written".into());
        }
        Ok(())
    }
}

#[tokio::test]
async fn an_append_that_fails_is_queued_and_made_once_by_the_erasure_function() {
    let stack = Stack::connect().await;
    let tenant = TestTenant::create(&stack).await;
    let t = tenant.id.as_str().to_owned();
    let good = stack.audit_log(stack.store.clone());
    append(&good, &t, 1..=2, now()).await;

    let dynamo = aws_sdk_dynamodb::config::Builder::from(&stack.sdk)
        .interceptor(ChainUnwritable {
            pk: format!("T#{t}#AUDIT"),
        })
        .build();
    let failing = AuditLog::new(stack.store_over(
        aws_sdk_dynamodb::Client::from_conf(dynamo),
        Arc::new(Metrics::default()),
    ))
    .with_jobs(stack.erasure_jobs());
    let lost = fact(3, now());
    assert_eq!(
        failing.record(&t, lost.clone(), None).await.unwrap(),
        Recorded::Queued
    );
    let seq = eventually(Duration::from_secs(120), "the queued append", || async {
        let third = read(&stack, entry_key(&t, 3)).await?;
        Some(number(&third, "seq"))
    })
    .await;
    assert_eq!(seq, 3);
    assert_eq!(text(&entry(&stack, &t, 3).await, "request_id"), "cp-3");

    // Retried again (its answer lost, say), it is found and not made twice.
    let again = AuditAppend {
        chain: t.clone(),
        fact: lost,
        expires_at: None,
        after_seq: Some(2),
    };
    assert_eq!(
        good.retry(&again, now()).await.unwrap(),
        Retried::AlreadyThere(3)
    );
    assert!(read(&stack, entry_key(&t, 4)).await.is_none());
    assert_eq!(verify(&stack, &t).await["valid"], true);
}
