//! The outbox. A digest row (one per member and ISO week, unique in the database) is written with its rendered parts
//! and a `Message-ID` derived from its id before anything is sent. Sending claims the row (`queued` → `sending`,
//! leased until a time judged by the database's clock), hands the message to the SMTP server, then commits `sent`.
//! A `sending` row whose lease ran out (its sender died) is sent again, with the same `Message-ID`. So each member
//! gets at most one accepted digest a week, except in the window between the server accepting a message and our
//! commit: the repeat then carries the same `Message-ID`, which mail systems use to drop duplicates.

use chrono::{DateTime, NaiveDateTime, TimeDelta, Utc};
use diesel::prelude::*;
use lettre::message::header::{Header, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use lettre::{Message, SmtpTransport, Transport};
use serde_json::{Value, json};
use uuid::Uuid;

use super::token::UnsubscribeKey;
use super::{IsoWeek, mail_language, render};
use crate::config::MailSettings;
use crate::db::schema::digests;
use crate::db::suggestions;
use crate::db::{DbConnection, DbError, db_now};
use crate::domain::member::{DigestFrequency, MemberStatus, timestamp};
use crate::review::view;

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

/// Everything composing and sending needs besides a connection.
#[derive(Debug, Clone)]
pub struct Mailer {
    pub settings: MailSettings,
    pub key: UnsubscribeKey,
    pub time_zone: chrono_tz::Tz,
}

/// Why a send failed, and whether trying again could help.
#[derive(Debug, Clone)]
pub struct SendError {
    pub message: String,
    pub permanent: bool,
}

#[derive(Clone)]
struct ListUnsubscribe(String);

impl Header for ListUnsubscribe {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe")
    }
    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self(s.to_owned()))
    }
    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), self.0.clone())
    }
}

#[derive(Clone)]
struct ListUnsubscribePost;

impl Header for ListUnsubscribePost {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe-Post")
    }
    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self)
    }
    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "List-Unsubscribe=One-Click".to_owned())
    }
}

impl Mailer {
    /// The one-click unsubscribe address of a member (RFC 8058: GET shows a confirmation, POST unsubscribes).
    pub fn unsubscribe_url(&self, member: Uuid) -> String {
        format!("{}/v1/unsubscribe?token={}", self.settings.public_url, self.key.token(member))
    }

