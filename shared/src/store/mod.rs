//! DynamoDB adapters over the single table, one module per item: each alone knows its
//! keys, its attribute names and how it is read and written (`to_item`/`from_item`),
//! while `table` holds every generic call once. Every read hides items whose
//! `expires_at` has passed, because TTL deletion runs days late.
//!
//! | module | items |
//! |---|---|
//! | `tenant` | the tenant (settings, Meta app, retention, erasure state) and its listing |
//! | `number` | phone numbers, the routes from Meta's ids, send pacing |
//! | `contact` | contact profiles with their identities, details, index entries, consent and restriction |
//! | `message` | inbound and outbound messages, delivery states, public message ids |
//! | `callback` | callback endpoints and the delivery log |
//! | `template`, `event`, `api_key`, `idempotency` | one item each |
//! | `audit` | the audit log's hash-chained entries |
//! | `key_table` | the key table's keys of personal data (a store of their own) |
//! | `migration` | sealing what was written before per-person sealing, item by item |
//! | `person` | a person's erasure: its record, tombstones, and the sweep of their items |

pub mod ageing;
pub mod api_key;
pub mod audit;
pub mod callback;
pub mod contact;
pub mod event;
pub mod idempotency;
pub(crate) mod item_life;
pub mod key_table;
pub mod keys;
pub mod message;
pub mod migration;
pub mod number;
pub mod person;
pub mod table;
pub mod template;
pub mod tenant;

pub use table::cursor;
pub use table::{EXPIRES_AT, Expiry, Item, PutOutcome, Store, StoreError};
pub(crate) use table::{Transacted, is_live};
