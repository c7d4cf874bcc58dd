//! The change log other instances poll to keep their matching index current.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use super::DbConnection;
use super::schema::{change_counter, changes};

/// What changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entity {
    Member,
    Project,
    Vocabulary,
    /// An account or a client (its id is the token subject, `user:<id>` or `client:<id>`): instances drop what they
    /// cached of it.
    Account,
}

impl Entity {
    fn as_str(self) -> &'static str {
        match self {
            Self::Member => "member",
            Self::Project => "project",
            Self::Vocabulary => "vocabulary",
            Self::Account => "account",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        match s {
            "member" => Some(Self::Member),
            "project" => Some(Self::Project),
            "vocabulary" => Some(Self::Vocabulary),
            "account" => Some(Self::Account),
            _ => None,
        }
    }
}

/// Record a change inside the writing transaction. The number comes from the one-row counter, whose row lock makes
/// writers take numbers in commit order.
pub fn record(conn: &mut DbConnection, entity: Entity, id: &str, now: DateTime<Utc>) -> QueryResult<i64> {
    diesel::update(change_counter::table.find(1)).set(change_counter::seq.eq(change_counter::seq + 1)).execute(conn)?;
    let seq: i64 = change_counter::table.find(1).select(change_counter::seq).first(conn)?;
    diesel::insert_into(changes::table)
        .values((
            changes::seq.eq(seq),
            changes::entity.eq(entity.as_str()),
            changes::entity_id.eq(id),
            changes::at.eq(now.naive_utc()),
        ))
        .execute(conn)?;
    Ok(seq)
}

/// The latest number handed out.
pub fn current(conn: &mut DbConnection) -> QueryResult<i64> {
    change_counter::table.find(1).select(change_counter::seq).first(conn)
}

/// Changes after `seq`, oldest first, at most `limit`.
pub fn since(conn: &mut DbConnection, seq: i64, limit: i64) -> QueryResult<Vec<(i64, Entity, String)>> {
    let rows: Vec<(i64, String, String)> = changes::table
        .filter(changes::seq.gt(seq))
        .order(changes::seq.asc())
        .limit(limit)
        .select((changes::seq, changes::entity, changes::entity_id))
        .load(conn)?;
    Ok(rows.into_iter().filter_map(|(s, e, id)| Entity::parse(&e).map(|e| (s, e, id))).collect())
}

/// Forget changes older than `before` (every instance has long since read them).
pub fn prune(conn: &mut DbConnection, before: DateTime<Utc>) -> QueryResult<usize> {
    diesel::delete(changes::table.filter(changes::at.lt(before.naive_utc()))).execute(conn)
}
