//! Reporting: projections of the domain events, read through the durable path (an SQS
//! queue the workers' `DurableForwarder` fills), which may lag behind the worker, each
//! event counted once. Today: a number's messages and conversations per UTC day
//! (`usage`). Queue depth, waits and SLAs come with the desk.

pub use wagate_domain as domain;

pub mod store;
pub mod usage;
