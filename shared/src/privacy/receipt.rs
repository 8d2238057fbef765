//! Erasure receipts, signed with an HMAC key that never leaves KMS (a `GENERATE_VERIFY_MAC`
//! key): only KMS can make or check a signature, and a receipt changed in any byte no
//! longer verifies. One KMS call per receipt signed or checked.

use std::sync::Arc;

use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::MacAlgorithmSpec;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::domain::erasure::{ErasureReceipt, SignedReceipt};
use crate::metrics::Metrics;

const ALGORITHM: MacAlgorithmSpec = MacAlgorithmSpec::HmacSha256;

#[derive(Debug, thiserror::Error)]
pub enum ReceiptError {
    #[error("KMS {op} failed for the erasure receipt key")]
    Kms {
        op: &'static str,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error("KMS made no MAC")]
    Empty,
}

#[derive(Clone)]
pub struct ReceiptSigner {
    kms: aws_sdk_kms::Client,
    key_id: String,
    metrics: Arc<Metrics>,
}

impl ReceiptSigner {
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

    pub async fn sign(&self, receipt: ErasureReceipt) -> Result<SignedReceipt, ReceiptError> {
        self.metrics.add_kms_call();
        let out = self
            .kms
            .generate_mac()
            .key_id(&self.key_id)
            .mac_algorithm(ALGORITHM)
            .message(Blob::new(receipt.signed_bytes()))
            .send()
            .await
            .map_err(|e| ReceiptError::Kms {
                op: "GenerateMac",
                source: Box::new(e),
            })?;
        let mac = out.mac().ok_or(ReceiptError::Empty)?;
        Ok(SignedReceipt {
            signature: STANDARD.encode(mac.as_ref()),
            algorithm: ALGORITHM.as_str().to_owned(),
            key_id: out.key_id().unwrap_or(&self.key_id).to_owned(),
            receipt,
        })
    }

    /// Whether this deployment's key signed exactly this receipt.
    pub async fn verify(&self, signed: &SignedReceipt) -> Result<bool, ReceiptError> {
        let Ok(mac) = STANDARD.decode(&signed.signature) else {
            return Ok(false);
        };
        if signed.algorithm != ALGORITHM.as_str() || mac.is_empty() || mac.len() > 64 {
            return Ok(false);
        }
        self.metrics.add_kms_call();
        let result = self
            .kms
            .verify_mac()
            .key_id(&self.key_id)
            .mac_algorithm(ALGORITHM)
            .message(Blob::new(signed.receipt.signed_bytes()))
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
            Err(e) => Err(ReceiptError::Kms {
                op: "VerifyMac",
                source: Box::new(e),
            }),
        }
    }
}
