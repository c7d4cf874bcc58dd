//! The log of call imports: one row per import, whether it was stored or failed.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::DbConnection;
use super::schema::imports;

/// One import as logged.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = imports)]
pub struct ImportRow {
    pub id: String,
    /// `upload` (`POST /v1/projects/import`) or `file` (`matchmaker import calls`).
    pub source: String,
    /// Who asked: the staff account's subject, or `cli`.
    pub requested_by: String,
    pub started_at: NaiveDateTime,
    pub finished_at: NaiveDateTime,
    /// `done` or `failed`.
    pub outcome: String,
    /// What a finished import answered (its summary, JSON).
    pub summary: Option<String>,
    /// Why a failed import failed.
    pub error: Option<String>,
}

impl ImportRow {
    /// An import that ran from `started` to `finished`, with its summary (JSON) or the error that stopped it.
    pub fn new(
        source: &str,
        requested_by: &str,
        (started, finished): (DateTime<Utc>, DateTime<Utc>),
        result: Result<String, String>,
    ) -> Self {
        let (outcome, summary, error) = match result {
            Ok(summary) => ("done", Some(summary), None),
            Err(error) => ("failed", None, Some(error)),
        };
        Self {
            id: uuid::Uuid::now_v7().to_string(),
            source: source.to_owned(),
            requested_by: requested_by.to_owned(),
            started_at: started.naive_utc(),
            finished_at: finished.naive_utc(),
            outcome: outcome.to_owned(),
            summary,
            error,
        }
    }
}

pub fn insert(conn: &mut DbConnection, row: &ImportRow) -> QueryResult<usize> {
    diesel::insert_into(imports::table).values(row).execute(conn)
}

/// Newest first; `offset` and `limit` (+1 to tell whether more follow).
pub fn list(conn: &mut DbConnection, offset: i64, limit: i64) -> QueryResult<Vec<ImportRow>> {
    imports::table
        .select(ImportRow::as_select())
        .order((imports::started_at.desc(), imports::id.desc()))
        .offset(offset)
        .limit(limit + 1)
        .load(conn)
}
