//! Who is calling, whatever proved it: the tenant, the role that decides what the caller
//! may do, and the actor records name. An API key is the only kind of actor today; a
//! person's session is the next, and handlers, which read the tenant, the role and the
//! actor's name, do not change when it comes.

use crate::domain::tenant::TenantId;
use crate::role::{Permission, Role};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub tenant_id: TenantId,
    pub actor: Actor,
    pub role: Role,
}

/// What authenticated the caller.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Actor {
    /// An API key, by its id (never its secret).
    ApiKey(String),
}

impl Actor {
    /// How records name the actor (`key:<id>`): the audit log, consent entries, imports.
    /// Never personal data.
    pub fn reference(&self) -> String {
        match self {
            Actor::ApiKey(id) => format!("key:{id}"),
        }
    }

    /// The id alone, which is unique among actors of its kind within the tenant.
    pub fn id(&self) -> &str {
        match self {
            Actor::ApiKey(id) => id,
        }
    }
}

impl Principal {
    pub fn allows(&self, permission: Permission) -> bool {
        self.role.allows(permission)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_named_by_its_id_and_its_role_decides() {
        let principal = Principal {
            tenant_id: TenantId::parse("acme").unwrap(),
            actor: Actor::ApiKey("0f3a".into()),
            role: Role::Agent,
        };
        assert_eq!(principal.actor.reference(), "key:0f3a");
        assert_eq!(principal.actor.id(), "0f3a");
        assert!(principal.allows(Permission::Converse));
        assert!(!principal.allows(Permission::Reports));
    }
}
