//! MACs made and checked by an HMAC key that never leaves KMS (a `GENERATE_VERIFY_MAC`
//! key): only KMS can make or check one, so what it signs cannot be forged or changed by
//! anyone who can only write to the table. One KMS call per MAC made or checked. Erasure
//! receipts and the audit log's checkpoints are signed this way, each under a key of its
//! own.

use std::sync::Arc;

use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::MacAlgorithmSpec;

use crate::metrics::Metrics;

pub const ALGORITHM: MacAlgorithmSpec = MacAlgorithmSpec::HmacSha256;

#[derive(Debug, thiserror::Error)]
pub enum MacError {
    #[error("KMS {op} failed for the key {key_id}")]
    Kms {
        op: &'static str,
        key_id: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error("KMS made no MAC")]
    Empty,
}

/// A KMS HMAC key.
#[derive(Clone)]
pub struct KmsMac {
    kms: aws_sdk_kms::Client,
    key_id: String,
    metrics: Arc<Metrics>,
}

/// A MAC, and the key that made it (its id as KMS names it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mac {
    pub bytes: Vec<u8>,
    pub key_id: String,
}

impl KmsMac {
    pub fn new(kms: aws_sdk_kms::Client, key_id: impl Into<String>, metrics: Arc<Metrics>) -> Self {
        Self {
            kms,
            key_id: key_id.into(),
            metrics,
        }
    }

    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    /// The MAC of `message`.
    pub async fn sign(&self, message: &[u8]) -> Result<Mac, MacError> {
        self.metrics.add_kms_call();
        let out = self
            .kms
            .generate_mac()
            .key_id(&self.key_id)
            .mac_algorithm(ALGORITHM)
            .message(Blob::new(message))
            .send()
            .await
            .map_err(|e| MacError::Kms {
                op: "GenerateMac",
                key_id: self.key_id.clone(),
                source: Box::new(e),
            })?;
        let bytes = out.mac().ok_or(MacError::Empty)?.as_ref().to_vec();
        Ok(Mac {
            bytes,
            key_id: out.key_id().unwrap_or(&self.key_id).to_owned(),
        })
    }

    /// Whether `mac` is this key's MAC of exactly `message`.
    pub async fn verify(&self, message: &[u8], mac: &[u8]) -> Result<bool, MacError> {
        if mac.is_empty() || mac.len() > 64 {
            return Ok(false);
        }
        self.metrics.add_kms_call();
        let result = self
            .kms
            .verify_mac()
            .key_id(&self.key_id)
            .mac_algorithm(ALGORITHM)
            .message(Blob::new(message))
            .mac(Blob::new(mac))
            .send()
            .await;
        match result {
            Ok(out) => Ok(out.mac_valid()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_kms_invalid_mac_exception()) =>
            {
                Ok(false)
            }
            Err(e) => Err(MacError::Kms {
                op: "VerifyMac",
                key_id: self.key_id.clone(),
                source: Box::new(e),
            }),
        }
    }
}
