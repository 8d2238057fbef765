//! Helpers for the integration tests: the local stack's endpoints, tenants of their own for
//! each test, signed webhook posts, and reads of what the pipeline stored.

pub mod audit;
pub mod bench;
pub mod in_process;
pub mod pacing;
pub mod receiver;
pub mod scan;
pub mod top_tier;

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};
use wagate_messaging::store::ApiKeyStore;
use wagate_messaging::store::ContactStore;
use wagate_messaging::store::MessageStore;
use wagate_messaging::store::contact::ContactRecords;
use wagate_messaging::store::contact::resolve::ContactResolution;
use wagate_messaging::store::message::outbound::OutboundMessages;

use aws_sdk_dynamodb::types::AttributeValue;
use rand::Rng;
use wagate_messaging::access::{NewApiKey, Role};
use wagate_messaging::cloud_api::{CloudApiClient, CloudApiConfig};
use wagate_messaging::config::StorageConfig;
use wagate_messaging::domain::conversation::{OutboundRecord, SendOutcome};
use wagate_messaging::domain::identity::UserIdentity;
use wagate_messaging::domain::outbound::{OutboundMessage, Recipient};
use wagate_messaging::domain::retention::Retention;
use wagate_messaging::domain::tenant::TenantId;
use wagate_messaging::metrics::Metrics;
use wagate_messaging::numbers::ConnectNumber;
use wagate_messaging::outbound::OutboundJob;
use wagate_messaging::outbound::OutboundQueue;
use wagate_messaging::privacy::keyring::Keyring;
use wagate_messaging::queue::EventQueue;
use wagate_messaging::queue::ids::QueueIdKeys;
use wagate_messaging::secret::Secret;
use wagate_messaging::secret_store::SecretStore;
use wagate_messaging::store::message::outbound::OutboundKey;
use wagate_messaging::store::{Item, Store};
use wagate_messaging::tenant_setup::{MetaAppSecrets, TenantSetup};

pub use wagate_messaging::signature::sign;

/// An outbound job's fate, once it has one.
#[derive(Debug, Clone)]
pub struct Decided {
    pub outcome: SendOutcome,
    pub attempts: u32,
}

/// The local stack started by `make test` (infra/test.sh), read from the environment.
pub struct Stack {
    pub webhook_url: String,
    pub platform_app_secret: String,
    pub platform_verify_token: String,
    pub table: String,
    pub inbound_queue_url: String,
    pub dlq_url: String,
    pub kms_key_id: String,
    /// The table, the key table and the personal-data KMS key, as the functions have them.
    pub storage: StorageConfig,
    /// The keys of personal data, shared by the stores the tests make (one "container").
    pub keyring: Arc<Keyring>,
    /// The Cloud API simulator.
    pub sim_url: String,
    /// The outbound queue, through the same enqueue function the business API uses.
    pub outbound: OutboundQueue,
    /// The key of queue ids, as the functions derive it.
    pub queue_ids: QueueIdKeys,
    pub sdk: aws_config::SdkConfig,
    pub dynamo: aws_sdk_dynamodb::Client,
    pub sqs: aws_sdk_sqs::Client,
    pub store: Store,
    pub secrets: SecretStore,
    /// Connects numbers as the admin API does: after the simulator confirmed them.
    /// Sets tenants up as the admin API does.
    pub setup: TenantSetup,
    pub http: reqwest::Client,
    /// The admin API's base URL (routes start with /admin/v1) and the operator's key.
    pub admin_url: String,
    pub operator_key: String,
    /// The business API's base URL (routes start with /v1).
    pub api_url: String,
    /// The KMS HMAC key of the audit chains' checkpoints, and the erasure queue.
    pub audit_key_id: String,
    pub erasure_queue_url: String,
}

fn var(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: integration tests run against the local stack; start them with `make test`")
    })
}

