//! Who may call the hosted APIs: principals (an API key today, a person's session next),
//! API keys (random, shown once, stored as a hash), the roles they carry and the
//! permission each route needs.

pub mod api_key;
pub mod authenticator;
pub mod needs;
pub mod principal;
pub mod role;
pub mod store;

use wagate_domain as domain;
use wagate_platform::{cache, secret, token_bucket};

pub use api_key::{
    ApiKeyRecord, BadApiKey, BadOperatorKey, KeyUnusable, NewApiKey, OPERATOR_KEY_SCHEME,
    PresentedKey, check_operator_key,
};
pub use authenticator::{AuthError, Authenticator};
pub use needs::Needs;
pub use principal::{Actor, Principal};
pub use role::{Permission, Role};
