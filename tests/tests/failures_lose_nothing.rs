//! Failures lose nothing that was valid: SQS down makes the webhook answer 5xx so Meta
//! retries, and a record the worker cannot process fails alone and ends in the DLQ.

use std::time::Duration;

use aws_sdk_sqs::types::SendMessageBatchRequestEntry;
use wagate_messaging::webhook::{Arrival, split_delivery, to_queue_message};
use wagate_tests::{
    Stack, TestTenant, eventually, now, random_digits, sign, wamid, webhook_in_process,
    with_sk_prefix,
};

#[tokio::test]
async fn with_sqs_unreachable_the_webhook_answers_5xx_and_the_retry_is_processed_once() {
    let stack = Stack::connect().await;
    let tenant = TestTenant::create(&stack).await;
    let id = wamid();
    let body = tenant.text_from("4915112345002", &id, now(), "while SQS was down");
    let signature = sign(&stack.platform_app_secret, body.as_bytes());

    let unreachable_sqs = aws_sdk_sqs::Client::from_conf(
        aws_sdk_sqs::config::Builder::from(&stack.sdk)
            .endpoint_url("http://127.0.0.1:9")
            .build(),
    );
    let state = webhook_in_process(&stack, unreachable_sqs, None);
    let request = http::Request::builder()
        .method("POST")
        .uri("/webhook")
        .header("content-type", "application/json")
        .header("x-hub-signature-256", &signature)
        .body(lambda_http::Body::Text(body.clone()))
        .unwrap();
    let response = webhook::handle(&state, request).await;
    assert!(
        response.status().is_server_error(),
        "got {}",
        response.status()
    );

    // Meta retries, and sends a duplicate besides: one message results.
    for _ in 0..2 {
        let (status, answer) = stack
            .post(
                &stack.webhook_url,
                body.clone().into_bytes(),
                &[("x-hub-signature-256", &signature)],
            )
            .await;
        assert_eq!(status, 200, "{answer}");
    }
    eventually(Duration::from_secs(30), "the retried message", || async {
        let items = stack.tenant_items(tenant.id.as_str()).await;
        (with_sk_prefix(&items, "MSG#").len() == 1).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let items = stack.tenant_items(tenant.id.as_str()).await;
    assert_eq!(
        with_sk_prefix(&items, "MSG#").len(),
        1,
        "processed exactly once"
    );
}

#[tokio::test]
async fn a_record_the_worker_cannot_process_fails_alone_and_ends_in_the_dlq() {
    let stack = Stack::connect().await;
    let tenant = TestTenant::create(&stack).await;
    let marker = format!("poison-{}", random_digits(12));
    let good = tenant.text_from(
        "4915112345003",
        &wamid(),
        now(),
        "batch-mate of a poison record",
    );
    let events = split_delivery(good.as_bytes()).unwrap();
    let ids = stack.queue_ids.key().await.unwrap();
    let arrival = Arrival::platform(tenant.id.as_str(), now() * 1000);
    let good_message = to_queue_message(&events[0], &arrival, ids);
    let poison_body =
        format!("{{\"v\":1,\"this is not\":\"a queued event\",\"marker\":\"{marker}\"");
    let entries = vec![
        SendMessageBatchRequestEntry::builder()
            .id("poison")
            .message_body(poison_body)
            .message_group_id(&marker)
            .message_deduplication_id(&marker)
            .build()
            .unwrap(),
        SendMessageBatchRequestEntry::builder()
            .id("good")
            .message_body(good_message.body)
            .message_group_id(good_message.group_id)
            .message_deduplication_id(good_message.deduplication_id)
            .build()
            .unwrap(),
    ];
    let sent = stack
        .sqs
        .send_message_batch()
        .queue_url(&stack.inbound_queue_url)
        .set_entries(Some(entries))
        .send()
        .await
        .unwrap();
    assert!(sent.failed().is_empty());

    eventually(
        Duration::from_secs(30),
        "the batch-mate to be stored",
        || async {
            let items = stack.tenant_items(tenant.id.as_str()).await;
            (with_sk_prefix(&items, "MSG#").len() == 1).then_some(())
        },
    )
    .await;
    // maxReceiveCount (5) receives, each after the local 2 s visibility timeout.
    eventually(
        Duration::from_secs(60),
        "the poison record in the DLQ",
        || async { (!stack.dlq_bodies_of(&marker).await.is_empty()).then_some(()) },
    )
    .await;
}