impl Stack {
    /// A store as a new container opens it (its own key caches), counting into `metrics`.
    pub fn store_counting(&self, metrics: Arc<Metrics>) -> Store {
        Store::open(&self.sdk, &self.storage, metrics)
    }

    /// A store over `dynamo` (a client with faults, say), with the stack's keys.
    pub fn store_over(&self, dynamo: aws_sdk_dynamodb::Client, metrics: Arc<Metrics>) -> Store {
        Store::new(dynamo, self.table.clone(), metrics).with_keyring(self.keyring.clone())
    }

    pub async fn connect() -> Stack {
        let sdk = wagate_messaging::aws::load_config().await;
        let metrics = Arc::new(Metrics::default());
        let dynamo = aws_sdk_dynamodb::Client::new(&sdk);
        let table = var("TABLE_NAME");
        let kms_key_id = var("KMS_KEY_ID");
        let storage = StorageConfig {
            table_name: table.clone(),
            key_table_name: var("KEY_TABLE_NAME"),
            personal_data_key_id: var("PERSONAL_DATA_KEY_ID"),
            person_key_cache: wagate_messaging::privacy::keyring::PERSON_KEY_TTL,
        };
        let keyring = Arc::new(Keyring::new(
            aws_sdk_kms::Client::new(&sdk),
            &storage.personal_data_key_id,
            Store::new(dynamo.clone(), &storage.key_table_name, metrics.clone()),
            metrics.clone(),
        ));
        let store = Store::new(dynamo.clone(), table.clone(), metrics.clone())
            .with_keyring(keyring.clone());
        let secrets = SecretStore::new(
            aws_sdk_kms::Client::new(&sdk),
            kms_key_id.clone(),
            metrics.clone(),
        );
        let queue_ids = QueueIdKeys::new(
            aws_sdk_kms::Client::new(&sdk),
            var("QUEUE_ID_KEY_ID"),
            metrics.clone(),
        );
        let simulator = CloudApiClient::new(CloudApiConfig {
            base_url: var("SIM_URL"),
            ..CloudApiConfig::default()
        })
        .expect("a Cloud API client for the simulator");
        Stack {
            setup: TenantSetup::new(store.clone(), secrets.clone(), simulator),
            webhook_url: var("WEBHOOK_URL"),
            platform_app_secret: var("DEMO_APP_SECRET"),
            platform_verify_token: var("DEMO_VERIFY_TOKEN"),
            inbound_queue_url: var("INBOUND_QUEUE_URL"),
            dlq_url: var("INBOUND_DLQ_URL"),
            sim_url: var("SIM_URL"),
            admin_url: var("ADMIN_URL"),
            operator_key: var("OPERATOR_KEY"),
            api_url: var("API_URL"),
            audit_key_id: var("AUDIT_KEY_ID"),
            erasure_queue_url: var("ERASURE_QUEUE_URL"),
            outbound: OutboundQueue::new(
                EventQueue::new(
                    aws_sdk_sqs::Client::new(&sdk),
                    var("OUTBOUND_QUEUE_URL"),
                    metrics.clone(),
                ),
                queue_ids.clone(),
            ),
            queue_ids,
            store,
            secrets,
            sqs: aws_sdk_sqs::Client::new(&sdk),
            http: wagate_messaging::http::client_builder()
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap(),
            dynamo,
            table,
            kms_key_id,
            storage,
            keyring,
            sdk,
        }
    }

    /// An audit log over `store` that signs its checkpoints in this process with the
    /// stack's audit key (with [`Stack::erasure_jobs`], it queues them and failed appends
    /// for the erasure function, as the functions' logs do).
    pub fn audit_log(&self, store: Store) -> wagate_audit::AuditLog {
        wagate_audit::AuditLog::signed_by(
            store,
            aws_sdk_kms::Client::new(&self.sdk),
            &self.audit_key_id,
            Arc::new(Metrics::default()),
        )
    }

