//! The S3 client exports are written with: only compliance writes to S3, so only it links
//! the S3 SDK.

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
