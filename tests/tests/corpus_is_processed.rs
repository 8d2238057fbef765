//! Every real-world payload of `../shared/corpus/pywa` (another project's test data, so no
//! one here wrote it) is accepted by the webhook and processed by the worker: stored,
//! applied, or kept as unknown, with nothing in the DLQ.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::time::Duration;
use wagate_messaging::store::TenantEventStore;

use serde_json::Value;
use wagate_messaging::queue::event::EventKind;
use wagate_messaging::webhook::split_delivery;
use wagate_tests::{Stack, TestTenant, text};

fn corpus_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus/pywa");
    dir.is_dir().then_some(dir)
}

/// Every case of every corpus file, addressed to `tenant`'s number and WABA.
fn cases(dir: &PathBuf, tenant: &TestTenant) -> Vec<(String, String)> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    files.sort();
    let mut cases = Vec::new();
    for file in files
        .into_iter()
        .filter(|f| f.extension().is_some_and(|e| e == "json"))
    {
        let all: serde_json::Map<String, Value> =
            serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        for (name, mut delivery) in all {
            for entry in delivery["entry"].as_array_mut().into_iter().flatten() {
                entry["id"] = Value::String(tenant.waba_id.clone());
                for change in entry["changes"].as_array_mut().into_iter().flatten() {
                    if let Some(metadata) = change["value"].get_mut("metadata") {
                        metadata["phone_number_id"] = Value::String(tenant.phone_number_id.clone());
                    }
                }
            }
            let label = format!("{}:{name}", file.file_name().unwrap().to_string_lossy());
            cases.push((label, delivery.to_string()));
        }
    }
    cases
}

/// What the worker leaves behind for one event, looked for in the tenant's items.
struct Evidence {
    /// The blind indexes of stored messages' wamids (their keys end with them).
    messages: HashSet<String>,
    /// (blind index of the wamid, status) pairs of applied statuses.
    statuses: HashSet<(String, String)>,
    /// The raw JSON of every tenant event (applied or kept), as the store opens it.
    events: HashSet<String>,
}

async fn evidence(stack: &Stack, tenant: &TestTenant) -> Evidence {
    let items = stack.tenant_items(tenant.id.as_str()).await;
    let mut found = Evidence {
        messages: HashSet::new(),
        statuses: HashSet::new(),
        events: HashSet::new(),
    };
    for it in &items {
        let sk = text(it, "sk").unwrap_or_default();
        if sk.starts_with("MSG#") {
            let blinded = sk.rsplit('#').next().unwrap_or_default();
            found.messages.insert(blinded.to_owned());
        } else if let Some(blinded) = sk.strip_prefix("WAMID#") {
            let wamid = blinded.to_owned();
            for status in ["sent", "delivered", "read", "played", "failed", "deleted"] {
                if it.contains_key(&format!("at_{status}")) {
                    found.statuses.insert((wamid.clone(), status.to_owned()));
                }
            }
        }
    }
    // Sealed at rest: read through the store, which opens them.
    let events = stack
        .store
        .repo::<TenantEventStore>()
        .tenant_events(&tenant.id, wagate_tests::now(), 1000)
        .await
        .expect("the tenant's events");
    found.events.extend(events.into_iter().map(|e| e.raw));
    found
}

/// `blinded`: each event's wamid's blind index, as its items are keyed by it.
fn is_processed(
    found: &Evidence,
    kind: EventKind,
    item: &str,
    blinded: &HashMap<String, String>,
) -> bool {
    if found.events.contains(item) {
        return true;
    }
    let value: Value = serde_json::from_str(item).unwrap_or(Value::Null);
    let wamid = value["id"].as_str().unwrap_or_default();
    let id = blinded.get(wamid).cloned().unwrap_or_default();
    match kind {
        EventKind::Message => found.messages.contains(&id),
        EventKind::Status => found
            .statuses
            .contains(&(id, value["status"].as_str().unwrap_or_default().to_owned())),
        _ => false,
    }
}

#[tokio::test]
async fn every_corpus_case_is_accepted_and_every_event_is_processed_with_nothing_in_the_dlq() {
    let Some(dir) = corpus_dir() else {
        eprintln!(
            "SKIPPED: ../shared/corpus/pywa is not beside this clone; the corpus test needs it"
        );
        return;
    };
    let stack = Stack::connect().await;
    let tenant = TestTenant::create(&stack).await;
    let cases = cases(&dir, &tenant);
    assert!(cases.len() >= 70, "the corpus has {} cases", cases.len());

    let mut expected: Vec<(String, EventKind, String)> = Vec::new();
    for (label, body) in &cases {
        let (status, answer) = stack.post_signed(body).await;
        assert_eq!(status, 200, "{label}: {answer}");
        let answer: Value = serde_json::from_str(&answer).unwrap();
        assert_eq!(
            answer["unroutable"], 0,
            "{label}: every event is routed to the tenant"
        );
        for event in split_delivery(body.as_bytes()).unwrap() {
            expected.push((label.clone(), event.kind, event.item.get().to_owned()));
        }
    }

    let mut blinded = HashMap::new();
    for (_, _, item) in &expected {
        let value: Value = serde_json::from_str(item).unwrap_or(Value::Null);
        if let Some(wamid) = value["id"].as_str() {
            let blind = stack
                .keyring
                .blind_wamid(tenant.id.as_str(), wamid)
                .await
                .unwrap();
            blinded.insert(wamid.to_owned(), blind);
        }
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(90);
    let missing = loop {
        let found = evidence(&stack, &tenant).await;
        let missing: Vec<&str> = expected
            .iter()
            .filter(|(_, kind, item)| !is_processed(&found, *kind, item, &blinded))
            .map(|(label, _, _)| label.as_str())
            .collect();
        if missing.is_empty() || std::time::Instant::now() > deadline {
            break missing;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    assert!(missing.is_empty(), "events not processed: {missing:?}");
    assert!(
        stack.dlq_bodies_of(tenant.id.as_str()).await.is_empty(),
        "no event of this tenant may reach the DLQ"
    );
}
