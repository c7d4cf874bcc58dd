//! Composing a member's digest: the approved suggestions not yet sent, rendered in the member's language, and the
//! outbox row written with its parts and its `Message-ID` before anything is sent.

use chrono::{DateTime, Utc};
use serde_json::Value;
use uuid::Uuid;

use super::{IsoWeek, Mailer, mail_language, render};
use crate::db::digests::{self, DigestRow};
use crate::db::{DbConnection, DbError, db_now, suggestions};
use crate::domain::member::{DigestFrequency, MemberStatus};
use crate::review::view;

/// A digest rendered but not stored.
#[derive(Debug, Clone)]
pub struct Preview {
    pub rendered: render::Rendered,
    /// The suggestions, as the member sees them.
    pub suggestions: Vec<Value>,
    pub ids: Vec<String>,
    pub language: String,
}

impl Mailer {
    fn message_id(&self, id: &str) -> String {
        let host = url::Url::parse(&self.settings.public_url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_owned))
            .unwrap_or_else(|| "localhost".to_owned());
        format!("<digest.{id}@{host}>")
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
            if digests::exists(conn, member, week)? {
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
            digests::insert(conn, &row)?;
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
}
