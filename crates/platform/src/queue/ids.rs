//! The deployment's key for what SQS shows of a message besides its body: FIFO group and
//! deduplication ids. They are made from a person's phone number or a wamid (which embeds
//! one), and they show up in AWS's own logs and consoles, so they are keyed digests: an
//! unkeyed hash of a phone number is undone by trying the 10^10 numbers there are.
//!
//! The key is derived once per container from an HMAC key that never leaves KMS (a MAC of
//! a fixed label), so every function derives the same key without storing it anywhere,
//! and one KMS call per container is its whole cost.

use std::sync::Arc;

use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::MacAlgorithmSpec;
use tokio::sync::OnceCell;

use crate::metrics::Metrics;
use crate::privacy::cipher::DataKey;

/// What the derived key is the MAC of; a new label is a new key.
const LABEL: &[u8] = b"wagate/v1/queue-ids";

#[derive(Debug, thiserror::Error)]
pub enum QueueIdKeyError {
    #[error("KMS GenerateMac failed for the queue id key")]
    Kms(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("KMS made no MAC of 32 bytes for the queue id key")]
    Empty,
}

/// The queue id key of this container, derived on first use. Clones share it.
#[derive(Clone)]
pub struct QueueIdKeys {
    kms: aws_sdk_kms::Client,
    key_id: String,
    metrics: Arc<Metrics>,
    key: Arc<OnceCell<QueueIdKey>>,
}

impl QueueIdKeys {
    pub fn new(kms: aws_sdk_kms::Client, key_id: impl Into<String>, metrics: Arc<Metrics>) -> Self {
        Self {
            kms,
            key_id: key_id.into(),
            metrics,
            key: Arc::new(OnceCell::new()),
        }
    }

    pub async fn key(&self) -> Result<&QueueIdKey, QueueIdKeyError> {
        self.key.get_or_try_init(|| self.derive()).await
    }

    async fn derive(&self) -> Result<QueueIdKey, QueueIdKeyError> {
        self.metrics.add_kms_call();
        let out = self
            .kms
            .generate_mac()
            .key_id(&self.key_id)
            .mac_algorithm(MacAlgorithmSpec::HmacSha256)
            .message(Blob::new(LABEL))
            .send()
            .await
            .map_err(|e| QueueIdKeyError::Kms(Box::new(e)))?;
        out.mac()
            .and_then(|mac| DataKey::from_slice(mac.as_ref()))
            .map(QueueIdKey)
            .ok_or(QueueIdKeyError::Empty)
    }
}

/// The key itself: keyed digests of queue ids.
#[derive(Clone, Debug)]
pub struct QueueIdKey(DataKey);

impl QueueIdKey {
    /// A key of the given bytes (tests, and tools that hold one already).
    pub fn of(key: DataKey) -> Self {
        Self(key)
    }

    /// The first `bytes` bytes, in hex, of the keyed hash of `parts` (each ended by a
    /// zero byte, so that no two lists of parts hash alike).
    pub fn digest(&self, parts: &[&str], bytes: usize) -> String {
        let mut input = Vec::new();
        for part in parts {
            input.extend_from_slice(part.as_bytes());
            input.push(0);
        }
        hex::encode(&self.0.keyed_hash(&input)[..bytes.min(32)])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_digest_depends_on_the_key_and_every_part() {
        let key = QueueIdKey::of(DataKey::from_slice(&[7; 32]).unwrap());
        let other = QueueIdKey::of(DataKey::from_slice(&[8; 32]).unwrap());
        let a = key.digest(&["t1", "4915112345678"], 12);
        assert_eq!(a.len(), 24);
        assert_eq!(a, key.digest(&["t1", "4915112345678"], 12));
        assert_ne!(a, other.digest(&["t1", "4915112345678"], 12));
        assert_ne!(a, key.digest(&["t1", "4915112345679"], 12));
        assert_ne!(
            key.digest(&["ab", "c"], 12),
            key.digest(&["a", "bc"], 12),
            "parts are delimited"
        );
        assert!(!a.contains("4915112345678"));
    }
}
