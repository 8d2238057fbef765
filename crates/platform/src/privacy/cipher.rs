//! AES-256-GCM under a 32-byte key, with what the sealed bytes belong to as associated data:
//! a ciphertext moved to another item or attribute does not open. Sealed form: a version
//! byte, a random 96-bit nonce, then the ciphertext and its tag (29 bytes over the text).

use hmac::{Hmac, KeyInit, Mac};
use rand::Rng;
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use sha2::Sha256;
use zeroize::Zeroizing;

const VERSION: u8 = 1;
/// What sealing adds to a plaintext's length.
pub const OVERHEAD: usize = 1 + NONCE_LEN + 16;

/// The sealed bytes do not open under this key with this associated data: another key
/// (a person's erased key, another tenant's), another place, or bytes changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the sealed value does not open: wrong key or place, or changed")]
pub struct Unreadable;

/// A 256-bit key, wiped from memory when dropped and never printed.
#[derive(Clone)]
pub struct DataKey(Zeroizing<[u8; 32]>);

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DataKey(..)")
    }
}

impl DataKey {
    pub fn random() -> Self {
        Self(Zeroizing::new(rand::rng().random()))
    }

    /// The key of exactly 32 bytes; `None` for any other length.
    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        let key: [u8; 32] = bytes.try_into().ok()?;
        Some(Self(Zeroizing::new(key)))
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// A key for one purpose, derived from this one (HMAC-SHA256 of the purpose's label):
    /// keys for different purposes cannot stand in for each other.
    pub fn derive(&self, label: &str) -> Self {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(self.as_bytes())
            .expect("HMAC takes a key of any length");
        mac.update(label.as_bytes());
        let out: [u8; 32] = mac.finalize().into_bytes().into();
        Self(Zeroizing::new(out))
    }

    /// HMAC-SHA256 of `input` under this key: a keyed hash that reveals nothing about the
    /// input without the key.
    pub fn keyed_hash(&self, input: &[u8]) -> [u8; 32] {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(self.as_bytes())
            .expect("HMAC takes a key of any length");
        mac.update(input);
        mac.finalize().into_bytes().into()
    }

    fn aead(&self) -> LessSafeKey {
        LessSafeKey::new(
            UnboundKey::new(&AES_256_GCM, self.as_bytes()).expect("AES-256 takes 32 bytes"),
        )
    }

    /// Seals `plaintext` bound to `place`.
    pub fn seal(&self, place: &[u8], plaintext: &[u8]) -> Vec<u8> {
        let nonce: [u8; NONCE_LEN] = rand::rng().random();
        let mut out = Vec::with_capacity(plaintext.len() + OVERHEAD);
        out.push(VERSION);
        out.extend_from_slice(&nonce);
        let mut body = plaintext.to_vec();
        self.aead()
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(place),
                &mut body,
            )
            .expect("AES-GCM seals any length a DynamoDB item can hold");
        out.extend_from_slice(&body);
        out
    }

    /// The plaintext of bytes sealed by [`DataKey::seal`] with this key and `place`.
    pub fn open(&self, place: &[u8], sealed: &[u8]) -> Result<Vec<u8>, Unreadable> {
        let (&version, rest) = sealed.split_first().ok_or(Unreadable)?;
        if version != VERSION || rest.len() < NONCE_LEN + 16 {
            return Err(Unreadable);
        }
        let (nonce, body) = rest.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| Unreadable)?;
        let mut body = body.to_vec();
        let plain = self
            .aead()
            .open_in_place(nonce, Aad::from(place), &mut body)
            .map_err(|_| Unreadable)?;
        Ok(plain.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_is_sealed_opens_with_its_key_and_place_only() {
        let key = DataKey::random();
        let sealed = key.seal(b"T#acme#C#c_1/MSG#1/content", b"hello Maria");
        assert_eq!(sealed.len(), "hello Maria".len() + OVERHEAD);
        assert!(!sealed.windows(5).any(|w| w == b"hello"), "no plaintext");
        assert_eq!(
            key.open(b"T#acme#C#c_1/MSG#1/content", &sealed).unwrap(),
            b"hello Maria"
        );
        assert_eq!(
            key.open(b"T#acme#C#c_2/MSG#1/content", &sealed),
            Err(Unreadable),
            "another item"
        );
        assert_eq!(
            DataKey::random().open(b"T#acme#C#c_1/MSG#1/content", &sealed),
            Err(Unreadable),
            "another key"
        );
        let mut changed = sealed.clone();
        *changed.last_mut().unwrap() ^= 1;
        assert_eq!(
            key.open(b"T#acme#C#c_1/MSG#1/content", &changed),
            Err(Unreadable)
        );
        assert_eq!(key.open(b"x", &[]), Err(Unreadable));
        assert_eq!(key.open(b"x", &[VERSION, 1, 2]), Err(Unreadable));
    }

    #[test]
    fn two_seals_of_one_text_differ() {
        let key = DataKey::random();
        assert_ne!(key.seal(b"p", b"same"), key.seal(b"p", b"same"));
    }

    #[test]
    fn derived_keys_differ_by_label_and_are_stable() {
        let key = DataKey::from_slice(&[7; 32]).unwrap();
        assert_eq!(key.derive("a").as_bytes(), key.derive("a").as_bytes());
        assert_ne!(key.derive("a").as_bytes(), key.derive("b").as_bytes());
        assert_ne!(key.derive("a").as_bytes(), key.as_bytes());
        assert!(DataKey::from_slice(&[1; 31]).is_none());
        assert_eq!(format!("{key:?}"), "DataKey(..)");
    }
}
