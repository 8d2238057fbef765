//! What a number shared with the WhatsApp Business app sends besides messages (`history`,
//! the app's past chats, and `smb_app_state_sync`, its address book) names people. It is
//! kept a person at a time, sealed under that person's key, in their export, gone with
//! their erasure, and, at a tenant that stores no content, not kept at all.

use std::time::Duration;
use wagate_messaging::store::TenantEventStore;

use reqwest::Method;
use serde_json::{Value, json};
use wagate_messaging::access::Role;
use wagate_tests::scan::holders_of;
use wagate_tests::{Stack, TestTenant, eventually, now, random_digits, wamid_of};

const WAIT: Duration = Duration::from_secs(60);

/// A `history` chunk with one thread per person, each with one old message.
fn history(tenant: &TestTenant, people: &[(&str, &str)]) -> String {
    let threads: Vec<Value> = people
        .iter()
        .map(|(phone, words)| {
            json!({"id": phone, "messages": [{"from": phone, "id": wamid_of(phone),
                "timestamp": (now() - 86_400).to_string(), "type": "text",
                "text": {"body": words}, "history_context": {"status": "READ"}}]})
        })
        .collect();
    tenant.delivery(
        "history",
        json!({"messaging_product": "whatsapp", "metadata": tenant.metadata(),
            "history": [{"metadata": {"phase": 0, "chunk_order": 1, "progress": 100},
                "threads": threads}]}),
    )
}

/// An address book entry of the WhatsApp Business app.
fn address_book(tenant: &TestTenant, phone: &str, name: &str) -> String {
    tenant.delivery(
        "smb_app_state_sync",
        json!({"messaging_product": "whatsapp", "metadata": tenant.metadata(),
            "state_sync": [{"type": "contact", "action": "add",
                "contact": {"full_name": name, "first_name": name, "phone_number": phone},
                "metadata": {"timestamp": now().to_string()}}]}),
    )
}

/// The tenant's kept events, opened.
async fn events(stack: &Stack, tenant: &TestTenant) -> Vec<String> {
    stack
        .store
        .repo::<TenantEventStore>()
        .tenant_events(&tenant.id, now(), 100)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.raw)
        .collect()
}

#[tokio::test]
async fn a_history_and_an_address_book_are_kept_a_person_at_a_time_and_go_with_them() {
    let stack = Stack::connect().await;
    let tenant = TestTenant::create(&stack).await;
    let admin = tenant.api_key(&stack, Role::Admin).await;
    let t = tenant.id.as_str();
    let marker = random_digits(10);
    let (ana, bo) = (
        format!("49154{}", random_digits(8)),
        format!("49155{}", random_digits(8)),
    );
    let (ana_words, bo_words) = (format!("ana old {marker}"), format!("bo old {marker}"));
    for phone in [&ana, &bo] {
        tenant.user_writes(&stack, phone, "hello").await;
    }
    for phone in [&ana, &bo] {
        eventually(WAIT, "the contact", || async {
            stack.contact_of(&tenant.id, phone).await
        })
        .await;
    }
    let chunk = history(&tenant, &[(&ana, &ana_words), (&bo, &bo_words)]);
    assert_eq!(stack.post_signed(&chunk).await.0, 200);
    let book = address_book(&tenant, &ana, &format!("Ana Book{marker}"));
    assert_eq!(stack.post_signed(&book).await.0, 200);
    let kept = eventually(WAIT, "three pieces kept", || async {
        let kept = events(&stack, &tenant).await;
        (kept.len() == 3).then_some(kept)
    })
    .await;
    // A piece per person: no piece holds both people's words.
    assert!(
        kept.iter()
            .all(|raw| !(raw.contains(&ana_words) && raw.contains(&bo_words)))
    );
    // Sealed at rest: the table shows none of it.
    for secret in [&ana_words, &bo_words, &format!("Ana Book{marker}")] {
        assert!(holders_of(&stack, t, secret).await.is_empty(), "{secret}");
    }

    // Ana's export holds her thread and her address book entry, not Bo's.
    let export = stack
        .person_request_done(t, "exports", &admin, json!({"phone": format!("+{ana}")}))
        .await;
    let (_, text) = {
        let response = reqwest::get(export["download_url"].as_str().unwrap())
            .await
            .unwrap();
        (response.status().as_u16(), response.text().await.unwrap())
    };
    let document: Value = serde_json::from_str(&text).unwrap();
    let fields: Vec<&str> = document["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["field"].as_str())
        .collect();
    assert_eq!(fields.len(), 2, "{document}");
    assert!(text.contains(&ana_words) && !text.contains(&bo_words));

    // Erased, Ana's pieces go; Bo's stays.
    stack
        .person_request_done(t, "erasures", &admin, json!({"phone": format!("+{ana}")}))
        .await;
    let left = events(&stack, &tenant).await;
    assert_eq!(left.len(), 1, "{left:?}");
    assert!(left[0].contains(&bo_words));

    // Meta retries both deliveries from before the erasure: Ana's pieces are not kept
    // again (Bo's is the one already kept). A new entry after them shows they were handled.
    assert_eq!(stack.post_signed(&chunk).await.0, 200);
    assert_eq!(stack.post_signed(&book).await.0, 200);
    let carl = format!("49156{}", random_digits(8));
    let later = address_book(&tenant, &carl, &format!("Carl Book{marker}"));
    assert_eq!(stack.post_signed(&later).await.0, 200);
    let left = eventually(WAIT, "Carl's entry", || async {
        let kept = events(&stack, &tenant).await;
        kept.iter()
            .any(|raw| raw.contains(&format!("Carl Book{marker}")))
            .then_some(kept)
    })
    .await;
    assert_eq!(left.len(), 2, "{left:?}");
    assert!(
        left.iter()
            .all(|raw| !raw.contains(&ana_words) && !raw.contains("Ana Book")),
        "{left:?}"
    );
}

#[tokio::test]
async fn a_tenant_that_stores_no_content_keeps_no_history() {
    let stack = Stack::connect().await;
    let tenant = TestTenant::create(&stack).await;
    let admin = tenant.api_key(&stack, Role::Admin).await;
    let (status, body) = stack
        .admin(
            Method::PUT,
            &format!("/admin/v1/tenants/{}/content", tenant.id),
            Some(&admin),
            Some(json!({"store_content": false})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    // The pipeline reads the tenant's settings within its cache's life; a tenant made
    // just now has not been read yet.
    let marker = random_digits(10);
    let phone = format!("49154{}", random_digits(8));
    let words = format!("never kept {marker}");
    assert_eq!(
        stack
            .post_signed(&history(&tenant, &[(&phone, &words)]))
            .await
            .0,
        200
    );
    let kept = eventually(WAIT, "the piece's mark", || async {
        let kept = events(&stack, &tenant).await;
        (!kept.is_empty()).then_some(kept)
    })
    .await;
    assert_eq!(kept, [r#"{"content_not_stored":true}"#]);
}
