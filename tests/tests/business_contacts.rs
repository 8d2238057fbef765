//! Contacts through the business API on the local stack: create, find by phone or BSUID,
//! read, update (name, email, custom attributes; `null` removes), conflicts, roles, tenant
//! isolation and bad input naming the field; CSV imports, listing and searching by name.

use reqwest::Method;
use serde_json::{Value, json};
use wagate_messaging::access::Role;
use wagate_tests::{Stack, TestTenant, random_digits};

async fn call(
    stack: &Stack,
    method: Method,
    path: &str,
    key: &str,
    body: Option<Value>,
) -> (u16, Value) {
    stack.api(method, path, Some(key), body, &[]).await
}

#[tokio::test]
async fn a_contact_is_created_found_read_and_updated() {
    let stack = Stack::connect().await;
    let tenant = TestTenant::create(&stack).await;
    let manager = tenant.api_key(&stack, Role::Manager).await;
    let agent = tenant.api_key(&stack, Role::Agent).await;
    let phone = format!("49157{}", random_digits(8));

    let (status, created) = call(
        &stack,
        Method::POST,
        "/v1/contacts",
        &manager,
        Some(
            json!({"phone": format!("+{phone}"), "name": "Ana Díaz", "email": "ana@example.com",
            "attributes": {"tier": "gold", "customer_no": "C-1001"}}),
        ),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let id = created["contact_id"].as_str().unwrap().to_owned();
    assert_eq!(created["phone"], phone.as_str());
    assert_eq!(created["attributes"]["tier"], "gold");

    let (status, again) = call(
        &stack,
        Method::POST,
        "/v1/contacts",
        &manager,
        Some(json!({"phone": phone})),
    )
    .await;
    assert_eq!(status, 409, "{again}");
    assert!(again["error"]["message"].as_str().unwrap().contains(&id));

    let (status, found) = call(
        &stack,
        Method::GET,
        &format!("/v1/contacts?phone={phone}"),
        &agent,
        None,
    )
    .await;
    assert_eq!(status, 200, "{found}");
    assert_eq!(found["contacts"][0]["contact_id"], id.as_str());
    let (_, none) = call(
        &stack,
        Method::GET,
        "/v1/contacts?phone=4915700000001",
        &agent,
        None,
    )
    .await;
    assert_eq!(none["contacts"], json!([]));

    let path = format!("/v1/contacts/{id}");
    let (status, updated) = call(
        &stack,
        Method::PATCH,
        &path,
        &manager,
        Some(json!({"email": null, "attributes": {"tier": "platinum"}})),
    )
    .await;
    assert_eq!(status, 200, "{updated}");
    assert!(updated.get("email").is_none(), "{updated}");
    assert_eq!(updated["name"], "Ana Díaz", "left alone");
    assert_eq!(updated["attributes"], json!({"tier": "platinum"}));
    let (status, read) = call(&stack, Method::GET, &path, &agent, None).await;
    assert_eq!(status, 200);
    assert_eq!(read, updated);

    // Roles, isolation, bad input.
    let (status, _) = call(
        &stack,
        Method::PATCH,
        &path,
        &agent,
        Some(json!({"name": "x"})),
    )
    .await;
    assert_eq!(status, 403, "agents read contacts, they do not change them");
    let other = TestTenant::create(&stack).await;
    let foreign = other.api_key(&stack, Role::Admin).await;
    for (method, body) in [
        (Method::GET, None),
        (Method::PATCH, Some(json!({"name": "Mallory"}))),
    ] {
        let (status, _) = call(&stack, method, &path, &foreign, body).await;
        assert_eq!(status, 404);
    }
    let (_, none) = call(
        &stack,
        Method::GET,
        &format!("/v1/contacts?phone={phone}"),
        &foreign,
        None,
    )
    .await;
    assert_eq!(none["contacts"], json!([]));
    for (body, field) in [
        (json!({"email": "not-an-email"}), "email"),
        (json!({"name": ""}), "name"),
        (json!({"attributes": {"a b": "c"}}), "attributes.a b"),
        (json!({"nickname": "x"}), "nickname"),
    ] {
        let (status, answer) =
            call(&stack, Method::PATCH, &path, &manager, Some(body.clone())).await;
        assert_eq!(status, 400, "{body}: {answer}");
        assert_eq!(answer["error"]["field"], field, "{body}: {answer}");
    }
    for (body, field) in [
        (json!({"phone": "12"}), "phone"),
        (json!({"name": "x"}), "phone"),
        (json!({"bsuid": "nope"}), "bsuid"),
    ] {
        let (status, answer) = call(
            &stack,
            Method::POST,
            "/v1/contacts",
            &manager,
            Some(body.clone()),
        )
        .await;
        assert_eq!(status, 400, "{body}: {answer}");
        assert_eq!(answer["error"]["field"], field, "{body}: {answer}");
    }
    let (_, unchanged) = call(&stack, Method::GET, &path, &agent, None).await;
    assert_eq!(unchanged, updated, "refused changes wrote nothing");
}

#[tokio::test]
async fn csv_imports_update_what_they_match_and_bad_requests_write_nothing() {
    let stack = Stack::connect().await;
    let tenant = TestTenant::create(&stack).await;
    let manager = tenant.api_key(&stack, Role::Manager).await;
    let agent = tenant.api_key(&stack, Role::Agent).await;
    let url = format!("{}/v1/contacts/import", stack.api_url);
    let a = format!("4916{}", random_digits(8));
    let b = format!("4916{}", random_digits(8));

    let csv =
        format!("phone,name,email,attributes.city\n{a},Zoë Adler,zoe@example.com,Köln\n{b},,,\n");
    let (status, report) = stack
        .post_raw(&url, &manager, "text/csv; charset=utf-8", csv.into_bytes())
        .await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["created"], 2);

    let (_, listed) = stack
        .api(
            Method::GET,
            "/v1/contacts?name=ZOË",
            Some(&agent),
            None,
            &[],
        )
        .await;
    let found = &listed["contacts"][0];
    assert_eq!(found["phone"], a.as_str());
    assert_eq!(found["attributes"]["city"], "Köln");

    let csv = format!("phone,name\n{b},Bruno\n");
    let (_, report) = stack
        .post_raw(&url, &manager, "text/csv", csv.into_bytes())
        .await;
    assert_eq!(report["updated"], 1);
    let (_, all) = stack
        .api(Method::GET, "/v1/contacts", Some(&agent), None, &[])
        .await;
    let mut names: Vec<&str> = all["contacts"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["name"].as_str())
        .collect();
    // Listed in an order that says nothing about names (their index keys hold none).
    names.sort();
    assert_eq!(names, ["Bruno", "Zoë Adler"]);

    // Refused as a whole, nothing written.
    let c = format!("4916{}", random_digits(8));
    let refused = [
        ("text/csv", format!("phone,colour\n{c},red\n"), 400),
        ("text/plain", format!("phone\n{c}\n"), 415),
        ("application/json", "[1, 2".to_owned(), 400),
        ("application/json", json!({"rows": []}).to_string(), 400),
    ];
    for (content_type, body, expected) in refused {
        let (status, answer) = stack
            .post_raw(&url, &manager, content_type, body.into_bytes())
            .await;
        assert_eq!(status, expected, "{content_type}: {answer}");
    }
    let (status, answer) = stack
        .post_raw(
            &url,
            &agent,
            "text/csv",
            format!("phone\n{c}\n").into_bytes(),
        )
        .await;
    assert_eq!(status, 403, "an agent may not import: {answer}");
    let (_, none) = stack
        .api(
            Method::GET,
            &format!("/v1/contacts?phone={c}"),
            Some(&manager),
            None,
            &[],
        )
        .await;
    assert_eq!(none["contacts"], json!([]));

    // A forged cursor, a cursor outside the search, and a search that is empty.
    for path in [
        "/v1/contacts?cursor=bm9wZQ",
        "/v1/contacts?name=zo&cursor=YnJ1bm8jY18x",
        "/v1/contacts?name=%20%20",
        &format!("/v1/contacts?name=b&phone={c}"),
    ] {
        let (status, answer) = stack.api(Method::GET, path, Some(&agent), None, &[]).await;
        assert_eq!(status, 400, "{path}: {answer}");
    }
}
