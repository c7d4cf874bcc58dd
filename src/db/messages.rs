//! The outbox of mail other than digests: consent requests and introductions, written with their rendered parts in
//! the transaction that makes them due, and sent like digests (see `db::outbox`).

use chrono::{NaiveDateTime, TimeDelta};
use diesel::prelude::*;

use super::DbConnection;
use super::schema::messages;
use crate::domain::digest::DigestStatus;
use crate::domain::parse::ApiEnum;

/// A message in the outbox, as stored. `recipients` are addresses joined by `, `.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = messages)]
pub struct MessageRow {
    pub id: String,
    pub kind: String,
    pub introduction_id: Option<String>,
    pub message_id: String,
    pub recipients: String,
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

impl MessageRow {
    /// A new message, due at once (by the database's clock, which judges the leases: see `db::outbox`): `id` also
    /// makes its `Message-ID` (`<message.{id}@{host}>`).
    #[allow(clippy::too_many_arguments)]
    pub fn queued(
        id: &str,
        kind: &str,
        introduction: Option<&str>,
        host: &str,
        recipients: &[&str],
        language: &str,
        rendered: (String, String, String),
        now: NaiveDateTime,
        due: NaiveDateTime,
    ) -> Self {
        let (subject, html, text) = rendered;
        Self {
            id: id.to_owned(),
            kind: kind.to_owned(),
            introduction_id: introduction.map(str::to_owned),
            message_id: format!("<message.{id}@{host}>"),
            recipients: recipients.join(", "),
            language: language.to_owned(),
            subject,
            html,
            text,
            status: DigestStatus::Queued.as_str().to_owned(),
            attempts: 0,
            next_attempt_at: due,
            lease_owner: None,
            lease_until: None,
            last_error: None,
            sent_at: None,
            version: 1,
            created_at: now,
            updated_at: now,
        }
    }

    /// The addresses it goes to.
    pub fn recipient_list(&self) -> Vec<&str> {
        self.recipients.split(", ").filter(|r| !r.is_empty()).collect()
    }

    /// Its sending status (an unknown one reads as failed: nothing sends it).
    pub fn send_status(&self) -> DigestStatus {
        DigestStatus::from_name(&self.status).unwrap_or(DigestStatus::Failed)
    }
}

pub fn insert(conn: &mut DbConnection, row: &MessageRow) -> QueryResult<()> {
    diesel::insert_into(messages::table).values(row).execute(conn)?;
    Ok(())
}

pub fn find(conn: &mut DbConnection, id: &str) -> QueryResult<Option<MessageRow>> {
    messages::table.find(id).select(MessageRow::as_select()).first(conn).optional()
}

/// The messages of an introduction, oldest first.
pub fn of_introduction(conn: &mut DbConnection, introduction: &str) -> QueryResult<Vec<MessageRow>> {
    messages::table
        .filter(messages::introduction_id.eq(introduction))
        .order((messages::created_at.asc(), messages::id.asc()))
        .select(MessageRow::as_select())
        .load(conn)
}

super::outbox::outbox_updates!(messages);

/// The id of the oldest message due at `now`.
pub fn oldest_due(conn: &mut DbConnection, now: NaiveDateTime) -> QueryResult<Option<String>> {
    messages::table.filter(due_at!(now)).select(messages::id).order(messages::created_at.asc()).first(conn).optional()
}

/// Claim the oldest message due at `now` (by the database's clock). Run it in a write transaction.
pub fn claim_due(
    conn: &mut DbConnection,
    owner: &str,
    now: NaiveDateTime,
    lease: TimeDelta,
) -> QueryResult<Option<MessageRow>> {
    match claim_first(conn, owner, now, lease, |conn| oldest_due(conn, now))? {
        Some(id) => find(conn, &id),
        None => Ok(None),
    }
}