    /// The erasure queue, as the functions send to it.
    pub fn erasure_jobs(&self) -> wagate_messaging::queue::jobs::JobQueue {
        wagate_messaging::queue::jobs::JobQueue::new(
            self.sqs.clone(),
            self.erasure_queue_url.clone(),
            Arc::new(Metrics::default()),
        )
    }

    /// Calls the admin API with `key` (when given) and an optional JSON body; the status
    /// and the answer (JSON, or `null` for an empty one).
    pub async fn admin(
        &self,
        method: reqwest::Method,
        path: &str,
        key: Option<&str>,
        body: Option<serde_json::Value>,
    ) -> (u16, serde_json::Value) {
        let url = format!("{}{path}", self.admin_url);
        self.call(method, &url, key, body, &[]).await
    }

    /// Every tenant the operator's listing shows, page by page (100 a page), in id order.
    pub async fn all_tenants(&self) -> Vec<serde_json::Value> {
        let mut tenants = Vec::new();
        let mut path = "/admin/v1/tenants?limit=100".to_owned();
        loop {
            let (status, page) = self
                .admin(reqwest::Method::GET, &path, Some(&self.operator_key), None)
                .await;
            assert_eq!(status, 200, "{page}");
            tenants.extend(page["tenants"].as_array().cloned().unwrap_or_default());
            match page["next_cursor"].as_str() {
                Some(next) => path = format!("/admin/v1/tenants?limit=100&cursor={next}"),
                None => return tenants,
            }
        }
    }

    /// Calls the business API, as [`Stack::admin`] does the admin API, with extra headers.
    pub async fn api(
        &self,
        method: reqwest::Method,
        path: &str,
        key: Option<&str>,
        body: Option<serde_json::Value>,
        headers: &[(&str, &str)],
    ) -> (u16, serde_json::Value) {
        let url = format!("{}{path}", self.api_url);
        self.call(method, &url, key, body, headers).await
    }

