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

impl Permission {
    pub const ALL: [Permission; 6] = [
        Permission::Converse,
        Permission::Message,
        Permission::Contacts,
        Permission::Templates,
        Permission::Administer,
        Permission::Reports,
    ];

    /// The permission's name, as the OpenAPI documents list it in a route's security
    /// requirement (its scope).
    pub fn name(self) -> &'static str {
        match self {
            Permission::Converse => "converse",
            Permission::Message => "message",
            Permission::Contacts => "contacts",
            Permission::Templates => "templates",
            Permission::Administer => "administer",
            Permission::Reports => "reports",
        }
    }

    pub fn named(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.name() == name)
    }

    /// What a caller without it was refused, for the 403's message.
    pub fn refusal(self) -> &'static str {
        match self {
            Permission::Converse => "read or answer conversations",
            Permission::Message => "send any message (a manager key is needed)",
            Permission::Contacts => "manage contacts (a manager key is needed)",
            Permission::Templates => "manage templates (a manager key is needed)",
            Permission::Administer => "administer the tenant (an admin key is needed)",
            Permission::Reports => "read reports (a manager key is needed)",
        }
    }
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
    fn permission_names_round_trip_and_are_distinct() {
        for permission in Permission::ALL {
            assert_eq!(Permission::named(permission.name()), Some(permission));
        }
        assert_eq!(Permission::named("everything"), None);
    }

    #[test]
    fn role_names_round_trip() {
        for role in [Role::Admin, Role::Manager, Role::Agent] {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("root"), None);
    }
}