    fn message_id(&self, id: &str) -> String {
        let host = url::Url::parse(&self.settings.public_url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_owned))
            .unwrap_or_else(|| "localhost".to_owned());
        format!("<digest.{id}@{host}>")
    }

    /// The e-mail of a stored digest.
    pub fn message(&self, row: &DigestRow) -> Result<Message, SendError> {
        let bad =
            |what: &str, e: &dyn std::fmt::Display| SendError { message: format!("{what}: {e}"), permanent: true };
        let from: Mailbox = self.settings.from.parse().map_err(|e| bad("the sender address", &e))?;
        let to = Mailbox::new(
            None,
            crate::domain::email::parse_address(&row.recipient).map_err(|e| bad("the recipient address", &e))?,
        );
        let member = Uuid::parse_str(&row.member_id).map_err(|e| bad("the member id", &e))?;
        Message::builder()
            .from(from)
            .to(to)
            .subject(row.subject.clone())
            .message_id(Some(row.message_id.clone()))
            .header(ListUnsubscribe(format!("<{}>", self.unsubscribe_url(member))))
            .header(ListUnsubscribePost)
            .multipart(MultiPart::alternative_plain_html(row.text.clone(), row.html.clone()))
            .map_err(|e| bad("the message", &e))
    }

    /// Hand one digest to the SMTP server (a connection of its own: nothing is pooled across digests).
    pub fn send(&self, row: &DigestRow) -> Result<(), SendError> {
        let Some(url) = &self.settings.smtp_url else {
            return Err(SendError {
                message: "no SMTP server is configured (MATCHMAKER_SMTP_URL)".into(),
                permanent: false,
            });
        };
        let message = self.message(row)?;
        let transport = SmtpTransport::from_url(url)
            .map_err(|e| SendError { message: format!("MATCHMAKER_SMTP_URL: {e}"), permanent: false })?
            .timeout(Some(std::time::Duration::from_secs(30)))
            .build();
        transport
            .send(&message)
            .map(|_| ())
            .map_err(|e| SendError { message: e.to_string(), permanent: e.is_permanent() })
    }

    /// Render what `member` would receive for `week` now, without storing anything: `None` if nothing would be sent.
    pub fn preview(
        &self,
        conn: &mut DbConnection,
        member: Uuid,
        week: IsoWeek,
        now: DateTime<Utc>,
    ) -> Result<Option<Preview>, DbError> {
        let Some(m) = crate::db::members::find(conn, member)? else { return Ok(None) };
        let rows = suggestions::undelivered(conn, &member.to_string())?;
        if rows.is_empty() {
            return Ok(None);
        }
        let mut views = Vec::with_capacity(rows.len());
        for r in &rows {
            views.push(view::for_member(conn, r, now)?);
        }
        let lang = mail_language(m.profile.preferred_language, &m.profile.languages);
        let rendered = render::digest(lang, &m.profile.name, &week, &views, &self.unsubscribe_url(member))?;
        let ids = rows.into_iter().map(|r| r.id).collect();
        Ok(Some(Preview { rendered, suggestions: views, ids, language: lang.to_owned() }))
    }

    /// Write `member`'s digest for `week` into the outbox, if it gets one: weekly digest on, active, something
    /// approved and not yet sent, and no digest for that week yet. Returns the new row.
    pub fn compose(
        &self,
        conn: &mut DbConnection,
        member: Uuid,
        week: IsoWeek,
        now: DateTime<Utc>,
    ) -> Result<Option<DigestRow>, DbError> {
        crate::db::write(conn, |conn| {
            let Some(m) = crate::db::members::find(conn, member)? else { return Ok(None) };
            if m.profile.digest != DigestFrequency::Weekly || m.profile.status != MemberStatus::Active {
                return Ok(None);
            }
            let exists: i64 = digests::table
                .filter(digests::member_id.eq(member.to_string()))
                .filter(digests::week.eq(week.to_string()))
                .count()
                .get_result(conn)?;
            if exists > 0 {
                return Ok(None);
            }
            let Some(Preview { rendered, ids, language: lang, .. }) = self.preview(conn, member, week, now)? else {
                return Ok(None);
            };
            let id = Uuid::now_v7().to_string();
            let row = DigestRow {
                message_id: self.message_id(&id),
                id,
                member_id: member.to_string(),
                week: week.to_string(),
                recipient: m.profile.contact_email,
                language: lang,
                subject: rendered.subject,
                html: rendered.html,
                text: rendered.text,
                status: "queued".to_owned(),
                attempts: 0,
                next_attempt_at: db_now(conn)?,
                lease_owner: None,
                lease_until: None,
                last_error: None,
                sent_at: None,
                version: 1,
                created_at: now.naive_utc(),
                updated_at: now.naive_utc(),
            };
            diesel::insert_into(digests::table).values(&row).execute(conn)?;
            suggestions::attach(conn, &ids, &row.id)?;
            Ok(Some(row))
        })
    }

    /// Compose every digest due for `week`; returns how many were written.
    pub fn compose_week(
        &self,
        conn: &mut DbConnection,
        week: IsoWeek,
        now: DateTime<Utc>,
        keep_going: &dyn Fn() -> bool,
    ) -> Result<usize, DbError> {
        suggestions::expire_due(conn, now)?;
        let mut written = 0;
        for member in suggestions::members_with_undelivered(conn)? {
            if !keep_going() {
                break;
            }
            let Ok(member) = Uuid::parse_str(&member) else { continue };
            if self.compose(conn, member, week, now)?.is_some() {
                written += 1;
            }
        }
        Ok(written)
    }

    /// Send what is due (of `week`, or of any week), one digest at a time, until nothing is left or `keep_going`
    /// says stop.
    pub fn deliver(
        &self,
        conn: &mut DbConnection,
        week: Option<IsoWeek>,
        owner: &str,
        now: &dyn Fn() -> DateTime<Utc>,
        keep_going: &dyn Fn() -> bool,
        on_done: &dyn Fn(&DigestRow, Result<(), &SendError>),
    ) -> Result<Delivery, DbError> {
        let mut summary = Delivery::default();
        while keep_going() {
            let Some(row) = claim_next(conn, week, owner, self.settings.send_lease_seconds)? else { break };
            let outcome = self.send(&row);
            match &outcome {
                Ok(()) => {
                    mark_sent(conn, &row.id, owner, now())?;
                    summary.sent += 1;
                }
                Err(e) => {
                    let failed = mark_failed(conn, &row, owner, e, &self.settings)?;
                    if failed {
                        summary.failed += 1
                    } else {
                        summary.retrying += 1
                    }
                    tracing::warn!(digest = %row.id, attempt = row.attempts, error = %e.message, failed, "digest not sent");
                }
            }
            on_done(&row, outcome.as_ref().map(|_| ()));
        }
        Ok(summary)
    }
}

