//! Digests in the database: the outbox's rows, one per member and ISO week, and the guarded updates that move a row
//! through sending.

use chrono::{NaiveDateTime, TimeDelta};
use diesel::prelude::*;
use serde_json::{Value, json};
use uuid::Uuid;

use super::DbConnection;
use super::schema::digests;
use crate::digest::IsoWeek;
use crate::domain::member::timestamp;

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = digests)]
pub struct DigestRow {
    pub id: String,
    pub member_id: String,
    pub week: String,
    pub message_id: String,
    pub recipient: String,
    pub language: String,
    pub subject: String,
    pub html: String,
    pub text: String,
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    pub lease_owner: Option<String>,
    pub lease_until: Option<NaiveDateTime>,
    pub last_error: Option<String>,
    pub sent_at: Option<NaiveDateTime>,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl DigestRow {
    /// The digest as the API shows it; the rendered parts only when `parts` is set.
    pub fn to_json(&self, suggestions: &[Value], parts: bool) -> Value {
        let mut v = json!({
            "id": self.id,
            "member_id": self.member_id,
            "week": self.week,
            "message_id": self.message_id,
            "language": self.language,
            "subject": self.subject,
            "status": self.status,
            "attempts": self.attempts,
            "last_error": self.last_error,
            "sent_at": self.sent_at.map(|t| timestamp(t.and_utc())),
            "created_at": timestamp(self.created_at.and_utc()),
            "suggestions": suggestions,
        });
        if parts && let Some(o) = v.as_object_mut() {
            o.insert("html".into(), json!(self.html));
            o.insert("text".into(), json!(self.text));
        }
        v
    }
}

pub fn insert(conn: &mut DbConnection, row: &DigestRow) -> QueryResult<()> {
    diesel::insert_into(digests::table).values(row).execute(conn)?;
    Ok(())
}

/// Whether `member` has a digest for `week` already.
pub fn exists(conn: &mut DbConnection, member: Uuid, week: IsoWeek) -> QueryResult<bool> {
    let n: i64 = digests::table
        .filter(digests::member_id.eq(member.to_string()))
        .filter(digests::week.eq(week.to_string()))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

pub fn find(conn: &mut DbConnection, id: &str) -> QueryResult<Option<DigestRow>> {
    digests::table.find(id).select(DigestRow::as_select()).first(conn).optional()
}

/// The member a digest was for (for the authorisation guard).
pub fn owner(conn: &mut DbConnection, id: &str) -> QueryResult<Option<Uuid>> {
    let member: Option<String> = digests::table.find(id).select(digests::member_id).first(conn).optional()?;
    Ok(member.and_then(|m| Uuid::parse_str(&m).ok()))
}

/// Filters of digest lists.
#[derive(Debug, Clone, Default)]
pub struct DigestFilter {
    pub member: Option<String>,
    pub status: Option<String>,
    pub week: Option<String>,
}

/// Newest first; `offset` and `limit` (+1 to tell whether more follow).
pub fn list(conn: &mut DbConnection, f: &DigestFilter, offset: i64, limit: i64) -> QueryResult<Vec<DigestRow>> {
    let mut q = digests::table.select(DigestRow::as_select()).into_boxed();
    if let Some(m) = &f.member {
        q = q.filter(digests::member_id.eq(m.clone()));
    }
    if let Some(s) = &f.status {
        q = q.filter(digests::status.eq(s.clone()));
    }
    if let Some(w) = &f.week {
        q = q.filter(digests::week.eq(w.clone()));
    }
    q.order((digests::created_at.desc(), digests::id.desc())).offset(offset).limit(limit + 1).load(conn)
}

/// Whether any digest of `week` is still to be sent (queued or sending).
pub fn pending_in_week(conn: &mut DbConnection, week: IsoWeek) -> QueryResult<i64> {
    digests::table
        .filter(digests::week.eq(week.to_string()))
        .filter(digests::status.eq_any(["queued", "sending"]))
        .count()
        .get_result(conn)
}

/// Claim the oldest digest due at `now` (by the database's clock), of `week` or of any week: queued and due, or
/// sending with a lease that ran out. The claim is an UPDATE guarded by the same condition, so two instances never
/// both win one row. Run it in a write transaction.
pub fn claim_due(
    conn: &mut DbConnection,
    week: Option<IsoWeek>,
    owner: &str,
    now: NaiveDateTime,
    lease: TimeDelta,
) -> QueryResult<Option<DigestRow>> {
    let due = digests::status
        .eq("queued")
        .and(digests::next_attempt_at.le(now))
        .or(digests::status.eq("sending").and(digests::lease_until.lt(now)));
    let mut q = digests::table.filter(due).select(digests::id).order(digests::created_at.asc()).into_boxed();
    if let Some(w) = week {
        q = q.filter(digests::week.eq(w.to_string()));
    }
    let Some(id) = q.first::<String>(conn).optional()? else { return Ok(None) };
    let claimed = diesel::update(digests::table.filter(digests::id.eq(&id)).filter(due))
        .set((
            digests::status.eq("sending"),
            digests::lease_owner.eq(owner),
            digests::lease_until.eq(now + lease),
            digests::attempts.eq(digests::attempts + 1),
            digests::version.eq(digests::version + 1),
        ))
        .execute(conn)?;
    if claimed == 0 {
        return Ok(None);
    }
    find(conn, &id)
}

/// A digest being sent went out.
pub fn set_sent(conn: &mut DbConnection, id: &str, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(digests::table.filter(digests::id.eq(id)).filter(digests::status.eq("sending")))
        .set((
            digests::status.eq("sent"),
            digests::sent_at.eq(now),
            digests::lease_owner.eq(None::<String>),
            digests::lease_until.eq(None::<NaiveDateTime>),
            digests::last_error.eq(None::<String>),
            digests::version.eq(digests::version + 1),
            digests::updated_at.eq(now),
        ))
        .execute(conn)
}

/// A digest `owner` was sending did not go out: give up the lease, with the status it goes to, when to try next and
/// the error.
pub fn set_unsent(
    conn: &mut DbConnection,
    id: &str,
    owner: &str,
    status: &str,
    next_attempt_at: NaiveDateTime,
    error: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        digests::table
            .filter(digests::id.eq(id))
            .filter(digests::status.eq("sending"))
            .filter(digests::lease_owner.eq(owner)),
    )
    .set((
        digests::status.eq(status),
        digests::next_attempt_at.eq(next_attempt_at),
        digests::lease_owner.eq(None::<String>),
        digests::lease_until.eq(None::<NaiveDateTime>),
        digests::last_error.eq(Some(error)),
        digests::version.eq(digests::version + 1),
        digests::updated_at.eq(now),
    ))
    .execute(conn)
}

/// A failed digest back to the queue, due at `due`, with its tries counted afresh.
pub fn requeue_failed(conn: &mut DbConnection, id: &str, due: NaiveDateTime, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(digests::table.filter(digests::id.eq(id)).filter(digests::status.eq("failed")))
        .set((
            digests::status.eq("queued"),
            digests::attempts.eq(0),
            digests::next_attempt_at.eq(due),
            digests::version.eq(digests::version + 1),
            digests::updated_at.eq(now),
        ))
        .execute(conn)
}
