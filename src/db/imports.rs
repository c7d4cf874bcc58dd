//! The log of call imports: one row per import, whether it was stored or failed. A sync from the portal is logged
//! when it starts (`running`, leased to the instance running it) and finished in the transaction that stores its
//! calls.

use chrono::{DateTime, NaiveDateTime, TimeDelta, Utc};
use diesel::prelude::*;

use super::schema::imports;
use super::{DbConnection, db_now};

/// One import as logged.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = imports)]
pub struct ImportRow {
    pub id: String,
    /// `upload` (`POST /v1/projects/import`), `file` (`matchmaker import calls`) or `portal` (the calls sync).
    pub source: String,
    /// Who asked: the staff account's subject, `cli`, or `schedule:DAY`.
    pub requested_by: String,
    pub started_at: NaiveDateTime,
    /// `None` while it runs.
    pub finished_at: Option<NaiveDateTime>,
    /// `running`, `done` or `failed`.
    pub outcome: String,
    /// What a finished import answered (its summary, JSON).
    pub summary: Option<String>,
    /// Why a failed import failed.
    pub error: Option<String>,
    /// Until when a running sync's instance holds it (the database's clock).
    pub lease_until: Option<NaiveDateTime>,
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
            finished_at: Some(finished.naive_utc()),
            outcome: outcome.to_owned(),
            summary,
            error,
            lease_until: None,
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

pub fn find(conn: &mut DbConnection, id: &str) -> QueryResult<Option<ImportRow>> {
    imports::table.find(id).select(ImportRow::as_select()).first(conn).optional()
}

/// Starting a sync: ours, or the one already running (on any instance).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Begin {
    Started(ImportRow),
    Running(ImportRow),
}

const ABANDONED: &str = "abandoned: the instance running it stopped before it finished (nothing of it was stored)";

/// Log a sync from `source` as running, leased for `lease_seconds` by the database's clock, unless one runs already
/// with a live lease. A running one whose lease ran out is marked failed first: its instance died, and since a sync
/// stores all its calls in the transaction that finishes it, nothing of it was stored.
pub fn begin(
    conn: &mut DbConnection,
    source: &str,
    requested_by: &str,
    started: DateTime<Utc>,
    lease_seconds: i64,
) -> QueryResult<Begin> {
    super::write(conn, |conn| {
        let now = db_now(conn)?;
        let running: Vec<ImportRow> = imports::table
            .filter(imports::source.eq(source))
            .filter(imports::outcome.eq("running"))
            .select(ImportRow::as_select())
            .load(conn)?;
        for row in running {
            if row.lease_until.is_some_and(|l| l > now) {
                return Ok(Begin::Running(row));
            }
            diesel::update(imports::table.find(&row.id).filter(imports::outcome.eq("running")))
                .set((
                    imports::outcome.eq("failed"),
                    imports::error.eq(ABANDONED),
                    imports::finished_at.eq(Some(now)),
                    imports::lease_until.eq(None::<NaiveDateTime>),
                ))
                .execute(conn)?;
        }
        let row = ImportRow {
            id: uuid::Uuid::now_v7().to_string(),
            source: source.to_owned(),
            requested_by: requested_by.to_owned(),
            started_at: started.naive_utc(),
            finished_at: None,
            outcome: "running".to_owned(),
            summary: None,
            error: None,
            lease_until: Some(now + TimeDelta::seconds(lease_seconds)),
        };
        match super::savepoint(conn, |conn| insert(conn, &row)) {
            Ok(_) => Ok(Begin::Started(row)),
            Err(e) if super::is_unique_violation(&e) => {
                // Another instance started one between our read and our insert (PostgreSQL; SQLite's writers queue).
                let other = imports::table
                    .filter(imports::source.eq(source))
                    .filter(imports::outcome.eq("running"))
                    .select(ImportRow::as_select())
                    .first(conn)?;
                Ok(Begin::Running(other))
            }
            Err(e) => Err(e),
        }
    })
}

/// Renew a running sync's lease; false when it is no longer running (another instance judged it abandoned).
pub fn renew(conn: &mut DbConnection, id: &str, lease_seconds: i64) -> QueryResult<bool> {
    super::write(conn, |conn| {
        let now = db_now(conn)?;
        let n = diesel::update(imports::table.find(id).filter(imports::outcome.eq("running")))
            .set(imports::lease_until.eq(Some(now + TimeDelta::seconds(lease_seconds))))
            .execute(conn)?;
        Ok(n == 1)
    })
}

/// Finish a running sync with its summary (JSON) or why it failed; false when it was no longer running.
pub fn finish(
    conn: &mut DbConnection,
    id: &str,
    finished: DateTime<Utc>,
    result: Result<String, String>,
) -> QueryResult<bool> {
    let (outcome, summary, error) = match result {
        Ok(summary) => ("done", Some(summary), None),
        Err(error) => ("failed", None, Some(error)),
    };
    let n = diesel::update(imports::table.find(id).filter(imports::outcome.eq("running")))
        .set((
            imports::outcome.eq(outcome),
            imports::summary.eq(summary),
            imports::error.eq(error),
            imports::finished_at.eq(Some(finished.naive_utc())),
            imports::lease_until.eq(None::<NaiveDateTime>),
        ))
        .execute(conn)?;
    Ok(n == 1)
}