    async fn call(
        &self,
        method: reqwest::Method,
        url: &str,
        key: Option<&str>,
        body: Option<serde_json::Value>,
        headers: &[(&str, &str)],
    ) -> (u16, serde_json::Value) {
        let path = url.to_owned();
        let mut request = self.http.request(method, url);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(key) = key {
            request = request.bearer_auth(key);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("the API answers");
        let status = response.status().as_u16();
        let text = response.text().await.unwrap_or_default();
        let json = if text.is_empty() {
            serde_json::Value::Null
        } else {
            serde_json::from_str(&text)
                .unwrap_or_else(|_| panic!("{path} answered {status} with non-JSON: {text}"))
        };
        (status, json)
    }

    /// POSTs raw bytes with `content_type` to `url` with `key`: the status and the JSON
    /// answer, for bodies a JSON client would never send and for bulk requests (a 10,000-row
    /// import takes DynamoDB Local's single-threaded transactions tens of seconds).
    /// A GET of the business API with `key`: its status and answer.
    pub async fn api_get(&self, path: &str, key: &str) -> (u16, serde_json::Value) {
        self.api(reqwest::Method::GET, path, Some(key), None, &[])
            .await
    }

    pub async fn post_raw(
        &self,
        url: &str,
        key: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> (u16, serde_json::Value) {
        let response = self
            .http
            .post(url)
            .bearer_auth(key)
            .header("content-type", content_type)
            .body(body)
            .timeout(Duration::from_secs(240))
            .send()
            .await
            .expect("the API answers");
        let status = response.status().as_u16();
        let json = response.json().await.expect("a JSON answer");
        (status, json)
    }

    /// POSTs JSON to the simulator's `path`; its answer as JSON.
    pub async fn sim_post(&self, path: &str, body: serde_json::Value) -> serde_json::Value {
        let response = self
            .http
            .post(format!("{}{path}", self.sim_url))
            .json(&body)
            .send()
            .await
            .expect("the simulator answers");
        assert!(
            response.status().is_success(),
            "simulator {path}: {}",
            response.status()
        );
        response.json().await.expect("the simulator answers JSON")
    }

    pub async fn sim_get(&self, path: &str) -> serde_json::Value {
        self.http
            .get(format!("{}{path}", self.sim_url))
            .send()
            .await
            .expect("the simulator answers")
            .json()
            .await
            .expect("the simulator answers JSON")
    }

    /// The contact id of a phone number at a tenant, once the pipeline created it.
    pub async fn contact_of(&self, tenant: &TenantId, phone: &str) -> Option<String> {
        let identity = UserIdentity::from_parts(Some(phone), None).expect("a phone number");
        self.store
            .repo::<ContactStore>()
            .find_contact(tenant, &identity, now())
            .await
            .expect("read an identity")
            .map(|profile| profile.contact_id)
    }

    /// Makes `phone` a contact of the tenant, as a business send to them would: what a
    /// delivery status needs to be about.
    pub async fn make_contact(&self, tenant: &TenantId, phone: &str) -> String {
        let identity = UserIdentity::from_parts(Some(phone), None).expect("a phone number");
        self.store
            .repo::<ContactStore>()
            .resolve_contact(
                tenant,
                &identity,
                &wagate_messaging::store::contact::ContactFacts::default(),
                &Retention::default(),
                now(),
            )
            .await
            .expect("a contact")
            .profile
            .contact_id
    }

    /// The recorded outcome of an outbound job, once there is one.
    pub async fn outbound_record(&self, job: &OutboundJob) -> Option<OutboundRecord> {
        let contact = self.contact_of(&job.tenant_id, job.to()).await?;
        self.store
            .repo::<MessageStore>()
            .outbound_record(
                &job.tenant_id,
                OutboundKey {
                    contact_id: &contact,
                    enqueued_at: job.enqueued_at,
                    job_id: &job.job_id,
                },
            )
            .await
            .expect("read an outbound record")
    }

    /// The recorded outcome of an outbound job, waiting up to `timeout` for it.
    pub async fn outcome_of(&self, job: &OutboundJob, timeout: Duration) -> Decided {
        eventually(timeout, "the job's outcome", || async {
            let record = self.outbound_record(job).await?;
            Some(Decided {
                outcome: record.outcome?,
                attempts: record.attempts,
            })
        })
        .await
    }

    /// The tenant door of the webhook: `/webhook/{tenant}`.
    pub fn tenant_webhook_url(&self, tenant: &str) -> String {
        format!("{}/{tenant}", self.webhook_url)
    }

    /// Posts `body` signed with the platform app secret.
    pub async fn post_signed(&self, body: &str) -> (u16, String) {
        let signature = sign(&self.platform_app_secret, body.as_bytes());
        self.post(
            &self.webhook_url,
            body.as_bytes().to_vec(),
            &[("x-hub-signature-256", &signature)],
        )
        .await
    }

    pub async fn post(&self, url: &str, body: Vec<u8>, headers: &[(&str, &str)]) -> (u16, String) {
        let mut request = self
            .http
            .post(url)
            .header("content-type", "application/json")
            .body(body);
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        let response = request.send().await.expect("the webhook answers");
        let status = response.status().as_u16();
        (status, response.text().await.unwrap_or_default())
    }

    /// The blind index a wamid is kept under in the tenant's keys (messages and delivery
    /// states are keyed by it, never by the wamid).
    pub async fn blind_wamid(&self, tenant: &str, wamid: &str) -> String {
        self.keyring
            .blind_wamid(tenant, wamid)
            .await
            .expect("a wamid's blind index")
    }

    /// Every live and expired item of a tenant, read with a scan (tests only).
    pub async fn tenant_items(&self, tenant: &str) -> Vec<Item> {
        let mut items = Vec::new();
        let mut start: Option<HashMap<String, AttributeValue>> = None;
        loop {
            let out = self
                .dynamo
                .scan()
                .table_name(&self.table)
                .filter_expression("begins_with(pk, :p)")
                .expression_attribute_values(":p", AttributeValue::S(format!("T#{tenant}#")))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .expect("scan the table");
            items.extend(out.items().iter().cloned());
            match out.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => return items,
            }
        }
    }

    /// Bodies of the DLQ's messages that belong to `tenant`, without consuming them.
    pub async fn dlq_bodies_of(&self, marker: &str) -> Vec<String> {
        let mut seen = HashMap::new();
        for _ in 0..5 {
            let out = self
                .sqs
                .receive_message()
                .queue_url(&self.dlq_url)
                .max_number_of_messages(10)
                .visibility_timeout(0)
                .send()
                .await
                .expect("read the DLQ");
            for m in out.messages() {
                if let (Some(id), Some(body)) = (m.message_id(), m.body()) {
                    seen.insert(id.to_owned(), body.to_owned());
                }
            }
        }
        seen.into_values().filter(|b| b.contains(marker)).collect()
    }
}

/// A tenant of one test's own, with a phone number, a WABA and its own Meta app.
pub struct TestTenant {
    pub id: TenantId,
    pub phone_number_id: String,
    pub waba_id: String,
    pub display_phone_number: String,
    pub app_secret: String,
    pub verify_token: String,
    /// The Meta access token stored (encrypted) for the number.
    pub access_token: String,
}

pub fn random_digits(n: usize) -> String {
    let mut rng = rand::rng();
    let mut s = String::from(char::from(b'1' + rng.random_range(0..9u8)));
    while s.len() < n {
        s.push(char::from(b'0' + rng.random_range(0..10u8)));
    }
    s
}

impl TestTenant {
    pub async fn create(stack: &Stack) -> TestTenant {
        Self::create_with(stack, Retention::default()).await
    }

