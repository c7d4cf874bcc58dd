//! Weekly digests: what each member receives, rendered, kept in an outbox and sent over SMTP exactly once a week
//! (up to the one window no sender can close: see `outbox`). `compose` writes a member's digest, `send` hands it to
//! the SMTP server, and `outbox` leases the rows in between.

pub mod compose;
pub mod outbox;
pub mod render;
pub mod send;
pub mod token;

use chrono::{DateTime, Datelike, NaiveDate, Utc, Weekday};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::api_enum;
use crate::config::MailSettings;
use crate::domain::member::{PreferredLanguage, timestamp};
use token::UnsubscribeKey;

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

/// Everything composing and sending needs besides a connection.
#[derive(Debug, Clone)]
pub struct Mailer {
    pub settings: MailSettings,
    pub key: UnsubscribeKey,
    pub time_zone: chrono_tz::Tz,
}

impl Mailer {
    /// The one-click unsubscribe address of a member (RFC 8058: GET shows a confirmation, POST unsubscribes).
    pub fn unsubscribe_url(&self, member: Uuid) -> String {
        format!("{}/v1/unsubscribe?token={}", self.settings.public_url, self.key.token(member))
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
        write!(f, "{}-W{:02}", self.year, self.week)
    }
}

/// The language a digest is written in: the member's, except Luxembourgish, for which we have no templates: German,
/// or French for a member who reads French but not German.
pub fn mail_language(preferred: PreferredLanguage, languages: &[String]) -> &'static str {
    match preferred {
        PreferredLanguage::En => "en",
        PreferredLanguage::Fr => "fr",
        PreferredLanguage::De => "de",
        PreferredLanguage::Lb => {
            let reads = |l: &str| languages.iter().any(|x| x == l);
            if reads("fr") && !reads("de") { "fr" } else { "de" }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_weeks() {
        let t = DateTime::parse_from_rfc3339("2026-11-23T07:30:00Z").unwrap().to_utc();
        assert_eq!(IsoWeek::of(t, chrono_tz::Europe::Luxembourg).to_string(), "2026-W48");
        // Sunday 23:30 UTC is already Monday in Luxembourg.
        let t = DateTime::parse_from_rfc3339("2026-11-29T23:30:00Z").unwrap().to_utc();
        assert_eq!(IsoWeek::of(t, chrono_tz::Europe::Luxembourg).to_string(), "2026-W49");
        assert_eq!(IsoWeek::parse("2026-W48"), Some(IsoWeek { year: 2026, week: 48 }));
        assert_eq!(IsoWeek::parse("2026-W53"), Some(IsoWeek { year: 2026, week: 53 }));
        assert_eq!(IsoWeek::parse("2027-W53"), None);
        assert_eq!(IsoWeek::parse("2026-48"), None);
        assert_eq!(IsoWeek::parse("2026-W0"), None);
    }

    #[test]
    fn luxembourgish_falls_back_on_german_or_french() {
        let langs = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(mail_language(PreferredLanguage::Lb, &langs(&["lb", "de", "fr"])), "de");
        assert_eq!(mail_language(PreferredLanguage::Lb, &langs(&["lb", "fr", "en"])), "fr");
        assert_eq!(mail_language(PreferredLanguage::Lb, &langs(&["lb"])), "de");
        assert_eq!(mail_language(PreferredLanguage::Fr, &langs(&["de"])), "fr");
    }
}
