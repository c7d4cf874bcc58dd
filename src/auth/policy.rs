//! Who may call what. Each route in the route table names one [`Access`]; [`decide`] is the whole rule book, and the
//! README writes it out as a matrix.

use uuid::Uuid;

use super::{Caller, ClientScope};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// No token needed.
    Public,
    /// Any valid token, even one whose password is a one-time password: the password change itself.
    PasswordChange,
    /// Any valid token of an account or client.
    SignedIn,
    /// Staff and admins.
    Staff,
    /// Admins.
    Admin,
    /// The member directory: staff see all, members their own organisation, portals (with the scope) their
    /// linked members; the handler narrows the list.
    MemberDirectory { portal_scope: ClientScope },
    /// Creating a member: staff, and portals with the scope (the new member is linked to them). A member account
    /// already has its organisation.
    MemberCreate { portal_scope: ClientScope },
    /// One member, the `{id}` of the path: staff; the member itself; a portal linked to it that has the scope
    /// (`None`: no portal, even a linked one).
    OwnMember { portal_scope: Option<ClientScope> },
    /// Public opportunities and the vocabulary: any member or staff; portals with the scope.
    Catalogue { portal_scope: ClientScope },
    /// Writing projects: staff; members and portals (with the scope) for projects a member of theirs leads (the
    /// handler checks the lead).
    ProjectWrite { portal_scope: ClientScope },
    /// A record that belongs to one member (a suggestion, a digest), the `{id}` of the path: decided as
    /// [`Access::OwnMember`] for the member it belongs to; staff only when `staff` is set (a reaction is the
    /// member's own word).
    OwnRecord { record: Record, portal_scope: ClientScope, staff: bool },
    /// Webhook endpoints: portals with `webhooks:manage` (their own; the handler narrows), and administrators (who
    /// see and disable any).
    Webhooks,
}

/// Records that belong to a member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Record {
    Suggestion,
    Digest,
}

/// The outcome of a check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allow,
    /// Answer as if the thing did not exist: another member's id, a portal not linked to that member.
    NotFound,
    Forbidden(&'static str),
}

impl Access {
    /// Whether deciding needs to know if the calling portal is linked to the path's member.
    pub fn needs_link(self) -> bool {
        matches!(self, Self::OwnMember { .. } | Self::OwnRecord { .. })
    }
}

/// Decide whether `caller` may use a route with `access`. `member` is the path's `{id}` when the route is about one
/// member (`None` if it is not a valid id); `portal_linked` says whether a calling portal is linked to it.
pub fn decide(access: Access, caller: &Caller, member: Option<Uuid>, portal_linked: bool) -> Decision {
    if let Caller::Person { must_change_password: true, .. } = caller
        && access != Access::PasswordChange
    {
        return Decision::Forbidden("change your one-time password first (POST /v1/auth/password)");
    }
    match access {
        Access::Public | Access::PasswordChange | Access::SignedIn => Decision::Allow,
        Access::Staff if caller.is_staff() => Decision::Allow,
        Access::Staff => Decision::Forbidden("this needs agency staff"),
        Access::Admin if caller.is_admin() => Decision::Allow,
        Access::Admin => Decision::Forbidden("this needs an administrator"),
        Access::MemberDirectory { portal_scope } => match caller {
            Caller::Portal { .. } if !caller.has_scope(portal_scope) => {
                Decision::Forbidden(scope_message(portal_scope))
            }
            _ => Decision::Allow,
        },
        Access::Catalogue { portal_scope } | Access::ProjectWrite { portal_scope } => match caller {
            Caller::Portal { .. } if !caller.has_scope(portal_scope) => {
                Decision::Forbidden(scope_message(portal_scope))
            }
            _ => Decision::Allow,
        },
        Access::Webhooks => match caller {
            _ if caller.is_admin() => Decision::Allow,
            Caller::Portal { .. } if caller.has_scope(ClientScope::WebhooksManage) => Decision::Allow,
            Caller::Portal { .. } => Decision::Forbidden(scope_message(ClientScope::WebhooksManage)),
            Caller::Person { .. } => Decision::Forbidden("webhooks are for partner portals (and administrators)"),
        },
        Access::MemberCreate { portal_scope } => match caller {
            _ if caller.is_staff() => Decision::Allow,
            Caller::Portal { .. } if caller.has_scope(portal_scope) => Decision::Allow,
            Caller::Portal { .. } => Decision::Forbidden(scope_message(portal_scope)),
            Caller::Person { .. } => Decision::Forbidden("a member account already has its organisation"),
        },
        Access::OwnRecord { staff: false, .. } if caller.is_staff() => {
            Decision::Forbidden("only the member (or its portal) can do this")
        }
        Access::OwnRecord { portal_scope, .. } => {
            decide(Access::OwnMember { portal_scope: Some(portal_scope) }, caller, member, portal_linked)
        }
        Access::OwnMember { portal_scope } => {
            let Some(member) = member else { return Decision::NotFound };
            match caller {
                _ if caller.is_staff() => Decision::Allow,
                Caller::Person { .. } if caller.own_member() == Some(member) => Decision::Allow,
                Caller::Person { .. } => Decision::NotFound,
                Caller::Portal { .. } if !portal_linked => Decision::NotFound,
                Caller::Portal { .. } => match portal_scope {
                    Some(scope) if caller.has_scope(scope) => Decision::Allow,
                    Some(scope) => Decision::Forbidden(scope_message(scope)),
                    None => Decision::Forbidden("portals cannot do this; the member or agency staff can"),
                },
            }
        }
    }
}

