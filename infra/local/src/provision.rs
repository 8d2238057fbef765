//! `wagate-local up`: creates the template's KMS keys, table and queues on the emulators,
//! seeds the demo tenant, writes each function's environment, and prints stack.env lines.

use std::fmt::Write as _;

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType, TimeToLiveSpecification,
};
use aws_sdk_sqs::types::QueueAttributeName;
use yaml_serde::Value;

use crate::BoxError;
use crate::args::Args;
use crate::seed;
use crate::template::Template;

pub async fn run(sdk: &aws_config::SdkConfig, args: &Args) -> Result<(), BoxError> {
    let prefix = args.required("prefix")?;
    let out_dir = args.required("out-dir")?;
    let mut template = Template::load(args.required("template")?, prefix, &args.params)?;
    create_keys(sdk, &mut template).await?;
    create_tables(sdk, &mut template).await?;
    create_queues(sdk, &mut template).await?;
    create_buckets(sdk, &mut template).await?;

    let table = template
        .refs
        .get("Table")
        .ok_or("the template has no Table")?
        .clone();
    let key_arn = template
        .attrs
        .get("SecretsKey.Arn")
        .ok_or("the template has no SecretsKey")?
        .clone();
    let simulator = seed::Simulator {
        url: args.required("sim-url")?,
        webhook_url: args.required("webhook-url")?,
    };
    let demo = seed::seed_demo(sdk, &table, &key_arn, &simulator).await?;
    template.set_param(
        "PlatformAppSecretCiphertext",
        demo.platform_secret_ciphertext.clone(),
    );
    template.set_param("PlatformVerifyToken", demo.platform_verify_token.clone());
    template.set_param(
        "OperatorKeyCiphertext",
        demo.operator_key_ciphertext.clone(),
    );

    std::fs::create_dir_all(out_dir)?;
    for (id, props) in template.resources_of("AWS::Serverless::Function") {
        let mut env = String::new();
        if let Some(vars) = props
            .get("Environment")
            .and_then(|e| e.get("Variables"))
            .and_then(Value::as_mapping)
        {
            for (name, value) in vars {
                writeln!(
                    env,
                    "{}={}",
                    name.as_str().unwrap_or_default(),
                    template.resolve(value)?
                )?;
            }
        }
        std::fs::write(format!("{out_dir}/{id}.env"), env)?;
        // The event source mapping fails an invocation that outlives the function's timeout.
        if let Some(timeout) = props.get("Timeout") {
            std::fs::write(
                format!("{out_dir}/{id}.timeout"),
                template.resolve(timeout)?,
            )?;
        }
    }

    let mut lines = String::new();
    for (name, output) in &template.outputs {
        let name = name.as_str().unwrap_or_default();
        match output.get("Value").map(|v| template.resolve(v)) {
            Some(Ok(value)) => writeln!(lines, "{}={value}", env_name(name))?,
            // The Function URL exists only on AWS; the stack script sets WEBHOOK_URL.
            _ => continue,
        }
    }
    lines.push_str(&demo.env_lines());
    print!("{lines}");
    Ok(())
}

/// `InboundQueueUrl` -> `INBOUND_QUEUE_URL`.
fn env_name(output: &str) -> String {
    let mut out = String::new();
    for (i, c) in output.chars().enumerate() {
        if c.is_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_uppercase());
    }
    out
}

async fn create_keys(sdk: &aws_config::SdkConfig, template: &mut Template) -> Result<(), BoxError> {
    let kms = aws_sdk_kms::Client::new(sdk);
    for (id, props) in template.resources_of("AWS::KMS::Key") {
        let description = props
            .get("Description")
            .and_then(Value::as_str)
            .unwrap_or_default();
        // An HMAC key (erasure receipts) says so; the others are symmetric encryption keys.
        let mut create = kms.create_key().description(description);
        if let Some(spec) = props.get("KeySpec").and_then(Value::as_str) {
            create = create.key_spec(aws_sdk_kms::types::KeySpec::from(spec));
        }
        if let Some(usage) = props.get("KeyUsage").and_then(Value::as_str) {
            create = create.key_usage(aws_sdk_kms::types::KeyUsageType::from(usage));
        }
        let key = create.send().await?;
        let meta = key
            .key_metadata
            .ok_or("KMS CreateKey returned no metadata")?;
        template.refs.insert(id.clone(), meta.key_id.clone());
        template
            .attrs
            .insert(format!("{id}.Arn"), meta.arn.unwrap_or(meta.key_id));
    }
    for (_, props) in template.resources_of("AWS::KMS::Alias") {
        let name = template.resolve(props.get("AliasName").ok_or("alias without AliasName")?)?;
        let target = template.resolve(
            props
                .get("TargetKeyId")
                .ok_or("alias without TargetKeyId")?,
        )?;
        kms.create_alias()
            .alias_name(name)
            .target_key_id(target)
            .send()
            .await?;
    }
    Ok(())
}

