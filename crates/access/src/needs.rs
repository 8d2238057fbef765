//! The permission a route needs, as a type: a handler takes the caller as
//! `Allowed<needs::Contacts>` (its API's extractor), so the permission is in the route's
//! signature, checked before anything else is read, and a route cannot take a caller
//! without naming one.

use crate::role::Permission;

/// A permission as a type parameter.
pub trait Needs: Send + Sync + 'static {
    const PERMISSION: Permission;
}

macro_rules! needs {
    ($($(#[$doc:meta])* $name:ident;)*) => {
        $(
            $(#[$doc])*
            #[derive(Debug)]
            pub struct $name;

            impl Needs for $name {
                const PERMISSION: Permission = Permission::$name;
            }
        )*
    };
}

needs! {
    /// Read conversations, contacts and messages; reply.
    Converse;
    /// Send any message (templates included).
    Message;
    Contacts;
    Templates;
    /// The tenant's configuration: callbacks, numbers, keys, retention.
    Administer;
    Reports;
}