/// A digest rendered but not stored.
#[derive(Debug, Clone)]
pub struct Preview {
    pub rendered: render::Rendered,
    /// The suggestions, as the member sees them.
    pub suggestions: Vec<Value>,
    pub ids: Vec<String>,
    pub language: String,
}

/// What a delivery pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Delivery {
    pub sent: usize,
    pub retrying: usize,
    pub failed: usize,
}

/// Claim the next due digest: queued and due, or sending with an expired lease. The claim is an UPDATE guarded by
/// the same condition, so two instances never both win one row.
pub fn claim_next(
    conn: &mut DbConnection,
    week: Option<IsoWeek>,
    owner: &str,
    lease_seconds: i64,
) -> Result<Option<DigestRow>, DbError> {
    crate::db::write(conn, |conn| {
        let now = db_now(conn)?;
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
                digests::lease_until.eq(now + TimeDelta::seconds(lease_seconds)),
                digests::attempts.eq(digests::attempts + 1),
                digests::version.eq(digests::version + 1),
            ))
            .execute(conn)?;
        if claimed == 0 {
            return Ok(None);
        }
        Ok(digests::table.find(&id).select(DigestRow::as_select()).first(conn).optional()?)
    })
}

fn mark_sent(conn: &mut DbConnection, id: &str, owner: &str, now: DateTime<Utc>) -> Result<(), DbError> {
    crate::db::write(conn, |conn| {
        diesel::update(digests::table.filter(digests::id.eq(id)).filter(digests::status.eq("sending")))
            .set((
                digests::status.eq("sent"),
                digests::sent_at.eq(now.naive_utc()),
                digests::lease_owner.eq(None::<String>),
                digests::lease_until.eq(None::<NaiveDateTime>),
                digests::last_error.eq(None::<String>),
                digests::version.eq(digests::version + 1),
                digests::updated_at.eq(now.naive_utc()),
            ))
            .execute(conn)?;
        tracing::info!(digest = %id, owner, "digest sent");
        suggestions::mark_delivered(conn, id, now)?;
        Ok(())
    })
}

/// Back to the queue with a back-off, or `failed` for good after the last try (or a permanent refusal). Returns
/// whether it failed for good.
fn mark_failed(
    conn: &mut DbConnection,
    row: &DigestRow,
    owner: &str,
    e: &SendError,
    s: &MailSettings,
) -> Result<bool, DbError> {
    crate::db::write(conn, |conn| {
        let now = db_now(conn)?;
        let failed = e.permanent || row.attempts >= s.max_attempts;
        let backoff = s.retry_after_seconds.saturating_mul(1 << (row.attempts - 1).clamp(0, 16));
        diesel::update(
            digests::table
                .filter(digests::id.eq(&row.id))
                .filter(digests::status.eq("sending"))
                .filter(digests::lease_owner.eq(owner)),
        )
        .set((
            digests::status.eq(if failed { "failed" } else { "queued" }),
            digests::next_attempt_at.eq(now + TimeDelta::seconds(backoff)),
            digests::lease_owner.eq(None::<String>),
            digests::lease_until.eq(None::<NaiveDateTime>),
            digests::last_error.eq(Some(e.message.chars().take(1000).collect::<String>())),
            digests::version.eq(digests::version + 1),
            digests::updated_at.eq(now),
        ))
        .execute(conn)?;
        Ok(failed)
    })
}

/// Staff retry of a failed digest: back to the queue, due now, with its tries counted afresh.
pub fn retry(conn: &mut DbConnection, id: &str, now: DateTime<Utc>) -> Result<Option<DigestRow>, RetryError> {
    crate::db::write(conn, |conn| {
        let Some(row) = find(conn, id)? else { return Ok(None) };
        if row.status != "failed" {
            return Err(RetryError::NotFailed(row.status));
        }
        let due = db_now(conn)?;
        diesel::update(digests::table.filter(digests::id.eq(id)).filter(digests::status.eq("failed")))
            .set((
                digests::status.eq("queued"),
                digests::attempts.eq(0),
                digests::next_attempt_at.eq(due),
                digests::version.eq(digests::version + 1),
                digests::updated_at.eq(now.naive_utc()),
            ))
            .execute(conn)?;
        Ok(find(conn, id)?)
    })
}

#[derive(Debug, thiserror::Error)]
pub enum RetryError {
    #[error("only a failed digest can be retried; this one is {0}")]
    NotFailed(String),
    #[error(transparent)]
    Db(#[from] diesel::result::Error),
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
