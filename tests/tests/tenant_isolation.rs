//! Tenant isolation, route by route: every route of both OpenAPI documents is called with
//! tenant A's admin key on tenant B's ids (contacts, messages, callbacks, numbers, keys,
//! the tenant itself). Routes with an id in the path answer 404 and change nothing; the
//! others never show B's data. A route missing from this test fails it: a new route must
//! say how it keeps tenants apart.

use std::collections::BTreeSet;

use reqwest::Method;
use serde_json::{Value, json};
use wagate_messaging::access::Role;
use wagate_tests::{Stack, TestTenant, eventually, now, random_digits};

/// B's ids, by the name of the path parameter that takes them.
struct Theirs {
    tenant_id: String,
    contact_id: String,
    message_id: String,
    callback_id: String,
    template_id: String,
    phone_number_id: String,
    key_id: String,
    waba_id: String,
    erasure_id: String,
    export_id: String,
    phone: String,
}

impl Theirs {
    fn fill(&self, template: &str) -> String {
        let mut path = template.to_owned();
        for (name, value) in [
            ("{tenant_id}", &self.tenant_id),
            ("{contact_id}", &self.contact_id),
            ("{message_id}", &self.message_id),
            ("{callback_id}", &self.callback_id),
            ("{template_id}", &self.template_id),
            ("{phone_number_id}", &self.phone_number_id),
            ("{key_id}", &self.key_id),
            ("{waba_id}", &self.waba_id),
            ("{erasure_id}", &self.erasure_id),
            ("{export_id}", &self.export_id),
        ] {
            path = path.replace(name, value);
        }
        assert!(!path.contains('{'), "no id of B for {template}: add one");
        path
    }
}

fn routes(document: &str) -> Vec<(Method, String)> {
    let path = format!("{}/../openapi/{document}", env!("CARGO_MANIFEST_DIR"));
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut routes = Vec::new();
    for (path, operations) in doc["paths"].as_object().unwrap() {
        for method in operations.as_object().unwrap().keys() {
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            routes.push((method, path.clone()));
        }
    }
    routes
}

/// A body the route would accept from B itself, so that only ownership decides.
fn body_for(method: &Method, path: &str) -> Option<Value> {
    Some(match (method.as_str(), path) {
        ("PATCH", "/v1/contacts/{contact_id}") => json!({"name": "taken over"}),
        ("POST", "/v1/messages/{message_id}/read") => return None,
        ("POST", "/v1/contacts/{contact_id}/consent") => {
            json!({"action": "opt_out", "scope": "all"})
        }
        ("PUT", "/admin/v1/tenants/{tenant_id}/consent") => json!({"keyword_scope": "marketing"}),
        ("PUT", "/admin/v1/tenants/{tenant_id}/content") => json!({"store_content": false}),
        ("PATCH", "/admin/v1/tenants/{tenant_id}") => json!({"name": "taken over"}),
        ("POST", "/admin/v1/tenants/{tenant_id}/keys") => json!({"name": "x", "role": "admin"}),
        ("PUT", "/admin/v1/tenants/{tenant_id}/meta-app") => json!({
            "app_id": "1234567890", "app_secret": "0123456789abcdef0123456789abcdef",
            "verify_token": "a-verify-token-of-length"}),
        ("PUT", "/admin/v1/tenants/{tenant_id}/numbers/{phone_number_id}") => json!({
            "waba_id": "102290129340398", "access_token": "EAAtakenovertakenover"}),
        ("PUT", "/admin/v1/tenants/{tenant_id}/numbers/{phone_number_id}/token") => {
            json!({"access_token": "EAAtakenovertakenover"})
        }
        ("PUT", "/admin/v1/tenants/{tenant_id}/retention") => json!({"content_days": 30}),
        ("PUT", "/admin/v1/wabas/{waba_id}") => json!({"owner": "taken-over"}),
        ("GET" | "DELETE", _) => return None,
        _ => json!({}),
    })
}