    pub async fn create_with(stack: &Stack, retention: Retention) -> TestTenant {
        let id = TenantId::parse(&format!("t-{}", random_digits(12))).unwrap();
        let tenant = TestTenant {
            phone_number_id: random_digits(15),
            waba_id: random_digits(15),
            display_phone_number: format!("1555{}", random_digits(7)),
            app_secret: hex::encode(rand::rng().random::<[u8; 16]>()),
            verify_token: hex::encode(rand::rng().random::<[u8; 16]>()),
            access_token: format!("EAATEST{}", hex::encode(rand::rng().random::<[u8; 12]>())),
            id,
        };
        // Set up the way the admin API sets up any tenant; the number exists at "Meta"
        // first.
        stack
            .setup
            .create(&tenant.id, &format!("Test tenant {}", tenant.id), retention)
            .await
            .expect("store the tenant");
        let app = MetaAppSecrets {
            app_id: &random_digits(16),
            app_secret: &Secret::new(tenant.app_secret.clone()),
            verify_token: &Secret::new(tenant.verify_token.clone()),
        };
        stack
            .setup
            .connect_meta_app(&tenant.id, &app, now())
            .await
            .expect("connect the tenant's Meta app");
        tenant.register_at_sim(stack, serde_json::json!({})).await;
        stack
            .setup
            .connect_number(ConnectNumber {
                tenant: &tenant.id,
                phone_number_id: &tenant.phone_number_id,
                waba_id: &tenant.waba_id,
                access_token: &Secret::new(tenant.access_token.clone()),
                coexistence: false,
                expected_display_number: Some(&tenant.display_phone_number),
                now: now(),
            })
            .await
            .expect("the simulator confirms the test tenant's number");
        tenant
    }

    /// Registers the tenant's number at the simulator with its token and app secret, its
    /// webhooks going to the tenant's own door; `settings` override the number's defaults
    /// (limits, status behaviour, `access_token`).
    pub async fn register_at_sim(&self, stack: &Stack, settings: serde_json::Value) {
        let mut number = serde_json::json!({
            "phone_number_id": self.phone_number_id,
            "display_phone_number": self.display_phone_number,
            "waba_id": self.waba_id,
            "access_token": self.access_token,
            "app_secret": self.app_secret,
            "webhook_url": stack.tenant_webhook_url(self.id.as_str()),
        });
        for (k, v) in settings.as_object().into_iter().flatten() {
            number[k] = v.clone();
        }
        stack.sim_post("/_sim/numbers", number).await;
    }

