//! Personal data at rest on the local stack: what a person wrote, what was written to them
//! and their profile's fields are sealed under their own data key, so a scan of the table
//! finds none of it (nor their phone number, nor their name in an index key) while the API
//! reads it all back; once their key is gone from the key table, a container that did not
//! cache it reads nothing of theirs.

use std::sync::Arc;
use std::time::Duration;
use wagate_compliance::store::SealingStore;
use wagate_integrations::store::CallbackStore;
use wagate_messaging::store::ContactStore;
use wagate_messaging::store::MessageStore;

use aws_sdk_dynamodb::types::AttributeValue;
use reqwest::Method;
use serde_json::json;
use wagate_compliance::store::migration::Sealed;
use wagate_messaging::access::Role;
use wagate_messaging::metrics::Metrics;
use wagate_tests::scan::holders_of;
use wagate_tests::{Stack, TestTenant, eventually, now, random_digits};

const WAIT: Duration = Duration::from_secs(60);

/// A sealing run sweeps the whole table: the tests that run one take turns, so that one
/// run does not seal what another test has yet to see in plaintext.
static SWEEPING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

#[tokio::test]
async fn words_and_details_are_sealed_at_rest_and_read_back_through_the_api() {
    let stack = Stack::connect().await;
    let tenant = TestTenant::create(&stack).await;
    tenant.register_at_sim(&stack, json!({})).await;
    let manager = tenant.api_key(&stack, Role::Manager).await;
    let marker = random_digits(12);
    let phone = format!("49157{}", random_digits(8));
    let (said, answered) = (
        format!("parcel {marker} is late"),
        format!("sorry {marker}"),
    );
    let (name, email) = (
        format!("Zoë Sealed{marker}"),
        format!("z{marker}@example.com"),
    );
    let note = format!("vip-{marker}");

    tenant.user_writes(&stack, &phone, &said).await;
    let contact = eventually(WAIT, "the contact", || async {
        stack.contact_of(&tenant.id, &phone).await
    })
    .await;
    let path = format!("/v1/contacts/{contact}");
    let (status, body) = stack
        .api(
            Method::PATCH,
            &path,
            Some(&manager),
            Some(json!({"name": name, "email": email, "attributes": {"note": note}})),
            &[],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = stack
        .api(
            Method::POST,
            "/v1/messages",
            Some(&manager),
            Some(json!({"from": tenant.phone_number_id, "to": phone, "type": "text", "text": {"body": answered}})),
            &[],
        )
        .await;
    assert_eq!(status, 202, "{body}");

    // The API shows all of it.
    let conversation = format!("/v1/conversations/{contact}/messages");
    let messages = eventually(WAIT, "both messages", || async {
        let (_, page) = stack
            .api(Method::GET, &conversation, Some(&manager), None, &[])
            .await;
        let page = page["messages"].as_array().cloned().unwrap_or_default();
        (page.len() == 2).then_some(page)
    })
    .await;
    let shown = serde_json::to_string(&messages).unwrap();
    assert!(
        shown.contains(&said) && shown.contains(&answered),
        "{shown}"
    );
    let (_, read) = stack
        .api(Method::GET, &path, Some(&manager), None, &[])
        .await;
    assert_eq!(read["name"], name.as_str(), "{read}");
    assert_eq!(read["email"], email.as_str());
    assert_eq!(read["attributes"]["note"], note.as_str());
    assert_eq!(read["phone"], phone.as_str());

    // The table holds none of it in plaintext: not the words, not the details, not the
    // name (the name index holds a bucket), not the phone (identity keys hold its blind
    // index).
    let tenant_id = tenant.id.as_str();
    let lower_name = name.to_lowercase();
    for secret in [&said, &answered, &email, &note, &name, &lower_name, &phone] {
        let holders = holders_of(&stack, tenant_id, secret).await;
        assert!(holders.is_empty(), "{secret} in plaintext at {holders:?}");
    }

    // Erase the contact's data key: a container without it cached reads none of their
    // data, though every item is still there.
    stack
        .dynamo
        .delete_item()
        .table_name(&stack.storage.key_table_name)
        .key("pk", AttributeValue::S(format!("T#{tenant_id}")))
        .key("sk", AttributeValue::S(format!("DEK#{contact}")))
        .send()
        .await
        .expect("delete the data key");
    let fresh = stack.store_counting(Arc::new(Metrics::default()));
    let profile = fresh
        .repo::<ContactStore>()
        .get_contact(&tenant.id, &contact, now())
        .await
        .unwrap()
        .expect("the profile item is still there");
    assert_eq!(profile.phone, None);
    assert_eq!(profile.profile_name, None);
    assert_eq!(profile.details.name, None);
    assert_eq!(profile.details.email, None);
    assert!(profile.details.attributes.is_empty());
    let kept = fresh
        .repo::<MessageStore>()
        .messages_of(&tenant.id, &contact, now(), 10)
        .await
        .unwrap();
    assert_eq!(kept.len(), 2, "the items stay; their content is unreadable");
    assert!(kept.iter().all(|m| m.content.is_empty()), "{kept:?}");
}

/// A string attribute.
fn sv(v: &str) -> AttributeValue {
    AttributeValue::S(v.to_owned())
}

/// A number attribute.
fn nv(v: i64) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

/// Puts `items` straight into the table, as code before sealing wrote them.
async fn put_as_written_before(stack: &Stack, items: Vec<Vec<(&str, AttributeValue)>>) {
    for it in items {
        stack
            .dynamo
            .put_item()
            .table_name(&stack.table)
            .set_item(Some(
                it.into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
            ))
            .send()
            .await
            .expect("put an item as written before sealing");
    }
}

/// Writes a contact as the code before sealing did: plaintext fields, its name in the
/// index key, its phone in its identity item's key.
async fn put_unsealed_contact(stack: &Stack, tenant: &str, contact: &str, phone: &str, name: &str) {
    let later = now() + 86_400;
    let items = vec![
        vec![
            ("pk", sv(&format!("T#{tenant}#C#{contact}"))),
            ("sk", sv("PROFILE")),
            ("contact_id", sv(contact)),
            ("phone", sv(phone)),
            ("profile_name", sv(name)),
            ("email", sv("old@example.com")),
            ("created_at", nv(now())),
            ("expires_at", nv(later)),
            ("cname_pk", sv(&format!("T#{tenant}"))),
            (
                "cname_sk",
                sv(&format!("{}#{contact}", name.to_lowercase())),
            ),
        ],
        vec![
            ("pk", sv(&format!("T#{tenant}#ID#phone:{phone}"))),
            ("sk", sv("ID")),
            ("contact_id", sv(contact)),
            ("expires_at", nv(later)),
        ],
    ];
    put_as_written_before(stack, items).await;
}

#[tokio::test]
async fn a_contact_written_before_sealing_is_found_read_and_moved_under_its_blind_index() {
    let stack = Stack::connect().await;
    let tenant = TestTenant::create(&stack).await;
    tenant.register_at_sim(&stack, json!({})).await;
    let manager = tenant.api_key(&stack, Role::Manager).await;
    let (contact, phone) = (
        format!("c_{}", random_digits(20)),
        format!("49158{}", random_digits(8)),
    );
    put_unsealed_contact(&stack, tenant.id.as_str(), &contact, &phone, "Olga Old").await;

    // Read as it is.
    let path = format!("/v1/contacts/{contact}");
    let (status, read) = stack
        .api(Method::GET, &path, Some(&manager), None, &[])
        .await;
    assert_eq!(status, 200, "{read}");
    assert_eq!(read["phone"], phone.as_str());
    assert_eq!(read["profile_name"], "Olga Old");
    assert_eq!(read["email"], "old@example.com");

    // Their next message finds the same contact and moves the identity under its blind index.
    tenant.user_writes(&stack, &phone, "still here").await;
    let legacy_pk = format!("T#{}#ID#phone:{phone}", tenant.id);
    eventually(WAIT, "the identity moved", || async {
        let items = stack.tenant_items(tenant.id.as_str()).await;
        let legacy = items
            .iter()
            .any(|it| wagate_tests::text(it, "pk") == Some(legacy_pk.as_str()));
        let moved = items.iter().any(|it| {
            wagate_tests::text(it, "sk") == Some("ID")
                && wagate_tests::text(it, "contact_id") == Some(contact.as_str())
        });
        (!legacy && moved).then_some(())
    })
    .await;
    assert_eq!(
        stack.contact_of(&tenant.id, &phone).await,
        Some(contact.clone())
    );
    let (_, page) = stack
        .api(
            Method::GET,
            &format!("/v1/conversations/{contact}/messages"),
            Some(&manager),
            None,
            &[],
        )
        .await;
    assert_eq!(
        page["messages"][0]["content"]["body"], "still here",
        "{page}"
    );
}

/// A message item as written before sealing.
async fn put_unsealed_message(stack: &Stack, tenant: &str, contact: &str, body: &str) {
    let wamid = format!("wamid.OLD{}", random_digits(12));
    let content = json!({"type": "text", "body": body}).to_string();
    let it = vec![
        ("pk", sv(&format!("T#{tenant}#C#{contact}"))),
        ("sk", sv(&format!("MSG#{:010}#{wamid}", now() - 60))),
        ("wamid", sv(&wamid)),
        ("direction", sv("in")),
        ("type", sv("text")),
        ("content", sv(&content)),
        ("sent_at", nv(now() - 60)),
        ("received_at_ms", nv((now() - 60) * 1000)),
        ("expires_at", nv(now() + 86_400)),
    ];
    put_as_written_before(stack, vec![it]).await;
}

/// A callback delivery and a tenant event as logged before sealing, both naming the person.
async fn put_unsealed_logs(stack: &Stack, tenant: &str, contact: &str, phone: &str, said: &str) {
    let event_id = format!("ev_{}", random_digits(12));
    let body = json!({"id": event_id, "type": "message.received", "tenant_id": tenant,
        "created_at": now(), "data": {"contact_id": contact, "from": phone,
        "message": {"type": "text", "text": {"body": said}}}})
    .to_string();
    let raw = json!({"field": "messages", "value": {"contacts": [{"wa_id": phone}]}}).to_string();
    let items = vec![
        vec![
            ("pk", sv(&format!("T#{tenant}#CBLOG"))),
            ("sk", sv(&format!("{:010}#{event_id}#cb_old", now()))),
            ("endpoint_id", sv("cb_old")),
            ("event_id", sv(&event_id)),
            ("event_type", sv("message.received")),
            ("event_created_at", nv(now())),
            ("body", sv(&body)),
            ("state", sv("delivered")),
            ("attempts", nv(1)),
            ("expires_at", nv(now() + 86_400)),
        ],
        vec![
            ("pk", sv(&format!("T#{tenant}#EV"))),
            ("sk", sv(&format!("EV#{:010}#{}", now(), random_digits(16)))),
            ("field", sv("messages")),
            ("kind", sv("unknown")),
            ("raw", sv(&raw)),
            ("event_time", nv(now())),
            ("expires_at", nv(now() + 86_400)),
        ],
    ];
    put_as_written_before(stack, items).await;
}

/// Runs a whole sealing pass in this process, four segments at once; what it sealed.
async fn seal_everything(stack: &Stack) -> Sealed {
    let segment = |segment: u32| async move {
        let mut sealed = Sealed::default();
        let mut start = None;
        loop {
            let page = stack
                .store
                .repo::<SealingStore>()
                .seal_page_written_before((segment, 4), start.as_ref(), 1000)
                .await
                .expect("a sealing page");
            sealed.add(page.sealed);
            match page.next {
                Some(next) => start = Some(next),
                None => return sealed,
            }
        }
    };
    let mut total = Sealed::default();
    for sealed in futures_util::future::join_all((0..4).map(segment)).await {
        total.add(sealed);
    }
    total
}

#[tokio::test]
async fn the_sealing_run_seals_what_was_written_before_and_rewrites_nothing_twice() {
    let _turn = SWEEPING.lock().await;
    let stack = Stack::connect().await;
    let tenant = TestTenant::create(&stack).await;
    let manager = tenant.api_key(&stack, Role::Manager).await;
    let (contact, phone) = (
        format!("c_{}", random_digits(20)),
        format!("49159{}", random_digits(8)),
    );
    let marker = random_digits(12);
    let said = format!("old words {marker}");
    let name = format!("Petra Prior{marker}");
    put_unsealed_contact(&stack, tenant.id.as_str(), &contact, &phone, &name).await;
    put_unsealed_message(&stack, tenant.id.as_str(), &contact, &said).await;
    let logged = format!("logged words {marker}");
    put_unsealed_logs(&stack, tenant.id.as_str(), &contact, &phone, &logged).await;
    // The profile held its conversation then: index keys, number, the read mark.
    let wrote_at = now() - 600;
    stack
        .dynamo
        .update_item()
        .table_name(&stack.table)
        .key("pk", sv(&format!("T#{}#C#{contact}", tenant.id.as_str())))
        .key("sk", sv("PROFILE"))
        .update_expression(
            "SET conv_pk = :cpk, conv_sk = :csk, last_number = :num, last_inbound_at = :in, last_read_at = :in",
        )
        .expression_attribute_values(":cpk", sv(&format!("T#{}", tenant.id.as_str())))
        .expression_attribute_values(":csk", sv(&format!("{wrote_at:010}#{contact}")))
        .expression_attribute_values(":num", sv(&tenant.phone_number_id))
        .expression_attribute_values(":in", nv(wrote_at))
        .send()
        .await
        .expect("the profile's old conversation");
    let tenant_id = tenant.id.as_str();
    for secret in [&said, &name, &phone, &logged] {
        assert!(!holders_of(&stack, tenant_id, secret).await.is_empty());
    }

    // Only the operator starts it.
    let path = "/admin/v1/maintenance/seal-personal-data";
    let admin = tenant.api_key(&stack, Role::Admin).await;
    let (status, _) = stack.admin(Method::POST, path, Some(&admin), None).await;
    assert_eq!(status, 403);
    let (status, body) = stack
        .admin(Method::POST, path, Some(&stack.operator_key), None)
        .await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["state"], "queued");

    let lower = name.to_lowercase();
    eventually(Duration::from_secs(120), "everything sealed", || async {
        for secret in [&said, &name, &lower, &phone, &logged] {
            if !holders_of(&stack, tenant_id, secret).await.is_empty() {
                return None;
            }
        }
        Some(())
    })
    .await;
    // Read back through the API as before, under the same contact.
    let (_, read) = stack
        .api(
            Method::GET,
            &format!("/v1/contacts/{contact}"),
            Some(&manager),
            None,
            &[],
        )
        .await;
    assert_eq!(read["phone"], phone.as_str(), "{read}");
    assert_eq!(read["profile_name"], name.as_str());
    assert_eq!(read["email"], "old@example.com");
    assert_eq!(
        stack.contact_of(&tenant.id, &phone).await,
        Some(contact.clone())
    );
    let (_, page) = stack
        .api(
            Method::GET,
            &format!("/v1/conversations/{contact}/messages"),
            Some(&manager),
            None,
            &[],
        )
        .await;
    assert_eq!(
        page["messages"][0]["content"]["body"],
        said.as_str(),
        "{page}"
    );
    let (_, found) = stack
        .api(
            Method::GET,
            &format!("/v1/contacts?name=petra%20prior{marker}"),
            Some(&manager),
            None,
            &[],
        )
        .await;
    assert_eq!(
        found["contacts"][0]["contact_id"],
        contact.as_str(),
        "{found}"
    );

    // The conversation the profile held is an item now, read as before, and the profile
    // holds none of it.
    let (_, listed) = stack
        .api(Method::GET, "/v1/conversations", Some(&manager), None, &[])
        .await;
    let moved = listed["conversations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["contact_id"] == contact.as_str())
        .unwrap_or_else(|| panic!("the moved conversation is listed: {listed}"));
    assert_eq!(
        moved["phone_number_id"],
        tenant.phone_number_id.as_str(),
        "{moved}"
    );
    assert_eq!(moved["last_inbound_at"], wrote_at, "{moved}");
    assert_eq!(moved["unread"], false, "the read mark came along: {moved}");
    let profile = stack
        .tenant_items(tenant_id)
        .await
        .into_iter()
        .find(|it| wagate_tests::text(it, "sk") == Some("PROFILE"))
        .unwrap();
    assert!(!profile.contains_key("conv_pk") && !profile.contains_key("last_number"));

    // The log still reads: its body opens under the contact's key (replays send it).
    let (records, _) = stack
        .store
        .repo::<CallbackStore>()
        .deliveries(&tenant.id, now() - 600, now() + 60, None, 10, now())
        .await
        .unwrap();
    assert_eq!(records.len(), 1, "{records:?}");
    assert!(records[0].body.contains(&logged), "{:?}", records[0]);

    // A second pass rewrites none of it: the sealed bytes stay as they are.
    let before = stack.tenant_items(tenant_id).await;
    seal_everything(&stack).await;
    let after = stack.tenant_items(tenant_id).await;
    let key = |it: &wagate_messaging::store::Item| {
        (
            wagate_tests::text(it, "pk").unwrap_or_default().to_owned(),
            wagate_tests::text(it, "sk").unwrap_or_default().to_owned(),
        )
    };
    let mut before: Vec<_> = before.into_iter().map(|it| (key(&it), it)).collect();
    let mut after: Vec<_> = after.into_iter().map(|it| (key(&it), it)).collect();
    before.sort_by(|a, b| a.0.cmp(&b.0));
    after.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(before, after);
}

/// A person's items as written before wamids were blinded: a message keyed by its raw
/// wamid (with a separate dedup record), the delivery state of a reply keyed by its raw
/// wamid, and another under the blinded key that a later status started, the reply's
/// record with its wamid in plaintext, consent evidence that is a raw wamid on the ledger
/// and the profile, and the identifier's opt-out item with its source and evidence.
struct WrittenBeforeBlinding {
    inbound: String,
    reply: String,
    sent_at: i64,
}

async fn put_keyed_by_wamid(
    stack: &Stack,
    tenant: &TestTenant,
    contact: &str,
    phone: &str,
) -> WrittenBeforeBlinding {
    let t = tenant.id.as_str();
    let pk = format!("T#{t}#C#{contact}");
    let sent_at = now() - 120;
    let inbound = wagate_tests::wamid_of(phone);
    let reply = wagate_tests::wamid_of(phone);
    let content = json!({"type": "text", "body": "STOP"}).to_string();
    let blinded_reply = stack
        .keyring
        .blind_wamid(t, &reply)
        .await
        .expect("a blind index");
    let items = vec![
        vec![
            ("pk", sv(&pk)),
            ("sk", sv(&format!("MSG#{sent_at:010}#{inbound}"))),
            ("wamid", sv(&inbound)),
            ("direction", sv("in")),
            ("type", sv("text")),
            ("content", sv(&content)),
            ("sent_at", nv(sent_at)),
            ("received_at_ms", nv(sent_at * 1000)),
            ("expires_at", nv(now() + 86_400)),
        ],
        vec![
            ("pk", sv(&pk)),
            ("sk", sv(&format!("DEDUP#MSG#{sent_at:010}#{inbound}"))),
            ("expires_at", nv(now() + 86_400)),
        ],
        vec![
            ("pk", sv(&pk)),
            ("sk", sv(&format!("MSG#{sent_at:010}#job.oldjob"))),
            ("direction", sv("out")),
            ("job_id", sv("oldjob")),
            ("phone_number_id", sv(&tenant.phone_number_id)),
            ("type", sv("text")),
            ("state", sv("accepted")),
            ("wamid", sv(&reply)),
            ("message_status", sv("accepted")),
            ("sent_at", nv(sent_at)),
            ("attempts", nv(1)),
            ("expires_at", nv(now() + 86_400)),
        ],
        vec![
            ("pk", sv(&pk)),
            ("sk", sv(&format!("WAMID#{reply}"))),
            ("wamid", sv(&reply)),
            ("status", sv("delivered")),
            ("status_rank", nv(2)),
            ("at_sent", nv(sent_at + 1)),
            ("at_delivered", nv(sent_at + 2)),
            ("expires_at", nv(now() + 86_400)),
        ],
        // A later status that came after the deploy, under the blinded key.
        vec![
            ("pk", sv(&pk)),
            ("sk", sv(&format!("WAMID#{blinded_reply}"))),
            ("status", sv("sent")),
            ("status_rank", nv(1)),
            ("at_sent", nv(sent_at + 1)),
            ("expires_at", nv(now() + 86_400)),
        ],
        vec![
            ("pk", sv(&pk)),
            ("sk", sv(&format!("CONSENT#{sent_at:010}#0123456789abcdef"))),
            ("scope", sv("all")),
            ("action", sv("opt_out")),
            ("source", sv("keyword")),
            ("evidence", sv(&inbound)),
            ("at", nv(sent_at)),
            ("expires_at", nv(now() + 86_400)),
        ],
        vec![
            ("pk", sv(&format!("T#{t}#OPTOUT#{}", random_digits(16)))),
            ("sk", sv("OPTOUT")),
            ("all_opt_out", AttributeValue::Bool(true)),
            ("all_changed_at", nv(sent_at)),
            ("all_seen_at", nv(sent_at)),
            ("all_source", sv("keyword")),
            ("all_evidence", sv(&inbound)),
        ],
    ];
    put_as_written_before(stack, items).await;
    // The profile's state names the same message.
    stack
        .dynamo
        .update_item()
        .table_name(&stack.table)
        .key("pk", sv(&pk))
        .key("sk", sv("PROFILE"))
        .update_expression("SET all_opt_out = :t, all_changed_at = :at, all_seen_at = :at, all_source = :k, all_evidence = :w")
        .expression_attribute_values(":t", AttributeValue::Bool(true))
        .expression_attribute_values(":at", nv(sent_at))
        .expression_attribute_values(":k", sv("keyword"))
        .expression_attribute_values(":w", sv(&inbound))
        .send()
        .await
        .expect("the profile's consent state");
    WrittenBeforeBlinding {
        inbound,
        reply,
        sent_at,
    }
}

#[tokio::test]
async fn the_sealing_run_moves_what_was_keyed_by_a_raw_wamid_and_the_api_still_reads_it() {
    let _turn = SWEEPING.lock().await;
    let stack = Stack::connect().await;
    let tenant = TestTenant::create(&stack).await;
    let manager = tenant.api_key(&stack, Role::Manager).await;
    let (contact, phone) = (
        format!("c_{}", random_digits(20)),
        format!("49157{}", random_digits(8)),
    );
    put_unsealed_contact(&stack, tenant.id.as_str(), &contact, &phone, "Wanda Wamid").await;
    let before = put_keyed_by_wamid(&stack, &tenant, &contact, &phone).await;
    let t = tenant.id.as_str();
    assert!(!holders_of(&stack, t, &phone).await.is_empty());
    // The id the API gave out for the message before.
    let old_id = wagate_messaging::domain::message_id::MessageId::inbound(
        &contact,
        before.sent_at,
        &before.inbound,
    )
    .encode();

    seal_everything(&stack).await;

    let found = holders_of(&stack, t, &phone).await;
    assert!(
        found.is_empty(),
        "the number is still readable at {found:?}"
    );
    // The message reads back with its wamid, by its new id and by the one given out before.
    let (_, page) = stack
        .api(
            Method::GET,
            &format!("/v1/conversations/{contact}/messages"),
            Some(&manager),
            None,
            &[],
        )
        .await;
    let messages = page["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 2, "{page}");
    let inbound = messages
        .iter()
        .find(|m| m["direction"] == "inbound")
        .unwrap();
    assert_eq!(inbound["wamid"], before.inbound.as_str(), "{page}");
    assert_eq!(inbound["content"]["body"], "STOP");
    let (status, by_old_id) = stack
        .api(
            Method::GET,
            &format!("/v1/messages/{old_id}"),
            Some(&manager),
            None,
            &[],
        )
        .await;
    assert_eq!(status, 200, "{by_old_id}");
    assert_eq!(by_old_id["wamid"], before.inbound.as_str());
    // The reply keeps its wamid and its whole history, merged into the later state.
    let reply = messages
        .iter()
        .find(|m| m["direction"] == "outbound")
        .unwrap();
    assert_eq!(reply["wamid"], before.reply.as_str(), "{page}");
    assert_eq!(reply["state"], "delivered", "{page}");
    assert_eq!(
        reply["status_history"].as_array().unwrap().len(),
        2,
        "{page}"
    );
    // Consent evidence names the message by its id.
    let (_, consent) = stack
        .api(
            Method::GET,
            &format!("/v1/contacts/{contact}/consent"),
            Some(&manager),
            None,
            &[],
        )
        .await;
    assert_eq!(
        consent["entries"][0]["evidence"], inbound["id"],
        "{consent}"
    );

    // A second pass rewrites none of it: the tenant's items stay as they are.
    let key = |it: &wagate_messaging::store::Item| {
        (
            wagate_tests::text(it, "pk").unwrap_or_default().to_owned(),
            wagate_tests::text(it, "sk").unwrap_or_default().to_owned(),
        )
    };
    let mut before: Vec<_> = stack
        .tenant_items(t)
        .await
        .into_iter()
        .map(|it| (key(&it), it))
        .collect();
    seal_everything(&stack).await;
    let mut after: Vec<_> = stack
        .tenant_items(t)
        .await
        .into_iter()
        .map(|it| (key(&it), it))
        .collect();
    before.sort_by(|a, b| a.0.cmp(&b.0));
    after.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(before, after);
}
