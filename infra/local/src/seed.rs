//! The demo tenant that `make run` and the tests start with: one phone number and WABA,
//! its own Meta app, an admin API key, the platform app's secrets and the operator key.
//! Fresh random secrets every run.

use std::sync::Arc;

use base64::Engine;
use rand::Rng;
use wagate_shared::access::{NewApiKey, OPERATOR_KEY_SCHEME, Role};
use wagate_shared::domain::retention::Retention;
use wagate_shared::domain::tenant::{
    DEFAULT_THROUGHPUT, MetaApp, PhoneNumber, Tenant, TenantId, TenantStatus, token_fingerprint,
};
use wagate_shared::metrics::Metrics;
use wagate_shared::secrets::{SecretContext, SecretPurpose, SecretStore};
use wagate_shared::store::Store;

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

pub async fn seed_demo(
    sdk: &aws_config::SdkConfig,
    table: &str,
    key_arn: &str,
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
    let app_secret_ct = secrets
        .encrypt(
            &values.tenant_app_secret,
            &SecretContext::tenant(SecretPurpose::MetaAppSecret, tenant.as_str()),
        )
        .await?;
    let verify_ct = secrets
        .encrypt(
            &values.tenant_verify_token,
            &SecretContext::tenant(SecretPurpose::MetaVerifyToken, tenant.as_str()),
        )
        .await?;
    let token_ct = secrets
        .encrypt(
            &values.access_token,
            &SecretContext::phone_number(tenant.as_str(), DEMO_PHONE_NUMBER_ID),
        )
        .await?;
    store
        .put_tenant(&Tenant {
            id: tenant.clone(),
            name: "Demo Company".into(),
            status: TenantStatus::Active,
            retention: Retention::default(),
            meta_app: Some(MetaApp {
                app_id: "1000000000000001".into(),
                app_secret_ciphertext: app_secret_ct,
                verify_token_ciphertext: verify_ct,
                secret_fingerprint: Some(token_fingerprint(&values.tenant_app_secret)),
                set_at: Some(now_secs()),
            }),
            sending_stopped: None,
        })
        .await?;
    store
        .put_phone_number(&PhoneNumber {
            tenant_id: tenant.clone(),
            phone_number_id: DEMO_PHONE_NUMBER_ID.into(),
            waba_id: DEMO_WABA_ID.into(),
            display_phone_number: DEMO_DISPLAY_PHONE_NUMBER.into(),
            access_token_ciphertext: token_ct,
            throughput_per_second: DEFAULT_THROUGHPUT,
            coexistence: false,
            paused_until: None,
            pause_reason: None,
            token_fingerprint: Some(token_fingerprint(&values.access_token)),
            token_set_at: Some(now_secs()),
            quality: None,
        })
        .await?;
    let api_key = NewApiKey::generate(&tenant, "demo", Role::Admin, None, now_secs());
    store.put_api_key(&api_key.record).await?;
    let base64 = base64::engine::general_purpose::STANDARD;
    Ok(DemoValues {
        platform_secret_ciphertext: base64.encode(platform_ct),
        operator_key_ciphertext: base64.encode(operator_ct),
        demo_api_key: api_key.key.expose().to_owned(),
        ..values
    })
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
