//! Matching runs in the database: each run's progress and counts, and how it ended.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::schema::matching_runs;
use super::{DbConnection, DbError};

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = matching_runs)]
pub struct RunRow {
    pub id: String,
    pub status: String,
    pub requested_by: String,
    pub members_total: i32,
    pub members_done: i32,
    pub created: i32,
    pub kept: i32,
    pub held_back: i32,
    pub error: Option<String>,
    pub created_at: NaiveDateTime,
    pub finished_at: Option<NaiveDateTime>,
}

pub fn insert(conn: &mut DbConnection, id: &str, requested_by: &str, now: DateTime<Utc>) -> QueryResult<RunRow> {
    let row = RunRow {
        id: id.to_owned(),
        status: "queued".to_owned(),
        requested_by: requested_by.to_owned(),
        members_total: 0,
        members_done: 0,
        created: 0,
        kept: 0,
        held_back: 0,
        error: None,
        created_at: now.naive_utc(),
        finished_at: None,
    };
    diesel::insert_into(matching_runs::table).values(&row).execute(conn)?;
    find(conn, id)?.ok_or(diesel::result::Error::NotFound)
}

pub fn find(conn: &mut DbConnection, id: &str) -> QueryResult<Option<RunRow>> {
    matching_runs::table.find(id).select(RunRow::as_select()).first(conn).optional()
}

/// Progress of a run so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub members_total: i32,
    pub members_done: i32,
    pub created: i32,
    pub kept: i32,
    pub held_back: i32,
}

pub fn update(
    conn: &mut DbConnection,
    id: &str,
    status: &str,
    c: Counts,
    error: Option<String>,
    finished: Option<DateTime<Utc>>,
) -> Result<(), DbError> {
    diesel::update(matching_runs::table.find(id))
        .set((
            matching_runs::status.eq(status),
            matching_runs::members_total.eq(c.members_total),
            matching_runs::members_done.eq(c.members_done),
            matching_runs::created.eq(c.created),
            matching_runs::kept.eq(c.kept),
            matching_runs::held_back.eq(c.held_back),
            matching_runs::error.eq(error),
            matching_runs::finished_at.eq(finished.map(|t| t.naive_utc())),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn find_by_requester(conn: &mut DbConnection, requested_by: &str) -> QueryResult<Option<RunRow>> {
    matching_runs::table
        .filter(matching_runs::requested_by.eq(requested_by))
        .select(RunRow::as_select())
        .first(conn)
        .optional()
}

pub fn fail(conn: &mut DbConnection, id: &str, error: &str, now: DateTime<Utc>) -> QueryResult<()> {
    diesel::update(matching_runs::table.find(id))
        .set((
            matching_runs::status.eq("failed"),
            matching_runs::error.eq(Some(error.to_owned())),
            matching_runs::finished_at.eq(Some(now.naive_utc())),
        ))
        .execute(conn)?;
    Ok(())
}
