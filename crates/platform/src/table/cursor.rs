//! Pagination cursors. A [`Cursor`] is where DynamoDB stopped (its `LastEvaluatedKey`,
//! whole), made and read only by the store; callers carry it sealed by [`CursorSeal`]:
//! opaque, and tamper-evident under a key only the service holds. A seal names its scope
//! (tenant, listing and filters), so a cursor of one listing, tenant or filter is refused
//! by every other, and no caller ever decodes a key format.

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use rand::Rng;
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use tokio::sync::OnceCell;

use super::attrs::{Item, b, get_b, item, s};
use super::{StoreError, Table};
use crate::secret_store::{SecretContext, SecretError, SecretStore};

/// Longer than any cursor this service makes; anything longer is refused unread.
const MAX_SEALED_CHARS: usize = 1_024;
/// The tag is truncated to 128 bits: forging one still takes 2^128 tries.
const TAG_BYTES: usize = 16;

/// A position in a listing: the key attributes of the last item read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor(BTreeMap<String, String>);

impl Cursor {
    /// The cursor of a `LastEvaluatedKey`; `None` for an empty one (the last page) or one
    /// with a key that is not a string (none of this table's are).
    pub fn after(key: Option<&Item>) -> Option<Self> {
        let key = key.filter(|k| !k.is_empty())?;
        key.iter()
            .map(|(name, value)| Some((name.clone(), value.as_s().ok()?.clone())))
            .collect::<Option<BTreeMap<_, _>>>()
            .map(Self)
    }

    /// The `ExclusiveStartKey` to continue from.
    pub fn start_key(cursor: Option<&Self>) -> Option<Item> {
        cursor.map(|c| c.0.iter().map(|(k, v)| (k.clone(), s(v))).collect())
    }

    /// One key attribute of the position.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// A cursor at the given key attributes.
    #[cfg(test)]
    pub fn at(pairs: impl IntoIterator<Item = (String, String)>) -> Self {
        Self(pairs.into_iter().collect())
    }
}

/// Seals cursors for callers and opens the ones they bring back.
#[derive(Clone)]
pub struct CursorSeal {
    key: [u8; 32],
}

impl CursorSeal {
    pub fn new(key: [u8; 32]) -> Self {
        Self { key }
    }

    /// `scope` names everything the cursor is valid for: the tenant, the listing, and
    /// every filter that shapes the query.
    pub fn seal(&self, scope: &str, cursor: &Cursor) -> String {
        let payload = serde_json::to_vec(cursor).expect("a cursor always serialises");
        let mut sealed = URL_SAFE_NO_PAD.encode(&payload);
        sealed.push('.');
        sealed.push_str(&URL_SAFE_NO_PAD.encode(self.tag(scope, &payload)));
        sealed
    }

    /// The cursor, if this service sealed it for this very scope; `None` for anything else.
    pub fn open(&self, scope: &str, sealed: &str) -> Option<Cursor> {
        if sealed.len() > MAX_SEALED_CHARS {
            return None;
        }
        let (payload, tag) = sealed.split_once('.')?;
        let payload = URL_SAFE_NO_PAD.decode(payload).ok()?;
        let tag = URL_SAFE_NO_PAD.decode(tag).ok()?;
        if tag.len() != TAG_BYTES {
            return None;
        }
        let mut mac = self.mac(scope);
        mac.update(&payload);
        mac.verify_truncated_left(&tag).ok()?;
        serde_json::from_slice(&payload).ok()
    }

    fn mac(&self, scope: &str) -> Hmac<Sha256> {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes a key of any length");
        mac.update(scope.as_bytes());
        mac.update(&[0]);
        mac
    }

    fn tag(&self, scope: &str, payload: &[u8]) -> Vec<u8> {
        let mut mac = self.mac(scope);
        mac.update(payload);
        mac.finalize().into_bytes()[..TAG_BYTES].to_vec()
    }
}

/// The service's cursor key, made once per deployment and kept in the table as KMS
/// ciphertext; each container reads and decrypts it on its first paged call (one KMS
/// call per container, none at cold start).
pub struct CursorKeys {
    store: Table,
    secrets: SecretStore,
    seal: OnceCell<CursorSeal>,
}

