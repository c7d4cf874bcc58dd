//! Composing a member's digest: the approved suggestions not yet sent, rendered in the member's language, and the
//! outbox row written with its parts and its `Message-ID` before anything is sent.

use chrono::{DateTime, Utc};
use serde_json::Value;
use uuid::Uuid;

use super::token::LinkPurpose;
use super::{Digest, DigestStatus, IsoWeek, Mailer, mail_language, render};
use crate::db::digests::{self, DigestRow};
use crate::db::{DbConnection, DbError, db_now, members, outcomes, suggestions};
use crate::domain::member::{DigestFrequency, Member, MemberStatus};
use crate::domain::parse::ApiEnum as _;
use crate::review::view;

/// A digest rendered but not stored.
#[derive(Debug, Clone)]
pub struct Preview {
    pub rendered: render::Rendered,
    /// The suggestions, as the member sees them.
    pub suggestions: Vec<Value>,
    pub ids: Vec<String>,
    /// The suggestions it asks about (what came of them).
    pub questions: Vec<String>,
    pub language: String,
}

/// The links a rendered digest carries: signed for its member in the digest sent; in a preview or a dry run, which
/// staff read, the same addresses with a placeholder instead of the token (a signed link would let whoever reads it
/// react, report an outcome or unsubscribe in the member's name).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Links {
    Signed,
    Unsigned,
}

/// What stands for a token in an unsigned link: not a token, so the pages refuse it.
pub const UNSIGNED_TOKEN: &str = "sent-with-the-digest";

impl Mailer {
    /// The host of the public URL, which names our messages and our list.
    pub(crate) fn host(&self) -> String {
        url::Url::parse(&self.settings.public_url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_owned))
            .unwrap_or_else(|| "localhost".to_owned())
    }

    fn message_id(&self, id: &str) -> String {
        format!("<digest.{id}@{}>", self.host())
    }

    /// The digest's list identifier (RFC 2919): `digest.<host>`.
    pub fn list_id(&self) -> String {
        format!("digest.{}", self.host())
    }

    /// Render what `member` would receive for `week` now, without storing anything: `None` if nothing would be sent.
    /// With [`Links::Unsigned`] (what staff see), its links carry no token.
    pub fn preview(
        &self,
        conn: &mut DbConnection,
        member: Uuid,
        week: IsoWeek,
        now: DateTime<Utc>,
        links: Links,
    ) -> Result<Option<Preview>, DbError> {
        let Some(m) = members::find(conn, member)? else { return Ok(None) };
        let undelivered = suggestions::undelivered(conn, member)?;
        let asked = outcomes::due_questions(conn, member, now)?;
        if undelivered.is_empty() && asked.is_empty() {
            return Ok(None);
        }
        let lang = mail_language(m.profile.preferred_language, &m.profile.languages);
        let mut views = Vec::with_capacity(undelivered.len());
        let mut extras = Vec::with_capacity(undelivered.len());
        let expires = now + chrono::TimeDelta::days(self.settings.reaction_link_days);
        let url = |purpose, s: &crate::review::Suggestion| match links {
            Links::Signed => Uuid::try_parse(&s.id).ok().map(|id| self.suggestion_url(purpose, id, member, expires)),
            Links::Unsigned => Some(self.page_url("suggestion-page", UNSIGNED_TOKEN)),
        };
        let unsubscribe_url = match links {
            Links::Signed => self.unsubscribe_url(member),
            Links::Unsigned => self.page_url("unsubscribe", UNSIGNED_TOKEN),
        };
        for s in &undelivered {
            let mut shown = view::for_member(conn, s, now)?;
            super::label_in(&mut shown, lang);
            views.push(shown);
            let description = view::description(conn, s)?;
            extras.push(render::Extras { description, page_url: url(LinkPurpose::React, s) });
        }
        let mut questions = Vec::with_capacity(asked.len());
        for s in &asked {
            let page_url = url(LinkPurpose::Outcome, s);
            questions.push((view::for_member(conn, s, now)?, render::Extras { description: None, page_url }));
        }
        let content = render::DigestContent {
            suggestions: &views,
            extras: &extras,
            questions: &questions,
            unsubscribe_url: &unsubscribe_url,
        };
        let rendered = render::digest(lang, &m.profile.name, &week, &content)?;
        let ids = undelivered.into_iter().map(|s| s.id).collect();
        let questions = asked.into_iter().map(|s| s.id).collect();
        Ok(Some(Preview { rendered, suggestions: views, ids, questions, language: lang.to_owned() }))
    }

    /// Write `member`'s digest for `week` into the outbox, if it gets one (see [`recipient`]) and has something
    /// approved and not yet sent. Returns the new digest.
    pub fn compose(
        &self,
        conn: &mut DbConnection,
        member: Uuid,
        week: IsoWeek,
        now: DateTime<Utc>,
    ) -> Result<Option<Digest>, DbError> {
        crate::db::write(conn, |conn| {
            let Some(m) = recipient(conn, member, week)? else { return Ok(None) };
            let Some(Preview { rendered, ids, questions, language: lang, .. }) =
                self.preview(conn, member, week, now, Links::Signed)?
            else {
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
                status: DigestStatus::Queued.as_str().to_owned(),
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
            outcomes::mark_asked(conn, &questions, &row.id, now)?;
            Ok(Some(Digest::try_from(row)?))
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
        for member in due_members(conn, now)? {
            if !keep_going() {
                break;
            }
            if self.compose(conn, member, week, now)?.is_some() {
                written += 1;
            }
        }
        Ok(written)
    }

    /// What composing `week` would write now, writing nothing: each member who would get a digest, with it (its
    /// links unsigned: see [`Links`]).
    pub fn dry_run(
        &self,
        conn: &mut DbConnection,
        week: IsoWeek,
        now: DateTime<Utc>,
    ) -> Result<Vec<(Member, Preview)>, DbError> {
        let mut out = Vec::new();
        for member in due_members(conn, now)? {
            let Some(m) = recipient(conn, member, week)? else { continue };
            if let Some(p) = self.preview(conn, member, week, now, Links::Unsigned)? {
                out.push((m, p));
            }
        }
        Ok(out)
    }
}

/// Members with something to send: approved suggestions not yet sent, or a question due about one.
fn due_members(conn: &mut DbConnection, now: DateTime<Utc>) -> Result<Vec<Uuid>, DbError> {
    let mut members = suggestions::members_with_undelivered(conn)?;
    members.extend(outcomes::members_with_due_questions(conn, now)?);
    members.sort_unstable();
    members.dedup();
    Ok(members)
}

/// The member, if it gets a digest for `week`: weekly digest on, active, and none for that week yet.
fn recipient(conn: &mut DbConnection, member: Uuid, week: IsoWeek) -> Result<Option<Member>, DbError> {
    let Some(m) = members::find(conn, member)? else { return Ok(None) };
    if m.profile.digest != DigestFrequency::Weekly || m.profile.status != MemberStatus::Active {
        return Ok(None);
    }
    if digests::exists(conn, member, week)? {
        return Ok(None);
    }
    Ok(Some(m))
}
