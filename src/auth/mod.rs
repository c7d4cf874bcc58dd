//! Identity and access: accounts (people) and partner-portal clients, JWT access tokens, the caller of a request,
//! and the authorisation rules that the route table declares.

pub mod address;
pub mod keys;
pub mod password;
pub mod policy;
pub mod ratelimit;
pub mod secret;
pub mod service;
pub mod token;

use uuid::Uuid;

use crate::api_enum;
use crate::domain::parse::Vocabulary;

api_enum!(
    /// What a person may do.
    Role { Member => "member", Staff => "staff", Admin => "admin" }
);

api_enum!(
    /// What a partner portal may do for the members linked to it.
    ClientScope {
        MembersRead => "members:read",
        MembersWrite => "members:write",
        SuggestionsRead => "suggestions:read",
        SuggestionsReact => "suggestions:react",
    }
);

impl Role {
    /// Staff rights (admins have them too).
    pub fn is_staff(self) -> bool {
        matches!(self, Self::Staff | Self::Admin)
    }
}

/// Parse a space- or comma-separated list of scopes; `None` if any is unknown.
pub fn parse_scopes(text: &str) -> Option<Vec<ClientScope>> {
    let mut out = Vec::new();
    for part in text.split([' ', ',']).filter(|s| !s.is_empty()) {
        let scope = ClientScope::from_name(part)?;
        if !out.contains(&scope) {
            out.push(scope);
        }
    }
    out.sort();
    Some(out)
}

/// Scopes as the space-separated string OAuth uses.
pub fn scope_string(scopes: &[ClientScope]) -> String {
    scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(" ")
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_parse_and_print() {
        assert_eq!(
            parse_scopes("members:write members:read,members:read"),
            Some(vec![ClientScope::MembersRead, ClientScope::MembersWrite])
        );
        assert_eq!(parse_scopes("members:read admin"), None);
        assert_eq!(
            scope_string(&[ClientScope::MembersRead, ClientScope::SuggestionsRead]),
            "members:read suggestions:read"
        );
    }
}