    /// `count` (at most 100,000) template messages from the tenant's number, each to a new
    /// recipient of its own: a campaign. Two campaigns share a recipient only if their six
    /// random digits agree (one in 900,000; with four, a pacing run's warm-up and measured
    /// campaigns once did, and the test counted the warm-up's sends as repeats).
    pub fn template_campaign(&self, count: usize) -> Vec<OutboundJob> {
        assert!(count <= 100_000, "a campaign's index has five digits");
        let prefix = format!("4916{}", random_digits(6));
        (0..count)
            .map(|i| {
                let to = Recipient::parse(&format!("{prefix}{i:05}")).unwrap();
                let message =
                    OutboundMessage::template(&self.phone_number_id, to, "order_update", "en_US");
                OutboundJob::new(&self.id, &message, None, now()).unwrap()
            })
            .collect()
    }

    /// A new API key of the tenant with `role`, as its secret.
    pub async fn api_key(&self, stack: &Stack, role: Role) -> String {
        let key = NewApiKey::generate(&self.id, "test", role, None, now());
        stack
            .store
            .repo::<ApiKeyStore>()
            .put_api_key(&key.record)
            .await
            .expect("store the key");
        key.key.expose().to_owned()
    }

    /// A simulated user writes a text to the tenant's number (through the simulator).
    pub async fn user_writes(&self, stack: &Stack, from: &str, body: &str) -> String {
        let answer = stack
            .sim_post(
                &format!("/_sim/numbers/{}/users/write", self.phone_number_id),
                serde_json::json!({"from": from, "message": {"type": "text", "text": {"body": body}}}),
            )
            .await;
        assert_eq!(answer["webhook_status"], 200, "{answer}");
        answer["wamid"].as_str().unwrap().to_owned()
    }

    /// The business replies with a text through the API with `key`: its status and answer.
    pub async fn reply(
        &self,
        stack: &Stack,
        key: &str,
        to: &str,
        body: &str,
    ) -> (u16, serde_json::Value) {
        let message = serde_json::json!({"from": self.phone_number_id, "to": to,
            "type": "text", "text": {"body": body}});
        stack
            .api(
                reqwest::Method::POST,
                "/v1/messages",
                Some(key),
                Some(message),
                &[],
            )
            .await
    }

    /// What the simulator received from this number, in order.
    pub async fn sim_received(&self, stack: &Stack) -> Vec<serde_json::Value> {
        stack
            .sim_get(&format!("/_sim/numbers/{}/received", self.phone_number_id))
            .await["requests"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// A delivery of one change, addressed to this tenant's number and WABA.
    pub fn delivery(&self, field: &str, value: serde_json::Value) -> String {
        serde_json::json!({
            "object": "whatsapp_business_account",
            "entry": [{"id": self.waba_id, "changes": [{"field": field, "value": value}]}]
        })
        .to_string()
    }

    pub fn metadata(&self) -> serde_json::Value {
        serde_json::json!({"display_phone_number": self.display_phone_number, "phone_number_id": self.phone_number_id})
    }

    /// A delivery of one text message from `from`.
    pub fn text_from(&self, from: &str, wamid: &str, timestamp: i64, body: &str) -> String {
        self.delivery(
            "messages",
            serde_json::json!({
                "messaging_product": "whatsapp",
                "metadata": self.metadata(),
                "contacts": [{"profile": {"name": "Test User"}, "wa_id": from}],
                "messages": [{"from": from, "id": wamid, "timestamp": timestamp.to_string(), "type": "text", "text": {"body": body}}]
            }),
        )
    }

    /// A delivery of one status of `wamid` sent to `recipient`.
    pub fn status_of(&self, recipient: &str, wamid: &str, status: &str, timestamp: i64) -> String {
        self.delivery(
            "messages",
            serde_json::json!({
                "messaging_product": "whatsapp",
                "metadata": self.metadata(),
                "statuses": [{"id": wamid, "status": status, "timestamp": timestamp.to_string(), "recipient_id": recipient,
                    "pricing": {"billable": true, "pricing_model": "PMP", "category": "utility", "type": "regular"}}]
            }),
        )
    }
}

pub fn text<'a>(item: &'a Item, name: &str) -> Option<&'a str> {
    item.get(name)
        .and_then(|v| v.as_s().ok())
        .map(String::as_str)
}

/// Items whose sort key starts with `prefix`.
pub fn with_sk_prefix<'a>(items: &'a [Item], prefix: &str) -> Vec<&'a Item> {
    items
        .iter()
        .filter(|it| text(it, "sk").is_some_and(|sk| sk.starts_with(prefix)))
        .collect()
}

