//! People's accounts, portal clients and the links between portals and members: created, changed and read by
//! administrators through the API, and from the command line with the same rules.

use serde_json::json;
use uuid::Uuid;

use super::audit::record;
use super::{Actor, AppError, Store, change_account};
use crate::auth::{ClientScope, Role, password, secret};
use crate::db::accounts::{self, Client, User};
use crate::db::{self, DbConnection, members};

fn no_account() -> AppError {
    AppError::NotFound("no account has this id".to_owned())
}

fn no_client() -> AppError {
    AppError::NotFound("no client has this id".to_owned())
}

fn no_member() -> AppError {
    AppError::NotFound("no member has this id".to_owned())
}

fn taken() -> AppError {
    AppError::Conflict("an account with this e-mail already exists".to_owned())
}

/// A member id must name an existing member, and goes with the member role only.
fn check_member(conn: &mut DbConnection, role: Role, member_id: Option<Uuid>) -> Result<(), AppError> {
    match (role, member_id) {
        (Role::Member, None) => Err(AppError::invalid("/member_id", "is required for the member role")),
        (Role::Member, Some(id)) => match members::find(conn, id)? {
            Some(_) => Ok(()),
            None => Err(AppError::invalid("/member_id", "no member has this id")),
        },
        (_, Some(_)) => Err(AppError::invalid("/member_id", "goes with the member role only")),
        (_, None) => Ok(()),
    }
}

/// The password a new account starts with.
#[derive(Debug)]
pub enum NewPassword {
    /// A one-time password made here, to be changed at the first sign-in (an administrator's new account).
    OneTime,
    /// A password its owner chose (the command line); it must pass the password policy.
    Chosen(String),
}

/// A new account, and its one-time password if one was made.
pub async fn create_user(
    store: &Store,
    actor: &Actor,
    email: String,
    role: Role,
    member_id: Option<Uuid>,
    password: NewPassword,
) -> Result<(User, Option<String>), AppError> {
    let (secret, one_time) = match password {
        NewPassword::OneTime => {
            let p = password::one_time()?;
            (p.clone(), Some(p))
        }
        NewPassword::Chosen(p) => match password::policy_problem(&p, &[&email]) {
            Some(problem) => return Err(AppError::invalid("/password", problem)),
            None => (p, None),
        },
    };
    let now = store.clock.now();
    let must_change = one_time.is_some();
    let user = db::run(&store.pool, move |conn| {
        let hash = password::hash(&secret)?;
        db::write(conn, |conn| {
            check_member(conn, role, member_id)?;
            if accounts::find_user_by_email(conn, &email)?.is_some() {
                return Err(taken());
            }
            db::savepoint(conn, |conn| accounts::insert_user(conn, &email, &hash, role, member_id, must_change, now))
                .map_err(|e| if db::is_unique_violation(&e) { taken() } else { e.into() })
        })
    })
    .await?;
    let event = actor.event("user.created").target(format!("user:{}", user.id));
    record(store, event.details(json!({"role": user.role, "member_id": user.member_id}))).await;
    tracing::info!(user_id = %user.id, role = %user.role, "account created");
    Ok((user, one_time))
}

pub async fn users(store: &Store, role: Option<Role>, after: Option<Uuid>, limit: i64) -> Result<Vec<User>, AppError> {
    db::run(&store.pool, move |conn| accounts::list_users(conn, role, after, limit + 1).map_err(AppError::from)).await
}

pub async fn user(store: &Store, id: Uuid) -> Result<User, AppError> {
    db::run(&store.pool, move |conn| accounts::find_user(conn, id).map_err(AppError::from))
        .await?
        .ok_or_else(no_account)
}

/// What an administrator changes of an account; `member_id: Some(None)` clears it.
#[derive(Debug, Clone, Default)]
pub struct UserChange {
    pub role: Option<Role>,
    pub disabled: Option<bool>,
    pub member_id: Option<Option<Uuid>>,
}

