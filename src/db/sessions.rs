//! Staff console sessions: the SHA-256 of each session's cookie value, the account and its token version at sign-in,
//! the session's CSRF token, and when it began and was last used.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::DbConnection;
use super::schema::console_sessions;

/// A session as stored.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = console_sessions)]
pub struct SessionRow {
    pub id_hash: String,
    pub user_id: String,
    pub token_version: i64,
    pub csrf: String,
    pub created_at: NaiveDateTime,
    pub last_seen_at: NaiveDateTime,
}

pub fn insert(conn: &mut DbConnection, row: &SessionRow) -> QueryResult<usize> {
    diesel::insert_into(console_sessions::table).values(row).execute(conn)
}

pub fn find(conn: &mut DbConnection, id_hash: &str) -> QueryResult<Option<SessionRow>> {
    console_sessions::table.find(id_hash).select(SessionRow::as_select()).first(conn).optional()
}

/// Mark the session used at `now`.
pub fn touch(conn: &mut DbConnection, id_hash: &str, now: DateTime<Utc>) -> QueryResult<usize> {
    diesel::update(console_sessions::table.find(id_hash))
        .set(console_sessions::last_seen_at.eq(now.naive_utc()))
        .execute(conn)
}

pub fn delete(conn: &mut DbConnection, id_hash: &str) -> QueryResult<usize> {
    diesel::delete(console_sessions::table.find(id_hash)).execute(conn)
}

/// Forget sessions idle since before `idle_before` or begun before `begun_before`: they can no longer be used.
pub fn purge(conn: &mut DbConnection, idle_before: DateTime<Utc>, begun_before: DateTime<Utc>) -> QueryResult<usize> {
    diesel::delete(
        console_sessions::table.filter(
            console_sessions::last_seen_at
                .lt(idle_before.naive_utc())
                .or(console_sessions::created_at.lt(begun_before.naive_utc())),
        ),
    )
    .execute(conn)
}
