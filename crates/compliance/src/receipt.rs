//! Erasure receipts, signed with an HMAC key that never leaves KMS (`privacy::mac`): only
//! KMS can make or check a signature, and a receipt changed in any byte no longer
//! verifies. One KMS call per receipt signed or checked.

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::domain::erasure::{ErasureReceipt, SignedReceipt};
use crate::metrics::Metrics;
use crate::privacy::mac::{ALGORITHM, KmsMac};

pub use crate::privacy::mac::MacError as ReceiptError;

#[derive(Clone)]
pub struct ReceiptSigner {
    key: KmsMac,
}

impl ReceiptSigner {
    pub fn new(kms: aws_sdk_kms::Client, key_id: impl Into<String>, metrics: Arc<Metrics>) -> Self {
        Self {
            key: KmsMac::new(kms, key_id, metrics),
        }
    }

    pub fn key_id(&self) -> &str {
        self.key.key_id()
    }

    pub async fn sign(&self, receipt: ErasureReceipt) -> Result<SignedReceipt, ReceiptError> {
        let mac = self.key.sign(&receipt.signed_bytes()).await?;
        Ok(SignedReceipt {
            signature: STANDARD.encode(&mac.bytes),
            algorithm: ALGORITHM.as_str().to_owned(),
            key_id: mac.key_id,
            receipt,
        })
    }

    /// Whether this deployment's key signed exactly this receipt.
    pub async fn verify(&self, signed: &SignedReceipt) -> Result<bool, ReceiptError> {
        let Ok(mac) = STANDARD.decode(&signed.signature) else {
            return Ok(false);
        };
        if signed.algorithm != ALGORITHM.as_str() {
            return Ok(false);
        }
        self.key.verify(&signed.receipt.signed_bytes(), &mac).await
    }
}
