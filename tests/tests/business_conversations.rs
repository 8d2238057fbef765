//! `GET /v1/conversations` on the local stack: contacts appear when they write in or are
//! written to, most recently active first; `unread` follows who wrote last; filters by
//! number, time and unread; pages without gaps; another tenant sees none of them.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use wagate_messaging::access::Role;
use wagate_tests::{Stack, TestTenant, eventually, now, random_digits};

const WAIT: Duration = Duration::from_secs(60);

async fn list(stack: &Stack, key: &str, query: &str) -> Vec<Value> {
    let (status, page) = stack
        .api(
            Method::GET,
            &format!("/v1/conversations?{query}"),
            Some(key),
            None,
            &[],
        )
        .await;
    assert_eq!(status, 200, "{query}: {page}");
    page["conversations"].as_array().unwrap().clone()
}

fn find<'a>(conversations: &'a [Value], contact: &str) -> Option<&'a Value> {
    conversations.iter().find(|c| c["contact_id"] == contact)
}

#[tokio::test]
async fn conversations_list_who_wrote_and_who_was_answered() {
    let stack = Stack::connect().await;
    let tenant = TestTenant::create(&stack).await;
    tenant.register_at_sim(&stack, json!({})).await;
    let key = tenant.api_key(&stack, Role::Agent).await;
    let manager = tenant.api_key(&stack, Role::Manager).await;
    let started = now();

    let (ann, bob) = (
        format!("49151{}", random_digits(8)),
        format!("49152{}", random_digits(8)),
    );
    let mut contacts = Vec::new();
    for phone in [&ann, &bob] {
        tenant.user_writes(&stack, phone, "Hello?").await;
        contacts.push(
            eventually(WAIT, "the contact", || async {
                stack.contact_of(&tenant.id, phone).await
            })
            .await,
        );
    }
    let (ann_id, bob_id) = (contacts[0].clone(), contacts[1].clone());
    let all = list(&stack, &key, "").await;
    for id in [&ann_id, &bob_id] {
        let c = find(&all, id).unwrap_or_else(|| panic!("{id} listed: {all:?}"));
        assert_eq!(c["unread"], true, "{c}");
        assert_eq!(c["window_open"], true, "{c}");
        assert_eq!(c["phone_number_id"], tenant.phone_number_id.as_str());
    }
    assert_eq!(find(&all, &ann_id).unwrap()["phone"], ann.as_str());

    // Answering Ann makes her conversation read; Bob's stays unread.
    let (status, body) = stack
        .api(
            Method::POST,
            "/v1/messages",
            Some(&key),
            Some(json!({"from": tenant.phone_number_id, "to": ann, "type": "text", "text": {"body": "Hi Ann"}})),
            &[],
        )
        .await;
    assert_eq!(status, 202, "{body}");
    let all = list(&stack, &key, "").await;
    assert_eq!(find(&all, &ann_id).unwrap()["unread"], false);
    assert!(find(&all, &ann_id).unwrap()["last_outbound_at"].as_i64() >= Some(started));
    let unread = list(&stack, &key, "unread=true").await;
    assert!(
        find(&unread, &bob_id).is_some() && find(&unread, &ann_id).is_none(),
        "{unread:?}"
    );
    let activity: Vec<i64> = all
        .iter()
        .map(|c| c["last_activity_at"].as_i64().unwrap())
        .collect();
    assert!(
        activity.windows(2).all(|w| w[0] >= w[1]),
        "most recent first: {activity:?}"
    );

    // A template to someone new starts a conversation that is neither unread nor open.
    let carol = format!("49153{}", random_digits(8));
    let (status, accepted) = stack
        .api(
            Method::POST,
            "/v1/messages",
            Some(&manager),
            Some(
                json!({"from": tenant.phone_number_id, "to": carol, "type": "template",
                "template": {"name": "welcome", "language": "en"}}),
            ),
            &[],
        )
        .await;
    assert_eq!(status, 202, "{accepted}");
    let all = list(&stack, &key, "").await;
    let c = find(&all, accepted["contact_id"].as_str().unwrap()).expect("carol listed");
    assert_eq!(
        (c["unread"].clone(), c["window_open"].clone()),
        (json!(false), json!(false))
    );

    // Filters and pages.
    assert_eq!(
        list(&stack, &key, &format!("number={}", tenant.phone_number_id))
            .await
            .len(),
        3
    );
    assert!(list(&stack, &key, "number=1").await.is_empty());
    assert!(
        list(&stack, &key, &format!("since={}", now() + 3600))
            .await
            .is_empty()
    );
    assert_eq!(
        list(&stack, &key, &format!("since={started}")).await.len(),
        3
    );
    let mut seen = Vec::new();
    let mut cursors = Vec::new();
    let mut query = "limit=1".to_owned();
    for _ in 0..10 {
        let (_, page) = stack
            .api(
                Method::GET,
                &format!("/v1/conversations?{query}"),
                Some(&key),
                None,
                &[],
            )
            .await;
        seen.extend(
            page["conversations"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["contact_id"].clone()),
        );
        match page["next_cursor"].as_str() {
            Some(next) => {
                cursors.push(next.to_owned());
                query = format!("limit=1&cursor={next}");
            }
            None => break,
        }
    }
    assert_eq!(seen.len(), 3, "{seen:?}");
    seen.sort_by_key(|v| v.to_string());
    seen.dedup();
    assert_eq!(seen.len(), 3, "no conversation twice");

    // Another tenant sees none of them; bad parameters name themselves.
    let other = TestTenant::create(&stack).await;
    let foreign = other.api_key(&stack, Role::Admin).await;
    assert!(list(&stack, &foreign, "").await.is_empty());
    for (query, field) in [
        ("limit=0", "limit"),
        ("cursor=abc", "cursor"),
        ("unread=maybe", "unread"),
        ("order=asc", "order"),
    ] {
        let (status, body) = stack
            .api(
                Method::GET,
                &format!("/v1/conversations?{query}"),
                Some(&key),
                None,
                &[],
            )
            .await;
        assert_eq!(status, 400, "{query}: {body}");
        assert_eq!(body["error"]["field"], field, "{query}: {body}");
    }
    // A cursor is sealed for its listing, tenant and filters: anywhere else it is a 400.
    let cursor = &cursors[0];
    for (caller, path) in [
        (&foreign, format!("/v1/conversations?cursor={cursor}")),
        (
            &key,
            format!("/v1/conversations?unread=true&cursor={cursor}"),
        ),
        (&key, format!("/v1/conversations?number=1&cursor={cursor}")),
        (&key, format!("/v1/contacts?cursor={cursor}")),
    ] {
        let (status, body) = stack.api(Method::GET, &path, Some(caller), None, &[]).await;
        assert_eq!(status, 400, "{path}: {body}");
        assert_eq!(body["error"]["field"], "cursor", "{path}: {body}");
    }
}

