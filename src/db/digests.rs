//! Digests in the database: the outbox's rows, one per member and ISO week, and the guarded updates that move a row
//! through sending.

use chrono::{NaiveDateTime, TimeDelta};
use diesel::prelude::*;
use uuid::Uuid;

use super::schema::digests;
use super::{DbConnection, QueryError};
use crate::domain::digest::{Digest, DigestStatus, IsoWeek};
use crate::domain::parse::ApiEnum;

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

/// A stored digest as the domain knows it: a status this service does not know is refused.
impl TryFrom<DigestRow> for Digest {
    type Error = QueryError;

    fn try_from(row: DigestRow) -> QueryResult<Self> {
        let corrupt = |what: &str, value: &str| {
            QueryError::DeserializationError(format!("stored digest {what} `{value}` is not valid").into())
        };
        let status = DigestStatus::from_name(&row.status).ok_or_else(|| corrupt("status", &row.status))?;
        let member = Uuid::parse_str(&row.member_id).map_err(|_| corrupt("member_id", &row.member_id))?;
        Ok(Self {
            id: row.id,
            member,
            week: row.week,
            message_id: row.message_id,
            recipient: row.recipient,
            language: row.language,
            subject: row.subject,
            html: row.html,
            text: row.text,
            status,
            attempts: row.attempts,
            next_attempt_at: row.next_attempt_at.and_utc(),
            lease_owner: row.lease_owner,
            lease_until: row.lease_until.map(|t| t.and_utc()),
            last_error: row.last_error,
            sent_at: row.sent_at.map(|t| t.and_utc()),
            version: row.version,
            created_at: row.created_at.and_utc(),
            updated_at: row.updated_at.and_utc(),
        })
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

pub fn find(conn: &mut DbConnection, id: &str) -> QueryResult<Option<Digest>> {
    digests::table.find(id).select(DigestRow::as_select()).first(conn).optional()?.map(Digest::try_from).transpose()
}

/// The member a digest was for (for the authorisation guard).
pub fn owner(conn: &mut DbConnection, id: &str) -> QueryResult<Option<Uuid>> {
    let member: Option<String> = digests::table.find(id).select(digests::member_id).first(conn).optional()?;
    Ok(member.and_then(|m| Uuid::parse_str(&m).ok()))
}

/// Filters of digest lists.
#[derive(Debug, Clone, Default)]
pub struct DigestFilter {
    pub member: Option<Uuid>,
    pub status: Option<DigestStatus>,
    pub week: Option<IsoWeek>,
}

/// Newest first; `offset` and `limit` (+1 to tell whether more follow).
pub fn list(conn: &mut DbConnection, f: &DigestFilter, offset: i64, limit: i64) -> QueryResult<Vec<Digest>> {
    let mut q = digests::table.select(DigestRow::as_select()).into_boxed();
    if let Some(m) = f.member {
        q = q.filter(digests::member_id.eq(m.to_string()));
    }
    if let Some(s) = f.status {
        q = q.filter(digests::status.eq(s.as_str()));
    }
    if let Some(w) = f.week {
        q = q.filter(digests::week.eq(w.to_string()));
    }
    let rows = q.order((digests::created_at.desc(), digests::id.desc())).offset(offset).limit(limit + 1).load(conn)?;
    rows.into_iter().map(Digest::try_from).collect()
}

/// Whether any digest of `week` is still to be sent (queued or sending).
pub fn pending_in_week(conn: &mut DbConnection, week: IsoWeek) -> QueryResult<i64> {
    digests::table
        .filter(digests::week.eq(week.to_string()))
        .filter(digests::status.eq_any([DigestStatus::Queued.as_str(), DigestStatus::Sending.as_str()]))
        .count()
        .get_result(conn)
}

super::outbox::outbox_updates!(digests);

/// Claim the oldest digest due at `now` (by the database's clock), of `week` or of any week: queued and due, or
/// sending with a lease that ran out. Run it in a write transaction.
pub fn claim_due(
    conn: &mut DbConnection,
    week: Option<IsoWeek>,
    owner: &str,
    now: NaiveDateTime,
    lease: TimeDelta,
) -> QueryResult<Option<Digest>> {
    let oldest_due = |conn: &mut DbConnection| {
        let mut q =
            digests::table.filter(due_at!(now)).select(digests::id).order(digests::created_at.asc()).into_boxed();
        if let Some(w) = week {
            q = q.filter(digests::week.eq(w.to_string()));
        }
        q.first::<String>(conn).optional()
    };
    match claim_first(conn, owner, now, lease, oldest_due)? {
        Some(id) => find(conn, &id),
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(status: &str) -> DigestRow {
        let at = chrono::DateTime::parse_from_rfc3339("2026-11-23T07:00:00Z").unwrap().naive_utc();
        DigestRow {
            id: "d".to_owned(),
            member_id: Uuid::now_v7().to_string(),
            week: "2026-W48".to_owned(),
            message_id: "<digest.d@example.org>".to_owned(),
            recipient: "a@example.org".to_owned(),
            language: "en".to_owned(),
            subject: "s".to_owned(),
            html: "<p>h</p>".to_owned(),
            text: "h".to_owned(),
            status: status.to_owned(),
            attempts: 1,
            next_attempt_at: at,
            lease_owner: None,
            lease_until: None,
            last_error: None,
            sent_at: None,
            version: 1,
            created_at: at,
            updated_at: at,
        }
    }

    #[test]
    fn stored_digests_read_typed_and_unknown_statuses_are_refused() {
        for status in DigestStatus::ALL {
            assert_eq!(Digest::try_from(row(status.as_str())).unwrap().status, *status);
        }
        let refused = Digest::try_from(row("bounced")).unwrap_err();
        assert!(refused.to_string().contains("status `bounced`"), "{refused}");
        assert!(Digest::try_from(row("SENT")).is_err());
        let mut bad_member = row("sent");
        bad_member.member_id = "someone".to_owned();
        assert!(Digest::try_from(bad_member).is_err());
    }
}