/// Change an account's role, member or disabled flag. Administrators cannot disable or demote themselves.
pub async fn update_user(store: &Store, actor: &Actor, id: Uuid, change: UserChange) -> Result<User, AppError> {
    let now = store.clock.now();
    let self_edit = actor.subject == format!("user:{id}");
    let (before, after) = change_account(store, format!("user:{id}"), move |conn| {
        let user = accounts::find_user(conn, id)?.ok_or_else(no_account)?;
        let role = change.role.unwrap_or(user.role);
        let disabled = change.disabled.unwrap_or(user.disabled);
        let member = match change.member_id {
            Some(given) => given,
            None if role == Role::Member => user.member_id,
            None => None,
        };
        if self_edit && (disabled || role != Role::Admin) {
            return Err(AppError::Conflict("you cannot disable or demote your own account".to_owned()));
        }
        check_member(conn, role, member)?;
        let updated = accounts::update_user(conn, &user, role, member, disabled, now)?;
        Ok::<_, AppError>((user, updated))
    })
    .await?;
    let event = actor.event("user.updated").target(format!("user:{id}")).details(json!({
        "role": {"from": before.role, "to": after.role},
        "disabled": {"from": before.disabled, "to": after.disabled},
        "member_id": {"from": before.member_id, "to": after.member_id},
    }));
    record(store, event).await;
    Ok(after)
}

/// A new one-time password for an account; its tokens stop working. Not one's own: that would end the caller's
/// own tokens and lock it out until it signs in again; one changes one's own password with the current one.
pub async fn reset_password(store: &Store, actor: &Actor, id: Uuid) -> Result<String, AppError> {
    if actor.subject == format!("user:{id}") {
        return Err(AppError::Conflict(
            "you cannot reset your own password; change it with POST /v1/auth/password".to_owned(),
        ));
    }
    let one_time = password::one_time()?;
    let secret = one_time.clone();
    let now = store.clock.now();
    // Hashing takes a while by design: on a blocking thread, and before the write transaction.
    let hash = db::run(&store.pool, move |_| password::hash(&secret).map_err(AppError::from)).await?;
    change_account(store, format!("user:{id}"), move |conn| {
        match accounts::set_password(conn, id, &hash, true, now)? {
            0 => Err(no_account()),
            _ => Ok(()),
        }
    })
    .await?;
    record(store, actor.event("user.password_reset").target(format!("user:{id}"))).await;
    Ok(one_time)
}

/// A client with the members linked to it.
#[derive(Debug, Clone)]
pub struct ClientView {
    pub client: Client,
    pub members: Vec<Uuid>,
}

fn view(conn: &mut DbConnection, client: Client) -> Result<ClientView, AppError> {
    let members = accounts::client_member_ids(conn, &client.client_id)?;
    Ok(ClientView { client, members })
}

pub use crate::db::accounts::{is_client_id, new_client_id};

/// A new portal client and its secret (shown once, stored only as a hash), with the id given (a form that chose it
/// when shown, so that sending it twice creates one client: the second time is a conflict) or a new one.
pub async fn create_client(
    store: &Store,
    actor: &Actor,
    client_id: Option<String>,
    name: String,
    scopes: Vec<ClientScope>,
) -> Result<(Client, String), AppError> {
    let client_secret = secret::random_token(32)?;
    let hash = secret::hash_client_secret(&client_secret);
    let now = store.clock.now();
    let client_id = client_id.unwrap_or_else(accounts::new_client_id);
    let client = db::run(&store.pool, move |conn| {
        let exists = || AppError::Conflict(format!("the client {client_id} exists already"));
        db::write(conn, |conn| {
            if accounts::find_client(conn, &client_id)?.is_some() {
                return Err(exists());
            }
            // Two sends at once: the second meets the first one's row.
            db::savepoint(conn, |conn| accounts::insert_client(conn, &client_id, &name, &scopes, &hash, now))
                .map_err(|e| if db::is_unique_violation(&e) { exists() } else { e.into() })
        })
    })
    .await?;
    let event = actor.event("client.created").target(format!("client:{}", client.client_id));
    record(store, event.details(json!({"name": client.name, "scopes": client.scopes}))).await;
    tracing::info!(client_id = %client.client_id, "client created");
    Ok((client, client_secret))
}

pub async fn clients(store: &Store, after: Option<String>, limit: i64) -> Result<Vec<ClientView>, AppError> {
    db::run(&store.pool, move |conn| {
        let clients = accounts::list_clients(conn, after.as_deref(), limit + 1)?;
        clients.into_iter().map(|c| view(conn, c)).collect()
    })
    .await
}

pub async fn client(store: &Store, id: String) -> Result<ClientView, AppError> {
    db::run(&store.pool, move |conn| {
        let (client, _) = accounts::find_client(conn, &id)?.ok_or_else(no_client)?;
        view(conn, client)
    })
    .await
}