#[tokio::test]
async fn marking_a_users_message_read_reaches_meta_and_reads_the_conversation() {
    let stack = Stack::connect().await;
    let tenant = TestTenant::create(&stack).await;
    tenant.register_at_sim(&stack, json!({})).await;
    let agent = tenant.api_key(&stack, Role::Agent).await;
    let phone = format!("49155{}", random_digits(8));
    let wamid = tenant.user_writes(&stack, &phone, "Are you there?").await;
    let contact = eventually(WAIT, "the contact", || async {
        stack.contact_of(&tenant.id, &phone).await
    })
    .await;
    let path = format!("/v1/conversations/{contact}/messages");
    let message_id = eventually(WAIT, "the message", || async {
        let (_, page) = stack.api(Method::GET, &path, Some(&agent), None, &[]).await;
        page["messages"][0]["id"].as_str().map(str::to_owned)
    })
    .await;
    assert!(find(&list(&stack, &agent, "unread=true").await, &contact).is_some());

    let read_path = format!("/v1/messages/{message_id}/read");
    let (status, body) = stack
        .api(
            Method::POST,
            &read_path,
            Some(&agent),
            Some(json!({"typing_indicator": true})),
            &[],
        )
        .await;
    assert_eq!(status, 204, "{body}");
    let receipts: Vec<Value> = tenant
        .sim_received(&stack)
        .await
        .into_iter()
        .filter(|r| r["body"]["status"] == "read")
        .collect();
    assert_eq!(receipts.len(), 1, "{receipts:?}");
    assert_eq!(receipts[0]["body"]["message_id"], wamid.as_str());
    assert_eq!(receipts[0]["body"]["typing_indicator"]["type"], "text");
    assert!(find(&list(&stack, &agent, "unread=true").await, &contact).is_none());
    let (status, _) = stack
        .api(Method::POST, &read_path, Some(&agent), None, &[])
        .await;
    assert_eq!(status, 204, "again, without a body");

    // Only the user's messages; another tenant's key finds nothing.
    let (_, sent) = stack
        .api(
            Method::POST,
            "/v1/messages",
            Some(&agent),
            Some(json!({"from": tenant.phone_number_id, "to": phone, "type": "text", "text": {"body": "Yes!"}})),
            &[],
        )
        .await;
    let (status, body) = stack
        .api(
            Method::POST,
            &format!("/v1/messages/{}/read", sent["id"].as_str().unwrap()),
            Some(&agent),
            None,
            &[],
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (422, Some("not_inbound")),
        "{body}"
    );
    let other = TestTenant::create(&stack).await;
    let foreign = other.api_key(&stack, Role::Admin).await;
    let (status, _) = stack
        .api(Method::POST, &read_path, Some(&foreign), None, &[])
        .await;
    assert_eq!(status, 404);
    let (status, body) = stack
        .api(
            Method::POST,
            &read_path,
            Some(&agent),
            Some(json!({"typing": true})),
            &[],
        )
        .await;
    assert_eq!(
        (status, body["error"]["field"].as_str()),
        (400, Some("typing")),
        "{body}"
    );
}

#[tokio::test]
async fn a_reply_queued_by_another_path_than_the_api_answers_the_conversation_too() {
    let stack = Stack::connect().await;
    let tenant = TestTenant::create(&stack).await;
    let key = tenant.api_key(&stack, Role::Agent).await;
    let phone = format!("49153{}", random_digits(8));
    tenant.user_writes(&stack, &phone, "Anyone there?").await;
    let contact = eventually(WAIT, "the contact", || async {
        stack.contact_of(&tenant.id, &phone).await
    })
    .await;
    let all = list(&stack, &key, "").await;
    assert_eq!(find(&all, &contact).unwrap()["unread"], true);

    // As a bot or infra/send-text.sh does: straight onto the outbound queue.
    let job = stack
        .outbound
        .enqueue(
            &tenant.id,
            &wagate_tests::text_to(&tenant.phone_number_id, &phone, "Yes, here."),
            None,
            now(),
        )
        .await
        .unwrap();
    let sent = stack.outcome_of(&job, WAIT).await;
    assert!(
        matches!(
            sent.outcome,
            wagate_messaging::domain::conversation::SendOutcome::Accepted { .. }
        ),
        "{sent:?}"
    );
    let answered = eventually(WAIT, "the conversation answered", || async {
        let all = list(&stack, &key, "").await;
        let c = find(&all, &contact)?.clone();
        (c["unread"] == false).then_some(c)
    })
    .await;
    assert!(
        answered["last_outbound_at"].as_i64().is_some(),
        "{answered}"
    );
}
