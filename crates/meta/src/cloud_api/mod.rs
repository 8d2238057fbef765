//! Meta's Cloud API as the sender sees it: typed send requests validated against Meta's
//! limits before any call, the bodies Meta answers with, and what each error code means
//! for the sender (issue "Foundation, part 2"; the HTTP client comes next).

pub mod classify;
pub mod client;
pub mod numbers;
pub mod request;
pub mod response;
pub mod templates;

pub use classify::{ErrorClass, classify};
pub use client::{CloudApiClient, CloudApiConfig, SendError};
pub use request::MetaRequest;
pub use response::{MetaApiError, SendAccepted, parse_error_body, parse_send_response};
pub use wagate_domain::outbound::{OutboundMessage, Recipient, ValidationError};
