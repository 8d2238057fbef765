//! Roles of a tenant's API keys and what each may do.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Everything of the tenant: its numbers, keys, retention and all the business API.
    Admin,
    /// Messages, contacts, templates and reports.
    Manager,
    /// Conversations and replies only.
    Agent,
}

/// What a route needs; each route names exactly one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// Read conversations and reply in them.
    Converse,
    /// Send any message, read any message's state.
    Message,
    Contacts,
    Templates,
    /// The tenant's configuration: numbers, Meta app, keys, retention.
    Administer,
    /// Reports: usage and, with the desk, queues and waits.
    Reports,
}

impl Role {
    pub fn allows(self, permission: Permission) -> bool {
        match self {
            Role::Admin => true,
            Role::Manager => permission != Permission::Administer,
            Role::Agent => permission == Permission::Converse,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Manager => "manager",
            Role::Agent => "agent",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "admin" => Some(Role::Admin),
            "manager" => Some(Role::Manager),
            "agent" => Some(Role::Agent),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_agent_only_converses_and_a_manager_never_administers() {
        assert!(Role::Agent.allows(Permission::Converse));
        assert!(!Role::Agent.allows(Permission::Message));
        assert!(!Role::Agent.allows(Permission::Administer));
        assert!(Role::Manager.allows(Permission::Message));
        assert!(Role::Manager.allows(Permission::Templates));
        assert!(!Role::Manager.allows(Permission::Administer));
        assert!(Role::Admin.allows(Permission::Administer));
        assert!(Role::Manager.allows(Permission::Reports));
        assert!(!Role::Agent.allows(Permission::Reports));
    }

    #[test]
    fn role_names_round_trip() {
        for role in [Role::Admin, Role::Manager, Role::Agent] {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("root"), None);
    }
}
