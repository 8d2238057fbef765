//! `GET /v1/conversations` on the local stack: contacts appear when they write in or are
//! written to, most recently active first; `unread` follows who wrote last; filters by
//! number, time and unread; pages without gaps; another tenant sees none of them.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use wagate_messaging::access::Role;
use wagate_messaging::domain::calendar::Day;
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

/// The text of a person's message, from `from` under the profile name `name`.
fn text_as(tenant: &TestTenant, from: &str, name: &str, at: i64) -> String {
    tenant.delivery(
        "messages",
        json!({"messaging_product": "whatsapp", "metadata": tenant.metadata(),
            "contacts": [{"profile": {"name": name}, "wa_id": from}],
            "messages": [{"from": from, "id": format!("wamid.CARD{}", random_digits(12)),
                "timestamp": at.to_string(), "type": "text", "text": {"body": "Hi"}}]}),
    )
}

/// A page is one query: each conversation carries what it shows of its contact, sealed
/// as the profile's own fields are, and follows the profile when Meta brings a new name or
/// the person stops marketing.
#[tokio::test]
async fn a_conversation_shows_its_contact_as_the_profile_reads_now() {
    let stack = Stack::connect().await;
    let tenant = TestTenant::create(&stack).await;
    let key = tenant.api_key(&stack, Role::Agent).await;
    let phone = format!("49153{}", random_digits(8));
    let shown = |name: &'static str, opted_out: bool| {
        let (stack, key, phone) = (&stack, &key, &phone);
        move || async move {
            let all = list(stack, key, "").await;
            let c = all.iter().find(|c| c["phone"] == phone.as_str())?;
            (c["profile_name"] == name && c["marketing_opt_out"] == opted_out).then(|| c.clone())
        }
    };
    let at = now() - 120;
    let (status, _) = stack
        .post_signed(&text_as(&tenant, &phone, "Ann", at))
        .await;
    assert_eq!(status, 200);
    let first = eventually(WAIT, "the conversation", shown("Ann", false)).await;
    let contact = first["contact_id"].as_str().unwrap().to_owned();

    // A minute later, within the same five minutes: only the card's refresh shows it.
    let (status, _) = stack
        .post_signed(&text_as(&tenant, &phone, "Ann Example", at + 60))
        .await;
    assert_eq!(status, 200);
    eventually(WAIT, "the new name", shown("Ann Example", false)).await;

    let stop = tenant.delivery(
        "user_preferences",
        json!({"messaging_product": "whatsapp", "metadata": tenant.metadata(),
            "contacts": [{"profile": {"name": "Ann Example"}, "wa_id": phone}],
            "user_preferences": [{"wa_id": phone, "detail": "User requested",
                "category": "marketing_messages", "value": "stop", "timestamp": now() - 5}]}),
    );
    assert_eq!(stack.post_signed(&stop).await.0, 200);
    eventually(WAIT, "the opt-out", shown("Ann Example", true)).await;

    // Nothing of the person in plaintext on the conversation item.
    let items = stack.tenant_items(tenant.id.as_str()).await;
    let conversation = items
        .iter()
        .find(|it| {
            wagate_tests::text(it, "contact_id") == Some(contact.as_str())
                && wagate_tests::text(it, "sk").is_some_and(|sk| sk.starts_with("CONV#"))
        })
        .expect("the conversation item");
    for attribute in ["phone", "profile_name"] {
        assert!(
            conversation
                .get(attribute)
                .is_some_and(|v| v.as_b().is_ok()),
            "{attribute} sealed on the conversation"
        );
    }
    let raw = format!("{conversation:?}");
    assert!(
        !raw.contains(&phone) && !raw.contains("Ann Example"),
        "{raw}"
    );
}

/// Two refreshes of a contact's cards that cross keep the later change: a refresh writes
/// a card only forward of the revision it shows. Here the card already shows a later
/// revision than the name change's refresh read, as when a later change's refresh
/// overtook it, so the name change leaves it alone.
#[tokio::test]
async fn a_refresh_never_puts_back_an_earlier_card() {
    let stack = Stack::connect().await;
    let tenant = TestTenant::create(&stack).await;
    let key = tenant.api_key(&stack, Role::Admin).await;
    let phone = format!("49154{}", random_digits(8));
    let at = now() - 120;
    assert_eq!(
        stack
            .post_signed(&text_as(&tenant, &phone, "Bea", at))
            .await
            .0,
        200
    );
    let shown = |name: &'static str| {
        let (stack, key, phone) = (&stack, &key, &phone);
        move || async move {
            let all = list(stack, key, "").await;
            let c = all.iter().find(|c| c["phone"] == phone.as_str())?;
            (c["profile_name"] == name).then(|| c.clone())
        }
    };
    let first = eventually(WAIT, "the conversation", shown("Bea")).await;
    let contact = first["contact_id"].as_str().unwrap();
    let items = stack.tenant_items(tenant.id.as_str()).await;
    let conversation = items
        .iter()
        .find(|it| {
            wagate_tests::text(it, "contact_id") == Some(contact)
                && wagate_tests::text(it, "sk").is_some_and(|sk| sk.starts_with("CONV#"))
        })
        .expect("the conversation item");
    let profile = items
        .iter()
        .find(|it| {
            wagate_tests::text(it, "contact_id") == Some(contact)
                && wagate_tests::text(it, "sk") == Some("PROFILE")
        })
        .expect("the profile");
    let revision: i64 = profile["card_rev"].as_n().unwrap().parse().unwrap();
    stack
        .dynamo
        .update_item()
        .table_name(&stack.table)
        .key("pk", conversation["pk"].clone())
        .key("sk", conversation["sk"].clone())
        .update_expression("SET card_rev = :later")
        .expression_attribute_values(
            ":later",
            aws_sdk_dynamodb::types::AttributeValue::N((revision + 100).to_string()),
        )
        .send()
        .await
        .expect("mark the card as showing a later change");

    let (status, _) = stack
        .post_signed(&text_as(&tenant, &phone, "Bea Later", at + 60))
        .await;
    assert_eq!(status, 200);
    // The profile took the new name (the contact's own view shows it) ...
    eventually(WAIT, "the profile's new name", || async {
        let (status, c) = stack
            .api_get(&format!("/v1/contacts/{contact}"), &key)
            .await;
        (status == 200 && c["profile_name"] == "Bea Later").then_some(())
    })
    .await;
    // ... and the event is done, its refresh included: its record was counted last.
    let query = format!(
        "from={}&to={}&number={}",
        Day::of_seconds(at),
        Day::of_seconds(now()),
        tenant.phone_number_id
    );
    eventually(WAIT, "both messages counted", || async {
        let (status, usage) = stack
            .api(
                Method::GET,
                &format!("/v1/usage?{query}"),
                Some(&key),
                None,
                &[],
            )
            .await;
        assert_eq!(status, 200, "{usage}");
        let received: i64 = usage["days"]
            .as_array()?
            .iter()
            .filter_map(|d| d["received"].as_i64())
            .sum();
        (received == 2).then_some(())
    })
    .await;
    // The card, showing a later revision, kept what it showed.
    let all = list(&stack, &key, "").await;
    let row = find(&all, contact).expect("listed");
    assert_eq!(row["profile_name"], "Bea", "{row}");
}
