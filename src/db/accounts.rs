//! People's accounts, partner-portal clients, and the links between portals and members.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde_json::{Value, json};
use uuid::Uuid;

use super::DbConnection;
use super::schema::{client_members, clients, users};
use crate::domain::account::{ClientScope, Role, parse_scopes, scope_string};
use crate::domain::member::timestamp;
use crate::domain::parse::ApiEnum;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = users)]
pub struct UserRow {
    pub id: String,
    pub email: String,
    pub password_hash: String,
    pub role: String,
    pub member_id: Option<String>,
    pub disabled: bool,
    pub must_change_password: bool,
    pub token_version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// A person's account as the service uses it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: Uuid,
    pub email: String,
    pub role: Role,
    pub member_id: Option<Uuid>,
    pub disabled: bool,
    pub must_change_password: bool,
    pub token_version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

fn corrupt(what: &str) -> diesel::result::Error {
    diesel::result::Error::DeserializationError(format!("stored {what} is not valid").into())
}

impl TryFrom<&UserRow> for User {
    type Error = diesel::result::Error;

    fn try_from(r: &UserRow) -> QueryResult<Self> {
        Ok(Self {
            id: Uuid::parse_str(&r.id).map_err(|_| corrupt("user id"))?,
            email: r.email.clone(),
            role: Role::from_name(&r.role).ok_or_else(|| corrupt("role"))?,
            member_id: r.member_id.as_deref().map(Uuid::parse_str).transpose().map_err(|_| corrupt("member id"))?,
            disabled: r.disabled,
            must_change_password: r.must_change_password,
            token_version: r.token_version,
            created_at: r.created_at.and_utc(),
            updated_at: r.updated_at.and_utc(),
        })
    }
}

impl User {
    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "email": self.email,
            "role": self.role,
            "member_id": self.member_id,
            "disabled": self.disabled,
            "must_change_password": self.must_change_password,
            "created_at": timestamp(self.created_at),
            "updated_at": timestamp(self.updated_at),
        })
    }
}

/// E-mail addresses are compared case-insensitively.
pub fn normalise_email(email: &str) -> String {
    email.trim().to_lowercase()
}

pub fn count_users(conn: &mut DbConnection) -> QueryResult<i64> {
    users::table.count().get_result(conn)
}

pub fn insert_user(
    conn: &mut DbConnection,
    email: &str,
    password_hash: &str,
    role: Role,
    member_id: Option<Uuid>,
    must_change_password: bool,
    now: DateTime<Utc>,
) -> QueryResult<User> {
    let row = UserRow {
        id: Uuid::now_v7().to_string(),
        email: normalise_email(email),
        password_hash: password_hash.to_owned(),
        role: role.as_str().to_owned(),
        member_id: member_id.map(|m| m.to_string()),
        disabled: false,
        must_change_password,
        token_version: 1,
        created_at: now.naive_utc(),
        updated_at: now.naive_utc(),
    };
    diesel::insert_into(users::table).values(&row).execute(conn)?;
    User::try_from(&row)
}

pub fn find_user(conn: &mut DbConnection, id: Uuid) -> QueryResult<Option<User>> {
    let row: Option<UserRow> = users::table.find(id.to_string()).select(UserRow::as_select()).first(conn).optional()?;
    row.as_ref().map(User::try_from).transpose()
}

/// The account and its password hash, by e-mail.
pub fn find_user_by_email(conn: &mut DbConnection, email: &str) -> QueryResult<Option<(User, String)>> {
    let row: Option<UserRow> = users::table
        .filter(users::email.eq(normalise_email(email)))
        .select(UserRow::as_select())
        .first(conn)
        .optional()?;
    row.map(|r| User::try_from(&r).map(|u| (u, r.password_hash))).transpose()
}

pub fn password_hash(conn: &mut DbConnection, id: Uuid) -> QueryResult<Option<String>> {
    users::table.find(id.to_string()).select(users::password_hash).first(conn).optional()
}

pub fn list_users(
    conn: &mut DbConnection,
    role: Option<Role>,
    after: Option<Uuid>,
    limit: i64,
) -> QueryResult<Vec<User>> {
    let mut q = users::table.select(UserRow::as_select()).into_boxed();
    if let Some(role) = role {
        q = q.filter(users::role.eq(role.as_str()));
    }
    if let Some(after) = after {
        q = q.filter(users::id.gt(after.to_string()));
    }
    let rows: Vec<UserRow> = q.order(users::id.asc()).limit(limit).load(conn)?;
    rows.iter().map(User::try_from).collect()
}

