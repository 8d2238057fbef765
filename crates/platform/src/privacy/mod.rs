//! Sealing and signing: AES-256-GCM under a data key and keyed digests (`cipher`), and
//! the KMS HMAC that signs receipts and audit checkpoints (`mac`).

pub mod cipher;
pub mod mac;
