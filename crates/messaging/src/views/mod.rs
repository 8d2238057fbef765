//! What the business API shows of a contact and its messages, shared with a person's
//! export so that the two say the same.

pub mod consent;
pub mod contact;
pub mod message;
