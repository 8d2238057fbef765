//! Everything the webhook builds once per container: clients, caches, configuration.

use std::sync::Arc;

use tokio::sync::OnceCell;
use wagate_messaging::metrics::Metrics;
use wagate_messaging::queue::EventQueue;
use wagate_messaging::queue::ids::QueueIdKeys;
use wagate_messaging::secret::Secret;
use wagate_messaging::secret_store::{SecretContext, SecretError, SecretStore};
use wagate_messaging::store::Store;
use wagate_messaging::tenants::TenantDirectory;

use crate::config::WebhookConfig;

pub struct AppState {
    pub(crate) config: WebhookConfig,
    pub(crate) directory: TenantDirectory,
    pub(crate) queue: EventQueue,
    /// Keys the group and deduplication ids of queued events.
    pub(crate) queue_ids: QueueIdKeys,
    pub(crate) secrets: SecretStore,
    /// Decrypted on the first delivery rather than at init, so a cold start makes no
    /// network call before the first event needs it.
    platform_app_secret: OnceCell<Secret>,
    pub metrics: Arc<Metrics>,
}

impl AppState {
    pub fn new(config: WebhookConfig, sdk: &aws_config::SdkConfig) -> Self {
        let metrics = Arc::new(Metrics::default());
        let store = Store::new(
            aws_sdk_dynamodb::Client::new(sdk),
            config.table_name.clone(),
            metrics.clone(),
        );
        Self::with_clients(
            config,
            store,
            aws_sdk_sqs::Client::new(sdk),
            aws_sdk_kms::Client::new(sdk),
            metrics,
        )
    }

    /// Builds the state from given clients; tests use it to point one client elsewhere.
    pub fn with_clients(
        config: WebhookConfig,
        store: Store,
        sqs: aws_sdk_sqs::Client,
        kms: aws_sdk_kms::Client,
        metrics: Arc<Metrics>,
    ) -> Self {
        Self {
            queue: EventQueue::new(sqs, config.inbound_queue_url.clone(), metrics.clone()),
            queue_ids: QueueIdKeys::new(
                kms.clone(),
                config.queue_id_key_id.clone(),
                metrics.clone(),
            ),
            secrets: SecretStore::new(kms, config.kms_key_id.clone(), metrics.clone()),
            directory: TenantDirectory::new(store),
            platform_app_secret: OnceCell::new(),
            metrics,
            config,
        }
    }

    /// Gives the platform app secret directly (already decrypted elsewhere, or in tests),
    /// so that no KMS call is made for it.
    pub fn with_platform_app_secret(self, secret: Secret) -> Self {
        let _ = self.platform_app_secret.set(secret);
        self
    }

    pub(crate) async fn platform_app_secret(&self) -> Result<&Secret, SecretError> {
        self.platform_app_secret
            .get_or_try_init(|| async {
                self.secrets
                    .decrypt(
                        &self.config.platform_app_secret_ciphertext,
                        &SecretContext::platform(),
                    )
                    .await
            })
            .await
    }
}
