//! Stored answers for POSTs retried with the same `Idempotency-Key`, per caller.

use chrono::{DateTime, NaiveDateTime, TimeDelta, Utc};
use diesel::prelude::*;

use super::DbConnection;
use super::schema::idempotency_keys;

/// How long a key is remembered.
pub const RETENTION: TimeDelta = TimeDelta::hours(24);

/// The first answer given for a key.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = idempotency_keys)]
pub struct StoredResponse {
    pub owner: String,
    pub key: String,
    pub request_hash: String,
    pub status: i32,
    pub body: String,
    pub location: Option<String>,
    pub etag: Option<String>,
    pub created_at: NaiveDateTime,
}

/// The stored answer for `(owner, key)`, if it is still within [`RETENTION`].
pub fn find(
    conn: &mut DbConnection,
    owner: &str,
    key: &str,
    now: DateTime<Utc>,
) -> QueryResult<Option<StoredResponse>> {
    idempotency_keys::table
        .find((owner, key))
        .filter(idempotency_keys::created_at.gt((now - RETENTION).naive_utc()))
        .select(StoredResponse::as_select())
        .first(conn)
        .optional()
}

/// Remember an answer. Expired keys of the same owner are dropped first, so a key can be reused after
/// [`RETENTION`]. Fails with a unique violation when another request stored the same key first.
pub fn insert(conn: &mut DbConnection, response: &StoredResponse, now: DateTime<Utc>) -> QueryResult<()> {
    diesel::delete(
        idempotency_keys::table
            .filter(idempotency_keys::owner.eq(&response.owner))
            .filter(idempotency_keys::created_at.le((now - RETENTION).naive_utc())),
    )
    .execute(conn)?;
    diesel::insert_into(idempotency_keys::table).values(response).execute(conn)?;
    Ok(())
}
