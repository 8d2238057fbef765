//! Personal data at rest: sealed under the person's own key (`cipher`, from the platform),
//! whose keys form a hierarchy under KMS (`keyring`); erasing a key erases every copy of
//! what it sealed.

pub use wagate_platform::privacy::{cipher, keyring, mac};
