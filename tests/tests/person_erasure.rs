//! Erasing a person on the local stack: after the erasure, nothing in the table holds
//! their phone, name or words in any form; a copy of their items taken before it no longer
//! opens; Meta's replays and a redriven queue message bring nothing back; their next
//! message starts a new contact; their neighbours and the same phone at another tenant are
//! untouched; and the signed receipt verifies. Bad requests erase nothing.

use std::sync::Arc;
use std::time::Duration;
use wagate_messaging::store::ContactStore;
use wagate_messaging::store::MessageStore;

use reqwest::Method;
use serde_json::{Value, json};
use wagate_messaging::access::Role;
use wagate_messaging::metrics::Metrics;
use wagate_tests::scan::holders_of;
use wagate_tests::{Stack, TestTenant, eventually, now, random_digits, wamid, webhook_in_process};

const WAIT: Duration = Duration::from_secs(60);

/// Asks for an erasure and waits for it to be done; its view.
async fn erase(stack: &Stack, tenant: &str, key: &str, person: Value) -> Value {
    stack
        .person_request_done(tenant, "erasures", key, person)
        .await
}

/// The bodies the webhook queues for `delivery`, as a dead-letter queue would hold them.
async fn queued_bodies(stack: &Stack, delivery: &str) -> Vec<String> {
    let queue = stack
        .sqs
        .create_queue()
        .queue_name(format!("erasure-redrive-{}", random_digits(10)))
        .send()
        .await
        .expect("a queue")
        .queue_url
        .expect("its url");
    let state = webhook_in_process(stack, stack.sqs.clone(), Some(&queue));
    let request = stack.signed_webhook_request(delivery);
    assert!(webhook::handle(&state, request).await.status().is_success());
    let out = stack
        .sqs
        .receive_message()
        .queue_url(&queue)
        .max_number_of_messages(10)
        .send()
        .await
        .expect("read the queue");
    out.messages()
        .iter()
        .filter_map(|m| m.body().map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn an_erased_person_leaves_nothing_readable_and_nothing_comes_back() {
    let stack = Stack::connect().await;
    let tenant = TestTenant::create(&stack).await;
    let other = TestTenant::create(&stack).await;
    tenant.register_at_sim(&stack, json!({})).await;
    let admin_key = tenant.api_key(&stack, Role::Admin).await;
    let manager = tenant.api_key(&stack, Role::Manager).await;
    let other_manager = other.api_key(&stack, Role::Manager).await;
    let t = tenant.id.as_str();
    let marker = random_digits(12);
    let phone = format!("49159{}", random_digits(8));
    let neighbour = format!("49158{}", random_digits(8));
    let words = [format!("first {marker}"), format!("second {marker}")];
    let name = format!("Erin Erasable{marker}");
    let reply = format!("reply {marker}");

    // The person writes twice (Meta's deliveries kept, to replay them later), is named by
    // the business, answered with an idempotency key, and sends one message the gateway
    // cannot read (kept as a tenant event that names them).
    let sent_at = now() - 120;
    let deliveries: Vec<String> = words
        .iter()
        .enumerate()
        .map(|(i, w)| tenant.text_from(&phone, &wamid(), sent_at + i as i64, w))
        .collect();
    for delivery in &deliveries {
        assert_eq!(stack.post_signed(delivery).await.0, 200);
    }
    let unreadable = tenant.delivery(
        "messages",
        json!({"messaging_product": "whatsapp", "metadata": tenant.metadata(),
            "messages": [{"from": phone, "timestamp": sent_at.to_string(), "type": "text"}]}),
    );
    assert_eq!(stack.post_signed(&unreadable).await.0, 200);
    tenant
        .user_writes(&stack, &neighbour, "the neighbour stays")
        .await;
    other
        .user_writes(&stack, &phone, "another tenant's customer")
        .await;
    let contact = eventually(WAIT, "the contact", || async {
        stack.contact_of(&tenant.id, &phone).await
    })
    .await;
    let conversation = format!("/v1/conversations/{contact}/messages");
    eventually(WAIT, "both messages", || async {
        let (_, page) = stack
            .api(Method::GET, &conversation, Some(&manager), None, &[])
            .await;
        (page["messages"].as_array().map(Vec::len) == Some(2)).then_some(())
    })
    .await;
    let (status, body) = stack
        .api(
            Method::PATCH,
            &format!("/v1/contacts/{contact}"),
            Some(&manager),
            Some(json!({"name": name})),
            &[],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = stack
        .api(
            Method::POST,
            "/v1/messages",
            Some(&manager),
            Some(json!({"from": tenant.phone_number_id, "to": phone, "type": "text", "text": {"body": reply}})),
            &[("idempotency-key", &format!("erase-{marker}"))],
        )
        .await;
    assert_eq!(status, 202, "{body}");
    eventually(WAIT, "the reply to reach Meta", || async {
        let received = tenant.sim_received(&stack).await;
        received
            .iter()
            .any(|r| r.to_string().contains(&reply))
            .then_some(())
    })
    .await;
    eventually(WAIT, "the kept event", || async {
        let items = stack.tenant_items(t).await;
        items
            .iter()
            .any(|it| wagate_tests::text(it, "sk").is_some_and(|sk| sk.starts_with("EV#")))
            .then_some(())
    })
    .await;
    // A copy of the person's items as a backup would hold them.
    let contact_pk = format!("T#{t}#C#{contact}");
    let backup: Vec<_> = stack
        .tenant_items(t)
        .await
        .into_iter()
        .filter(|it| wagate_tests::text(it, "pk") == Some(contact_pk.as_str()))
        .collect();
    assert!(backup.len() >= 4, "profile and three messages at least");

    let done = erase(&stack, t, &admin_key, json!({"phone": format!("+{phone}")})).await;
    let erased = &done["erased"];
    assert_eq!(erased["contacts"], 1, "{done}");
    assert_eq!(erased["data_keys"], 1, "{done}");
    assert!(erased["identities"].as_u64() >= Some(1), "{done}");
    assert!(erased["messages"].as_u64() >= Some(3), "{done}");
    assert_eq!(
        erased["conversations"], 1,
        "their conversation on the number: {done}"
    );
    assert_eq!(erased["idempotency_records"], 1, "{done}");
    assert!(erased["tenant_events"].as_u64() >= Some(1), "{done}");
    assert!(
        !done.to_string().contains(&phone),
        "the record names no one: {done}"
    );

    // The receipt verifies; one changed count does not.
    let receipt = done["receipt"].clone();
    assert_eq!(receipt["receipt"]["erasure_id"], done["id"]);
    let verify = |body: Value| {
        let key = admin_key.clone();
        let stack = &stack;
        async move {
            stack
                .admin(
                    Method::POST,
                    "/admin/v1/erasure-receipts/verify",
                    Some(&key),
                    Some(body),
                )
                .await
        }
    };
    let (status, check) = verify(receipt.clone()).await;
    assert_eq!((status, &check["valid"]), (200, &json!(true)), "{check}");
    // It names no one, yet tells whether it covers a given person; and when backups hold
    // nothing readable of them any more.
    assert!(!receipt.to_string().contains(&phone), "{receipt}");
    assert!(receipt["receipt"]["subject"].is_string(), "{receipt}");
    let backups_end = receipt["receipt"]["backups_unreadable_after"]
        .as_i64()
        .unwrap();
    let completed = receipt["receipt"]["completed_at"].as_i64().unwrap();
    // The key table's window; the data table's when events sealed under the tenant's key
    // may have named them.
    let days = match receipt["receipt"]["erased"]["tenant_events"].as_u64() {
        Some(0) => 7,
        _ => 30,
    };
    assert_eq!(backups_end - completed, days * 86_400, "{receipt}");
    let mut theirs = receipt.clone();
    theirs["phone"] = json!(format!("+{phone}"));
    let (status, check) = verify(theirs).await;
    assert_eq!((status, &check["covers"]), (200, &json!(true)), "{check}");
    let mut someone_else = receipt.clone();
    someone_else["phone"] = json!(format!("+{neighbour}"));
    let (status, check) = verify(someone_else).await;
    assert_eq!((status, &check["covers"]), (200, &json!(false)), "{check}");
    assert_eq!(check["valid"], true, "{check}");
    let mut forged = receipt.clone();
    forged["receipt"]["erased"]["messages"] = json!(0);
    let (status, check) = verify(forged).await;
    assert_eq!((status, &check["valid"]), (200, &json!(false)), "{check}");

    // Nothing about them is left anywhere in the tenant's items or keys.
    for secret in words.iter().chain([&name, &reply, &phone]) {
        let holders = holders_of(&stack, t, secret).await;
        assert!(holders.is_empty(), "{secret} at {holders:?}");
    }
    let left: Vec<_> = stack
        .tenant_items(t)
        .await
        .into_iter()
        .filter(|it| wagate_tests::text(it, "pk") == Some(contact_pk.as_str()))
        .collect();
    assert!(left.is_empty(), "{left:?}");
    let (status, _) = stack
        .api(
            Method::GET,
            &format!("/v1/contacts/{contact}"),
            Some(&manager),
            None,
            &[],
        )
        .await;
    assert_eq!(status, 404);

    // Meta replays everything the person sent, and a dead letter of it is redriven: none
    // of it comes back.
    let redriven = queued_bodies(&stack, &deliveries[0]).await;
    assert!(!redriven.is_empty());
    for delivery in deliveries.iter().chain([&unreadable]) {
        assert_eq!(stack.post_signed(delivery).await.0, 200);
    }
    for body in &redriven {
        stack
            .sqs
            .send_message()
            .queue_url(&stack.inbound_queue_url)
            .message_body(body)
            .message_group_id(t)
            .message_deduplication_id(format!("redrive-{}", random_digits(12)))
            .send()
            .await
            .expect("redrive");
    }
    // The neighbour's next message is processed after the replays were taken.
    tenant
        .user_writes(&stack, &neighbour, &format!("after {marker}"))
        .await;
    eventually(WAIT, "the neighbour's second message", || async {
        let holders = holders_of(&stack, t, &format!("after {marker}")).await;
        let id = stack.contact_of(&tenant.id, &neighbour).await?;
        let (_, page) = stack
            .api(
                Method::GET,
                &format!("/v1/conversations/{id}/messages"),
                Some(&manager),
                None,
                &[],
            )
            .await;
        (holders.is_empty() && page["messages"].as_array().map(Vec::len) == Some(2)).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        stack.contact_of(&tenant.id, &phone).await,
        None,
        "no contact came back"
    );
    for secret in &words {
        let holders = holders_of(&stack, t, secret).await;
        assert!(holders.is_empty(), "{secret} came back at {holders:?}");
    }

    // Their next message starts afresh; the same phone at another tenant was untouched.
    tenant.user_writes(&stack, &phone, "hello again").await;
    let fresh = eventually(WAIT, "a new contact", || async {
        stack.contact_of(&tenant.id, &phone).await
    })
    .await;
    assert_ne!(fresh, contact);
    let (_, page) = stack
        .api(
            Method::GET,
            &format!("/v1/conversations/{fresh}/messages"),
            Some(&manager),
            None,
            &[],
        )
        .await;
    assert_eq!(page["messages"].as_array().map(Vec::len), Some(1), "{page}");
    let elsewhere = stack
        .contact_of(&other.id, &phone)
        .await
        .expect("untouched");
    let (_, page) = stack
        .api(
            Method::GET,
            &format!("/v1/conversations/{elsewhere}/messages"),
            Some(&other_manager),
            None,
            &[],
        )
        .await;
    assert!(
        page.to_string().contains("another tenant's customer"),
        "{page}"
    );

    // The backup, put back in the table, opens with none of the keys the stack holds.
    for it in &backup {
        stack
            .dynamo
            .put_item()
            .table_name(&stack.table)
            .set_item(Some(it.clone()))
            .send()
            .await
            .expect("restore the backup");
    }
    let fresh_store = stack.store_counting(Arc::new(Metrics::default()));
    let restored = fresh_store
        .repo::<ContactStore>()
        .get_contact(&tenant.id, &contact, now())
        .await
        .expect("read the restored profile")
        .expect("the restored profile");
    assert_eq!((restored.phone, restored.details.name), (None, None));
    let page = fresh_store
        .repo::<MessageStore>()
        .messages_of(&tenant.id, &contact, now(), 50)
        .await
        .expect("read the restored messages");
    let shown = format!("{page:?}");
    assert!(words.iter().all(|w| !shown.contains(w.as_str())), "{shown}");
}

#[tokio::test]
async fn bad_erasure_requests_erase_nothing_and_reveal_nothing() {
    let stack = Stack::connect().await;
    let tenant = TestTenant::create(&stack).await;
    let other = TestTenant::create(&stack).await;
    let admin_key = tenant.api_key(&stack, Role::Admin).await;
    let manager = tenant.api_key(&stack, Role::Manager).await;
    let other_admin = other.api_key(&stack, Role::Admin).await;
    let t = tenant.id.as_str();
    let phone = format!("49156{}", random_digits(8));
    tenant.user_writes(&stack, &phone, "keep me").await;
    let contact = eventually(WAIT, "the contact", || async {
        stack.contact_of(&tenant.id, &phone).await
    })
    .await;
    let path = format!("/admin/v1/tenants/{t}/erasures");

    for bad in [
        json!({"phone": "12ab"}),
        json!({"phone": "+0"}),
        json!({"bsuid": "no-dot"}),
        json!({"phone": phone, "bsuid": "DE.123"}),
        json!({}),
        json!({"phone": phone, "name": "x"}),
        json!(["phone"]),
    ] {
        let (status, answer) = stack
            .admin(Method::POST, &path, Some(&admin_key), Some(bad.clone()))
            .await;
        assert_eq!(status, 400, "{bad}: {answer}");
    }
    let (status, _) = stack
        .admin(
            Method::POST,
            &path,
            Some(&manager),
            Some(json!({"phone": phone})),
        )
        .await;
    assert_eq!(status, 403, "a manager key may not erase");
    let (status, _) = stack
        .admin(
            Method::POST,
            &path,
            Some(&other_admin),
            Some(json!({"phone": phone})),
        )
        .await;
    assert_eq!(status, 404, "another tenant's key does not see the tenant");

    // Someone who was never a contact: an erasure like any other, with nothing in it.
    let stranger = format!("49155{}", random_digits(8));
    let done = erase(&stack, t, &stack.operator_key, json!({"phone": stranger})).await;
    let counts: u64 = done["erased"]
        .as_object()
        .unwrap()
        .values()
        .filter_map(Value::as_u64)
        .sum();
    assert_eq!(counts, 0, "{done}");
    assert_eq!(done["requested_by"], "operator");
    let done_bsuid = erase(&stack, t, &admin_key, json!({"bsuid": "DE.77777777"})).await;
    assert_eq!(done_bsuid["erased"]["contacts"], 0, "{done_bsuid}");

    // Another tenant's erasure id, an unknown one and a malformed one are not found.
    let id = done["id"].as_str().unwrap();
    let other_path = format!("/admin/v1/tenants/{}/erasures/{id}", other.id.as_str());
    let (status, _) = stack
        .admin(Method::GET, &other_path, Some(&other_admin), None)
        .await;
    assert_eq!(status, 404);
    for unknown in ["er_000000000000000000000000", "nope", "er_%2E%2E"] {
        let (status, _) = stack
            .admin(
                Method::GET,
                &format!("{path}/{unknown}"),
                Some(&admin_key),
                None,
            )
            .await;
        assert_eq!(status, 404, "{unknown}");
    }
    // Another tenant's key may not check this tenant's receipt.
    let (status, _) = stack
        .admin(
            Method::POST,
            "/admin/v1/erasure-receipts/verify",
            Some(&other_admin),
            Some(done["receipt"].clone()),
        )
        .await;
    assert_eq!(status, 404);

    // The contact is as it was.
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
    assert!(page.to_string().contains("keep me"), "{page}");
}

#[tokio::test]
async fn the_register_lists_a_tenants_requests_newest_first_page_by_page_naming_no_one() {
    let stack = Stack::connect().await;
    let tenant = TestTenant::create(&stack).await;
    let other = TestTenant::create(&stack).await;
    let admin_key = tenant.api_key(&stack, Role::Admin).await;
    let other_admin = other.api_key(&stack, Role::Admin).await;
    let t = tenant.id.as_str();
    let people: Vec<String> = (0..3)
        .map(|_| format!("49156{}", random_digits(8)))
        .collect();
    let mut ids = Vec::new();
    for phone in &people {
        let done = erase(&stack, t, &admin_key, json!({"phone": format!("+{phone}")})).await;
        ids.push(done["id"].as_str().unwrap().to_owned());
        // Ids carry their time in seconds: a second apart, they list in order.
        tokio::time::sleep(Duration::from_millis(1_100)).await;
    }
    let export = stack
        .person_request_done(
            t,
            "exports",
            &admin_key,
            json!({"phone": format!("+{}", people[0])}),
        )
        .await;

    // Page by page, newest first.
    let mut listed = Vec::new();
    let mut path = format!("/admin/v1/tenants/{t}/erasures?limit=2");
    loop {
        let (status, page) = stack
            .admin(Method::GET, &path, Some(&admin_key), None)
            .await;
        assert_eq!(status, 200, "{page}");
        for erasure in page["erasures"].as_array().unwrap() {
            assert_eq!(erasure["state"], "done", "{erasure}");
            assert!(erasure["receipt"].is_object(), "{erasure}");
            listed.push(erasure["id"].as_str().unwrap().to_owned());
        }
        let text = page.to_string();
        assert!(people.iter().all(|p| !text.contains(p.as_str())), "{page}");
        match page["next_cursor"].as_str() {
            Some(next) => path = format!("/admin/v1/tenants/{t}/erasures?limit=2&cursor={next}"),
            None => break,
        }
    }
    ids.reverse();
    assert_eq!(listed, ids);
    let (status, page) = stack
        .admin(
            Method::GET,
            &format!("/admin/v1/tenants/{t}/exports"),
            Some(&admin_key),
            None,
        )
        .await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["exports"][0]["id"], export["id"], "{page}");
    assert!(page["exports"][0]["download_url"].is_null(), "{page}");

    // Another tenant's key reads none of it, and a cursor of another listing is refused.
    let (status, _) = stack
        .admin(
            Method::GET,
            &format!("/admin/v1/tenants/{t}/erasures"),
            Some(&other_admin),
            None,
        )
        .await;
    assert!(status == 403 || status == 404, "{status}");
    let (status, _) = stack
        .admin(
            Method::GET,
            &format!("/admin/v1/tenants/{t}/exports?cursor=not-a-cursor"),
            Some(&admin_key),
            None,
        )
        .await;
    assert_eq!(status, 400);
}
