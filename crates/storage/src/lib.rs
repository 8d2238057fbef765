//! The storage every context stands on: the data table with its keyring (`store`).

pub mod store;

use wagate_domain as domain;
use wagate_platform::{config, metrics, privacy};
