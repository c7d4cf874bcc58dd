//! Introductions in the database, and the guarded updates that move one along (each changes a row only from the
//! status it expects, so two answers or two staff members racing cannot both win).

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use super::schema::introductions;
use super::{DbConnection, QueryError};
use crate::domain::introduction::{Introduction, IntroductionStatus};
use crate::domain::parse::ApiEnum;

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = introductions)]
pub struct IntroductionRow {
    pub id: String,
    pub suggestion_id: String,
    pub member_id: String,
    pub counterpart_id: Option<String>,
    pub status: String,
    pub note: Option<String>,
    pub requested_by: String,
    pub requested_at: NaiveDateTime,
    pub consent_until: Option<NaiveDateTime>,
    pub answered_at: Option<NaiveDateTime>,
    pub done_by: Option<String>,
    pub done_at: Option<NaiveDateTime>,
    pub staff_note: Option<String>,
    pub version: i64,
    pub updated_at: NaiveDateTime,
}

impl TryFrom<IntroductionRow> for Introduction {
    type Error = QueryError;

    fn try_from(row: IntroductionRow) -> QueryResult<Self> {
        let corrupt = |what: &str, value: &str| {
            QueryError::DeserializationError(format!("stored introduction {what} `{value}` is not valid").into())
        };
        let uuid = |what: &str, value: &str| Uuid::parse_str(value).map_err(|_| corrupt(what, value));
        Ok(Self {
            id: uuid("id", &row.id)?,
            member: uuid("member_id", &row.member_id)?,
            counterpart: row.counterpart_id.as_deref().map(|c| uuid("counterpart_id", c)).transpose()?,
            status: IntroductionStatus::from_name(&row.status).ok_or_else(|| corrupt("status", &row.status))?,
            suggestion: row.suggestion_id,
            note: row.note,
            requested_by: row.requested_by,
            requested_at: row.requested_at.and_utc(),
            consent_until: row.consent_until.map(|t| t.and_utc()),
            answered_at: row.answered_at.map(|t| t.and_utc()),
            done_by: row.done_by,
            done_at: row.done_at.map(|t| t.and_utc()),
            staff_note: row.staff_note,
            version: row.version,
            updated_at: row.updated_at.and_utc(),
        })
    }
}

pub fn insert(conn: &mut DbConnection, row: &IntroductionRow) -> QueryResult<()> {
    diesel::insert_into(introductions::table).values(row).execute(conn)?;
    Ok(())
}

pub fn find(conn: &mut DbConnection, id: &str) -> QueryResult<Option<Introduction>> {
    introductions::table
        .find(id)
        .select(IntroductionRow::as_select())
        .first(conn)
        .optional()?
        .map(Introduction::try_from)
        .transpose()
}

/// The introduction asked for from a suggestion, if any (one per suggestion).
pub fn of_suggestion(conn: &mut DbConnection, suggestion: &str) -> QueryResult<Option<Introduction>> {
    introductions::table
        .filter(introductions::suggestion_id.eq(suggestion))
        .select(IntroductionRow::as_select())
        .first(conn)
        .optional()?
        .map(Introduction::try_from)
        .transpose()
}

/// The introductions `member` asked for or was asked about, oldest first.
pub fn of_member(conn: &mut DbConnection, member: Uuid) -> QueryResult<Vec<Introduction>> {
    let id = member.to_string();
    introductions::table
        .filter(introductions::member_id.eq(&id).or(introductions::counterpart_id.eq(&id)))
        .order((introductions::requested_at.asc(), introductions::id.asc()))
        .select(IntroductionRow::as_select())
        .load(conn)?
        .into_iter()
        .map(Introduction::try_from)
        .collect()
}

/// Introductions with `status` (any when `None`), oldest request first; `offset` and `limit` (+1 to tell whether
/// more follow).
pub fn list(
    conn: &mut DbConnection,
    status: Option<IntroductionStatus>,
    offset: i64,
    limit: i64,
) -> QueryResult<Vec<Introduction>> {
    let mut q = introductions::table.select(IntroductionRow::as_select()).into_boxed();
    if let Some(s) = status {
        q = q.filter(introductions::status.eq(s.as_str()));
    }
    q.order((introductions::requested_at.asc(), introductions::id.asc()))
        .offset(offset)
        .limit(limit + 1)
        .load(conn)?
        .into_iter()
        .map(Introduction::try_from)
        .collect()
}

/// The other side's answer: `requested` (consent) or `declined`, only while it is asked and its link is alive.
/// Whether it changed.
pub fn answer(conn: &mut DbConnection, id: &str, consent: bool, now: DateTime<Utc>) -> QueryResult<bool> {
    let to = if consent { IntroductionStatus::Requested } else { IntroductionStatus::Declined };
    let changed = diesel::update(
        introductions::table
            .filter(introductions::id.eq(id))
            .filter(introductions::status.eq(IntroductionStatus::AwaitingConsent.as_str()))
            .filter(introductions::consent_until.gt(now.naive_utc())),
    )
    .set((
        introductions::status.eq(to.as_str()),
        introductions::answered_at.eq(now.naive_utc()),
        introductions::version.eq(introductions::version + 1),
        introductions::updated_at.eq(now.naive_utc()),
    ))
    .execute(conn)?;
    Ok(changed == 1)
}

/// Ask the other side again after its link lapsed: a new link lifetime, the member's new note. Whether it changed.
pub fn renew(
    conn: &mut DbConnection,
    id: &str,
    consent_until: DateTime<Utc>,
    note: Option<&str>,
    actor: &str,
    now: DateTime<Utc>,
) -> QueryResult<bool> {
    let changed = diesel::update(
        introductions::table
            .filter(introductions::id.eq(id))
            .filter(introductions::status.eq(IntroductionStatus::AwaitingConsent.as_str()))
            .filter(introductions::consent_until.le(now.naive_utc())),
    )
    .set((
        introductions::consent_until.eq(consent_until.naive_utc()),
        introductions::note.eq(note),
        introductions::requested_by.eq(actor),
        introductions::requested_at.eq(now.naive_utc()),
        introductions::version.eq(introductions::version + 1),
        introductions::updated_at.eq(now.naive_utc()),
    ))
    .execute(conn)?;
    Ok(changed == 1)
}

/// Staff finish a request: `introduced` or `closed`, with their note, only from `requested`. Whether it changed.
pub fn finish(
    conn: &mut DbConnection,
    id: &str,
    to: IntroductionStatus,
    note: Option<&str>,
    actor: &str,
    now: DateTime<Utc>,
) -> QueryResult<bool> {
    let changed = diesel::update(
        introductions::table
            .filter(introductions::id.eq(id))
            .filter(introductions::status.eq(IntroductionStatus::Requested.as_str())),
    )
    .set((
        introductions::status.eq(to.as_str()),
        introductions::staff_note.eq(note),
        introductions::done_by.eq(actor),
        introductions::done_at.eq(now.naive_utc()),
        introductions::version.eq(introductions::version + 1),
        introductions::updated_at.eq(now.naive_utc()),
    ))
    .execute(conn)?;
    Ok(changed == 1)
}