/// What an administrator changes of a client.
#[derive(Debug, Clone, Default)]
pub struct ClientChange {
    pub name: Option<String>,
    pub scopes: Option<Vec<ClientScope>>,
    pub disabled: Option<bool>,
}

/// Change a client; narrower scopes or disabling revoke its tokens.
pub async fn update_client(
    store: &Store,
    actor: &Actor,
    id: String,
    change: ClientChange,
) -> Result<ClientView, AppError> {
    let now = store.clock.now();
    let target = id.clone();
    let (before, after) = change_account(store, format!("client:{id}"), move |conn| {
        let (client, _) = accounts::find_client(conn, &target)?.ok_or_else(no_client)?;
        let name = change.name.as_deref().unwrap_or(&client.name);
        let scopes = change.scopes.as_deref().unwrap_or(&client.scopes);
        let updated =
            accounts::update_client(conn, &client, name, scopes, change.disabled.unwrap_or(client.disabled), now)?;
        Ok::<_, AppError>((client, view(conn, updated)?))
    })
    .await?;
    let event = actor.event("client.updated").target(format!("client:{id}")).details(json!({
        "name": {"from": before.name, "to": after.client.name},
        "scopes": {"from": before.scopes, "to": after.client.scopes},
        "disabled": {"from": before.disabled, "to": after.client.disabled},
    }));
    record(store, event).await;
    Ok(after)
}

/// A new secret for a client; tokens issued with the old one stop working.
pub async fn rotate_secret(store: &Store, actor: &Actor, id: String) -> Result<String, AppError> {
    let client_secret = secret::random_token(32)?;
    let hash = secret::hash_client_secret(&client_secret);
    let now = store.clock.now();
    let target = id.clone();
    let changed = change_account(store, format!("client:{id}"), move |conn| {
        accounts::set_client_secret(conn, &target, &hash, now).map_err(AppError::from)
    })
    .await?;
    if changed == 0 {
        return Err(no_client());
    }
    record(store, actor.event("client.secret_rotated").target(format!("client:{id}"))).await;
    Ok(client_secret)
}

/// The portals acting for a member, with when each was linked.
pub async fn portals(store: &Store, member: Uuid) -> Result<Vec<(Client, chrono::DateTime<chrono::Utc>)>, AppError> {
    db::run(&store.pool, move |conn| {
        members::find(conn, member)?.ok_or_else(no_member)?;
        Ok(accounts::member_portals(conn, member)?)
    })
    .await
}

/// Let a portal act for a member (idempotent: linking twice records once).
pub async fn link(store: &Store, actor: &Actor, member: Uuid, client_id: String) -> Result<(), AppError> {
    let now = store.clock.now();
    let target = client_id.clone();
    let created = db::run(&store.pool, move |conn| {
        db::write(conn, |conn| {
            members::find(conn, member)?.ok_or_else(no_member)?;
            accounts::find_client(conn, &target)?.ok_or_else(no_client)?;
            Ok::<_, AppError>(accounts::link(conn, &target, member, now)?)
        })
    })
    .await?;
    if created {
        let event = actor.event("portal.linked").target(format!("member:{member}"));
        record(store, event.details(json!({"client_id": client_id}))).await;
    }
    Ok(())
}

pub async fn unlink(store: &Store, actor: &Actor, member: Uuid, client_id: String) -> Result<(), AppError> {
    let target = client_id.clone();
    let removed =
        db::run(&store.pool, move |conn| accounts::unlink(conn, &target, member).map_err(AppError::from)).await?;
    if !removed {
        return Err(AppError::NotFound("this portal is not linked to this member".to_owned()));
    }
    let event = actor.event("portal.unlinked").target(format!("member:{member}"));
    record(store, event.details(json!({"client_id": client_id}))).await;
    Ok(())
}

/// Whether a portal may act for a member.
pub async fn is_linked(store: &Store, client_id: String, member: Uuid) -> Result<bool, AppError> {
    db::run(&store.pool, move |conn| accounts::is_linked(conn, &client_id, member).map_err(AppError::from)).await
}

/// The members a client acts for, in id order, at most `limit` of them (its page in the console names them).
pub async fn client_members(
    store: &Store,
    id: String,
    limit: i64,
) -> Result<Vec<crate::domain::member::Member>, AppError> {
    db::run(&store.pool, move |conn| {
        let filter = members::MemberFilter { visible: members::Visibility::LinkedTo(id), ..Default::default() };
        members::list(conn, &filter, None, limit).map_err(AppError::from)
    })
    .await
}
