//! The conversation as an entity on the local stack: a person's message opens it, every
//! move is a conditional write on the version it read (so racing writers are ordered and
//! none is lost), and the person's first message after a resolve opens the next cycle,
//! which the listing shows.

use std::sync::Arc;
use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use wagate_messaging::access::Role;
use wagate_messaging::domain::conversation::cycle::Transition;
use wagate_messaging::metrics::Metrics;
use wagate_messaging::store::ConversationStore;
use wagate_messaging::store::conversation::{ConversationStates, MoveOutcome};
use wagate_tests::{Stack, TestTenant, eventually, now, random_digits, wamid_of};

const WAIT: Duration = Duration::from_secs(60);

async fn listed(stack: &Stack, key: &str, contact: &str) -> Option<Value> {
    let (status, page) = stack
        .api(Method::GET, "/v1/conversations", Some(key), None, &[])
        .await;
    assert_eq!(status, 200, "{page}");
    page["conversations"]
        .as_array()?
        .iter()
        .find(|c| c["contact_id"] == contact)
        .cloned()
}

#[tokio::test]
async fn racing_moves_are_ordered_by_version_and_none_is_lost() {
    let stack = Stack::connect().await;
    let tenant = TestTenant::create(&stack).await;
    tenant.register_at_sim(&stack, json!({})).await;
    let phone = format!("49153{}", random_digits(8));
    tenant.user_writes(&stack, &phone, "Anyone there?").await;
    let contact = eventually(WAIT, "the contact", || async {
        stack.contact_of(&tenant.id, &phone).await
    })
    .await;
    let conversations: ConversationStore =
        stack.store_counting(Arc::new(Metrics::default())).repo();
    let number = tenant.phone_number_id.as_str();
    let opened = eventually(WAIT, "the conversation", || async {
        conversations
            .conversation(&tenant.id, &contact, number)
            .await
            .unwrap()
    })
    .await;
    assert_eq!(opened.conversation.version, 1);

    // WHEN eight agents take the conversation at once
    let moves = (0..8).map(|i| {
        let (conversations, tenant, contact) = (&conversations, &tenant.id, &contact);
        async move {
            let take = Transition::Assign {
                agent_id: format!("agent-{i}"),
            };
            conversations
                .move_conversation(tenant, contact, number, &take, now())
                .await
                .unwrap()
        }
    });
    let outcomes = futures_util::future::join_all(moves).await;

    // THEN each move was applied to what the one before left: distinct versions, and the
    // stored version counts every move
    let mut versions: Vec<u64> = outcomes
        .iter()
        .map(|o| match o {
            MoveOutcome::Moved(c) => c.version,
            other => panic!("a take from another agent is a transfer, never refused: {other:?}"),
        })
        .collect();
    versions.sort_unstable();
    assert_eq!(versions, (2..=9).collect::<Vec<u64>>());
    let stored = conversations
        .conversation(&tenant.id, &contact, number)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.conversation.version, 9);
    assert_eq!(stored.conversation.stage.name(), "assigned");
}

#[tokio::test]
async fn the_first_message_after_a_resolve_opens_the_next_cycle() {
    let stack = Stack::connect().await;
    let tenant = TestTenant::create(&stack).await;
    let key = tenant.api_key(&stack, Role::Agent).await;
    let phone = format!("49154{}", random_digits(8));
    let sent = now() - 120;
    let first = tenant.text_from(&phone, &wamid_of(&phone), sent, "My parcel?");
    assert_eq!(stack.post_signed(&first).await.0, 200);
    let contact = eventually(WAIT, "the contact", || async {
        stack.contact_of(&tenant.id, &phone).await
    })
    .await;
    let listed_first = eventually(WAIT, "the conversation listed", || async {
        listed(&stack, &key, &contact).await
    })
    .await;
    assert_eq!(listed_first["cycle"], 1, "{listed_first}");
    assert_eq!(listed_first["state"], "open", "{listed_first}");
    assert_eq!(listed_first["opened_at"], sent, "{listed_first}");
    assert_eq!(listed_first["unread"], true, "{listed_first}");

    // GIVEN the conversation is resolved
    let conversations: ConversationStore =
        stack.store_counting(Arc::new(Metrics::default())).repo();
    let number = tenant.phone_number_id.as_str();
    let resolved_at = now() - 60;
    let resolved = conversations
        .move_conversation(
            &tenant.id,
            &contact,
            number,
            &Transition::Resolve,
            resolved_at,
        )
        .await
        .unwrap();
    assert!(matches!(resolved, MoveOutcome::Moved(_)), "{resolved:?}");

    // WHEN the first message is delivered again (Meta retries): nothing reopens
    assert_eq!(stack.post_signed(&first).await.0, 200);
    // AND the person writes after the resolve
    let again = tenant.text_from(&phone, &wamid_of(&phone), now(), "Still waiting.");
    assert_eq!(stack.post_signed(&again).await.0, 200);

    // THEN the next cycle is open and unread, once
    let next = eventually(WAIT, "the next cycle", || async {
        listed(&stack, &key, &contact)
            .await
            .filter(|c| c["cycle"] == 2)
    })
    .await;
    assert_eq!(next["state"], "open", "{next}");
    assert_eq!(next["unread"], true, "{next}");
    tokio::time::sleep(Duration::from_secs(2)).await;
    let settled = listed(&stack, &key, &contact).await.unwrap();
    assert_eq!(
        settled["cycle"], 2,
        "the redelivery opened nothing: {settled}"
    );
    // AND resolving it twice is refused by name, not written
    let once = conversations
        .move_conversation(&tenant.id, &contact, number, &Transition::Resolve, now())
        .await
        .unwrap();
    assert!(matches!(once, MoveOutcome::Moved(_)), "{once:?}");
    let twice = conversations
        .move_conversation(&tenant.id, &contact, number, &Transition::Resolve, now())
        .await
        .unwrap();
    assert!(matches!(twice, MoveOutcome::Refused(_)), "{twice:?}");
}
