//! The audit log on the local stack: a mixed workload through both APIs, with writers
//! racing for the same chain, leaves one unbroken chain that names who did what and no
//! person; changing, deleting or reordering one entry in the table is found at its place;
//! a tenant's deletion is in the operator's chain; bad input changes nothing.

use aws_sdk_dynamodb::types::AttributeValue;
use reqwest::Method;
use serde_json::{Value, json};
use wagate_messaging::access::Role;
use wagate_messaging::domain::audit::AuditFact;
use wagate_tests::audit::{delete, entry, entry_key, put, verify};
use wagate_tests::{Stack, TestTenant, now, random_digits};

/// A read of an audit log: its status and answer. The tests beside this one share the
/// operator key's rate, so a 429 is waited out; the local Lambda emulator's own 500
/// (a problem document, never our error body) is asked again once.
async fn audit(stack: &Stack, key: &str, path: &str) -> (u16, Value) {
    for _ in 0..5 {
        let (status, page) = stack.admin(Method::GET, path, Some(key), None).await;
        let emulator_failed = status == 500 && page.get("error").is_none();
        if status != 429 && !emulator_failed {
            return (status, page);
        }
        eprintln!("{path} answered {status} ({page}); asking again");
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    }
    panic!("{path} kept answering 429 or the emulator's 500");
}

/// Every entry of the chain, newest first, through the API's pages.
async fn all_entries(stack: &Stack, tenant: &str, filter: &str) -> Vec<Value> {
    let mut entries = Vec::new();
    let mut cursor = String::new();
    loop {
        let path = format!("/admin/v1/tenants/{tenant}/audit?limit=20{filter}{cursor}");
        let (status, page) = audit(stack, &stack.operator_key, &path).await;
        assert_eq!(status, 200, "{page}");
        entries.extend(page["entries"].as_array().unwrap().iter().cloned());
        match page["next_cursor"].as_str() {
            Some(next) => cursor = format!("&cursor={next}"),
            None => return entries,
        }
    }
}

