//! Digests: one member's e-mail of one ISO week, and where it is in the outbox.

use chrono::{DateTime, Datelike, NaiveDate, Utc, Weekday};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::api_enum;
use crate::domain::member::timestamp;

api_enum!(
    /// Where a digest is in the outbox: waiting for its (next) try, leased to a sender, accepted by the SMTP server,
    /// or given up on (staff may retry it).
    DigestStatus { Queued => "queued", Sending => "sending", Sent => "sent", Failed => "failed" }
);

/// A digest in the outbox: one member's e-mail of one ISO week, rendered, and how sending it went.
#[derive(Debug, Clone, PartialEq)]
pub struct Digest {
    pub id: String,
    pub member: Uuid,
    pub week: String,
    pub message_id: String,
    pub recipient: String,
    pub language: String,
    pub subject: String,
    pub html: String,
    pub text: String,
    pub status: DigestStatus,
    /// Tries so far (counted afresh when staff retry it).
    pub attempts: i32,
    pub next_attempt_at: DateTime<Utc>,
    pub lease_owner: Option<String>,
    pub lease_until: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub sent_at: Option<DateTime<Utc>>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Digest {
    /// The digest as the API shows it, with its suggestions as the caller sees them; the rendered parts only when
    /// `parts` is set.
    pub fn to_json(&self, suggestions: &[Value], parts: bool) -> Value {
        let mut v = json!({
            "id": self.id,
            "member_id": self.member,
            "week": self.week,
            "message_id": self.message_id,
            "language": self.language,
            "subject": self.subject,
            "status": self.status,
            "attempts": self.attempts,
            "last_error": self.last_error,
            "sent_at": self.sent_at.map(timestamp),
            "created_at": timestamp(self.created_at),
            "suggestions": suggestions,
        });
        if parts && let Some(o) = v.as_object_mut() {
            o.insert("html".into(), json!(self.html));
            o.insert("text".into(), json!(self.text));
        }
        v
    }
}

/// An ISO 8601 week, e.g. `2026-W48`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct IsoWeek {
    pub year: i32,
    pub week: u32,
}

impl IsoWeek {
    /// The week `t` falls in, in time zone `tz`.
    pub fn of(t: DateTime<Utc>, tz: chrono_tz::Tz) -> Self {
        let w = t.with_timezone(&tz).iso_week();
        Self { year: w.year(), week: w.week() }
    }

    /// Parse `2026-W48`; weeks that do not exist (W53 of most years) are refused.
    pub fn parse(s: &str) -> Option<Self> {
        let (year, week) = s.trim().split_once("-W")?;
        let (year, week): (i32, u32) = (year.parse().ok()?, week.parse().ok()?);
        if week.to_string().len() > 2 || !(1..=53).contains(&week) {
            return None;
        }
        NaiveDate::from_isoywd_opt(year, week, Weekday::Mon)?;
        Some(Self { year, week })
    }
}

impl std::fmt::Display for IsoWeek {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-W{:02}", self.year, self.week)
    }
}
