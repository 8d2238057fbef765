//! Tenant secrets under KMS: encrypted with an encryption context that names the tenant
//! (and the phone number or app), so one tenant's ciphertext cannot be decrypted as
//! another's. Decrypted values are cached per container for minutes, never per message.

use std::sync::Arc;
use std::time::Duration;

use aws_sdk_kms::primitives::Blob;
use sha2::{Digest, Sha256};

use crate::cache::TtlCache;
use crate::metrics::Metrics;
use crate::secret::Secret;

const CACHE_TTL: Duration = Duration::from_secs(300);

/// What a secret is for; part of the encryption context.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretPurpose {
    PlatformAppSecret,
    MetaAppSecret,
    MetaVerifyToken,
    MetaAccessToken,
    /// The operator's key to the admin API.
    OperatorKey,
    /// The secret a tenant's callback endpoint verifies our signatures with.
    CallbackSigningSecret,
    /// The service's key that seals pagination cursors.
    CursorKey,
}

impl SecretPurpose {
    fn as_str(self) -> &'static str {
        match self {
            Self::PlatformAppSecret => "platform-app-secret",
            Self::MetaAppSecret => "meta-app-secret",
            Self::MetaVerifyToken => "meta-verify-token",
            Self::MetaAccessToken => "meta-access-token",
            Self::OperatorKey => "operator-key",
            Self::CallbackSigningSecret => "callback-signing-secret",
            Self::CursorKey => "cursor-key",
        }
    }
}

/// The encryption context of one secret. It is logged by CloudTrail in plain text, so it
/// holds ids only, never personal data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretContext {
    pub purpose: SecretPurpose,
    pub tenant_id: Option<String>,
    pub phone_number_id: Option<String>,
}

impl SecretContext {
    pub fn platform() -> Self {
        Self {
            purpose: SecretPurpose::PlatformAppSecret,
            tenant_id: None,
            phone_number_id: None,
        }
    }

    pub fn operator_key() -> Self {
        Self {
            purpose: SecretPurpose::OperatorKey,
            tenant_id: None,
            phone_number_id: None,
        }
    }

    pub fn cursor_key() -> Self {
        Self {
            purpose: SecretPurpose::CursorKey,
            tenant_id: None,
            phone_number_id: None,
        }
    }

    pub fn tenant(purpose: SecretPurpose, tenant_id: &str) -> Self {
        Self {
            purpose,
            tenant_id: Some(tenant_id.to_owned()),
            phone_number_id: None,
        }
    }

    pub fn phone_number(tenant_id: &str, phone_number_id: &str) -> Self {
        Self {
            purpose: SecretPurpose::MetaAccessToken,
            tenant_id: Some(tenant_id.to_owned()),
            phone_number_id: Some(phone_number_id.to_owned()),
        }
    }

    fn pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs = vec![("purpose", self.purpose.as_str().to_owned())];
        if let Some(t) = &self.tenant_id {
            pairs.push(("tenant_id", t.clone()));
        }
        if let Some(p) = &self.phone_number_id {
            pairs.push(("phone_number_id", p.clone()));
        }
        pairs
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("KMS {op} failed")]
    Kms {
        op: &'static str,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error("KMS returned no plaintext or ciphertext")]
    Empty,
    #[error("a decrypted secret is not UTF-8")]
    NotUtf8,
}

/// Clones share their cache.
#[derive(Clone)]
pub struct SecretStore {
    kms: aws_sdk_kms::Client,
    key_id: String,
    metrics: Arc<Metrics>,
    cache: Arc<TtlCache<[u8; 32], Secret>>,
    /// Held while a missing secret is decrypted, so that a batch's jobs arriving together
    /// at a cold container make one KMS call rather than one each.
    decrypting: Arc<tokio::sync::Mutex<()>>,
}

impl SecretStore {
    pub fn new(kms: aws_sdk_kms::Client, key_id: String, metrics: Arc<Metrics>) -> Self {
        Self {
            kms,
            key_id,
            metrics,
            cache: Arc::new(TtlCache::new(CACHE_TTL, 4096)),
            decrypting: Arc::new(tokio::sync::Mutex::new(())),
        }
    }

    pub async fn encrypt(
        &self,
        plaintext: &str,
        context: &SecretContext,
    ) -> Result<Vec<u8>, SecretError> {
        self.metrics.add_kms_call();
        let mut request = self
            .kms
            .encrypt()
            .key_id(&self.key_id)
            .plaintext(Blob::new(plaintext.as_bytes()));
        for (k, v) in context.pairs() {
            request = request.encryption_context(k, v);
        }
        let out = request.send().await.map_err(|e| SecretError::Kms {
            op: "Encrypt",
            source: Box::new(e),
        })?;
        Ok(out.ciphertext_blob.ok_or(SecretError::Empty)?.into_inner())
    }

    /// Decrypts, or answers from the container's cache when the same ciphertext was
    /// decrypted under the same context within the last minutes.
    pub async fn decrypt(
        &self,
        ciphertext: &[u8],
        context: &SecretContext,
    ) -> Result<Secret, SecretError> {
        let cache_key = cache_key(ciphertext, context);
        if let Some(secret) = self.cache.get(&cache_key) {
            return Ok(secret);
        }
        let _one_at_a_time = self.decrypting.lock().await;
        if let Some(secret) = self.cache.get(&cache_key) {
            return Ok(secret);
        }
        self.metrics.add_kms_call();
        let mut request = self.kms.decrypt().ciphertext_blob(Blob::new(ciphertext));
        for (k, v) in context.pairs() {
            request = request.encryption_context(k, v);
        }
        let out = request.send().await.map_err(|e| SecretError::Kms {
            op: "Decrypt",
            source: Box::new(e),
        })?;
        let plaintext = out.plaintext.ok_or(SecretError::Empty)?.into_inner();
        let secret = Secret::new(String::from_utf8(plaintext).map_err(|_| SecretError::NotUtf8)?);
        self.cache.insert(cache_key, secret.clone());
        Ok(secret)
    }
}

fn cache_key(ciphertext: &[u8], context: &SecretContext) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(ciphertext);
    for (k, v) in context.pairs() {
        hasher.update([0]);
        hasher.update(k.as_bytes());
        hasher.update([0]);
        hasher.update(v.as_bytes());
    }
    hasher.finalize().into()
}