/// The accounts tied to `member`.
pub fn users_of_member(conn: &mut DbConnection, member: Uuid) -> QueryResult<Vec<User>> {
    let rows: Vec<UserRow> = users::table
        .filter(users::member_id.eq(member.to_string()))
        .order(users::id.asc())
        .select(UserRow::as_select())
        .load(conn)?;
    rows.iter().map(User::try_from).collect()
}

/// Change role, member and disabled flag. A change of role or member, or disabling, ends the account's tokens.
pub fn update_user(
    conn: &mut DbConnection,
    user: &User,
    role: Role,
    member_id: Option<Uuid>,
    disabled: bool,
    now: DateTime<Utc>,
) -> QueryResult<User> {
    let revoke = role != user.role || member_id != user.member_id || (disabled && !user.disabled);
    let version = if revoke { user.token_version + 1 } else { user.token_version };
    diesel::update(users::table.find(user.id.to_string()))
        .set((
            users::role.eq(role.as_str()),
            users::member_id.eq(member_id.map(|m| m.to_string())),
            users::disabled.eq(disabled),
            users::token_version.eq(version),
            users::updated_at.eq(now.naive_utc()),
        ))
        .execute(conn)?;
    Ok(User { role, member_id, disabled, token_version: version, updated_at: now, ..user.clone() })
}

/// Store a new password hash; every earlier token of the account stops working.
pub fn set_password(
    conn: &mut DbConnection,
    id: Uuid,
    password_hash: &str,
    must_change: bool,
    now: DateTime<Utc>,
) -> QueryResult<usize> {
    diesel::update(users::table.find(id.to_string()))
        .set((
            users::password_hash.eq(password_hash),
            users::must_change_password.eq(must_change),
            users::token_version.eq(users::token_version + 1),
            users::updated_at.eq(now.naive_utc()),
        ))
        .execute(conn)
}

