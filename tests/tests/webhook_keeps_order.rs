//! One delivery of many events from one user reaches the queue in the user's order, and an
//! event too large for a queue message is refused alone: the webhook runs in process
//! against a FIFO queue of this test's own on the local stack's SQS, which the test then
//! reads in order.

use aws_sdk_sqs::types::QueueAttributeName;
use serde_json::{Value, json};
use wagate_tests::{Stack, TestTenant, now, random_digits, wamid, webhook_in_process};

#[tokio::test]
async fn a_users_many_events_are_queued_in_order_and_an_oversized_event_is_refused_alone() {
    let stack = Stack::connect().await;
    let tenant = TestTenant::create(&stack).await;
    let queue_url = stack
        .sqs
        .create_queue()
        .queue_name(format!("order-check-{}.fifo", random_digits(10)))
        .attributes(QueueAttributeName::FifoQueue, "true")
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let state = webhook_in_process(&stack, stack.sqs.clone(), Some(&queue_url));

    // 25 messages of one user in one delivery, and one of another user's too large for SQS.
    let user = format!("4915{}", random_digits(9));
    let sent = now();
    let wamids: Vec<String> = (0..25).map(|_| wamid()).collect();
    let mut messages: Vec<Value> = wamids
        .iter()
        .enumerate()
        .map(|(i, id)| {
            json!({"from": user, "id": id, "timestamp": sent.to_string(), "type": "text",
                   "text": {"body": format!("part {i}")}})
        })
        .collect();
    let huge = wamid();
    messages.push(
        json!({"from": "4917000000001", "id": huge, "timestamp": sent.to_string(),
        "type": "text", "text": {"body": "x".repeat(300 * 1024)}}),
    );
    let body = tenant.delivery(
        "messages",
        json!({"messaging_product": "whatsapp", "metadata": tenant.metadata(),
               "contacts": [{"profile": {"name": "Many"}, "wa_id": user}],
               "messages": messages}),
    );
    let request = stack.signed_webhook_request(&body);
    let response = webhook::handle(&state, request).await;
    assert_eq!(response.status(), 200);
    let answer: Value = serde_json::from_slice(response.body().as_ref()).unwrap();
    assert_eq!(answer["queued"], 25, "{answer}");
    assert_eq!(answer["oversized"], 1, "{answer}");

    // Read back in queue order: the user's messages arrive as they were sent.
    let mut seen = Vec::new();
    for _ in 0..20 {
        let out = stack
            .sqs
            .receive_message()
            .queue_url(&queue_url)
            .max_number_of_messages(10)
            .send()
            .await
            .unwrap();
        for m in out.messages() {
            let queued: Value = serde_json::from_str(m.body().unwrap()).unwrap();
            seen.push(queued["item"]["id"].as_str().unwrap().to_owned());
            stack
                .sqs
                .delete_message()
                .queue_url(&queue_url)
                .receipt_handle(m.receipt_handle().unwrap())
                .send()
                .await
                .unwrap();
        }
        if seen.len() >= 25 {
            break;
        }
    }
    assert_eq!(seen, wamids, "the user's messages were queued out of order");
    assert!(!seen.contains(&huge));
    stack
        .sqs
        .delete_queue()
        .queue_url(&queue_url)
        .send()
        .await
        .unwrap();
}