/// Setting a member's `status` is agency staff's decision.
pub fn may_set_member_status(caller: &Caller) -> Decision {
    if caller.is_staff() { Decision::Allow } else { Decision::Forbidden("`status` is set by agency staff") }
}

/// Who may name `lead` as a project's lead: staff any member (or none); a member only itself; a portal only a member
/// linked to it (`portal_linked`), and a portal must name one.
pub fn may_lead(caller: &Caller, lead: Option<Uuid>, portal_linked: bool) -> Decision {
    match caller {
        _ if caller.is_staff() => Decision::Allow,
        Caller::Person { .. } if caller.own_member().is_none() => {
            Decision::Forbidden("this account is not tied to a member organisation")
        }
        Caller::Person { .. } if lead == caller.own_member() => Decision::Allow,
        Caller::Person { .. } => Decision::Forbidden("a member can only lead its own projects"),
        Caller::Portal { .. } if lead.is_none() => {
            Decision::Forbidden("a portal posts projects that one of its members leads: name it in lead_member_id")
        }
        Caller::Portal { .. } if portal_linked => Decision::Allow,
        Caller::Portal { .. } => Decision::Forbidden("the lead must be a member linked to this portal"),
    }
}

/// Who may change or delete a project led by `lead`: staff; the lead itself; a portal linked to the lead.
pub fn may_change_project(caller: &Caller, lead: Option<Uuid>, portal_linked: bool) -> Decision {
    let allowed = match caller {
        _ if caller.is_staff() => true,
        Caller::Person { .. } => lead.is_some() && lead == caller.own_member(),
        Caller::Portal { .. } => lead.is_some() && portal_linked,
    };
    if allowed { Decision::Allow } else { Decision::Forbidden("only staff and the project's lead may change it") }
}

fn scope_message(scope: ClientScope) -> &'static str {
    match scope {
        ClientScope::MembersRead => "this portal lacks the members:read scope",
        ClientScope::MembersWrite => "this portal lacks the members:write scope",
        ClientScope::SuggestionsRead => "this portal lacks the suggestions:read scope",
        ClientScope::SuggestionsReact => "this portal lacks the suggestions:react scope",
        ClientScope::WebhooksManage => "this portal lacks the webhooks:manage scope",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Role;

    fn person(role: Role, member: Option<Uuid>) -> Caller {
        Caller::Person { user_id: Uuid::nil(), role, member_id: member, must_change_password: false }
    }

    #[test]
    fn one_member_rules() {
        let a = Uuid::now_v7();
        let b = Uuid::now_v7();
        let read = Access::OwnMember { portal_scope: Some(ClientScope::MembersRead) };
        let portal = Caller::Portal { client_id: "c".into(), scopes: vec![ClientScope::MembersRead] };
        let blind = Caller::Portal { client_id: "c".into(), scopes: vec![ClientScope::SuggestionsRead] };
        assert_eq!(decide(read, &person(Role::Member, Some(a)), Some(a), false), Decision::Allow);
        assert_eq!(decide(read, &person(Role::Member, Some(a)), Some(b), false), Decision::NotFound);
        assert_eq!(decide(read, &person(Role::Staff, None), Some(b), false), Decision::Allow);
        assert_eq!(decide(read, &portal, Some(a), true), Decision::Allow);
        assert_eq!(decide(read, &portal, Some(a), false), Decision::NotFound);
        assert!(matches!(decide(read, &blind, Some(a), true), Decision::Forbidden(_)));
        assert_eq!(decide(read, &blind, Some(a), false), Decision::NotFound, "unlinked before unscoped");
        assert_eq!(decide(read, &person(Role::Admin, None), None, false), Decision::NotFound);
    }

    #[test]
    fn one_time_passwords_only_change_the_password() {
        let c = Caller::Person { user_id: Uuid::nil(), role: Role::Admin, member_id: None, must_change_password: true };
        assert!(matches!(decide(Access::Admin, &c, None, false), Decision::Forbidden(_)));
        assert!(matches!(decide(Access::SignedIn, &c, None, false), Decision::Forbidden(_)));
        assert_eq!(decide(Access::PasswordChange, &c, None, false), Decision::Allow);
    }
}
