//! Every route of both APIs admits exactly the callers its OpenAPI entry's scope names,
//! and refuses the others with 403 before it reads anything else of the request (no 400
//! for a missing body, no 404 for an unknown id). The documents are read from the running
//! APIs, so what they promise is what the handlers check: a route added without its
//! permission, or with another one than its document says, fails this test. Every route
//! also refuses a call without a key (401); another tenant's keys on this tenant's ids
//! are `tenant_isolation.rs`'s. The operator key is not used here: its routes act on every
//! tenant of the shared test stack.

use reqwest::Method;
use serde_json::Value;
use wagate_messaging::access::{Permission, Role};
use wagate_tests::{Stack, TestTenant};

/// `(method, path, scope)` of each operation of the document the API serves at `path`.
async fn operations(stack: &Stack, admin_api: bool) -> Vec<(Method, String, String)> {
    let url = if admin_api {
        format!("{}/admin/v1/openapi.json", stack.admin_url)
    } else {
        format!("{}/v1/openapi.json", stack.api_url)
    };
    // The first call may start the function's container while the whole suite runs
    // beside it: a timeout is tried again, a wrong answer is not.
    let mut attempts = 0;
    let document: Value = loop {
        attempts += 1;
        match stack.http.get(&url).send().await {
            Ok(response) => {
                assert_eq!(response.status().as_u16(), 200);
                break response.json().await.expect("the document is JSON");
            }
            Err(e) if attempts < 3 && e.is_timeout() => continue,
            Err(e) => panic!("{url}: {e}"),
        }
    };
    let mut operations = Vec::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let scopes: Vec<&str> = operation["security"][0]["bearer"]
                .as_array()
                .unwrap_or_else(|| panic!("{method} {path} names no bearer requirement"))
                .iter()
                .filter_map(Value::as_str)
                .collect();
            let [scope] = scopes[..] else {
                panic!("{method} {path} names {scopes:?}, not one scope");
            };
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            operations.push((method, path.clone(), scope.to_owned()));
        }
    }
    operations
}

/// The path with the tenant's own id, and ids nobody has for the rest: an admitted caller
/// may get 404 or 400, never 403.
fn filled(path: &str, tenant: &TestTenant) -> String {
    let own = path.replace("{tenant_id}", tenant.id.as_str());
    let mut filled = String::new();
    let mut rest = own.as_str();
    while let Some(open) = rest.find('{') {
        let close = rest[open..].find('}').unwrap() + open;
        filled.push_str(&rest[..open]);
        filled.push_str("000000000000000");
        rest = &rest[close + 1..];
    }
    filled.push_str(rest);
    filled
}

#[tokio::test]
async fn each_business_route_admits_exactly_the_roles_its_scope_names() {
    let stack = Stack::connect().await;
    let tenant = TestTenant::create(&stack).await;
    let mut callers = Vec::new();
    for role in [Role::Admin, Role::Manager, Role::Agent] {
        callers.push((role, tenant.api_key(&stack, role).await));
    }
    let operations = operations(&stack, false).await;
    assert_eq!(
        operations.len(),
        24,
        "a route was added or lost: count it here"
    );
    for (method, path, scope) in operations {
        let permission = Permission::named(&scope)
            .unwrap_or_else(|| panic!("{method} {path}: {scope} is no permission"));
        let url = filled(&path, &tenant);
        let (status, answer) = stack.api(method.clone(), &url, None, None, &[]).await;
        assert_eq!(status, 401, "no key on {method} {path}: {answer}");
        for (role, key) in &callers {
            let (status, answer) = stack.api(method.clone(), &url, Some(key), None, &[]).await;
            if role.allows(permission) {
                assert_ne!(
                    status, 403,
                    "{role:?} on {method} {path} ({scope}): {answer}"
                );
            } else {
                assert_eq!(
                    status, 403,
                    "{role:?} on {method} {path} ({scope}): {answer}"
                );
                assert_eq!(answer["error"]["code"], "forbidden", "{answer}");
            }
        }
    }
}

#[tokio::test]
async fn each_admin_route_admits_the_operator_or_the_tenants_admins_as_its_scope_says() {
    let stack = Stack::connect().await;
    let tenant = TestTenant::create(&stack).await;
    let admin = tenant.api_key(&stack, Role::Admin).await;
    let manager = tenant.api_key(&stack, Role::Manager).await;
    let operations = operations(&stack, true).await;
    assert_eq!(
        operations.len(),
        39,
        "a route was added or lost: count it here"
    );
    for (method, path, scope) in operations {
        let url = filled(&path, &tenant);
        let (status, answer) = stack.admin(method.clone(), &url, None, None).await;
        assert_eq!(status, 401, "no key on {method} {path}: {answer}");
        // A manager administers nothing; a tenant's admin only what is the tenant's.
        let (status, answer) = stack
            .admin(method.clone(), &url, Some(&manager), None)
            .await;
        assert_eq!(status, 403, "a manager on {method} {path}: {answer}");
        let (status, answer) = stack.admin(method.clone(), &url, Some(&admin), None).await;
        match scope.as_str() {
            "operator" => assert_eq!(status, 403, "an admin key on {method} {path}: {answer}"),
            "tenant_admin" => {
                assert_ne!(status, 403, "an admin key on {method} {path}: {answer}")
            }
            other => panic!("{method} {path} names {other}"),
        }
    }
}
