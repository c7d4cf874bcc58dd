//! The outbox. A digest row (one per member and ISO week, unique in the database) is written with its rendered parts
//! and a `Message-ID` derived from its id before anything is sent (see `compose`). Sending claims the row (`queued`
//! → `sending`, leased until a time judged by the database's clock), hands the message to the SMTP server (see
//! `send`), then commits `sent`. A `sending` row whose lease ran out (its sender died) is sent again, with the same
//! `Message-ID`. So each member gets at most one accepted digest a week, except in the window between the server
//! accepting a message and our commit: the repeat then carries the same `Message-ID`, which mail systems use to drop
//! duplicates.

use chrono::{DateTime, NaiveDateTime, TimeDelta, Utc};
use diesel::QueryResult;

use super::send::{Envelope, SendError};
use super::{Digest, DigestStatus, IsoWeek, Mailer};
use crate::config::MailSettings;
use crate::db::{DbConnection, DbError, QueryError, db_now, suggestions};
use crate::db::{digests, messages};

/// What a delivery pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Delivery {
    pub sent: usize,
    pub retrying: usize,
    pub failed: usize,
}

impl Mailer {
    /// Send what is due (of `week`, or of any week), one digest at a time, until nothing is left or `keep_going`
    /// says stop.
    pub fn deliver(
        &self,
        conn: &mut DbConnection,
        week: Option<IsoWeek>,
        owner: &str,
        now: &dyn Fn() -> DateTime<Utc>,
        keep_going: &dyn Fn() -> bool,
        on_done: &dyn Fn(&Digest, Result<(), &SendError>),
    ) -> Result<Delivery, DbError> {
        let mut summary = Delivery::default();
        while keep_going() {
            let Some(digest) = claim_next(conn, week, owner, self.settings.send_lease_seconds)? else { break };
            let outcome = self.send(&digest);
            match &outcome {
                Ok(()) => {
                    mark_sent(conn, &digest.id, owner, now())?;
                    summary.sent += 1;
                }
                Err(e) => {
                    let failed = mark_failed(conn, &digest, owner, e, &self.settings)?;
                    if failed {
                        summary.failed += 1
                    } else {
                        summary.retrying += 1
                    }
                    tracing::warn!(digest = %digest.id, attempt = digest.attempts, error = %e.message, failed, "digest not sent");
                }
            }
            on_done(&digest, outcome.as_ref().map(|_| ()));
        }
        Ok(summary)
    }
}

/// Claim the next due digest: queued and due, or sending with an expired lease, leased to `owner` for
/// `lease_seconds` by the database's clock.
pub fn claim_next(
    conn: &mut DbConnection,
    week: Option<IsoWeek>,
    owner: &str,
    lease_seconds: i64,
) -> Result<Option<Digest>, DbError> {
    crate::db::write(conn, |conn| {
        let now = db_now(conn)?;
        Ok(digests::claim_due(conn, week, owner, now, TimeDelta::seconds(lease_seconds))?)
    })
}

/// The digest went out: it is `sent`, and its suggestions `delivered`, in one transaction.
fn mark_sent(conn: &mut DbConnection, id: &str, owner: &str, now: DateTime<Utc>) -> Result<(), DbError> {
    crate::db::write(conn, |conn| {
        digests::set_sent(conn, id, now.naive_utc())?;
        tracing::info!(digest = %id, owner, "digest sent");
        let delivering: Vec<String> = suggestions::in_digest(conn, id)?
            .into_iter()
            .filter(|s| s.status == crate::review::SuggestionStatus::Approved)
            .map(|s| s.id)
            .collect();
        suggestions::mark_delivered(conn, id, now)?;
        // The member's portals hear of each suggestion delivered, in the transaction that records it.
        for s in &delivering {
            crate::webhook::suggestion_event(conn, crate::domain::webhook::EventType::SuggestionDelivered, s, now)?;
        }
        Ok(())
    })
}

/// How long to wait after try number `attempts` before the next: the first wait, doubled after each try.
fn backoff(attempts: i32, s: &MailSettings) -> TimeDelta {
    TimeDelta::seconds(s.retry_after_seconds.saturating_mul(1 << (attempts - 1).clamp(0, 16)))
}

