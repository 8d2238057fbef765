//! `wagate-local esm`: an SQS event source mapping as Lambda runs one. It long-polls the
//! queue, invokes the function through the runtime emulator's Invoke API with a batch, and
//! deletes only the records the function did not report in `batchItemFailures`. An
//! invocation that fails as a whole deletes nothing; so does one that does not answer
//! within the function's timeout (`--timeout-seconds`, from template.yaml), as when its
//! runtime died: the poller goes on with the next batch, served by the next runtime.
//! Failed records come back after the visibility timeout, and SQS's redrive policy moves
//! them to the DLQ after maxReceiveCount receives.

use std::collections::HashSet;
use std::time::Duration;

use aws_sdk_sqs::types::{
    DeleteMessageBatchRequestEntry, Message, MessageSystemAttributeName, QueueAttributeName,
};
use serde_json::{Value, json};

use crate::BoxError;
use crate::args::Args;

pub async fn run(sdk: &aws_config::SdkConfig, args: &Args) -> Result<(), BoxError> {
    let function = args.required("function")?.to_owned();
    let queue_url = args.required("queue-url")?.to_owned();
    let invoke_url = format!(
        "{}/2015-03-31/functions/{function}/invocations",
        args.required("invoke-url")?.trim_end_matches('/')
    );
    let batch_size: i32 = args.optional("batch-size").unwrap_or("10").parse()?;
    let pollers: usize = args.optional("pollers").unwrap_or("1").parse()?;
    // Lambda's longest timeout when none is given; a moment more for the answer to come.
    let timeout: u64 = args.optional("timeout-seconds").unwrap_or("900").parse()?;
    let sqs = aws_sdk_sqs::Client::new(sdk);
    let arn = sqs
        .get_queue_attributes()
        .queue_url(&queue_url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await?
        .attributes()
        .and_then(|a| a.get(&QueueAttributeName::QueueArn).cloned())
        .unwrap_or_default();
    let http = wagate_messaging::http::client_builder()
        .timeout(Duration::from_secs(timeout) + Duration::from_secs(2))
        .build()?;
    let mapping = Mapping {
        sqs,
        queue_url,
        arn,
        invoke_url,
        http,
        batch_size,
        function,
    };
    eprintln!(
        "esm: {} pollers feeding {} from {}",
        pollers, mapping.function, mapping.queue_url
    );
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..pollers {
        let mapping = mapping.clone();
        tasks.spawn(async move { mapping.poll_forever().await });
    }
    while tasks.join_next().await.is_some() {}
    Ok(())
}

#[derive(Clone)]
struct Mapping {
    sqs: aws_sdk_sqs::Client,
    queue_url: String,
    arn: String,
    invoke_url: String,
    http: reqwest::Client,
    batch_size: i32,
    function: String,
}

impl Mapping {
    async fn poll_forever(&self) {
        loop {
            if let Err(e) = self.poll_once().await {
                eprintln!("esm: {}: {e}", self.function);
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
    }

    async fn poll_once(&self) -> Result<(), BoxError> {
        let received = self
            .sqs
            .receive_message()
            .queue_url(&self.queue_url)
            .max_number_of_messages(self.batch_size)
            .wait_time_seconds(1)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .send()
            .await?;
        let messages = received.messages.unwrap_or_default();
        if messages.is_empty() {
            return Ok(());
        }
        let event =
            json!({ "Records": messages.iter().map(|m| self.record(m)).collect::<Vec<_>>() });
        let failed = match self.invoke(&event).await {
            Ok(failed) => failed,
            Err(e) => {
                eprintln!(
                    "esm: {} invocation failed, the batch will be redelivered: {e}",
                    self.function
                );
                return Ok(());
            }
        };
        let entries: Vec<DeleteMessageBatchRequestEntry> = messages
            .iter()
            .enumerate()
            .filter(|(_, m)| !failed.contains(m.message_id().unwrap_or_default()))
            .map(|(i, m)| {
                DeleteMessageBatchRequestEntry::builder()
                    .id(i.to_string())
                    .receipt_handle(m.receipt_handle().unwrap_or_default())
                    .build()
                    .expect("id and receipt handle are set")
            })
            .collect();
        if !entries.is_empty() {
            // As Lambda's pollers do, the next receive does not wait for this delete: the
            // records stay invisible meanwhile.
            let delete = self
                .sqs
                .delete_message_batch()
                .queue_url(&self.queue_url)
                .set_entries(Some(entries));
            let function = self.function.clone();
            tokio::spawn(async move {
                if let Err(e) = delete.send().await {
                    eprintln!("esm: {function}: deleting a processed batch failed: {e}");
                }
            });
        }
        Ok(())
    }

    /// Invokes the function; returns the ids it reported as failed. As in Lambda, a
    /// response that names no valid id of the batch fails the whole batch.
    async fn invoke(&self, event: &Value) -> Result<HashSet<String>, BoxError> {
        let response = self.http.post(&self.invoke_url).json(event).send().await?;
        let status = response.status();
        let function_error = response.headers().contains_key("x-amz-function-error");
        let body = response.text().await?;
        if !status.is_success() || function_error {
            return Err(format!("status {status}: {body}").into());
        }
        let ids: HashSet<&str> = event["Records"]
            .as_array()
            .map(|r| r.iter().filter_map(|r| r["messageId"].as_str()).collect())
            .unwrap_or_default();
        let parsed: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
        let mut failed = HashSet::new();
        for item in parsed["batchItemFailures"].as_array().into_iter().flatten() {
            let id = item["itemIdentifier"].as_str().unwrap_or_default();
            if !ids.contains(id) {
                return Err(format!("the function reported an unknown item {id:?}").into());
            }
            failed.insert(id.to_owned());
        }
        Ok(failed)
    }

    fn record(&self, m: &Message) -> Value {
        let attrs: serde_json::Map<String, Value> = m
            .attributes()
            .map(|a| {
                a.iter()
                    .map(|(k, v)| (k.as_str().to_owned(), Value::String(v.clone())))
                    .collect()
            })
            .unwrap_or_default();
        json!({
            "messageId": m.message_id(),
            "receiptHandle": m.receipt_handle(),
            "body": m.body(),
            "attributes": attrs,
            "messageAttributes": {},
            "md5OfBody": m.md5_of_body(),
            "eventSource": "aws:sqs",
            "eventSourceARN": self.arn,
            "awsRegion": std::env::var("AWS_REGION").unwrap_or_else(|_| "us-east-1".into()),
        })
    }
}