#[tokio::test]
async fn a_mixed_workload_with_racing_writers_leaves_one_chain_and_tampering_is_found_in_place() {
    let stack = Stack::connect().await;
    let op = stack.operator_key.clone();
    // The operator makes the tenant: that is in the operator's chain.
    let id = format!("t-{}", random_digits(12));
    let (status, made) = stack
        .admin(
            Method::POST,
            "/admin/v1/tenants",
            Some(&op),
            Some(json!({"id": id, "name": "Audited"})),
        )
        .await;
    assert_eq!(status, 201, "{made}");
    let (status, operator_log) = audit(&stack, &op, "/admin/v1/audit?limit=100").await;
    assert_eq!(status, 200, "{operator_log}");
    assert!(
        operator_log["entries"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "POST /admin/v1/tenants"
                && e["target"].as_str().unwrap().ends_with(&format!("-> {id}"))),
        "{operator_log}"
    );

    // A mixed workload on an established tenant, through both APIs.
    let tenant = TestTenant::create(&stack).await;
    tenant.register_at_sim(&stack, json!({})).await;
    let t = tenant.id.as_str().to_owned();
    let admin = tenant.api_key(&stack, Role::Admin).await;
    let phone = format!("49159{}", random_digits(8));
    tenant.user_writes(&stack, &phone, "Hello there").await;
    let contact_id = wagate_tests::eventually(
        std::time::Duration::from_secs(30),
        "the contact",
        || async { stack.contact_of(&tenant.id, &phone).await },
    )
    .await;
    let calls: Vec<(Method, String, Option<Value>, bool)> = vec![
        (
            Method::POST,
            format!("/admin/v1/tenants/{t}/keys"),
            Some(json!({"name": "ops", "role": "manager"})),
            true,
        ),
        (
            Method::PUT,
            format!("/admin/v1/tenants/{t}/retention"),
            Some(
                json!({"content_days": 30, "metadata_days": 60, "contact_days": 365, "dedup_days": 8}),
            ),
            true,
        ),
        (
            Method::PUT,
            format!("/admin/v1/tenants/{t}/consent"),
            Some(json!({"keyword_scope": "all"})),
            true,
        ),
        (
            Method::PATCH,
            format!("/admin/v1/tenants/{t}/contacts/{contact_id}"),
            Some(json!({"name": "Corrected"})),
            true,
        ),
        (
            Method::POST,
            format!("/v1/contacts/{contact_id}/consent"),
            Some(json!({"action": "opt_out", "scope": "marketing"})),
            false,
        ),
        (
            Method::POST,
            format!("/v1/contacts/{contact_id}/restriction"),
            Some(json!({})),
            false,
        ),
        (
            Method::DELETE,
            format!("/v1/contacts/{contact_id}/restriction"),
            None,
            false,
        ),
        (
            Method::POST,
            format!("/admin/v1/tenants/{t}/exports"),
            Some(json!({"phone": phone})),
            true,
        ),
        // Refused calls change nothing and are not recorded.
        (
            Method::PUT,
            format!("/admin/v1/tenants/{t}/retention"),
            Some(
                json!({"content_days": 30, "metadata_days": 60, "contact_days": 365, "dedup_days": 8, "audit_days": 30}),
            ),
            true,
        ),
    ];
    let mut succeeded = 0;
    for (method, path, body, is_admin) in calls {
        let (status, answer) = if is_admin {
            stack.admin(method.clone(), &path, Some(&admin), body).await
        } else {
            stack
                .api(method.clone(), &path, Some(&admin), body, &[])
                .await
        };
        if (200..300).contains(&status) {
            succeeded += 1;
        } else {
            assert_eq!(status, 400, "{method} {path}: {answer}");
        }
    }
    assert_eq!(succeeded, 8);
    // Writers racing for the chain: twenty appends at once, in process.
    let log = stack.audit_log(stack.store.clone());
    let racing: Vec<_> = (0..20)
        .map(|i| {
            let log = log.clone();
            let chain = t.clone();
            tokio::spawn(async move {
                log.append(
                    &chain,
                    AuditFact {
                        actor: "operator".into(),
                        action: "TEST racing writer".into(),
                        target: format!("/writer/{i}"),
                        status: 200,
                        request_id: format!("race-{i}"),
                        at: now(),
                    },
                )
                .await
                .unwrap()
                .seq
            })
        })
        .collect();
    let mut seqs = Vec::new();
    for writer in racing {
        seqs.push(writer.await.unwrap());
    }
    seqs.sort_unstable();
    seqs.dedup();
    assert_eq!(seqs.len(), 20, "every writer got its own place");

    let entries = all_entries(&stack, &t, "").await;
    assert_eq!(entries.len(), 28, "{entries:#?}");
    let actions: Vec<&str> = entries
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for expected in [
        "POST /admin/v1/tenants/{tenant_id}/keys",
        "PUT /admin/v1/tenants/{tenant_id}/retention",
        "PUT /admin/v1/tenants/{tenant_id}/consent",
        "PATCH /admin/v1/tenants/{tenant_id}/contacts/{contact_id}",
        "POST /v1/contacts/{contact_id}/consent",
        "POST /v1/contacts/{contact_id}/restriction",
        "DELETE /v1/contacts/{contact_id}/restriction",
        "POST /admin/v1/tenants/{tenant_id}/exports",
    ] {
        assert!(
            actions.contains(&expected),
            "{expected} missing: {actions:?}"
        );
    }
    let export = entries
        .iter()
        .find(|e| e["action"] == "POST /admin/v1/tenants/{tenant_id}/exports")
        .unwrap();
    assert!(
        export["target"].as_str().unwrap().contains("-> ex_"),
        "{export}"
    );
    assert!(
        export["actor"].as_str().unwrap().starts_with("key:"),
        "{export}"
    );
    assert!(!export["request_id"].as_str().unwrap().is_empty());
    // No person in it: not their number, not what they wrote, not the name given.
    let text = Value::Array(entries.clone()).to_string();
    for personal in [phone.as_str(), "Hello there", "Corrected"] {
        assert!(!text.contains(personal), "{personal} in the audit log");
    }
    // Filters and their bad input.
    let only = all_entries(
        &stack,
        &t,
        "&action=PUT%20/admin/v1/tenants/%7Btenant_id%7D/consent",
    )
    .await;
    assert_eq!(only.len(), 1, "{only:?}");
    let racing_only = all_entries(&stack, &t, "&actor=operator").await;
    assert_eq!(racing_only.len(), 20);
    for bad in ["limit=0", "since=10&until=5", "action=", "colour=red"] {
        let (status, answer) =
            audit(&stack, &op, &format!("/admin/v1/tenants/{t}/audit?{bad}")).await;
        assert_eq!(status, 400, "{bad}: {answer}");
    }

    // The chain holds.
    let report = verify(&stack, &t).await;
    assert_eq!(report["valid"], true, "{report}");
    assert_eq!(report["entries"], 28);
    assert_eq!(report["head_seq"], 28);

    // Changing one entry is found at that entry.
    let original = entry(&stack, &t, 5).await;
    let mut changed = original.clone();
    changed.insert("actor".into(), AttributeValue::S("key:someone-else".into()));
    put(&stack, changed).await;
    let report = verify(&stack, &t).await;
    assert_eq!(
        (report["valid"].as_bool(), report["broken"]["seq"].as_u64()),
        (Some(false), Some(5)),
        "{report}"
    );
    put(&stack, original.clone()).await;
    assert_eq!(verify(&stack, &t).await["valid"], true);

    // Deleting one is found at the one after it.
    delete(&stack, entry_key(&t, 9)).await;
    let report = verify(&stack, &t).await;
    assert_eq!(report["broken"]["seq"], 10, "{report}");
}

