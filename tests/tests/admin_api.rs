//! The admin API on the local stack: the operator manages tenants and keys; a tenant's
//! admin key manages its own keys and retention and sees no other tenant; roles are
//! enforced; a revoked or expired key stops working within seconds; retention stays within
//! its bounds and stamps new messages; bad requests get a JSON error naming the field and
//! change nothing.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use wagate_tests::{Stack, TestTenant, eventually, now, random_digits, text, wamid};

fn tenant_id() -> String {
    format!("t-{}", random_digits(12))
}

async fn create_tenant(stack: &Stack) -> String {
    let id = tenant_id();
    let (status, body) = stack
        .admin(
            Method::POST,
            "/admin/v1/tenants",
            Some(&stack.operator_key),
            Some(json!({"id": id, "name": "Acme GmbH"})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    id
}

async fn create_key(stack: &Stack, tenant: &str, by: &str, role: &str, extra: Value) -> Value {
    let mut request = json!({"name": format!("{role} key"), "role": role});
    for (k, v) in extra.as_object().unwrap() {
        request[k] = v.clone();
    }
    let (status, body) = stack
        .admin(
            Method::POST,
            &format!("/admin/v1/tenants/{tenant}/keys"),
            Some(by),
            Some(request),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    body
}

fn error_code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn the_operator_creates_reads_renames_and_suspends_a_tenant() {
    let stack = Stack::connect().await;
    let id = create_tenant(&stack).await;
    let path = format!("/admin/v1/tenants/{id}");
    let (status, body) = stack
        .admin(Method::GET, &path, Some(&stack.operator_key), None)
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["name"], "Acme GmbH");
    assert_eq!(body["status"], "active");
    assert!(body["retention"]["content_days"].as_u64().unwrap() > 0);

    let (status, body) = stack
        .admin(
            Method::PATCH,
            &path,
            Some(&stack.operator_key),
            Some(json!({"name": "Acme AG", "status": "suspended"})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["name"], "Acme AG");
    assert_eq!(body["status"], "suspended");
    // Each field alone, and nothing at all, work too.
    for (change, name, status) in [
        (json!({"status": "active"}), "Acme AG", "active"),
        (json!({"name": "Acme SE"}), "Acme SE", "active"),
        (json!({"status": "suspended"}), "Acme SE", "suspended"),
        (json!({}), "Acme SE", "suspended"),
    ] {
        let (status_code, body) = stack
            .admin(
                Method::PATCH,
                &path,
                Some(&stack.operator_key),
                Some(change.clone()),
            )
            .await;
        assert_eq!(status_code, 200, "{change}: {body}");
        assert_eq!(
            (body["name"].as_str(), body["status"].as_str()),
            (Some(name), Some(status))
        );
    }

    // The id is taken now.
    let (status, body) = stack
        .admin(
            Method::POST,
            "/admin/v1/tenants",
            Some(&stack.operator_key),
            Some(json!({"id": id, "name": "Someone else"})),
        )
        .await;
    assert_eq!((status, error_code(&body)), (409, "conflict"), "{body}");
    let (_, body) = stack
        .admin(Method::GET, &path, Some(&stack.operator_key), None)
        .await;
    assert_eq!(
        body["name"], "Acme SE",
        "the refused create changed the tenant"
    );
}

#[tokio::test]
async fn a_tenants_admin_key_manages_its_own_keys_and_sees_no_other_tenant() {
    let stack = Stack::connect().await;
    let mine = create_tenant(&stack).await;
    let theirs = create_tenant(&stack).await;
    let admin = create_key(&stack, &mine, &stack.operator_key, "admin", json!({})).await;
    let admin_key = admin["key"].as_str().unwrap().to_owned();
    assert!(admin_key.starts_with(&format!("wg.{mine}.")));
    assert_eq!(
        admin["prefix"].as_str().unwrap(),
        &admin_key[..admin_key.rfind('.').unwrap()]
    );

    let (status, body) = stack
        .admin(
            Method::GET,
            &format!("/admin/v1/tenants/{mine}"),
            Some(&admin_key),
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let agent = create_key(&stack, &mine, &admin_key, "agent", json!({})).await;
    let their_key = create_key(&stack, &theirs, &stack.operator_key, "admin", json!({})).await;

    // Another tenant's ids answer 404, whatever the route.
    for (method, path, body) in [
        (Method::GET, format!("/admin/v1/tenants/{theirs}"), None),
        (
            Method::GET,
            format!("/admin/v1/tenants/{theirs}/keys"),
            None,
        ),
        (
            Method::POST,
            format!("/admin/v1/tenants/{theirs}/keys"),
            Some(json!({"name": "x", "role": "admin"})),
        ),
        (
            Method::DELETE,
            format!(
                "/admin/v1/tenants/{theirs}/keys/{}",
                their_key["key_id"].as_str().unwrap()
            ),
            None,
        ),
        (
            Method::DELETE,
            format!(
                "/admin/v1/tenants/{mine}/keys/{}",
                their_key["key_id"].as_str().unwrap()
            ),
            None,
        ),
    ] {
        let (status, answer) = stack.admin(method, &path, Some(&admin_key), body).await;
        assert_eq!(
            (status, error_code(&answer)),
            (404, "not_found"),
            "{path}: {answer}"
        );
    }
    let (status, _) = stack
        .admin(
            Method::GET,
            &format!("/admin/v1/tenants/{theirs}"),
            Some(their_key["key"].as_str().unwrap()),
            None,
        )
        .await;
    assert_eq!(
        status, 200,
        "the other tenant's key was revoked by a stranger"
    );

    // An agent key may not administer; only the operator creates or suspends tenants.
    let agent_key = agent["key"].as_str().unwrap();
    let (status, body) = stack
        .admin(
            Method::GET,
            &format!("/admin/v1/tenants/{mine}/keys"),
            Some(agent_key),
            None,
        )
        .await;
    assert_eq!((status, error_code(&body)), (403, "forbidden"), "{body}");
    let (status, _) = stack
        .admin(
            Method::POST,
            "/admin/v1/tenants",
            Some(&admin_key),
            Some(json!({"id": tenant_id(), "name": "x"})),
        )
        .await;
    assert_eq!(status, 403);
    let (status, _) = stack
        .admin(
            Method::PATCH,
            &format!("/admin/v1/tenants/{mine}"),
            Some(&admin_key),
            Some(json!({"status": "active"})),
        )
        .await;
    assert_eq!(status, 403);

    // Listings show prefixes, never secrets.
    let (status, list) = stack
        .admin(
            Method::GET,
            &format!("/admin/v1/tenants/{mine}/keys"),
            Some(&admin_key),
            None,
        )
        .await;
    assert_eq!(status, 200);
    let keys = list["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 2);
    assert!(
        keys.iter()
            .all(|k| k.get("key").is_none() && k["state"] == "active")
    );
    assert!(
        !list
            .to_string()
            .contains(&admin_key[admin_key.rfind('.').unwrap() + 1..])
    );
}

#[tokio::test]
async fn a_revoked_or_expired_key_stops_working_within_seconds() {
    let stack = Stack::connect().await;
    let tenant = create_tenant(&stack).await;
    let path = format!("/admin/v1/tenants/{tenant}");
    let revoked = create_key(&stack, &tenant, &stack.operator_key, "admin", json!({})).await;
    let revoked_key = revoked["key"].as_str().unwrap().to_owned();
    let expiring = create_key(
        &stack,
        &tenant,
        &stack.operator_key,
        "admin",
        json!({"expires_at": now() + 3}),
    )
    .await;
    let expiring_key = expiring["key"].as_str().unwrap().to_owned();
    for key in [&revoked_key, &expiring_key] {
        let (status, body) = stack.admin(Method::GET, &path, Some(key), None).await;
        assert_eq!(status, 200, "{body}");
    }

    let (status, _) = stack
        .admin(
            Method::DELETE,
            &format!("{path}/keys/{}", revoked["key_id"].as_str().unwrap()),
            Some(&stack.operator_key),
            None,
        )
        .await;
    assert_eq!(status, 204);
    for (key, code) in [
        (&revoked_key, "key_revoked"),
        (&expiring_key, "key_expired"),
    ] {
        eventually(Duration::from_secs(10), code, || async {
            let (status, body) = stack.admin(Method::GET, &path, Some(key), None).await;
            (status == 401 && error_code(&body) == code).then_some(())
        })
        .await;
    }
    let (_, list) = stack
        .admin(
            Method::GET,
            &format!("{path}/keys"),
            Some(&stack.operator_key),
            None,
        )
        .await;
    let mut states: Vec<&str> = list["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["state"].as_str().unwrap())
        .collect();
    states.sort_unstable();
    assert_eq!(states, ["expired", "revoked"]);
}

#[tokio::test]
async fn bad_requests_get_a_json_error_naming_the_field_and_change_nothing() {
    let stack = Stack::connect().await;
    let op = Some(stack.operator_key.as_str());
    let id = tenant_id();
    let cases = [
        (json!({"id": "Not Valid!", "name": "x"}), "id"),
        (json!({"id": id, "name": ""}), "name"),
        (json!({"id": id, "name": "x".repeat(201)}), "name"),
        (json!({"id": id, "name": "x", "plan": "gold"}), "plan"),
        (json!({"id": id, "name": 42}), "name"),
        (json!({"id": id}), "name"),
    ];
    for (body, field) in cases {
        let (status, answer) = stack
            .admin(Method::POST, "/admin/v1/tenants", op, Some(body.clone()))
            .await;
        assert_eq!(
            (status, error_code(&answer)),
            (400, "invalid_request"),
            "{body}: {answer}"
        );
        assert_eq!(answer["error"]["field"], field, "{body}: {answer}");
        assert!(answer["error"]["message"].as_str().unwrap().len() > 5);
    }
    let (status, _) = stack
        .admin(Method::GET, &format!("/admin/v1/tenants/{id}"), op, None)
        .await;
    assert_eq!(status, 404, "a refused create stored the tenant");

    let url = format!("{}/admin/v1/tenants", stack.admin_url);
    let raw = |body: Vec<u8>, content_type: &'static str| {
        let (stack, url) = (&stack, url.clone());
        async move {
            stack
                .post_raw(&url, &stack.operator_key, content_type, body)
                .await
        }
    };
    let (status, body) = raw(b"{\"id\": ".to_vec(), "application/json").await;
    assert_eq!(
        (status, error_code(&body)),
        (400, "invalid_request"),
        "{body}"
    );
    let (status, body) = raw(b"id=acme".to_vec(), "application/x-www-form-urlencoded").await;
    assert_eq!((status, error_code(&body)), (415, "not_json"), "{body}");
    let huge = format!(
        "{{\"id\": \"{id}\", \"name\": \"{}\"}}",
        "x".repeat(300 * 1024)
    );
    let (status, body) = raw(huge.into_bytes(), "application/json").await;
    assert_eq!(
        (status, error_code(&body)),
        (413, "payload_too_large"),
        "{body}"
    );

    // No key, a made-up key, a made-up operator key; unknown routes and methods.
    for key in [
        None,
        Some("wg.demo.0123456789ab.AAAA"),
        Some("wgop.guess"),
        Some("Basic abc"),
    ] {
        let (status, body) = stack
            .admin(Method::GET, "/admin/v1/tenants/demo", key, None)
            .await;
        assert_eq!(status, 401, "{key:?}: {body}");
        assert!(error_code(&body).starts_with("unauthenticated"), "{body}");
    }
    let (status, body) = stack
        .admin(Method::GET, "/admin/v1/nothing", op, None)
        .await;
    assert_eq!((status, error_code(&body)), (404, "not_found"));
    let (status, body) = stack
        .admin(Method::PUT, "/admin/v1/tenants", op, None)
        .await;
    assert_eq!((status, error_code(&body)), (405, "method_not_allowed"));
}

#[tokio::test]
async fn retention_is_set_within_its_bounds_and_new_messages_expire_by_it() {
    let stack = Stack::connect().await;
    let tenant = TestTenant::create(&stack).await;
    let path = format!("/admin/v1/tenants/{}/retention", tenant.id);
    let admin = create_key(
        &stack,
        tenant.id.as_str(),
        &stack.operator_key,
        "admin",
        json!({}),
    )
    .await;
    let admin_key = admin["key"].as_str().unwrap().to_owned();
    let (status, body) = stack
        .admin(Method::GET, &path, Some(&admin_key), None)
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["content_days_limit"], 90);

    let settings = |content: u32, dedup: u32| json!({"content_days": content, "metadata_days": 60, "contact_days": 200, "dedup_days": dedup});
    for (body, field) in [
        (settings(120, 10), "content_days"),
        (settings(0, 10), "content_days"),
        (settings(30, 3), "dedup_days"),
        (
            json!({"content_days": 30, "metadata_days": 60, "contact_days": 200}),
            "dedup_days",
        ),
        (
            json!({"content_days": -1, "metadata_days": 60, "contact_days": 200, "dedup_days": 10}),
            "content_days",
        ),
    ] {
        let (status, answer) = stack
            .admin(Method::PUT, &path, Some(&admin_key), Some(body.clone()))
            .await;
        assert_eq!(
            (status, answer["error"]["field"].as_str()),
            (400, Some(field)),
            "{body}: {answer}"
        );
    }
    // Only the operator raises the content ceiling.
    let mut raise = settings(200, 10);
    raise["content_days_limit"] = json!(365);
    let (status, _) = stack
        .admin(Method::PUT, &path, Some(&admin_key), Some(raise.clone()))
        .await;
    assert_eq!(status, 403);
    let (status, body) = stack
        .admin(Method::PUT, &path, Some(&stack.operator_key), Some(raise))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (
            body["content_days"].as_u64(),
            body["content_days_limit"].as_u64()
        ),
        (Some(200), Some(365))
    );

    let (status, body) = stack
        .admin(Method::PUT, &path, Some(&admin_key), Some(settings(2, 10)))
        .await;
    assert_eq!(status, 200, "{body}");
    let (_, body) = stack
        .admin(Method::GET, &path, Some(&admin_key), None)
        .await;
    assert_eq!(
        (
            body["content_days"].as_u64(),
            body["dedup_days"].as_u64(),
            body["content_days_limit"].as_u64()
        ),
        (Some(2), Some(10), Some(365))
    );

    // The pipeline stamps a new message's content with the tenant's content retention
    // (the message itself lives the longer, metadata, retention).
    let sent_at = now();
    let (status, answer) = stack
        .post_signed(&tenant.text_from(
            &format!("49151{}", random_digits(8)),
            &wamid(),
            sent_at,
            "hi",
        ))
        .await;
    assert_eq!(status, 200, "{answer}");
    let expires_at = eventually(Duration::from_secs(60), "the message stored", || async {
        let items = stack.tenant_items(tenant.id.as_str()).await;
        items
            .iter()
            .filter(|it| text(it, "sk").is_some_and(|sk| sk.starts_with("MSG#")))
            .find_map(|it| {
                it.get("content_expires_at")?
                    .as_n()
                    .ok()?
                    .parse::<i64>()
                    .ok()
            })
    })
    .await;
    let days = (expires_at - sent_at) as f64 / 86_400.0;
    assert!(
        (1.9..=2.1).contains(&days),
        "content expires after {days} days"
    );
}

#[tokio::test]
async fn the_operator_lists_tenants_by_id_in_pages() {
    let stack = Stack::connect().await;
    let id = create_tenant(&stack).await;
    let list = |query: String| {
        let stack = &stack;
        async move {
            stack
                .admin(
                    Method::GET,
                    &format!("/admin/v1/tenants{query}"),
                    Some(&stack.operator_key),
                    None,
                )
                .await
        }
    };
    // The whole listing, page by page, holds the new tenant as active.
    let listed = stack.all_tenants().await;
    let new = listed.iter().find(|t| t["id"] == id.as_str());
    assert_eq!(
        new.map(|t| &t["status"]),
        Some(&json!("active")),
        "{listed:?}"
    );

    // Pages follow on in id order, with nothing repeated.
    let mut ids: Vec<String> = Vec::new();
    let mut query = "?limit=3".to_owned();
    for _ in 0..4 {
        let (status, page) = list(query.clone()).await;
        assert_eq!(status, 200, "{page}");
        ids.extend(
            page["tenants"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t["id"].as_str().unwrap().to_owned()),
        );
        match page["next_cursor"].as_str() {
            Some(next) => query = format!("?limit=3&cursor={next}"),
            None => break,
        }
    }
    assert!(ids.len() >= 3, "{ids:?}");
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");

    for bad in [
        "?limit=0",
        "?limit=101",
        "?cursor=%2A%2A",
        "?cursor=AAAA",
        // A well-formed cursor with its seal cut short.
        "?cursor=eyJwayI6IlQjYSJ9.AAAA",
        "?colour=red",
    ] {
        let (status, body) = list(bad.to_owned()).await;
        assert_eq!(status, 400, "{bad}: {body}");
    }
    let admin = create_key(&stack, &id, &stack.operator_key, "admin", json!({})).await;
    let (status, body) = stack
        .admin(
            Method::GET,
            "/admin/v1/tenants",
            admin["key"].as_str(),
            None,
        )
        .await;
    assert_eq!((status, error_code(&body)), (403, "forbidden"), "{body}");
}