/// Sign out everywhere: tokens issued so far stop working.
pub fn revoke_user_tokens(conn: &mut DbConnection, id: Uuid) -> QueryResult<usize> {
    diesel::update(users::table.find(id.to_string()))
        .set(users::token_version.eq(users::token_version + 1))
        .execute(conn)
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = clients)]
pub struct ClientRow {
    pub client_id: String,
    pub name: String,
    pub secret_hash: String,
    pub scopes: String,
    pub disabled: bool,
    pub token_version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// A partner portal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Client {
    pub client_id: String,
    pub name: String,
    pub scopes: Vec<ClientScope>,
    pub disabled: bool,
    pub token_version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl TryFrom<&ClientRow> for Client {
    type Error = diesel::result::Error;

    fn try_from(r: &ClientRow) -> QueryResult<Self> {
        Ok(Self {
            client_id: r.client_id.clone(),
            name: r.name.clone(),
            scopes: parse_scopes(&r.scopes).ok_or_else(|| corrupt("scopes"))?,
            disabled: r.disabled,
            token_version: r.token_version,
            created_at: r.created_at.and_utc(),
            updated_at: r.updated_at.and_utc(),
        })
    }
}

impl Client {
    pub fn to_json(&self, members: &[Uuid]) -> Value {
        json!({
            "client_id": self.client_id,
            "name": self.name,
            "scopes": self.scopes,
            "disabled": self.disabled,
            "members": members,
            "created_at": timestamp(self.created_at),
            "updated_at": timestamp(self.updated_at),
        })
    }
}

pub fn new_client_id() -> String {
    format!("mmc_{}", Uuid::now_v7().simple())
}

/// Whether `id` has the shape [`new_client_id`] gives (`mmc_` and 32 lowercase hex digits).
pub fn is_client_id(id: &str) -> bool {
    id.strip_prefix("mmc_")
        .is_some_and(|hex| hex.len() == 32 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
}

pub fn insert_client(
    conn: &mut DbConnection,
    client_id: &str,
    name: &str,
    scopes: &[ClientScope],
    secret_hash: &str,
    now: DateTime<Utc>,
) -> QueryResult<Client> {
    let row = ClientRow {
        client_id: client_id.to_owned(),
        name: name.to_owned(),
        secret_hash: secret_hash.to_owned(),
        scopes: scope_string(scopes),
        disabled: false,
        token_version: 1,
        created_at: now.naive_utc(),
        updated_at: now.naive_utc(),
    };
    diesel::insert_into(clients::table).values(&row).execute(conn)?;
    Client::try_from(&row)
}

/// The client and its secret hash.
pub fn find_client(conn: &mut DbConnection, client_id: &str) -> QueryResult<Option<(Client, String)>> {
    let row: Option<ClientRow> =
        clients::table.find(client_id).select(ClientRow::as_select()).first(conn).optional()?;
    row.map(|r| Client::try_from(&r).map(|c| (c, r.secret_hash))).transpose()
}

pub fn list_clients(conn: &mut DbConnection, after: Option<&str>, limit: i64) -> QueryResult<Vec<Client>> {
    let mut q = clients::table.select(ClientRow::as_select()).into_boxed();
    if let Some(after) = after {
        q = q.filter(clients::client_id.gt(after.to_owned()));
    }
    let rows: Vec<ClientRow> = q.order(clients::client_id.asc()).limit(limit).load(conn)?;
    rows.iter().map(Client::try_from).collect()
}

/// Change name, scopes and disabled flag; fewer scopes or disabling ends the client's tokens.
pub fn update_client(
    conn: &mut DbConnection,
    client: &Client,
    name: &str,
    scopes: &[ClientScope],
    disabled: bool,
    now: DateTime<Utc>,
) -> QueryResult<Client> {
    let narrowed = client.scopes.iter().any(|s| !scopes.contains(s));
    let revoke = narrowed || (disabled && !client.disabled);
    let version = if revoke { client.token_version + 1 } else { client.token_version };
    diesel::update(clients::table.find(&client.client_id))
        .set((
            clients::name.eq(name),
            clients::scopes.eq(scope_string(scopes)),
            clients::disabled.eq(disabled),
            clients::token_version.eq(version),
            clients::updated_at.eq(now.naive_utc()),
        ))
        .execute(conn)?;
    Ok(Client {
        name: name.to_owned(),
        scopes: scopes.to_vec(),
        disabled,
        token_version: version,
        updated_at: now,
        ..client.clone()
    })
}

/// Replace the secret; tokens issued with the old one stop working.
pub fn set_client_secret(
    conn: &mut DbConnection,
    client_id: &str,
    secret_hash: &str,
    now: DateTime<Utc>,
) -> QueryResult<usize> {
    diesel::update(clients::table.find(client_id))
        .set((
            clients::secret_hash.eq(secret_hash),
            clients::token_version.eq(clients::token_version + 1),
            clients::updated_at.eq(now.naive_utc()),
        ))
        .execute(conn)
}

pub fn revoke_client_tokens(conn: &mut DbConnection, client_id: &str) -> QueryResult<usize> {
    diesel::update(clients::table.find(client_id))
        .set(clients::token_version.eq(clients::token_version + 1))
        .execute(conn)
}

/// Members linked to a portal.
pub fn client_member_ids(conn: &mut DbConnection, client_id: &str) -> QueryResult<Vec<Uuid>> {
    let ids: Vec<String> = client_members::table
        .filter(client_members::client_id.eq(client_id))
        .order(client_members::member_id.asc())
        .select(client_members::member_id)
        .load(conn)?;
    ids.iter().map(|s| Uuid::parse_str(s).map_err(|_| corrupt("member id"))).collect()
}

pub fn is_linked(conn: &mut DbConnection, client_id: &str, member_id: Uuid) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        client_members::table
            .filter(client_members::client_id.eq(client_id))
            .filter(client_members::member_id.eq(member_id.to_string())),
    ))
    .get_result(conn)
}

/// Link a portal to a member; `false` when it already was.
pub fn link(conn: &mut DbConnection, client_id: &str, member_id: Uuid, now: DateTime<Utc>) -> QueryResult<bool> {
    if is_linked(conn, client_id, member_id)? {
        return Ok(false);
    }
    diesel::insert_into(client_members::table)
        .values((
            client_members::client_id.eq(client_id),
            client_members::member_id.eq(member_id.to_string()),
            client_members::created_at.eq(now.naive_utc()),
        ))
        .execute(conn)?;
    Ok(true)
}

/// Unlink; `false` when there was no link.
pub fn unlink(conn: &mut DbConnection, client_id: &str, member_id: Uuid) -> QueryResult<bool> {
    let n = diesel::delete(
        client_members::table
            .filter(client_members::client_id.eq(client_id))
            .filter(client_members::member_id.eq(member_id.to_string())),
    )
    .execute(conn)?;
    Ok(n > 0)
}

/// The portals linked to a member, with when they were linked.
pub fn member_portals(conn: &mut DbConnection, member_id: Uuid) -> QueryResult<Vec<(Client, DateTime<Utc>)>> {
    let rows: Vec<(ClientRow, NaiveDateTime)> = client_members::table
        .inner_join(clients::table)
        .filter(client_members::member_id.eq(member_id.to_string()))
        .order(clients::client_id.asc())
        .select((ClientRow::as_select(), client_members::created_at))
        .load(conn)?;
    rows.iter().map(|(r, at)| Client::try_from(r).map(|c| (c, at.and_utc()))).collect()
}
