//! The demo tenant that `make run` and the tests start with: one phone number and WABA,
//! its own Meta app, an admin API key, the platform app's secrets and the operator key.
//! Fresh random secrets every run. The demo number is registered at the Cloud API
//! simulator and then connected the way the admin API connects any number: after the
//! simulator, as Meta, confirmed that the token reaches it.

use std::sync::Arc;

use base64::Engine;
use rand::Rng;
use wagate_messaging::access::{OPERATOR_KEY_SCHEME, Role};
use wagate_messaging::cloud_api::{CloudApiClient, CloudApiConfig};
use wagate_messaging::domain::retention::Retention;
use wagate_messaging::domain::tenant::TenantId;
use wagate_messaging::metrics::Metrics;
use wagate_messaging::numbers::ConnectNumber;
use wagate_messaging::secret::Secret;
use wagate_messaging::secret_store::{SecretContext, SecretStore};
use wagate_messaging::store::Store;
use wagate_messaging::tenant_setup::{MetaAppSecrets, TenantSetup};

use crate::BoxError;

pub const DEMO_TENANT_ID: &str = "demo";
pub const DEMO_PHONE_NUMBER_ID: &str = "106540352242922";
pub const DEMO_WABA_ID: &str = "102290129340398";
pub const DEMO_DISPLAY_PHONE_NUMBER: &str = "15550783881";

pub struct DemoValues {
    pub platform_app_secret: String,
    pub platform_secret_ciphertext: String,
    pub platform_verify_token: String,
    pub tenant_app_secret: String,
    pub tenant_verify_token: String,
    pub access_token: String,
    pub operator_key: String,
    pub operator_key_ciphertext: String,
    pub demo_api_key: String,
}

impl DemoValues {
    pub fn env_lines(&self) -> String {
        [
            ("DEMO_TENANT_ID", DEMO_TENANT_ID),
            ("DEMO_PHONE_NUMBER_ID", DEMO_PHONE_NUMBER_ID),
            ("DEMO_WABA_ID", DEMO_WABA_ID),
            ("DEMO_DISPLAY_PHONE_NUMBER", DEMO_DISPLAY_PHONE_NUMBER),
            ("DEMO_APP_SECRET", &self.platform_app_secret),
            ("DEMO_VERIFY_TOKEN", &self.platform_verify_token),
            ("DEMO_TENANT_APP_SECRET", &self.tenant_app_secret),
            ("DEMO_TENANT_VERIFY_TOKEN", &self.tenant_verify_token),
            ("DEMO_ACCESS_TOKEN", &self.access_token),
            ("DEMO_API_KEY", &self.demo_api_key),
            ("OPERATOR_KEY", &self.operator_key),
        ]
        .iter()
        .map(|(k, v)| format!("{k}={v}\n"))
        .collect()
    }
}

/// The Cloud API simulator the demo number lives at, and where its webhooks go.
pub struct Simulator<'a> {
    pub url: &'a str,
    pub webhook_url: &'a str,
}

pub async fn seed_demo(
    sdk: &aws_config::SdkConfig,
    table: &str,
    key_arn: &str,
    simulator: &Simulator<'_>,
) -> Result<DemoValues, BoxError> {
    let metrics = Arc::new(Metrics::default());
    let store = Store::new(aws_sdk_dynamodb::Client::new(sdk), table, metrics.clone());
    let secrets = SecretStore::new(aws_sdk_kms::Client::new(sdk), key_arn.to_owned(), metrics);
    let values = DemoValues {
        platform_app_secret: random_secret(),
        platform_secret_ciphertext: String::new(),
        platform_verify_token: random_secret(),
        tenant_app_secret: random_secret(),
        tenant_verify_token: random_secret(),
        access_token: format!("EAADEMO{}", random_secret()),
        operator_key: format!(
            "{OPERATOR_KEY_SCHEME}{}{}",
            random_secret(),
            random_secret()
        ),
        operator_key_ciphertext: String::new(),
        demo_api_key: String::new(),
    };
    let operator_ct = secrets
        .encrypt(&values.operator_key, &SecretContext::operator_key())
        .await?;
    let platform_ct = secrets
        .encrypt(&values.platform_app_secret, &SecretContext::platform())
        .await?;
    let tenant = TenantId::parse(DEMO_TENANT_ID)?;
    register_demo_number(simulator, &values).await?;
    let api = CloudApiClient::new(CloudApiConfig {
        base_url: simulator.url.to_owned(),
        ..CloudApiConfig::default()
    })?;
    // The demo tenant is set up the way the admin API sets up any tenant.
    let setup = TenantSetup::new(store, secrets, api);
    setup
        .create(&tenant, "Demo Company", Retention::default())
        .await?;
    let meta_app = MetaAppSecrets {
        app_id: "1000000000000001",
        app_secret: &Secret::new(values.tenant_app_secret.clone()),
        verify_token: &Secret::new(values.tenant_verify_token.clone()),
    };
    setup
        .connect_meta_app(&tenant, &meta_app, now_secs())
        .await?;
    setup
        .connect_number(ConnectNumber {
            tenant: &tenant,
            phone_number_id: DEMO_PHONE_NUMBER_ID,
            waba_id: DEMO_WABA_ID,
            access_token: &Secret::new(values.access_token.clone()),
            coexistence: false,
            expected_display_number: Some(DEMO_DISPLAY_PHONE_NUMBER),
            now: now_secs(),
        })
        .await?;
    let api_key = setup
        .issue_key(&tenant, "demo", Role::Admin, None, now_secs())
        .await?;
    let base64 = base64::engine::general_purpose::STANDARD;
    Ok(DemoValues {
        platform_secret_ciphertext: base64.encode(platform_ct),
        operator_key_ciphertext: base64.encode(operator_ct),
        demo_api_key: api_key.key.expose().to_owned(),
        ..values
    })
}

/// The demo number at the simulator: its token, and webhooks signed with the platform
/// app's secret.
async fn register_demo_number(
    simulator: &Simulator<'_>,
    values: &DemoValues,
) -> Result<(), BoxError> {
    let number = serde_json::json!({
        "phone_number_id": DEMO_PHONE_NUMBER_ID,
        "display_phone_number": DEMO_DISPLAY_PHONE_NUMBER,
        "waba_id": DEMO_WABA_ID,
        "verified_name": "Demo Company",
        "access_token": values.access_token,
        "app_secret": values.platform_app_secret,
        "webhook_url": simulator.webhook_url,
    });
    let response = wagate_messaging::http::client_builder()
        .timeout(std::time::Duration::from_secs(10))
        .build()?
        .post(format!("{}/_sim/numbers", simulator.url))
        .json(&number)
        .send()
        .await?;
    if !response.status().is_success() {
        return Err(format!(
            "the simulator refused the demo number: {}",
            response.status()
        )
        .into());
    }
    Ok(())
}

fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

fn random_secret() -> String {
    let bytes: [u8; 16] = rand::rng().random();
    hex::encode(bytes)
}
