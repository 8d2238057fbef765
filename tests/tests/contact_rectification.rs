//! Rectification on the local stack: Meta's `user_changed_number` moves a contact, with its
//! conversation, to the user's new number; the old number leads to it only for Meta's late
//! retries, and whoever writes from it afterwards is a new contact.

use std::time::Duration;

use reqwest::Method;
use serde_json::json;
use wagate_shared::access::Role;
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
