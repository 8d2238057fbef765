//! What stands for a wamid in the fakes' keys.

/// What stands for a wamid in the fake's ids, as the blind index does in the store's.
pub(crate) fn fake_blind(wamid: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(&Sha256::digest(wamid.as_bytes())[..16])
}