async fn create_tables(
    sdk: &aws_config::SdkConfig,
    template: &mut Template,
) -> Result<(), BoxError> {
    let dynamo = aws_sdk_dynamodb::Client::new(sdk);
    // DynamoDB Local's port opens a moment before it answers: wait for a first answer.
    let mut tries = 0;
    while let Err(e) = dynamo.list_tables().send().await {
        tries += 1;
        if tries == 60 {
            return Err(format!("DynamoDB Local does not answer: {e}").into());
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    for (id, props) in template.resources_of("AWS::DynamoDB::Table") {
        let name = format!("{}-{id}", template.stack_name);
        let mut request = dynamo
            .create_table()
            .table_name(&name)
            .billing_mode(BillingMode::PayPerRequest);
        for def in seq(&props, "AttributeDefinitions") {
            request = request.attribute_definitions(
                AttributeDefinition::builder()
                    .attribute_name(text(def, "AttributeName")?)
                    .attribute_type(ScalarAttributeType::from(
                        text(def, "AttributeType")?.as_str(),
                    ))
                    .build()?,
            );
        }
        for key in key_schema(props.get("KeySchema"))? {
            request = request.key_schema(key);
        }
        for index in seq(&props, "GlobalSecondaryIndexes") {
            let projection = index.get("Projection");
            let kind = projection
                .and_then(|p| p.get("ProjectionType"))
                .and_then(Value::as_str)
                .unwrap_or("ALL");
            let mut p = Projection::builder().projection_type(ProjectionType::from(kind));
            for attr in projection
                .map(|p| seq(p, "NonKeyAttributes"))
                .unwrap_or_default()
            {
                p = p.non_key_attributes(attr.as_str().unwrap_or_default());
            }
            let mut gsi = GlobalSecondaryIndex::builder()
                .index_name(text(index, "IndexName")?)
                .projection(p.build());
            for key in key_schema(index.get("KeySchema"))? {
                gsi = gsi.key_schema(key);
            }
            request = request.global_secondary_indexes(gsi.build()?);
        }
        request.send().await?;
        if let Some(ttl) = props.get("TimeToLiveSpecification") {
            dynamo
                .update_time_to_live()
                .table_name(&name)
                .time_to_live_specification(
                    TimeToLiveSpecification::builder()
                        .attribute_name(text(ttl, "AttributeName")?)
                        .enabled(ttl.get("Enabled").and_then(Value::as_bool).unwrap_or(true))
                        .build()?,
                )
                .send()
                .await?;
        }
        template.refs.insert(id.clone(), name.clone());
        template.attrs.insert(
            format!("{id}.Arn"),
            format!("arn:aws:dynamodb:local:000000000000:table/{name}"),
        );
    }
    Ok(())
}

/// Creates the template's buckets, private as the template makes them, with their expiry.
async fn create_buckets(
    sdk: &aws_config::SdkConfig,
    template: &mut Template,
) -> Result<(), BoxError> {
    use aws_sdk_s3::types::{
        BucketLifecycleConfiguration, ExpirationStatus, LifecycleExpiration, LifecycleRule,
        LifecycleRuleFilter, PublicAccessBlockConfiguration,
    };
    // moto on loopback has no per-bucket host names.
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(sdk)
            .force_path_style(true)
            .build(),
    );
    for (id, props) in template.resources_of("AWS::S3::Bucket") {
        let name = format!("{}-{id}", template.stack_name).to_lowercase();
        s3.create_bucket().bucket(&name).send().await?;
        s3.put_public_access_block()
            .bucket(&name)
            .public_access_block_configuration(
                PublicAccessBlockConfiguration::builder()
                    .block_public_acls(true)
                    .block_public_policy(true)
                    .ignore_public_acls(true)
                    .restrict_public_buckets(true)
                    .build(),
            )
            .send()
            .await?;
        let days = props
            .get("LifecycleConfiguration")
            .and_then(|l| l.get("Rules"))
            .and_then(|r| r.get(0))
            .and_then(|r| r.get("ExpirationInDays"))
            .and_then(Value::as_i64);
        if let Some(days) = days {
            let rule = LifecycleRule::builder()
                .id("expire")
                .status(ExpirationStatus::Enabled)
                .filter(LifecycleRuleFilter::builder().prefix("").build())
                .expiration(LifecycleExpiration::builder().days(days as i32).build())
                .build()?;
            s3.put_bucket_lifecycle_configuration()
                .bucket(&name)
                .lifecycle_configuration(
                    BucketLifecycleConfiguration::builder()
                        .rules(rule)
                        .build()?,
                )
                .send()
                .await?;
        }
        template.refs.insert(id.clone(), name);
    }
    Ok(())
}

/// Creates queues in dependency order: dead-letter queues before the queues that name them.
async fn create_queues(
    sdk: &aws_config::SdkConfig,
    template: &mut Template,
) -> Result<(), BoxError> {
    let sqs = aws_sdk_sqs::Client::new(sdk);
    let mut queues = template.resources_of("AWS::SQS::Queue");
    queues.sort_by_key(|(_, props)| props.get("RedrivePolicy").is_some());
    for (id, props) in queues {
        let fifo = props
            .get("FifoQueue")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let name = format!(
            "{}-{id}{}",
            template.stack_name,
            if fifo { ".fifo" } else { "" }
        );
        let mut request = sqs.create_queue().queue_name(&name);
        for (prop, attr) in [
            ("FifoQueue", QueueAttributeName::FifoQueue),
            (
                "ContentBasedDeduplication",
                QueueAttributeName::ContentBasedDeduplication,
            ),
            ("DeduplicationScope", QueueAttributeName::DeduplicationScope),
            (
                "FifoThroughputLimit",
                QueueAttributeName::FifoThroughputLimit,
            ),
            ("VisibilityTimeout", QueueAttributeName::VisibilityTimeout),
            (
                "MessageRetentionPeriod",
                QueueAttributeName::MessageRetentionPeriod,
            ),
        ] {
            if let Some(value) = props.get(prop) {
                request = request.attributes(attr, template.resolve(value)?);
            }
        }
        if let Some(redrive) = props.get("RedrivePolicy") {
            let policy = serde_json::json!({
                "deadLetterTargetArn": template.resolve(redrive.get("deadLetterTargetArn").ok_or("redrive without target")?)?,
                "maxReceiveCount": template.resolve(redrive.get("maxReceiveCount").ok_or("redrive without maxReceiveCount")?)?.parse::<u32>()?,
            });
            request = request.attributes(QueueAttributeName::RedrivePolicy, policy.to_string());
        }
        let url = request
            .send()
            .await?
            .queue_url
            .ok_or("CreateQueue returned no URL")?;
        let attrs = sqs
            .get_queue_attributes()
            .queue_url(&url)
            .attribute_names(QueueAttributeName::QueueArn)
            .send()
            .await?;
        let arn = attrs
            .attributes()
            .and_then(|a| a.get(&QueueAttributeName::QueueArn))
            .cloned()
            .ok_or("the queue has no ARN")?;
        template.refs.insert(id.clone(), url);
        template.attrs.insert(format!("{id}.Arn"), arn);
    }
    Ok(())
}

fn seq<'a>(value: &'a Value, name: &str) -> Vec<&'a Value> {
    value
        .get(name)
        .and_then(Value::as_sequence)
        .map(|s| s.iter().collect())
        .unwrap_or_default()
}

fn text(value: &Value, name: &str) -> Result<String, BoxError> {
    value
        .get(name)
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| format!("missing {name}").into())
}

fn key_schema(value: Option<&Value>) -> Result<Vec<KeySchemaElement>, BoxError> {
    let Some(Value::Sequence(keys)) = value else {
        return Ok(Vec::new());
    };
    keys.iter()
        .map(|k| {
            Ok(KeySchemaElement::builder()
                .attribute_name(text(k, "AttributeName")?)
                .key_type(KeyType::from(text(k, "KeyType")?.as_str()))
                .build()?)
        })
        .collect()
}
