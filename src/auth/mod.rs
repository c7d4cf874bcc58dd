//! Identity and access: accounts (people) and partner-portal clients, JWT access tokens, the caller of a request,
//! and the authorisation rules that the route table declares.

pub mod address;
pub mod cache;
pub mod keys;
pub mod password;
pub mod policy;
pub mod ratelimit;
pub mod secret;
pub mod service;
pub mod token;

use uuid::Uuid;

pub use crate::domain::account::{ClientScope, Role, parse_scopes, scope_string};

/// Who is calling, as verified from a token and the current state of the account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    Person { user_id: Uuid, role: Role, member_id: Option<Uuid>, must_change_password: bool },
    Portal { client_id: String, scopes: Vec<ClientScope> },
}

impl Caller {
    /// The stable name used in the audit log and to scope idempotency keys.
    pub fn subject(&self) -> String {
        match self {
            Self::Person { user_id, .. } => format!("user:{user_id}"),
            Self::Portal { client_id, .. } => format!("client:{client_id}"),
        }
    }

    pub fn is_staff(&self) -> bool {
        matches!(self, Self::Person { role, .. } if role.is_staff())
    }

    pub fn is_admin(&self) -> bool {
        matches!(self, Self::Person { role: Role::Admin, .. })
    }

    /// The member organisation a member account belongs to.
    pub fn own_member(&self) -> Option<Uuid> {
        match self {
            Self::Person { role: Role::Member, member_id, .. } => *member_id,
            _ => None,
        }
    }

    pub fn has_scope(&self, scope: ClientScope) -> bool {
        match self {
            Self::Portal { scopes, .. } => scopes.contains(&scope),
            Self::Person { .. } => true,
        }
    }
}
