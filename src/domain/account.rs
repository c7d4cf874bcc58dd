//! Accounts: what a person may do (their role) and what a partner portal may do for its members (its scopes).

use crate::api_enum;
use crate::domain::parse::ApiEnum;

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
        WebhooksManage => "webhooks:manage",
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
