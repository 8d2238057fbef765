//! Meta's wire: the Cloud API as the sender calls it (`cloud_api`), a webhook delivery
//! split into routable events (`webhook`), and the `X-Hub-Signature-256` check
//! (`signature`). What Meta sends and takes, and nothing of what the gateway does with it.

pub mod cloud_api;
pub mod signature;
pub mod webhook;
