//! The daily purge: records past their retention period go (or, for sent mail, their bodies; for webhook deliveries
//! that went out or failed, the whole delivery).

use chrono::{DateTime, TimeDelta, Utc};
use diesel::prelude::*;
use serde::Serialize;

use super::schema::{audit_log, digests, idempotency_keys, job_runs, messages, webhook_deliveries};
use super::{DbConnection, idempotency};
use crate::config::Retention;
use crate::domain::digest::DigestStatus;
use crate::domain::parse::ApiEnum as _;

/// What a purge removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Purged {
    pub idempotency_keys: usize,
    pub audit_entries: usize,
    pub digest_bodies: usize,
    pub message_bodies: usize,
    pub webhook_deliveries: usize,
    pub changes: usize,
    pub job_periods: usize,
}

impl std::fmt::Display for Purged {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "purged {} stored replies, {} audit entries, {} digest bodies, {} message bodies, {} webhook deliveries, \
             {} changes, {} job periods",
            self.idempotency_keys,
            self.audit_entries,
            self.digest_bodies,
            self.message_bodies,
            self.webhook_deliveries,
            self.changes,
            self.job_periods
        )
    }
}

/// Purge what `keep` no longer covers at `now`. Run it in a write transaction.
pub fn purge(conn: &mut DbConnection, keep: &Retention, now: DateTime<Utc>) -> QueryResult<Purged> {
    let before = |days: i64| (now - TimeDelta::days(days)).naive_utc();
    let (sent, failed) = (DigestStatus::Sent.as_str(), DigestStatus::Failed.as_str());
    let emptied = "";
    Ok(Purged {
        idempotency_keys: diesel::delete(
            idempotency_keys::table.filter(idempotency_keys::created_at.le((now - idempotency::RETENTION).naive_utc())),
        )
        .execute(conn)?,
        audit_entries: diesel::delete(audit_log::table.filter(audit_log::at.lt(before(keep.audit_days))))
            .execute(conn)?,
        digest_bodies: diesel::update(
            digests::table
                .filter(digests::status.eq_any([sent, failed]))
                .filter(digests::created_at.lt(before(keep.mail_days)))
                .filter(digests::text.ne(emptied).or(digests::html.ne(emptied))),
        )
        .set((digests::html.eq(emptied), digests::text.eq(emptied)))
        .execute(conn)?,
        message_bodies: diesel::update(
            messages::table
                .filter(messages::status.eq_any([sent, failed]))
                .filter(messages::created_at.lt(before(keep.mail_days)))
                .filter(messages::text.ne(emptied).or(messages::html.ne(emptied))),
        )
        .set((messages::html.eq(emptied), messages::text.eq(emptied)))
        .execute(conn)?,
        webhook_deliveries: diesel::delete(
            webhook_deliveries::table
                .filter(webhook_deliveries::status.eq_any([sent, failed]))
                .filter(webhook_deliveries::created_at.lt(before(keep.mail_days))),
        )
        .execute(conn)?,
        changes: super::changes::prune(conn, now - TimeDelta::days(keep.change_days))?,
        job_periods: diesel::delete(
            job_runs::table
                .filter(job_runs::finished_at.is_not_null())
                .filter(job_runs::finished_at.lt(before(keep.job_days))),
        )
        .execute(conn)?,
    })
}