#[tokio::test]
async fn reordered_entries_are_found_and_a_tenants_deletion_is_in_the_operators_chain() {
    let stack = Stack::connect().await;
    let op = stack.operator_key.clone();
    let tenant = TestTenant::create(&stack).await;
    let t = tenant.id.as_str().to_owned();
    let admin = tenant.api_key(&stack, Role::Admin).await;
    for days in [30, 31, 32, 33] {
        let body = json!({"content_days": days, "metadata_days": 60, "contact_days": 365, "dedup_days": 8});
        let (status, answer) = stack
            .admin(
                Method::PUT,
                &format!("/admin/v1/tenants/{t}/retention"),
                Some(&admin),
                Some(body),
            )
            .await;
        assert_eq!(status, 200, "{answer}");
    }
    assert_eq!(verify(&stack, &t).await["entries"], 4);
    // Entries 2 and 3 swap places (each keeps its own hash).
    let two = entry(&stack, &t, 2).await;
    let three = entry(&stack, &t, 3).await;
    let mut moved_two = three.clone();
    moved_two.insert("sk".into(), two["sk"].clone());
    let mut moved_three = two.clone();
    moved_three.insert("sk".into(), three["sk"].clone());
    put(&stack, moved_two).await;
    put(&stack, moved_three).await;
    let report = verify(&stack, &t).await;
    assert_eq!(
        (report["valid"].as_bool(), report["broken"]["seq"].as_u64()),
        (Some(false), Some(3)),
        "{report}"
    );

    // Audit retention out of its bounds is refused and changes nothing.
    for days in [30, 4000] {
        let body = json!({"content_days": 30, "metadata_days": 60, "contact_days": 365, "dedup_days": 8, "audit_days": days});
        let (status, answer) = stack
            .admin(
                Method::PUT,
                &format!("/admin/v1/tenants/{t}/retention"),
                Some(&admin),
                Some(body),
            )
            .await;
        assert_eq!(status, 400, "{answer}");
        assert_eq!(answer["error"]["field"], "audit_days", "{answer}");
    }
    let (_, retention) = stack
        .admin(
            Method::GET,
            &format!("/admin/v1/tenants/{t}/retention"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(retention["audit_days"], 365, "{retention}");

    // The tenant's deletion is recorded where it outlives the tenant.
    let (status, deleted) = stack
        .admin(
            Method::DELETE,
            &format!("/admin/v1/tenants/{t}"),
            Some(&op),
            None,
        )
        .await;
    assert!((200..300).contains(&status), "{deleted}");
    let (_, operator_log) = audit(
        &stack,
        &op,
        "/admin/v1/audit?action=DELETE%20/admin/v1/tenants/%7Btenant_id%7D&limit=100",
    )
    .await;
    assert!(
        operator_log["entries"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["target"]
                .as_str()
                .unwrap()
                .starts_with(&format!("/admin/v1/tenants/{t}"))),
        "{operator_log}"
    );
    let (status, _) = stack
        .admin(Method::POST, "/admin/v1/audit/verify", Some(&op), None)
        .await;
    assert_eq!(status, 200);
}