#[derive(Debug, thiserror::Error)]
pub enum CursorKeyError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Secret(#[from] SecretError),
    #[error("the cursor key is malformed")]
    Malformed,
}

const KEY_PK: &str = "PLATFORM";
const KEY_SK: &str = "CURSOR_KEY";

impl CursorKeys {
    pub fn new(store: impl Into<Table>, secrets: SecretStore) -> Self {
        let store = store.into();
        Self {
            store,
            secrets,
            seal: OnceCell::new(),
        }
    }

    pub async fn seal(&self) -> Result<&CursorSeal, CursorKeyError> {
        self.seal.get_or_try_init(|| self.load_or_make()).await
    }

    async fn load_or_make(&self) -> Result<CursorSeal, CursorKeyError> {
        let context = SecretContext::cursor_key();
        let ciphertext = match self.read().await? {
            Some(found) => found,
            None => {
                // Two containers may race to make it: the first put wins, both read it.
                let key = hex::encode(rand::rng().random::<[u8; 32]>());
                let ciphertext = self.secrets.encrypt(&key, &context).await?;
                let it = item([("pk", s(KEY_PK)), ("sk", s(KEY_SK)), ("key", b(ciphertext))]);
                self.store.put_new("PutItem cursor key", it).await?;
                self.read().await?.ok_or(CursorKeyError::Malformed)?
            }
        };
        let key = self.secrets.decrypt(&ciphertext, &context).await?;
        let bytes: [u8; 32] = hex::decode(key.expose())
            .ok()
            .and_then(|k| k.try_into().ok())
            .ok_or(CursorKeyError::Malformed)?;
        Ok(CursorSeal::new(bytes))
    }

    async fn read(&self) -> Result<Option<Vec<u8>>, StoreError> {
        let found = self
            .store
            .get_consistent(KEY_PK.into(), KEY_SK.into())
            .await?;
        Ok(found.and_then(|it| get_b(&it, "key").map(<[u8]>::to_vec)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cursor() -> Cursor {
        Cursor::at([
            ("pk".to_owned(), "T#acme#C#c_1".to_owned()),
            ("sk".to_owned(), "MSG#1767000000#wamid.A".to_owned()),
        ])
    }

    #[test]
    fn a_sealed_cursor_opens_in_its_own_scope_only() {
        let seal = CursorSeal::new([7; 32]);
        let sealed = seal.seal("acme/messages/c_1", &cursor());
        assert_eq!(seal.open("acme/messages/c_1", &sealed), Some(cursor()));
        assert_eq!(
            seal.open("evil/messages/c_1", &sealed),
            None,
            "another tenant"
        );
        assert_eq!(
            seal.open("acme/messages/c_2", &sealed),
            None,
            "another filter"
        );
        assert_eq!(
            CursorSeal::new([8; 32]).open("acme/messages/c_1", &sealed),
            None,
            "another deployment's key"
        );
    }

    #[test]
    fn a_changed_or_made_up_cursor_is_refused() {
        let seal = CursorSeal::new([7; 32]);
        let sealed = seal.seal("acme/contacts", &cursor());
        let (payload, tag) = sealed.split_once('.').unwrap();
        let mut forged: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
        forged["pk"] = "T#other#C#c_1".into();
        let forged = format!(
            "{}.{tag}",
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(&forged).unwrap())
        );
        for bad in [
            forged.as_str(),
            payload,
            "",
            ".",
            "!!!.???",
            &format!("{payload}.{}", &tag[..4]),
            &"a".repeat(5_000),
        ] {
            assert_eq!(seal.open("acme/contacts", bad), None, "{bad}");
        }
    }

    #[test]
    fn a_last_page_has_no_cursor() {
        assert_eq!(Cursor::after(None), None);
        assert_eq!(Cursor::after(Some(&Item::new())), None);
        let key = item([("pk", s("T#a")), ("sk", s("X"))]);
        let c = Cursor::after(Some(&key)).unwrap();
        assert_eq!(Cursor::start_key(Some(&c)), Some(key));
    }
}
