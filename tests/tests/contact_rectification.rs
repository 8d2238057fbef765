//! Rectification on the local stack: Meta's `user_changed_number` moves a contact, with its
//! conversation, to the user's new number; the old number leads to it only for Meta's late
//! retries, and whoever writes from it afterwards is a new contact. A tenant's admin
//! corrects a contact's details through the admin API as the business API would.

use std::time::Duration;

use reqwest::Method;
use serde_json::json;
use wagate_messaging::access::Role;
use wagate_tests::{Stack, TestTenant, eventually, now, random_digits, wamid};

const WAIT: Duration = Duration::from_secs(60);

#[tokio::test]
async fn a_user_who_changed_numbers_keeps_their_contact_and_conversation() {
    let stack = Stack::connect().await;
    let tenant = TestTenant::create(&stack).await;
    tenant.register_at_sim(&stack, json!({})).await;
    let key = tenant.api_key(&stack, Role::Manager).await;
    let (old, new) = (
        format!("49151{}", random_digits(8)),
        format!("49152{}", random_digits(8)),
    );
    tenant.user_writes(&stack, &old, "before the move").await;
    let contact = eventually(WAIT, "the contact", || async {
        stack.contact_of(&tenant.id, &old).await
    })
    .await;

    // Meta's notice, sent a minute ago from the old number.
    let moved_at = now() - 60;
    let notice = tenant.delivery(
        "messages",
        json!({"messaging_product": "whatsapp", "metadata": tenant.metadata(),
            "contacts": [{"profile": {"name": "Mover"}, "wa_id": old}],
            "messages": [{"from": old, "id": wamid(), "timestamp": moved_at.to_string(),
                "type": "system", "system": {"body": "User changed number", "wa_id": new,
                "type": "user_changed_number"}}]}),
    );
    assert_eq!(stack.post_signed(&notice).await.0, 200);
    eventually(WAIT, "the new number to lead to the contact", || async {
        (stack.contact_of(&tenant.id, &new).await.as_deref() == Some(contact.as_str()))
            .then_some(())
    })
    .await;
    let path = format!("/v1/contacts/{contact}");
    let (_, read) = stack.api(Method::GET, &path, Some(&key), None, &[]).await;
    assert_eq!(read["phone"], new.as_str(), "{read}");
    assert_eq!(
        stack.contact_of(&tenant.id, &old).await,
        None,
        "no longer theirs"
    );

    // Their next message joins the conversation; a stranger on the old number does not.
    tenant.user_writes(&stack, &new, "after the move").await;
    let conversation = format!("/v1/conversations/{contact}/messages");
    eventually(WAIT, "three messages in the conversation", || async {
        let (_, page) = stack
            .api(Method::GET, &conversation, Some(&key), None, &[])
            .await;
        (page["messages"].as_array().map(Vec::len) == Some(3)).then_some(())
    })
    .await;
    tenant.user_writes(&stack, &old, "who is this?").await;
    let stranger = eventually(WAIT, "the old number's new contact", || async {
        stack.contact_of(&tenant.id, &old).await
    })
    .await;
    assert_ne!(stranger, contact);
    let (_, page) = stack
        .api(Method::GET, &conversation, Some(&key), None, &[])
        .await;
    assert_eq!(page["messages"].as_array().map(Vec::len), Some(3), "{page}");
}

#[tokio::test]
async fn a_tenants_admin_corrects_a_contacts_details_at_the_persons_request() {
    let stack = Stack::connect().await;
    let tenant = TestTenant::create(&stack).await;
    let other = TestTenant::create(&stack).await;
    let admin = tenant.api_key(&stack, Role::Admin).await;
    let manager = tenant.api_key(&stack, Role::Manager).await;
    let other_admin = other.api_key(&stack, Role::Admin).await;
    let phone = format!("49153{}", random_digits(8));
    tenant
        .user_writes(&stack, &phone, "my name is spelt wrong")
        .await;
    let contact = eventually(WAIT, "the contact", || async {
        stack.contact_of(&tenant.id, &phone).await
    })
    .await;
    let path = format!("/admin/v1/tenants/{}/contacts/{contact}", tenant.id);
    let (status, body) = stack
        .api(
            Method::PATCH,
            &format!("/v1/contacts/{contact}"),
            Some(&manager),
            Some(json!({"name": "Jon Smyth", "email": "old@example.com"})),
            &[],
        )
        .await;
    assert_eq!(status, 200, "{body}");

    let (status, corrected) = stack
        .admin(
            Method::PATCH,
            &path,
            Some(&admin),
            Some(json!({"name": "John Smith", "email": null})),
        )
        .await;
    assert_eq!(status, 200, "{corrected}");
    assert_eq!(corrected["name"], "John Smith");
    assert!(corrected.get("email").is_none(), "{corrected}");
    let (_, shown) = stack
        .api_get(&format!("/v1/contacts/{contact}"), &manager)
        .await;
    assert_eq!(shown, corrected, "the business API shows the correction");

    // The person's own identifiers are not the tenant's to change; bad values are refused.
    for bad in [
        json!({"phone": "4915100000000"}),
        json!({"email": "not an address"}),
        json!({"name": ""}),
    ] {
        let (status, answer) = stack
            .admin(Method::PATCH, &path, Some(&admin), Some(bad.clone()))
            .await;
        assert_eq!(status, 400, "{bad}: {answer}");
    }
    // Another tenant's key, and an unknown contact, find nothing.
    let (status, _) = stack
        .admin(
            Method::PATCH,
            &path,
            Some(&other_admin),
            Some(json!({"name": "x"})),
        )
        .await;
    assert_eq!(status, 404);
    let unknown = format!(
        "/admin/v1/tenants/{}/contacts/c_{}",
        tenant.id,
        random_digits(20)
    );
    let (status, _) = stack
        .admin(
            Method::PATCH,
            &unknown,
            Some(&admin),
            Some(json!({"name": "x"})),
        )
        .await;
    assert_eq!(status, 404);
    let (_, shown) = stack
        .api_get(&format!("/v1/contacts/{contact}"), &manager)
        .await;
    assert_eq!(shown["name"], "John Smith", "nothing bad was written");
}
