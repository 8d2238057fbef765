//! Personal data at rest: sealed under the person's own key (`cipher`), whose keys form a
//! hierarchy under KMS (`keyring`); erasing a key erases every copy of what it sealed.

pub mod cipher;
pub mod keyring;
pub mod mac;
pub mod receipt;
