//! Who may call the hosted APIs: API keys (random, shown once, stored as a hash) and the
//! roles they carry.

pub mod api_key;
pub mod authenticator;
pub mod role;
pub mod store;

use wagate_domain as domain;
use wagate_platform::{cache, secret, token_bucket};

pub use api_key::{
    ApiKeyRecord, BadApiKey, BadOperatorKey, KeyUnusable, NewApiKey, OPERATOR_KEY_SCHEME,
    PresentedKey, check_operator_key,
};
pub use authenticator::{AuthError, Authenticator, Principal};
pub use role::{Permission, Role};