#[tokio::test]
async fn every_route_answers_404_for_another_tenants_ids_and_never_shows_its_data() {
    let stack = Stack::connect().await;
    let mine = TestTenant::create(&stack).await;
    let other = TestTenant::create(&stack).await;
    other.register_at_sim(&stack, json!({})).await;
    let admin = mine.api_key(&stack, Role::Admin).await;
    let their_admin = other.api_key(&stack, Role::Admin).await;

    // B's data: a user who wrote in, B's reply, a callback endpoint, a key.
    let phone = format!("49153{}", random_digits(8));
    other.user_writes(&stack, &phone, "Only for B").await;
    let (_, found) = eventually(WAIT, "B's contact", || async {
        let answer = stack
            .api(
                Method::GET,
                &format!("/v1/contacts?phone={phone}"),
                Some(&their_admin),
                None,
                &[],
            )
            .await;
        answer.1["contacts"][0]["contact_id"]
            .is_string()
            .then_some(answer)
    })
    .await;
    let contact_id = found["contacts"][0]["contact_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, sent) = stack
        .api(
            Method::POST,
            "/v1/messages",
            Some(&their_admin),
            Some(
                json!({"from": other.phone_number_id, "to": phone, "type": "text",
                        "text": {"body": "B's answer"}}),
            ),
            &[],
        )
        .await;
    assert_eq!(status, 202, "{sent}");
    let (status, callback) = stack
        .api(
            Method::POST,
            "/v1/callbacks",
            Some(&their_admin),
            Some(json!({"url": "http://127.0.0.1:9/hook"})),
            &[],
        )
        .await;
    assert_eq!(status, 201, "{callback}");
    let (status, template) = stack
        .api(
            Method::POST,
            "/v1/templates",
            Some(&their_admin),
            Some(
                json!({"name": "b_only", "language": "en_US", "category": "UTILITY",
                        "components": [{"type": "BODY", "text": "For B"}]}),
            ),
            &[],
        )
        .await;
    assert_eq!(status, 201, "{template}");
    let (status, erasure) = stack
        .admin(
            Method::POST,
            &format!("/admin/v1/tenants/{}/erasures", other.id),
            Some(&their_admin),
            Some(json!({"phone": format!("49150{}", random_digits(8))})),
        )
        .await;
    assert_eq!(status, 202, "{erasure}");
    let (status, export) = stack
        .admin(
            Method::POST,
            &format!("/admin/v1/tenants/{}/exports", other.id),
            Some(&their_admin),
            Some(json!({"phone": phone})),
        )
        .await;
    assert_eq!(status, 202, "{export}");
    let (_, keys) = stack
        .admin(
            Method::GET,
            &format!("/admin/v1/tenants/{}/keys", other.id),
            Some(&their_admin),
            None,
        )
        .await;
    let theirs = Theirs {
        tenant_id: other.id.as_str().to_owned(),
        contact_id: contact_id.clone(),
        message_id: sent["id"].as_str().unwrap().to_owned(),
        callback_id: callback["id"].as_str().unwrap().to_owned(),
        template_id: template["id"].as_str().unwrap().to_owned(),
        phone_number_id: other.phone_number_id.clone(),
        key_id: keys["keys"][0]["key_id"].as_str().unwrap().to_owned(),
        waba_id: other.waba_id.clone(),
        erasure_id: erasure["id"].as_str().unwrap().to_owned(),
        export_id: export["id"].as_str().unwrap().to_owned(),
        phone: phone.clone(),
    };

    let mut covered = BTreeSet::new();
    for document in ["api.json", "admin.json"] {
        for (method, template) in routes(document) {
            let with_ids = template.contains('{');
            if with_ids {
                let path = theirs.fill(&template);
                let body = body_for(&method, &template);
                let (status, answer) = if template.starts_with("/admin") {
                    stack.admin(method.clone(), &path, Some(&admin), body).await
                } else {
                    stack
                        .api(method.clone(), &path, Some(&admin), body, &[])
                        .await
                };
                if template.starts_with("/admin/v1/wabas/") {
                    // The operator's alone: every tenant key is refused, whatever the id.
                    assert_eq!(status, 403, "{method} {template}: {answer}");
                    assert_eq!(answer["error"]["code"], "forbidden", "{method} {template}");
                } else {
                    assert_eq!(status, 404, "{method} {template}: {answer}");
                    assert_eq!(answer["error"]["code"], "not_found", "{method} {template}");
                }
            } else {
                check_route_without_ids(&stack, &admin, &method, &template, &theirs).await;
            }
            covered.insert(format!("{method} {template}"));
        }
    }
    assert!(
        covered.len() >= 34,
        "both documents were walked: {covered:?}"
    );

    // Nothing of B's changed: its contact, message, callback and keys are as they were.
    let (status, contact) = stack
        .api(
            Method::GET,
            &format!("/v1/contacts/{contact_id}"),
            Some(&their_admin),
            None,
            &[],
        )
        .await;
    assert_eq!(status, 200);
    assert!(contact.get("name").is_none(), "{contact}");
    assert_eq!(contact["opted_out_of_all"], false, "{contact}");
    let (_, callbacks) = stack
        .api(Method::GET, "/v1/callbacks", Some(&their_admin), None, &[])
        .await;
    assert_eq!(callbacks["callbacks"].as_array().unwrap().len(), 1);
    let (status, _) = stack
        .admin(
            Method::GET,
            &format!("/admin/v1/tenants/{}/keys", other.id),
            Some(&their_admin),
            None,
        )
        .await;
    assert_eq!(status, 200, "B's admin key still works");
}

const WAIT: std::time::Duration = std::time::Duration::from_secs(30);

/// Routes whose ids come in the body or the query, or that list: B's ids get a refusal
/// that reveals nothing, and listings hold none of B's data.
async fn check_route_without_ids(
    stack: &Stack,
    admin: &str,
    method: &Method,
    template: &str,
    theirs: &Theirs,
) {
    let call = |method: Method, path: String, body: Option<Value>| async move {
        if path.starts_with("/admin") {
            stack.admin(method, &path, Some(admin), body).await
        } else {
            stack.api(method, &path, Some(admin), body, &[]).await
        }
    };
    let shows_theirs = |answer: &Value| {
        let text = answer.to_string();
        text.contains(&theirs.contact_id) || text.contains(&theirs.phone)
    };
    match (method.as_str(), template) {
        ("GET", "/v1/contacts") => {
            let (_, by_phone) = call(
                Method::GET,
                format!("/v1/contacts?phone={}", theirs.phone),
                None,
            )
            .await;
            assert_eq!(by_phone["contacts"], json!([]));
            let (_, all) = call(Method::GET, "/v1/contacts".into(), None).await;
            assert!(!shows_theirs(&all), "{all}");
        }
        ("GET", "/v1/conversations" | "/v1/callbacks" | "/v1/callbacks/deliveries") => {
            let path = if template.ends_with("deliveries") {
                format!("{template}?from=0")
            } else {
                template.to_owned()
            };
            let (status, answer) = call(Method::GET, path, None).await;
            assert_eq!(status, 200, "{template}: {answer}");
            assert!(!shows_theirs(&answer), "{template}: {answer}");
            assert!(
                !answer.to_string().contains(&theirs.callback_id),
                "{answer}"
            );
        }
        // Usage is counted under the tenant's own keys: B's number, asked for by A, has none.
        ("GET", "/v1/usage") => {
            let today = wagate_messaging::domain::calendar::Day::of_seconds(now()).to_string();
            let path = format!(
                "{template}?from={today}&to={today}&number={}",
                theirs.phone_number_id
            );
            let (status, answer) = call(Method::GET, path, None).await;
            assert_eq!(status, 200, "{answer}");
            assert_eq!(answer["days"], json!([]), "{answer}");
        }
        ("GET", "/v1/templates") => {
            let (status, answer) = call(Method::GET, template.into(), None).await;
            assert_eq!(status, 200, "{answer}");
            assert!(
                !answer.to_string().contains(&theirs.template_id),
                "{answer}"
            );
        }
        // A's own accounts only: B's templates do not come into A's list.
        ("POST", "/v1/templates/sync") => {
            call(Method::POST, template.into(), None).await;
            let (_, list) = call(Method::GET, "/v1/templates".into(), None).await;
            assert!(!list.to_string().contains(&theirs.template_id), "{list}");
        }
        ("POST", "/v1/callbacks/replay") => {
            let body = json!({"from": 0, "callback_id": theirs.callback_id});
            let (status, answer) = call(Method::POST, template.into(), Some(body)).await;
            assert_eq!(status, 404, "{answer}");
        }
        ("POST", "/v1/messages") => {
            let body = json!({"from": theirs.phone_number_id, "to": theirs.phone,
                              "type": "text", "text": {"body": "from B's number?"}});
            let (status, answer) = call(Method::POST, template.into(), Some(body)).await;
            assert_eq!(status, 422, "{answer}");
            assert_eq!(answer["error"]["code"], "unknown_number");
        }
        // Creations that make A's own items, whatever B has: a contact with B's phone is
        // A's contact, a callback or template is A's, an import writes A's contacts, a tenant is the
        // operator's to create.
        ("POST", "/v1/contacts" | "/v1/callbacks" | "/v1/contacts/import" | "/v1/templates") => {}
        ("POST", "/admin/v1/tenants") => {
            let body = json!({"id": format!("t-{}", random_digits(12)), "name": "x"});
            let (status, _) = call(Method::POST, template.into(), Some(body)).await;
            assert_eq!(status, 403, "only the operator creates tenants");
        }
        ("GET", "/admin/v1/tenants") => {
            let (status, answer) = call(Method::GET, template.into(), None).await;
            assert_eq!(status, 403, "only the operator lists tenants: {answer}");
        }
        // The operator's own chain: no tenant key reads or walks it.
        ("GET" | "POST", "/admin/v1/audit" | "/admin/v1/audit/verify") => {
            let (status, answer) = call(method.clone(), template.into(), None).await;
            assert_eq!(
                status, 403,
                "only the operator reads its audit log: {answer}"
            );
        }
        (
            "POST",
            "/admin/v1/maintenance/seal-personal-data" | "/admin/v1/maintenance/audit-checkpoints",
        )
        | ("GET" | "POST", "/admin/v1/maintenance/ageing") => {
            let (status, answer) = call(method.clone(), template.into(), None).await;
            assert_eq!(
                status, 403,
                "only the operator maintains the deployment: {answer}"
            );
        }
        // A receipt of B's is B's to check: A's key is told B does not exist.
        ("POST", "/admin/v1/erasure-receipts/verify") => {
            let body = json!({"signature": "AAAA", "algorithm": "HMAC_SHA_256", "key_id": "k",
                "receipt": {"version": 1, "erasure_id": theirs.erasure_id, "tenant_id": theirs.tenant_id,
                    "requested_by": "operator", "requested_at": 1, "completed_at": 2, "tombstone_expires_at": 3,
                    "erased": {"contacts": 0, "identities": 0, "data_keys": 0, "messages": 0, "delivery_states": 0,
                        "idempotency_records": 0, "callback_deliveries": 0, "tenant_events": 0, "exports": 0}}});
            let (status, answer) = call(Method::POST, template.into(), Some(body)).await;
            assert_eq!(status, 404, "{answer}");
        }
        _ => panic!("{method} {template}: say how this route keeps tenants apart"),
    }
}
