//! Matching runs in the database: each run's progress and counts, and how it ended.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::schema::matching_runs;
use super::{DbConnection, QueryError};
use crate::domain::parse::ApiEnum;
use crate::domain::suggestion::{Counts, MatchingRun, RunStatus};

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

/// A stored run as the domain knows it: a status this service does not know is refused.
impl TryFrom<RunRow> for MatchingRun {
    type Error = QueryError;

    fn try_from(row: RunRow) -> QueryResult<Self> {
        let status = RunStatus::from_name(&row.status).ok_or_else(|| {
            QueryError::DeserializationError(format!("stored run status `{}` is not valid", row.status).into())
        })?;
        Ok(Self {
            id: row.id,
            status,
            requested_by: row.requested_by,
            counts: Counts {
                members_total: row.members_total,
                members_done: row.members_done,
                created: row.created,
                kept: row.kept,
                held_back: row.held_back,
            },
            error: row.error,
            created_at: row.created_at.and_utc(),
            finished_at: row.finished_at.map(|t| t.and_utc()),
        })
    }
}

/// A new run, queued.
pub fn insert(conn: &mut DbConnection, id: &str, requested_by: &str, now: DateTime<Utc>) -> QueryResult<MatchingRun> {
    let row = RunRow {
        id: id.to_owned(),
        status: RunStatus::Queued.as_str().to_owned(),
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
    find(conn, id)?.ok_or(QueryError::NotFound)
}

pub fn find(conn: &mut DbConnection, id: &str) -> QueryResult<Option<MatchingRun>> {
    matching_runs::table
        .find(id)
        .select(RunRow::as_select())
        .first(conn)
        .optional()?
        .map(MatchingRun::try_from)
        .transpose()
}

/// Record a run's progress: its status and counts, and when it finished.
pub fn update(
    conn: &mut DbConnection,
    id: &str,
    status: RunStatus,
    c: Counts,
    finished: Option<DateTime<Utc>>,
) -> QueryResult<()> {
    diesel::update(matching_runs::table.find(id))
        .set((
            matching_runs::status.eq(status.as_str()),
            matching_runs::members_total.eq(c.members_total),
            matching_runs::members_done.eq(c.members_done),
            matching_runs::created.eq(c.created),
            matching_runs::kept.eq(c.kept),
            matching_runs::held_back.eq(c.held_back),
            matching_runs::error.eq(None::<String>),
            matching_runs::finished_at.eq(finished.map(|t| t.naive_utc())),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn find_by_requester(conn: &mut DbConnection, requested_by: &str) -> QueryResult<Option<MatchingRun>> {
    matching_runs::table
        .filter(matching_runs::requested_by.eq(requested_by))
        .select(RunRow::as_select())
        .first(conn)
        .optional()?
        .map(MatchingRun::try_from)
        .transpose()
}

/// The run stopped on an error.
pub fn fail(conn: &mut DbConnection, id: &str, error: &str, now: DateTime<Utc>) -> QueryResult<()> {
    diesel::update(matching_runs::table.find(id))
        .set((
            matching_runs::status.eq(RunStatus::Failed.as_str()),
            matching_runs::error.eq(Some(error.to_owned())),
            matching_runs::finished_at.eq(Some(now.naive_utc())),
        ))
        .execute(conn)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(status: &str) -> RunRow {
        let at = DateTime::parse_from_rfc3339("2026-11-27T08:00:00Z").unwrap().naive_utc();
        RunRow {
            id: "r".to_owned(),
            status: status.to_owned(),
            requested_by: "user:x".to_owned(),
            members_total: 3,
            members_done: 2,
            created: 1,
            kept: 1,
            held_back: 0,
            error: None,
            created_at: at,
            finished_at: None,
        }
    }

    #[test]
    fn stored_runs_read_typed_and_unknown_statuses_are_refused() {
        for status in RunStatus::ALL {
            let run = MatchingRun::try_from(row(status.as_str())).unwrap();
            assert_eq!(run.status, *status);
            assert_eq!(run.counts.members_done, 2);
        }
        let refused = MatchingRun::try_from(row("paused")).unwrap_err();
        assert!(refused.to_string().contains("`paused`"), "{refused}");
        assert!(MatchingRun::try_from(row("")).is_err());
    }
}
