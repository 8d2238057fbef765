//! Phone numbers through the admin API, against the local stack and the simulator: a
//! number is connected only once "Meta" (the simulator) confirmed that the token reaches it
//! and its account, and with what Meta answered; a connected number's token is stored
//! encrypted and sends work with it; a rotated token is picked up; a number and an account
//! belong to one tenant at a time, whatever the timing, unless the operator shares the
//! account; a disconnected number sends nothing more; tokens are never shown, only their
//! fingerprints.

use std::time::Duration;
use wagate_messaging::store::NumberStore;

use reqwest::Method;
use serde_json::{Value, json};
use wagate_messaging::domain::conversation::SendOutcome;
use wagate_messaging::domain::outbound::{OutboundMessage, Recipient};
use wagate_messaging::domain::tenant::{TenantId, token_fingerprint};
use wagate_messaging::outbound::OutboundJob;
use wagate_tests::{Stack, now, random_digits};

const WAIT: Duration = Duration::from_secs(60);

async fn create_tenant(stack: &Stack) -> String {
    let id = format!("t-{}", random_digits(12));
    let (status, body) = stack
        .admin(
            Method::POST,
            "/admin/v1/tenants",
            Some(&stack.operator_key),
            Some(json!({"id": id, "name": "Numbers Ltd"})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    id
}

/// A number as "Meta" knows it: its account and a token that reaches both.
struct MetaNumber {
    id: String,
    waba: String,
    token: String,
}

impl MetaNumber {
    fn new() -> Self {
        Self::in_waba(&format!("9{}", random_digits(11)))
    }

    fn in_waba(waba: &str) -> Self {
        Self {
            id: format!("10{}", random_digits(13)),
            waba: waba.to_owned(),
            token: format!("EAAT{}", random_digits(40)),
        }
    }
}

async fn connect(stack: &Stack, tenant: &str, number: &MetaNumber, token: &str) -> (u16, Value) {
    connect_as(stack, tenant, &number.id, &number.waba, token).await
}

async fn connect_as(
    stack: &Stack,
    tenant: &str,
    number: &str,
    waba: &str,
    token: &str,
) -> (u16, Value) {
    stack
        .admin(
            Method::PUT,
            &format!("/admin/v1/tenants/{tenant}/numbers/{number}"),
            Some(&stack.operator_key),
            Some(
                json!({"waba_id": waba, "display_phone_number": "+4930123456",
                        "access_token": token}),
            ),
        )
        .await
}

/// Tells the simulator of the number, the token it takes now and where its webhooks go.
async fn register_at_sim(stack: &Stack, tenant: &str, number: &MetaNumber, token: &str) {
    stack
        .sim_post(
            "/_sim/numbers",
            json!({"phone_number_id": number.id, "display_phone_number": "4930123456",
                   "waba_id": number.waba, "access_token": token, "verified_name": "Numbers Ltd",
                   "app_secret": random_digits(32), "webhook_url": stack.tenant_webhook_url(tenant),
                   "statuses": {"final_status": "none"}}),
        )
        .await;
}

/// The tenant's numbers as the operator lists them: the status and the answer.
async fn numbers_of(stack: &Stack, tenant: &str) -> (u16, Value) {
    stack
        .admin(
            Method::GET,
            &format!("/admin/v1/tenants/{tenant}/numbers"),
            Some(&stack.operator_key),
            None,
        )
        .await
}

async fn send_template(stack: &Stack, tenant: &str, number: &str) -> OutboundJob {
    let to = Recipient::parse(&format!("4915{}", random_digits(9))).unwrap();
    let message = OutboundMessage::template(number, to, "order_update", "en_US");
    stack
        .outbound
        .enqueue(&TenantId::parse(tenant).unwrap(), &message, None, now())
        .await
        .unwrap()
}

async fn accepted(stack: &Stack, number: &str) -> usize {
    let counters = stack
        .sim_get(&format!("/_sim/numbers/{number}/counters"))
        .await;
    counters["accepted"].as_u64().unwrap_or(0) as usize
}

#[tokio::test]
async fn a_connected_number_sends_with_its_token_until_disconnected() {
    let stack = Stack::connect().await;
    let tenant = create_tenant(&stack).await;
    let meta = MetaNumber::new();
    let token = meta.token.clone();
    register_at_sim(&stack, &tenant, &meta, &token).await;
    let (status, body) = connect(&stack, &tenant, &meta, &token).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token"]["fingerprint"], token_fingerprint(&token));
    assert_eq!(body["status"], "active");
    // What Meta answered, not what the request said.
    assert_eq!(body["display_phone_number"], "4930123456");
    assert_eq!(body["verified_name"], "Numbers Ltd");
    assert_eq!(body["quality_rating"], "GREEN");
    let number = meta.id.clone();

    let job = send_template(&stack, &tenant, &number).await;
    let record = stack.outcome_of(&job, WAIT).await;
    assert!(
        matches!(record.outcome, SendOutcome::Accepted { .. }),
        "{record:?}"
    );

    // A rotated token: Meta (the simulator) takes only the new one from now on.
    let rotated = format!("EAAT{}", random_digits(40));
    let (status, body) = stack
        .admin(
            Method::PUT,
            &format!("/admin/v1/tenants/{tenant}/numbers/{number}/token"),
            Some(&stack.operator_key),
            Some(json!({"access_token": rotated})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token"]["fingerprint"], token_fingerprint(&rotated));
    register_at_sim(&stack, &tenant, &meta, &rotated).await;
    let job = send_template(&stack, &tenant, &number).await;
    let record = stack.outcome_of(&job, WAIT).await;
    assert!(
        matches!(record.outcome, SendOutcome::Accepted { .. }),
        "{record:?}"
    );

    let (status, list) = numbers_of(&stack, &tenant).await;
    assert_eq!(status, 200);
    assert_eq!(list["numbers"][0]["phone_number_id"], number.as_str());
    let shown = list.to_string();
    assert!(
        !shown.contains(&token) && !shown.contains(&rotated),
        "a token was shown"
    );

    // One tenant at a time, even one whose token Meta accepts for the number.
    let other = create_tenant(&stack).await;
    let (status, body) = connect(&stack, &other, &meta, &rotated).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"]["code"], "number_taken");

    let (status, _) = stack
        .admin(
            Method::DELETE,
            &format!("/admin/v1/tenants/{tenant}/numbers/{number}"),
            Some(&stack.operator_key),
            None,
        )
        .await;
    assert_eq!(status, 204);
    // Jobs already queued, spread over the worker instances (some still hold the number
    // in their cache), send nothing more.
    let before = accepted(&stack, &number).await;
    let mut jobs = Vec::new();
    for _ in 0..8 {
        jobs.push(send_template(&stack, &tenant, &number).await);
    }
    tokio::time::sleep(Duration::from_secs(6)).await;
    assert_eq!(
        accepted(&stack, &number).await,
        before,
        "a disconnected number sent"
    );
    for job in &jobs {
        assert!(stack.outbound_record(job).await.is_none());
    }
    let (_, list) = numbers_of(&stack, &tenant).await;
    assert_eq!(list["numbers"], json!([]));
    let (status, body) = connect(&stack, &other, &meta, &rotated).await;
    assert_eq!(
        status, 200,
        "once disconnected, another tenant may connect it and its account: {body}"
    );
}

#[tokio::test]
async fn bad_number_requests_are_refused_with_the_field_and_roles_hold() {
    let stack = Stack::connect().await;
    let tenant = create_tenant(&stack).await;
    let good = json!({"waba_id": "900000000001", "display_phone_number": "+4930123456",
                      "access_token": "EAAT0123456789012345678901"});
    let mut cases = vec![("abc".to_owned(), good.clone(), "phone_number_id")];
    for (field, value) in [
        ("waba_id", json!("12ab")),
        ("display_phone_number", json!("call me")),
        ("access_token", json!("short")),
        ("access_token", json!("EAAT with spaces in the token text")),
        ("coexistence", json!("yes")),
        ("owner", json!("x")),
    ] {
        let mut body = good.clone();
        body[field] = value;
        cases.push((format!("10{}", random_digits(13)), body, field));
    }
    for (number, body, field) in cases {
        let (status, answer) = stack
            .admin(
                Method::PUT,
                &format!("/admin/v1/tenants/{tenant}/numbers/{number}"),
                Some(&stack.operator_key),
                Some(body.clone()),
            )
            .await;
        assert_eq!(
            (status, answer["error"]["field"].as_str()),
            (400, Some(field)),
            "{body}: {answer}"
        );
    }
    let (_, list) = numbers_of(&stack, &tenant).await;
    assert_eq!(
        list["numbers"],
        json!([]),
        "a refused request connected a number"
    );

    let (status, agent) = stack
        .admin(
            Method::POST,
            &format!("/admin/v1/tenants/{tenant}/keys"),
            Some(&stack.operator_key),
            Some(json!({"name": "desk", "role": "agent"})),
        )
        .await;
    assert_eq!(status, 201);
    let (status, _) = stack
        .admin(
            Method::GET,
            &format!("/admin/v1/tenants/{tenant}/numbers"),
            agent["key"].as_str(),
            None,
        )
        .await;
    assert_eq!(status, 403);
    for (method, path) in [
        (
            Method::DELETE,
            format!("/admin/v1/tenants/{tenant}/numbers/1234567"),
        ),
        (
            Method::PUT,
            format!("/admin/v1/tenants/{tenant}/numbers/1234567/token"),
        ),
    ] {
        let body =
            (method == Method::PUT).then(|| json!({"access_token": "EAAT0123456789012345678901"}));
        let (status, answer) = stack
            .admin(method, &path, Some(&stack.operator_key), body)
            .await;
        assert_eq!(status, 404, "{path}: {answer}");
    }
}

/// Nothing of a number is stored anywhere: no route, no account, nothing in the listing.
async fn assert_nothing_stored(stack: &Stack, tenant: &str, number: &MetaNumber) {
    let (_, list) = numbers_of(stack, tenant).await;
    assert_eq!(list["numbers"], json!([]), "a refused number was stored");
    assert_eq!(
        stack
            .store
            .repo::<NumberStore>()
            .tenant_for_phone_number(&number.id)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        stack
            .store
            .repo::<NumberStore>()
            .waba_route(&number.waba)
            .await
            .unwrap(),
        None
    );
}

#[tokio::test]
async fn a_number_meta_does_not_confirm_for_the_token_is_refused_and_nothing_is_stored() {
    let stack = Stack::connect().await;
    let victim_tenant = create_tenant(&stack).await;
    let victim = MetaNumber::new();
    register_at_sim(&stack, &victim_tenant, &victim, &victim.token).await;
    let attacker = create_tenant(&stack).await;
    let own = MetaNumber::new();
    register_at_sim(&stack, &attacker, &own, &own.token).await;

    // The victim's number with the attacker's token, under either account.
    for waba in [&own.waba, &victim.waba] {
        let (status, body) = connect_as(&stack, &attacker, &victim.id, waba, &own.token).await;
        assert_eq!(status, 422, "{body}");
        assert_eq!(body["error"]["code"], "not_owned");
        assert_eq!(body["error"]["field"], "phone_number_id");
    }
    assert_nothing_stored(&stack, &attacker, &victim).await;
    // The attacker's own number, claimed under the victim's account.
    let (status, body) = connect_as(&stack, &attacker, &own.id, &victim.waba, &own.token).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(
        (&body["error"]["code"], &body["error"]["field"]),
        (&json!("not_owned"), &json!("waba_id"))
    );
    // A number the account does not list: a second account of the same token's holder.
    let elsewhere = MetaNumber::in_waba(&format!("8{}", random_digits(11)));
    register_at_sim(&stack, &attacker, &elsewhere, &own.token).await;
    let (status, body) = connect_as(&stack, &attacker, &elsewhere.id, &own.waba, &own.token).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["field"], "waba_id");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("does not list"),
        "{body}"
    );
    // A token Meta does not accept at all: Meta's code is told.
    let (status, body) = connect(&stack, &attacker, &own, "EAATnotatokenmetaknows00").await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["code"], "token_invalid");
    assert!(body["error"]["message"].as_str().unwrap().contains("190"));
    // The display number the request claims is not Meta's.
    let (status, body) = stack
        .admin(
            Method::PUT,
            &format!("/admin/v1/tenants/{attacker}/numbers/{}", own.id),
            Some(&stack.operator_key),
            Some(
                json!({"waba_id": own.waba, "display_phone_number": "+15550001111",
                        "access_token": own.token}),
            ),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["field"], "display_phone_number");
    // Meta cannot be reached: 502, and still nothing stored.
    stack
        .sim_post(
            "/_sim/faults",
            json!({"call": "lookup", "phone_number_id": own.id, "http_status": 503}),
        )
        .await;
    let (status, body) = connect(&stack, &attacker, &own, &own.token).await;
    assert_eq!(status, 502, "{body}");
    assert_eq!(body["error"]["code"], "meta_unavailable");
    assert_nothing_stored(&stack, &attacker, &own).await;
    assert_nothing_stored(&stack, &attacker, &victim).await;

    // The owner connects its number; with the token confirmed, so does the attacker its own.
    let (status, body) = connect(&stack, &victim_tenant, &victim, &victim.token).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = connect(&stack, &attacker, &own, &own.token).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn twenty_tenants_connecting_one_number_at_once_leave_exactly_one_owner() {
    let stack = Stack::connect().await;
    let mut tenants = Vec::new();
    for _ in 0..20 {
        tenants.push(create_tenant(&stack).await);
    }
    // Through the API: twenty requests at once, each tenant holding a token Meta accepts.
    let meta = MetaNumber::new();
    register_at_sim(&stack, &tenants[0], &meta, &meta.token).await;
    let answers = futures_util::future::join_all(
        tenants
            .iter()
            .map(|tenant| connect(&stack, tenant, &meta, &meta.token)),
    )
    .await;
    let winners: Vec<&String> = tenants
        .iter()
        .zip(&answers)
        .filter(|(_, (status, _))| *status == 200)
        .map(|(tenant, _)| tenant)
        .collect();
    assert_eq!(winners.len(), 1, "{answers:?}");
    for (status, body) in &answers {
        assert!(*status == 200 || *status == 409, "{body}");
    }
    let owner = stack
        .store
        .repo::<NumberStore>()
        .tenant_for_phone_number(&meta.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(owner.as_str(), winners[0].as_str());
    for tenant in &tenants {
        let (_, list) = numbers_of(&stack, tenant).await;
        let listed = list["numbers"].as_array().unwrap().len();
        assert_eq!(
            listed,
            usize::from(tenant == winners[0]),
            "{tenant}: {list}"
        );
    }

    // The same use case in process, truly at once (the local Function URL serves one call
    // at a time): one connection wins, the others are told the number is taken.
    let racing = MetaNumber::new();
    register_at_sim(&stack, &tenants[0], &racing, &racing.token).await;
    let token = wagate_messaging::secret::Secret::new(racing.token.clone());
    let ids: Vec<TenantId> = tenants
        .iter()
        .map(|t| TenantId::parse(t).unwrap())
        .collect();
    let results = futures_util::future::join_all(ids.iter().map(|tenant| {
        stack
            .setup
            .connect_number(wagate_messaging::numbers::ConnectNumber {
                tenant,
                phone_number_id: &racing.id,
                waba_id: &racing.waba,
                access_token: &token,
                coexistence: false,
                expected_display_number: None,
                now: now(),
            })
    }))
    .await;
    let won = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(won, 1, "{results:?}");
    for result in &results {
        assert!(
            matches!(
                result,
                Ok(_)
                    | Err(wagate_messaging::numbers::ConnectError::NumberTaken
                        | wagate_messaging::numbers::ConnectError::WabaTaken)
            ),
            "{result:?}"
        );
    }
}

#[tokio::test]
async fn an_account_held_by_one_tenant_is_refused_to_another_until_the_operator_shares_it() {
    let stack = Stack::connect().await;
    let first = create_tenant(&stack).await;
    let second = create_tenant(&stack).await;
    let one = MetaNumber::new();
    let two = MetaNumber::in_waba(&one.waba);
    register_at_sim(&stack, &first, &one, &one.token).await;
    register_at_sim(&stack, &second, &two, &two.token).await;
    let (status, body) = connect(&stack, &first, &one, &one.token).await;
    assert_eq!(status, 200, "{body}");

    let (status, body) = connect(&stack, &second, &two, &two.token).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"]["code"], "waba_taken");
    let (_, list) = numbers_of(&stack, &second).await;
    assert_eq!(list["numbers"], json!([]));
    assert_eq!(
        stack
            .store
            .repo::<NumberStore>()
            .tenant_for_phone_number(&two.id)
            .await
            .unwrap(),
        None
    );

    // Only the operator shares an account; a tenant's admin key is refused.
    let path = format!("/admin/v1/wabas/{}", one.waba);
    let (status, held) = stack
        .admin(Method::GET, &path, Some(&stack.operator_key), None)
        .await;
    assert_eq!(status, 200, "{held}");
    assert_eq!(held["owner"], first.as_str());
    assert_eq!(held["connected_numbers"], 1);
    let (_, key) = stack
        .admin(
            Method::POST,
            &format!("/admin/v1/tenants/{second}/keys"),
            Some(&stack.operator_key),
            Some(json!({"name": "admin", "role": "admin"})),
        )
        .await;
    let share = json!({"owner": first, "shared_with": [second]});
    let (status, _) = stack
        .admin(Method::PUT, &path, key["key"].as_str(), Some(share.clone()))
        .await;
    assert_eq!(status, 403);
    let (status, shared) = stack
        .admin(Method::PUT, &path, Some(&stack.operator_key), Some(share))
        .await;
    assert_eq!(status, 200, "{shared}");
    let (status, body) = connect(&stack, &second, &two, &two.token).await;
    assert_eq!(status, 200, "{body}");
    // The account's own events still go to its owner, until the operator names another.
    let waba_events_to = |stack: &Stack| {
        let waba = one.waba.clone();
        let store = stack.store.clone();
        async move {
            store
                .repo::<NumberStore>()
                .tenant_for_waba(&waba)
                .await
                .unwrap()
                .unwrap()
        }
    };
    assert_eq!(waba_events_to(&stack).await.as_str(), first.as_str());
    let (status, body) = stack
        .admin(
            Method::PUT,
            &path,
            Some(&stack.operator_key),
            Some(json!({"owner": first})),
        )
        .await;
    assert_eq!(
        status, 409,
        "the second tenant still holds a number: {body}"
    );
    assert_eq!(body["error"]["code"], "waba_in_use");
    let (status, body) = stack
        .admin(
            Method::PUT,
            &path,
            Some(&stack.operator_key),
            Some(json!({"owner": second, "shared_with": [first]})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(waba_events_to(&stack).await.as_str(), second.as_str());
    let (status, body) = stack
        .admin(
            Method::PUT,
            &path,
            Some(&stack.operator_key),
            Some(json!({"owner": "no-such-tenant"})),
        )
        .await;
    assert_eq!(status, 422, "{body}");
}