/// Back to the queue with a back-off, or `failed` for good after the last try (or a permanent refusal), through
/// `set_unsent` (the outbox table's own update). Returns whether it failed for good.
fn give_back(
    conn: &mut DbConnection,
    attempts: i32,
    e: &SendError,
    s: &MailSettings,
    set_unsent: impl FnOnce(&mut DbConnection, DigestStatus, NaiveDateTime, &str, NaiveDateTime) -> QueryResult<usize>,
) -> Result<bool, DbError> {
    crate::db::write(conn, |conn| {
        let now = db_now(conn)?;
        let failed = e.permanent || attempts >= s.max_attempts;
        let status = if failed { DigestStatus::Failed } else { DigestStatus::Queued };
        let error: String = e.message.chars().take(1000).collect();
        set_unsent(conn, status, now + backoff(attempts, s), &error, now)?;
        Ok(failed)
    })
}

fn mark_failed(
    conn: &mut DbConnection,
    digest: &Digest,
    owner: &str,
    e: &SendError,
    s: &MailSettings,
) -> Result<bool, DbError> {
    give_back(conn, digest.attempts, e, s, |conn, status, next, error, now| {
        digests::set_unsent(conn, &digest.id, owner, status, next, error, now)
    })
}

impl Mailer {
    /// Send the messages that are due (consent requests, introductions), one at a time, until none is left or
    /// `keep_going` says stop.
    pub fn deliver_messages(
        &self,
        conn: &mut DbConnection,
        owner: &str,
        now: &dyn Fn() -> DateTime<Utc>,
        keep_going: &dyn Fn() -> bool,
    ) -> Result<Delivery, DbError> {
        let mut summary = Delivery::default();
        while keep_going() {
            let lease = TimeDelta::seconds(self.settings.send_lease_seconds);
            let claimed = crate::db::write(conn, |conn| {
                let at = db_now(conn)?;
                messages::claim_due(conn, owner, at, lease)
            })?;
            let Some(m) = claimed else { break };
            let to = m.recipient_list();
            let envelope = Envelope {
                to: &to,
                subject: &m.subject,
                message_id: &m.message_id,
                language: &m.language,
                text: &m.text,
                html: &m.html,
                digest_of: None,
                automatic: m.kind == "consent_request",
            };
            match self.send_envelope(&envelope) {
                Ok(()) => {
                    crate::db::write(conn, |conn| messages::set_sent(conn, &m.id, now().naive_utc()))?;
                    tracing::info!(message = %m.id, kind = %m.kind, owner, "message sent");
                    summary.sent += 1;
                }
                Err(e) => {
                    let failed = give_back(conn, m.attempts, &e, &self.settings, |conn, status, next, error, at| {
                        messages::set_unsent(conn, &m.id, owner, status, next, error, at)
                    })?;
                    if failed {
                        summary.failed += 1;
                    } else {
                        summary.retrying += 1;
                    }
                    tracing::warn!(message = %m.id, kind = %m.kind, attempt = m.attempts, error = %e.message, failed, "message not sent");
                }
            }
        }
        Ok(summary)
    }
}

/// Staff retry of a failed digest: back to the queue, due now, with its tries counted afresh.
pub fn retry(conn: &mut DbConnection, id: &str, now: DateTime<Utc>) -> Result<Option<Digest>, RetryError> {
    crate::db::write(conn, |conn| {
        let Some(digest) = digests::find(conn, id)? else { return Ok(None) };
        if digest.status != DigestStatus::Failed {
            return Err(RetryError::NotFailed(digest.status));
        }
        let due = db_now(conn)?;
        digests::requeue_failed(conn, id, due, now.naive_utc())?;
        Ok(digests::find(conn, id)?)
    })
}

#[derive(Debug, thiserror::Error)]
pub enum RetryError {
    #[error("only a failed digest can be retried; this one is {0}")]
    NotFailed(DigestStatus),
    #[error(transparent)]
    Db(#[from] QueryError),
}
