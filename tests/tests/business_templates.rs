//! Templates through the business API and Meta's management API (the simulator's): a
//! created template is PENDING, then APPROVED by Meta's webhook; a duplicate is Meta's
//! refusal; bad definitions name the field; sync reads Meta's list; delete removes it at
//! Meta and here; agents may not touch templates.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use wagate_messaging::access::Role;
use wagate_tests::{Stack, TestTenant, eventually};

const WAIT: Duration = Duration::from_secs(30);

fn order_shipped(name: &str) -> Value {
    json!({"name": name, "language": "en_US", "category": "UTILITY",
           "components": [{"type": "BODY", "text": "Your order {{1}} has shipped.",
                           "example": {"body_text": [["B-1001"]]}}]})
}

/// What the simulator (Meta) holds for the tenant's account.
async fn at_meta(stack: &Stack, tenant: &TestTenant) -> Value {
    let url = format!(
        "{}/v25.0/{}/message_templates?limit=100",
        stack.sim_url, tenant.waba_id
    );
    stack
        .http
        .get(url)
        .bearer_auth(&tenant.access_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_template_is_created_at_meta_approved_by_its_webhook_synced_and_deleted() {
    let stack = Stack::connect().await;
    let tenant = TestTenant::create(&stack).await;
    tenant.register_at_sim(&stack, json!({})).await;
    let manager = tenant.api_key(&stack, Role::Manager).await;
    let agent = tenant.api_key(&stack, Role::Agent).await;
    let call = |method: Method, path: &str, key: &str, body: Option<Value>| {
        let path = path.to_owned();
        let key = key.to_owned();
        let stack = &stack;
        async move { stack.api(method, &path, Some(&key), body, &[]).await }
    };

    let (status, created) = call(
        Method::POST,
        "/v1/templates",
        &manager,
        Some(order_shipped("order_shipped")),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["status"], "PENDING");
    let id = created["id"].as_str().unwrap().to_owned();

    let approved = eventually(WAIT, "Meta's approval webhook", || async {
        let (_, list) = call(Method::GET, "/v1/templates", &manager, None).await;
        list["templates"]
            .as_array()
            .and_then(|l| l.iter().find(|t| t["id"] == id.as_str()).cloned())
            .filter(|t| t["status"] == "APPROVED")
    })
    .await;
    assert_eq!(approved["name"], "order_shipped");
    assert_eq!(approved["components"][0]["type"], "BODY");

    // Meta refuses a second template of the same name and language.
    let (status, answer) = call(
        Method::POST,
        "/v1/templates",
        &manager,
        Some(order_shipped("order_shipped")),
    )
    .await;
    assert_eq!(
        (status, &answer["error"]["code"]),
        (422, &json!("meta_refused")),
        "{answer}"
    );

    // Definitions Meta would refuse never leave; agents may not manage templates.
    let mut bad_name = order_shipped("Order Shipped");
    let mut no_body = order_shipped("no_body");
    no_body["components"] = json!([{"type": "FOOTER", "text": "Thanks"}]);
    for (body, field) in [(bad_name.take(), "name"), (no_body, "components")] {
        let (status, answer) = call(Method::POST, "/v1/templates", &manager, Some(body)).await;
        assert_eq!(status, 400, "{answer}");
        assert_eq!(answer["error"]["field"], field);
    }
    let (status, _) = call(Method::GET, "/v1/templates", &agent, None).await;
    assert_eq!(status, 403);

    // Sync reads every template Meta lists (also those made outside the gateway).
    let outside = stack
        .http
        .post(format!(
            "{}/v25.0/{}/message_templates",
            stack.sim_url, tenant.waba_id
        ))
        .bearer_auth(&tenant.access_token)
        .json(&order_shipped("made_in_business_manager"))
        .send()
        .await
        .unwrap();
    assert!(outside.status().is_success());
    let (status, synced) = call(Method::POST, "/v1/templates/sync", &manager, None).await;
    assert_eq!(status, 200, "{synced}");
    assert_eq!(synced["synced"], 2);
    let (_, list) = call(Method::GET, "/v1/templates", &manager, None).await;
    let names: Vec<&str> = list["templates"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert_eq!(names, ["made_in_business_manager", "order_shipped"]);

    // Delete: gone at Meta and here; again, or a malformed id, is 404.
    let path = format!("/v1/templates/{id}");
    let (status, answer) = call(Method::DELETE, &path, &manager, None).await;
    assert_eq!(status, 204, "{answer}");
    let meta = at_meta(&stack, &tenant).await;
    assert!(
        !meta["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["id"] == id.as_str()),
        "{meta}"
    );
    for gone in [path.as_str(), "/v1/templates/not-an-id"] {
        let (status, _) = call(Method::DELETE, gone, &manager, None).await;
        assert_eq!(status, 404, "{gone}");
    }
}
