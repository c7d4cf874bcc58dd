//! Introductions: a member asks, from a suggestion, to be put in touch. The other side (the partner, or the member
//! leading the project) consents first; then staff make the introduction, one e-mail to both. Contact details go out
//! only with that e-mail.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::api_enum;
use crate::domain::member::timestamp;

api_enum!(
    /// Where an introduction is: the other side is asked (`awaiting_consent`), said no (`declined`), the request
    /// waits for staff (`requested`), staff made it (`introduced`) or closed it without one (`closed`).
    IntroductionStatus {
        AwaitingConsent => "awaiting_consent",
        Declined => "declined",
        Requested => "requested",
        Introduced => "introduced",
        Closed => "closed",
    }
);

/// How long a consent link lives, by default (`MATCHMAKER_CONSENT_LINK_DAYS`).
pub const CONSENT_LINK_DAYS: i64 = 28;

/// The longest note a member or staff adds to an introduction, in characters.
pub const NOTE_MAX: usize = 1000;

/// An introduction as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Introduction {
    pub id: Uuid,
    pub suggestion: String,
    /// The member who asked (the suggestion's member).
    pub member: Uuid,
    /// The member asked to consent: the partner, the candidate, or the member leading the project; `None` when the
    /// request goes to staff directly.
    pub counterpart: Option<Uuid>,
    pub status: IntroductionStatus,
    /// The asking member's words to the other side.
    pub note: Option<String>,
    pub requested_by: String,
    pub requested_at: DateTime<Utc>,
    /// Until when the other side's consent link works.
    pub consent_until: Option<DateTime<Utc>>,
    /// When the other side consented or declined.
    pub answered_at: Option<DateTime<Utc>>,
    /// The staff member who introduced or closed it, and when.
    pub done_by: Option<String>,
    pub done_at: Option<DateTime<Utc>>,
    /// Staff's words: the introduction's message, or why it was closed.
    pub staff_note: Option<String>,
    pub version: i64,
    pub updated_at: DateTime<Utc>,
}

impl Introduction {
    /// Whether the other side was asked and its link ran out before it answered.
    pub fn consent_lapsed(&self, now: DateTime<Utc>) -> bool {
        self.status == IntroductionStatus::AwaitingConsent && self.consent_until.is_some_and(|until| until <= now)
    }

    /// The introduction as the member who asked (or its portal) sees it: where it stands, never who said what.
    pub fn to_member_json(&self, now: DateTime<Utc>) -> Value {
        json!({
            "id": self.id,
            "suggestion_id": self.suggestion,
            "status": self.status,
            "consent_lapsed": self.consent_lapsed(now),
            "requested_at": timestamp(self.requested_at),
            "introduced_at": (self.status == IntroductionStatus::Introduced).then(|| self.done_at.map(timestamp)).flatten(),
        })
    }

    /// The introduction as staff see it: everything.
    pub fn to_staff_json(&self, now: DateTime<Utc>) -> Value {
        json!({
            "id": self.id,
            "suggestion_id": self.suggestion,
            "member_id": self.member,
            "counterpart_id": self.counterpart,
            "status": self.status,
            "consent_lapsed": self.consent_lapsed(now),
            "note": self.note,
            "requested_by": self.requested_by,
            "requested_at": timestamp(self.requested_at),
            "consent_until": self.consent_until.map(timestamp),
            "answered_at": self.answered_at.map(timestamp),
            "done_by": self.done_by,
            "done_at": self.done_at.map(timestamp),
            "staff_note": self.staff_note,
            "version": self.version,
        })
    }
}
