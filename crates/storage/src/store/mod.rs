//! The data table as every context's item modules stand on it: `Store` (the platform's
//! table helper with the keyring of the data table), the `repository!` that gives each
//! context a type of its own over it, the people's keys, and the table's key formats
//! (`keys`), one place for every item's key so that no two contexts' keys collide. The
//! item modules themselves live with their contexts (`store/` of `wagate-messaging`,
//! `wagate-tenancy`, `wagate-access`, `wagate-integrations`, `wagate-audit`,
//! `wagate-compliance`): each alone knows its keys, its attribute names and how it is
//! read and written. Every read hides items whose `expires_at` has passed, because TTL
//! deletion runs days late.

/// Declares one context's repository: its reads and writes over the data table, on a
/// type of its own so that no type carries every context's methods. It reads the table
/// and the keyring through `Store`.
#[macro_export]
macro_rules! repository {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone)]
        pub struct $name {
            store: $crate::store::Store,
        }

        impl From<$crate::store::Store> for $name {
            fn from(store: $crate::store::Store) -> Self {
                Self { store }
            }
        }

        impl std::ops::Deref for $name {
            type Target = $crate::store::Store;

            fn deref(&self) -> &$crate::store::Store {
                &self.store
            }
        }
    };
}
pub use repository;

pub mod item_life;
pub mod keys;
mod people_keys;

pub use wagate_platform::table;
pub use wagate_platform::table::key_table;

pub use table::cursor;
pub use table::{EXPIRES_AT, Expiry, Item, PutOutcome, StoreError, Table};
pub use table::{Transacted, is_live};

use std::ops::Deref;
use std::sync::Arc;

use crate::config::StorageConfig;
use crate::metrics::Metrics;
use crate::privacy::keyring::Keyring;

/// The data table as the gateway's item modules use it: the platform's table helper with
/// the keyring that seals personal data in it. Each context reads and writes its own items
/// through a repository of its own over it (`ContactStore`, `TenantStore`, ...).
#[derive(Clone)]
pub struct Store {
    table: Table,
    keyring: Option<Arc<Keyring>>,
}

impl Deref for Store {
    type Target = Table;

    fn deref(&self) -> &Table {
        &self.table
    }
}

impl From<Store> for Table {
    fn from(store: Store) -> Table {
        store.table
    }
}

impl Store {
    /// A table without personal data: items that need a person's key cannot be written
    /// or read through it.
    pub fn new(
        client: aws_sdk_dynamodb::Client,
        table: impl Into<String>,
        metrics: Arc<Metrics>,
    ) -> Self {
        Self {
            table: Table::new(client, table, metrics),
            keyring: None,
        }
    }

    /// The data table, sealing personal data with the keys of `keyring`.
    pub fn with_keyring(mut self, keyring: Arc<Keyring>) -> Self {
        self.keyring = Some(keyring);
        self
    }

    /// The data table with its key table and KMS key, as a function's configuration names
    /// them.
    pub fn open(
        sdk: &aws_config::SdkConfig,
        config: &StorageConfig,
        metrics: Arc<Metrics>,
    ) -> Self {
        let client = aws_sdk_dynamodb::Client::new(sdk);
        let keys = Table::new(client.clone(), &config.key_table_name, metrics.clone());
        let keyring = Keyring::new(
            aws_sdk_kms::Client::new(sdk),
            &config.personal_data_key_id,
            keys,
            metrics.clone(),
        )
        .with_person_key_ttl(config.person_key_cache);
        Self::new(client, &config.table_name, metrics).with_keyring(Arc::new(keyring))
    }

    /// One context's repository over this table.
    pub fn repo<R: From<Store>>(&self) -> R {
        R::from(self.clone())
    }

    /// The keyring of the data table's personal data.
    pub fn keyring(&self) -> Result<&Keyring, StoreError> {
        self.keyring.as_deref().ok_or(StoreError::NoKeyring)
    }
}
