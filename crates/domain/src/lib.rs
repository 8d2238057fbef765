//! Domain types and their rules; no I/O here.

pub mod audit;
pub mod calendar;
pub mod coexistence;
pub mod consent;
pub mod contact;
pub mod conversation;
pub mod erasure;
pub mod event;
pub mod event_record;
pub mod export;
pub mod identity;
pub mod management;
pub mod message;
pub mod message_id;
pub mod meta_error;
pub mod outbound;
pub mod retention;
pub mod status;
pub mod template;
pub mod tenant;
pub mod timestamp;