/// Polls `check` until it returns `Some`, or panics with `what` after `timeout`.
pub async fn eventually<T, F, Fut>(timeout: Duration, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let started = Instant::now();
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            started.elapsed() < timeout,
            "timed out after {timeout:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

pub fn now() -> i64 {
    wagate_messaging::clock::now_seconds()
}

/// A text message from the number `from` to `to`.
pub fn text_to(from: &str, to: &str, body: &str) -> OutboundMessage {
    let to = Recipient::parse(to).expect("a test recipient is valid");
    OutboundMessage::text(from, to, body)
}

/// A unique wamid for a test message.
/// A wamid of Meta's shape, as if for a message of someone with a random number.
pub fn wamid() -> String {
    wamid_of(&random_digits(13))
}

/// A wamid of Meta's shape for a message of `user`: `wamid.` and the base64 of a small
/// structure that holds the number, as Meta's hold it (and as the simulator mints them).
pub fn wamid_of(user: &str) -> String {
    use base64::Engine;
    let user = user.trim_start_matches('+');
    let id = hex::encode_upper(rand::rng().random::<[u8; 11]>());
    let mut bytes = vec![0x1c, 0x18, user.len() as u8];
    bytes.extend(user.bytes());
    bytes.extend([0x15, 0x02, 0x00, 0x12, 0x18, id.len() as u8]);
    bytes.extend(id.bytes());
    bytes.push(0x00);
    format!(
        "wamid.{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    )
}

/// The webhook function's state, for running its handler in process: the stack's
/// configuration and clients, but `sqs` for its queue, and `inbound_queue_url` instead of
/// the stack's inbound queue when given.
pub fn webhook_in_process(
    stack: &Stack,
    sqs: aws_sdk_sqs::Client,
    inbound_queue_url: Option<&str>,
) -> webhook::AppState {
    let mut env = webhook_function_env();
    if let Some(url) = inbound_queue_url {
        env.insert("INBOUND_QUEUE_URL".into(), url.to_owned());
    }
    let config =
        <webhook::WebhookConfig as wagate_messaging::config::FunctionConfig>::from_lookup(|k| {
            env.get(k).cloned()
        })
        .expect("the function's env is complete");
    let metrics = Arc::new(Metrics::default());
    webhook::AppState::with_clients(
        config.clone(),
        Store::new(
            stack.dynamo.clone(),
            config.table_name.clone(),
            metrics.clone(),
        ),
        sqs,
        aws_sdk_kms::Client::new(&stack.sdk),
        metrics,
    )
}

/// The webhook function's environment as the stack wrote it (`WEBHOOK_FUNCTION_ENV`), for
/// tests that run the handler in-process.
pub fn webhook_function_env() -> HashMap<String, String> {
    let path = var("WEBHOOK_FUNCTION_ENV");
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {path}: {e}"))
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}
