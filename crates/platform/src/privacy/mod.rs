//! Sealing and signing: AES-256-GCM under a data key and keyed digests (`cipher`), the
//! hierarchy of keys under KMS (`keyring`, over the key table), and the KMS HMAC that
//! signs receipts and audit checkpoints (`mac`).

pub mod cipher;
pub mod keyring;
pub mod mac;
