//! `job_runs`: one row per scheduled job and period (an ISO week, or one manual run), owned by the instance holding
//! its lease. Leases are renewed by heartbeat and judged by the database's clock; no advisory locks, which a pooled
//! connection would keep after the job ended.

use chrono::{NaiveDateTime, TimeDelta};
use diesel::prelude::*;

use super::schema::job_runs;
use super::{DbConnection, db_now};
use crate::api_enum;
use crate::domain::parse::ApiEnum as _;

api_enum!(
    /// Where a job's period is: being worked on (by the lease's owner), finished, or abandoned after its week ended.
    JobState { Running => "running", Done => "done", Lapsed => "lapsed" }
);

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = job_runs)]
pub struct JobRun {
    pub job: String,
    pub period: String,
    pub owner: String,
    pub lease_until: NaiveDateTime,
    pub state: String,
    pub started_at: NaiveDateTime,
    pub heartbeat_at: NaiveDateTime,
    pub finished_at: Option<NaiveDateTime>,
}

/// The outcome of trying to claim a period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// Nobody had started it: it is ours.
    Started,
    /// Its owner's lease ran out with work left: it is ours now.
    TookOver { from: String },
    /// Another instance holds a live lease.
    Busy { owner: String },
    /// Finished already.
    Done,
}

fn lease(seconds: i64) -> TimeDelta {
    TimeDelta::seconds(seconds)
}

/// Claim `(job, period)` for `owner`. With `reopen`, a finished period is claimed again (a manual re-run).
pub fn claim(
    conn: &mut DbConnection,
    job: &str,
    period: &str,
    owner: &str,
    lease_seconds: i64,
    reopen: bool,
) -> QueryResult<Claim> {
    super::write(conn, |conn| {
        let now = db_now(conn)?;
        let existing: Option<JobRun> =
            job_runs::table.find((job, period)).select(JobRun::as_select()).first(conn).optional()?;
        let Some(run) = existing else {
            let row = JobRun {
                job: job.to_owned(),
                period: period.to_owned(),
                owner: owner.to_owned(),
                lease_until: now + lease(lease_seconds),
                state: JobState::Running.as_str().to_owned(),
                started_at: now,
                heartbeat_at: now,
                finished_at: None,
            };
            let inserted =
                super::savepoint(conn, |conn| diesel::insert_into(job_runs::table).values(&row).execute(conn));
            return match inserted {
                Ok(_) => Ok(Claim::Started),
                Err(e) if super::is_unique_violation(&e) => Ok(Claim::Busy { owner: "another instance".to_owned() }),
                Err(e) => Err(e),
            };
        };
        if run.state == JobState::Done.as_str() && !reopen {
            return Ok(Claim::Done);
        }
        if run.state != JobState::Done.as_str() && run.lease_until > now && run.owner != owner {
            return Ok(Claim::Busy { owner: run.owner });
        }
        let taken = diesel::update(
            job_runs::table
                .find((job, period))
                .filter(job_runs::owner.eq(&run.owner))
                .filter(job_runs::lease_until.eq(run.lease_until)),
        )
        .set((
            job_runs::owner.eq(owner),
            job_runs::lease_until.eq(now + lease(lease_seconds)),
            job_runs::state.eq(JobState::Running.as_str()),
            job_runs::heartbeat_at.eq(now),
            job_runs::finished_at.eq(None::<NaiveDateTime>),
        ))
        .execute(conn)?;
        Ok(if taken == 0 {
            Claim::Busy { owner: "another instance".to_owned() }
        } else {
            Claim::TookOver { from: run.owner }
        })
    })
}

/// Renew the lease; false when it is no longer ours (it ran out and another instance took the period over).
pub fn heartbeat(
    conn: &mut DbConnection,
    job: &str,
    period: &str,
    owner: &str,
    lease_seconds: i64,
) -> QueryResult<bool> {
    super::write(conn, |conn| {
        let now = db_now(conn)?;
        let n = diesel::update(
            job_runs::table
                .find((job, period))
                .filter(job_runs::owner.eq(owner))
                .filter(job_runs::state.eq(JobState::Running.as_str()))
                .filter(job_runs::lease_until.ge(now)),
        )
        .set((job_runs::lease_until.eq(now + lease(lease_seconds)), job_runs::heartbeat_at.eq(now)))
        .execute(conn)?;
        Ok(n > 0)
    })
}

/// The period's work is complete.
pub fn finish(conn: &mut DbConnection, job: &str, period: &str, owner: &str) -> QueryResult<bool> {
    super::write(conn, |conn| {
        let now = db_now(conn)?;
        let n = diesel::update(job_runs::table.find((job, period)).filter(job_runs::owner.eq(owner)))
            .set((
                job_runs::state.eq(JobState::Done.as_str()),
                job_runs::finished_at.eq(Some(now)),
                job_runs::lease_until.eq(now),
            ))
            .execute(conn)?;
        Ok(n > 0)
    })
}

/// Give the lease up with work left (another try later may finish it): it runs out now.
pub fn release(conn: &mut DbConnection, job: &str, period: &str, owner: &str) -> QueryResult<()> {
    super::write(conn, |conn| {
        let now = db_now(conn)?;
        diesel::update(job_runs::table.find((job, period)).filter(job_runs::owner.eq(owner)))
            .set(job_runs::lease_until.eq(now))
            .execute(conn)?;
        Ok(())
    })
}

/// Periods left running whose lease ran out: their owner died or gave up with work left.
pub fn abandoned(conn: &mut DbConnection) -> QueryResult<Vec<JobRun>> {
    let now = db_now(conn)?;
    job_runs::table
        .filter(job_runs::state.eq(JobState::Running.as_str()))
        .filter(job_runs::lease_until.lt(now))
        .select(JobRun::as_select())
        .load(conn)
}

pub fn find(conn: &mut DbConnection, job: &str, period: &str) -> QueryResult<Option<JobRun>> {
    job_runs::table.find((job, period)).select(JobRun::as_select()).first(conn).optional()
}

/// Whether a period of `job` is unfinished (worked on, or waiting to be resumed).
pub fn unfinished(conn: &mut DbConnection, job: &str) -> QueryResult<bool> {
    let n: i64 = job_runs::table
        .filter(job_runs::job.eq(job))
        .filter(job_runs::state.eq(JobState::Running.as_str()))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

/// An abandoned period that will not be resumed any more (its week is over): `lapsed`.
pub fn lapse(conn: &mut DbConnection, job: &str, period: &str) -> QueryResult<()> {
    super::write(conn, |conn| {
        let now = db_now(conn)?;
        diesel::update(
            job_runs::table
                .find((job, period))
                .filter(job_runs::state.eq(JobState::Running.as_str()))
                .filter(job_runs::lease_until.lt(now)),
        )
        .set((job_runs::state.eq(JobState::Lapsed.as_str()), job_runs::finished_at.eq(Some(now))))
        .execute(conn)?;
        Ok(())
    })
}
