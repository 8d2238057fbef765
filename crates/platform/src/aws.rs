//! The AWS SDK configuration, loaded once per container. Endpoints come only from the
//! standard `AWS_ENDPOINT_URL_*` variables, so the same code runs on AWS and locally.

use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_config::timeout::TimeoutConfig;
use aws_smithy_http_client::tls;
use aws_types::service_config::ServiceConfigKey;

/// The S3 client: path-style addresses when the stack names its own endpoint (moto on
/// loopback has no per-bucket host names), virtual-hosted ones on AWS.
pub fn s3_client(sdk: &aws_config::SdkConfig) -> aws_sdk_s3::Client {
    let own_endpoint = sdk.endpoint_url().is_some()
        || ServiceConfigKey::builder()
            .service_id("S3")
            .env("AWS_ENDPOINT_URL")
            .profile("endpoint_url")
            .build()
            .ok()
            .zip(sdk.service_config())
            .and_then(|(key, config)| config.load_config(key))
            .is_some();
    let config = aws_sdk_s3::config::Builder::from(sdk)
        .force_path_style(own_endpoint)
        .build();
    aws_sdk_s3::Client::from_conf(config)
}

pub async fn load_config() -> aws_config::SdkConfig {
    let https = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https();
    aws_config::defaults(BehaviorVersion::latest())
        .http_client(https)
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(2))
                .operation_attempt_timeout(Duration::from_secs(5))
                .operation_timeout(Duration::from_secs(15))
                .build(),
        )
        .load()
        .await
}
