//! Introductions, with consent. A member asks from one of its suggestions (its page, its portal, the API); the
//! other side (the partner, the candidate, or the member leading the project) is asked first, by a signed link in
//! its own language; once it agrees, or when there is nobody to ask, the request waits for staff, who make the
//! introduction: one e-mail to both, through the outbox, the first place either side's contact e-mail appears.

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{Value, json};
use uuid::Uuid;

use super::{AppError, Services};
use crate::db::introductions::{self, IntroductionRow};
use crate::db::messages::{self, MessageRow};
use crate::db::suggestions::record_event;
use crate::db::{self, DbConnection, db_now, members, projects, suggestions};
use crate::digest::render::{self, Asker, ConsentContent, Party, SuggestionPage};
use crate::digest::token::{LinkError, LinkPurpose};
use crate::digest::{Mailer, mail_language};
use crate::domain::introduction::{Introduction, IntroductionStatus};
use crate::domain::member::{Member, MemberStatus};
use crate::domain::parse::ApiEnum as _;
use crate::domain::webhook::EventType;
use crate::review::{Suggestion, SuggestionKind, view};

fn not_found() -> AppError {
    AppError::NotFound("no introduction has this id".to_owned())
}

/// The member asked to consent for a suggestion, if any: the partner or candidate, or the member leading the
/// suggested project (unless that is the member who asks).
fn counterpart_of(conn: &mut DbConnection, s: &Suggestion) -> Result<Option<Member>, AppError> {
    let other = match s.kind {
        SuggestionKind::Partner | SuggestionKind::Candidate => s.partner,
        SuggestionKind::Project => match s.project {
            Some(p) => projects::find(conn, p)?.and_then(|p| p.draft.lead_member_id),
            None => None,
        },
    };
    let Some(other) = other.filter(|o| *o != s.member) else { return Ok(None) };
    Ok(members::find(conn, other)?.filter(|m| m.profile.status == MemberStatus::Active))
}

/// What an introduction is about, in `lang`, for the member reading it: `asked` reads it as the other side.
fn about(conn: &mut DbConnection, s: &Suggestion, lang: &str, asked: bool) -> Result<String, AppError> {
    let title = match s.project {
        Some(p) => projects::find(conn, p)?.map(|p| p.draft.title),
        None => None,
    };
    let kind = match (s.kind, asked) {
        (SuggestionKind::Partner, _) => "partner",
        // The member asked leads the project; the member asking is a candidate for it, and the other way round.
        (SuggestionKind::Project, true) => "project",
        (SuggestionKind::Candidate, true) => "candidate",
        (SuggestionKind::Project | SuggestionKind::Candidate, false) => "call",
    };
    Ok(render::about(lang, kind, title.as_deref()))
}

/// The language one e-mail to two members is written in: the first's mail language if the second reads it, else the
/// second's if the first reads it, else English.
fn shared_language(first: &Member, second: Option<&Member>) -> &'static str {
    let lang = |m: &Member| mail_language(m.profile.preferred_language, &m.profile.languages);
    let reads = |m: &Member, l: &str| lang(m) == l || m.profile.languages.iter().any(|x| x == l);
    let Some(second) = second else { return lang(first) };
    if reads(second, lang(first)) {
        lang(first)
    } else if reads(first, lang(second)) {
        lang(second)
    } else {
        "en"
    }
}

/// Write the e-mail asking `other` whether it agrees to be introduced to the suggestion's member.
fn queue_consent_request(
    conn: &mut DbConnection,
    mailer: &Mailer,
    intro: &Introduction,
    s: &Suggestion,
    other: &Member,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let lang = mail_language(other.profile.preferred_language, &other.profile.languages);
    let asking = members::find(conn, intro.member)?.ok_or_else(not_found)?;
    let card = view::card(conn, intro.member)?;
    let asker = Asker { card: &card, description: Some(&asking.profile.description), note: intro.note.as_deref() };
    let until = intro.consent_until.unwrap_or(now);
    let url = mailer.consent_url(intro.id, other.id, until);
    let about = about(conn, s, lang, true)?;
    let rendered = render::consent_request(
        lang,
        &other.profile.name,
        &asker,
        &about,
        &url,
        &crate::domain::member::timestamp(until),
    )?;
    enqueue(conn, mailer, "consent_request", intro, &[other.profile.contact_email.as_str()], lang, rendered, now)
}

/// Write one message about `intro` into the outbox, due at once.
#[allow(clippy::too_many_arguments)]
fn enqueue(
    conn: &mut DbConnection,
    mailer: &Mailer,
    kind: &str,
    intro: &Introduction,
    to: &[&str],
    lang: &str,
    rendered: render::Rendered,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let (id, intro_id) = (Uuid::now_v7().to_string(), intro.id.to_string());
    let parts = (rendered.subject, rendered.html, rendered.text);
    let (host, due) = (mailer.host(), db_now(conn)?);
    let row = MessageRow::queued(&id, kind, Some(&intro_id), &host, to, lang, parts, now.naive_utc(), due);
    messages::insert(conn, &row)?;
    Ok(())
}

/// A member's request to be introduced, as given.
#[derive(Debug, Clone)]
pub struct Asking {
    pub suggestion: String,
    pub note: Option<String>,
}

/// Ask to be introduced from suggestion `a.suggestion` as `actor` (the caller checked it may act for the member):
/// the introduction, and whether it is new. Asking again returns the request as it stands; after the other side's
/// link lapsed unanswered, it asks the other side again.
pub fn request_in(
    conn: &mut DbConnection,
    mailer: &Mailer,
    a: &Asking,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<(Introduction, bool), AppError> {
    db::write(conn, |conn| {
        let s = suggestions::find(conn, &a.suggestion)?
            .filter(|s| s.status.visible_to_member())
            .ok_or_else(|| AppError::NotFound("no suggestion has this id".to_owned()))?;
        let until = now + TimeDelta::days(mailer.settings.consent_link_days);
        let note = a.note.as_deref().map(str::trim).filter(|n| !n.is_empty());
        if let Some(existing) = introductions::of_suggestion(conn, &s.id)? {
            if !existing.consent_lapsed(now) {
                return Ok((existing, false));
            }
            introductions::renew(conn, &existing.id.to_string(), until, note, actor, now)?;
            let renewed = introductions::find(conn, &existing.id.to_string())?.ok_or_else(not_found)?;
            // The member asked before is asked again (its link names it), even if the project's lead changed since.
            let asked = match renewed.counterpart {
                Some(c) => members::find(conn, c)?.filter(|m| m.profile.status == MemberStatus::Active),
                None => None,
            };
            if let Some(other) = asked {
                queue_consent_request(conn, mailer, &renewed, &s, &other, now)?;
            }
            record_event(conn, &s.id, "introduction", None, Some("asked_again"), actor, note, now)?;
            return Ok((renewed, false));
        }
        let other = counterpart_of(conn, &s)?;
        let status = if other.is_some() { IntroductionStatus::AwaitingConsent } else { IntroductionStatus::Requested };
        let row = IntroductionRow {
            id: Uuid::now_v7().to_string(),
            suggestion_id: s.id.clone(),
            member_id: s.member.to_string(),
            counterpart_id: other.as_ref().map(|o| o.id.to_string()),
            status: status.as_str().to_owned(),
            note: note.map(str::to_owned),
            requested_by: actor.to_owned(),
            requested_at: now.naive_utc(),
            consent_until: other.as_ref().map(|_| until.naive_utc()),
            answered_at: None,
            done_by: None,
            done_at: None,
            staff_note: None,
            version: 1,
            updated_at: now.naive_utc(),
        };
        introductions::insert(conn, &row)?;
        let intro = Introduction::try_from(row)?;
        record_event(conn, &s.id, "introduction", None, Some(status.as_str()), actor, note, now)?;
        if let Some(other) = &other {
            queue_consent_request(conn, mailer, &intro, &s, other, now)?;
        }
        crate::webhook::suggestion_event(conn, EventType::IntroductionRequested, &s.id, now)?;
        Ok((intro, true))
    })
}

/// [`request_in`] for an interface: the introduction as the member sees it, and whether it is new.
pub async fn request(svc: &Services, actor: String, a: Asking) -> Result<(Value, bool), AppError> {
    let (now, jobs) = (svc.clock.now(), svc.jobs.clone());
    db::run(&svc.pool, move |conn| {
        let (intro, created) = request_in(conn, &jobs.mailer, &a, &actor, now)?;
        Ok((intro.to_member_json(now), created))
    })
    .await
}

/// An introduction as staff see it: the record, both members' names, the suggestion's kind and project, and how
/// its messages went.
fn staff_view(conn: &mut DbConnection, intro: &Introduction, now: DateTime<Utc>) -> Result<Value, AppError> {
    let mut v = intro.to_staff_json(now);
    let name = |conn: &mut DbConnection, id: Option<Uuid>| -> Result<Value, AppError> {
        Ok(match id {
            Some(id) => json!(members::find(conn, id)?.map(|m| m.profile.name)),
            None => Value::Null,
        })
    };
    v["member_name"] = name(conn, Some(intro.member))?;
    v["counterpart_name"] = name(conn, intro.counterpart)?;
    let s = suggestions::find(conn, &intro.suggestion)?;
    v["kind"] = json!(s.as_ref().map(|s| s.kind));
    v["project_id"] = json!(s.as_ref().and_then(|s| s.project));
    let sent: Vec<Value> = messages::of_introduction(conn, &intro.id.to_string())?.iter().map(message_json).collect();
    v["messages"] = Value::Array(sent);
    Ok(v)
}

/// A message in the outbox as staff see it: what it is and how sending it went (not its text).
fn message_json(m: &MessageRow) -> Value {
    json!({
        "id": m.id,
        "kind": m.kind,
        "status": m.send_status(),
        "attempts": m.attempts,
        "last_error": m.last_error,
        "sent_at": m.sent_at.map(|t| crate::domain::member::timestamp(t.and_utc())),
    })
}

/// Put a failed message (a consent request, an introduction) back in the queue, due at once with its tries counted
/// afresh (staff); the next delivery pass sends it with the same `Message-ID`.
pub async fn retry_message(svc: &Services, actor: &super::Actor, id: String) -> Result<Value, AppError> {
    let now = svc.clock.now();
    let retried = db::run(&svc.pool, move |conn| {
        db::write(conn, |conn| {
            let m =
                messages::find(conn, &id)?.ok_or_else(|| AppError::NotFound("no message has this id".to_owned()))?;
            if m.send_status() != crate::domain::digest::DigestStatus::Failed {
                return Err(AppError::Conflict(format!(
                    "only a failed message can be retried; this one is {}",
                    m.send_status()
                )));
            }
            let due = db_now(conn)?;
            messages::requeue_failed(conn, &id, due, now.naive_utc())?;
            let m =
                messages::find(conn, &id)?.ok_or_else(|| AppError::NotFound("no message has this id".to_owned()))?;
            Ok::<_, AppError>(message_json(&m))
        })
    })
    .await?;
    let target = retried["id"].as_str().unwrap_or_default().to_owned();
    super::audit::record(svc, actor.event("message.retry").target(target)).await;
    Ok(retried)
}

/// Introductions for staff, oldest request first (`status` narrows).
pub async fn list(
    svc: &Services,
    status: Option<IntroductionStatus>,
    offset: i64,
    limit: i64,
) -> Result<Vec<Value>, AppError> {
    let now = svc.clock.now();
    db::run(&svc.pool, move |conn| {
        let found = introductions::list(conn, status, offset, limit)?;
        found.iter().map(|i| staff_view(conn, i, now)).collect()
    })
    .await
}

/// One introduction, as staff see it.
pub async fn get(svc: &Services, id: String) -> Result<Value, AppError> {
    let now = svc.clock.now();
    db::run(&svc.pool, move |conn| {
        let intro = introductions::find(conn, &id)?.ok_or_else(not_found)?;
        staff_view(conn, &intro, now)
    })
    .await
}

/// What staff do with a request: introduce (one e-mail to both, with their words), or close it without.
#[derive(Debug, Clone)]
pub enum Finishing {
    Introduce { message: Option<String> },
    Close { reason: String },
}

fn not_requested(intro: &Introduction) -> AppError {
    AppError::Conflict(format!(
        "only a request waiting for staff (`requested`) can be introduced or closed; this one is `{}`",
        intro.status
    ))
}

/// Finish a request as staff `actor`: introduced (writing the introduction's e-mail into the outbox) or closed.
pub async fn finish(svc: &Services, actor: String, id: String, f: Finishing) -> Result<Value, AppError> {
    let (now, jobs) = (svc.clock.now(), svc.jobs.clone());
    db::run(&svc.pool, move |conn| {
        db::write(conn, |conn| {
            let intro = introductions::find(conn, &id)?.ok_or_else(not_found)?;
            if intro.status != IntroductionStatus::Requested {
                return Err(not_requested(&intro));
            }
            let (to, note) = match &f {
                Finishing::Introduce { message } => (IntroductionStatus::Introduced, message.as_deref()),
                Finishing::Close { reason } => (IntroductionStatus::Closed, Some(reason.as_str())),
            };
            if !introductions::finish(conn, &id, to, note, &actor, now)? {
                return Err(not_requested(&intro));
            }
            record_event(
                conn,
                &intro.suggestion,
                "introduction",
                Some("requested"),
                Some(to.as_str()),
                &actor,
                note,
                now,
            )?;
            if to == IntroductionStatus::Introduced {
                queue_introduction(conn, &jobs.mailer, &intro, note, now)?;
                crate::webhook::suggestion_event(conn, EventType::IntroductionDone, &intro.suggestion, now)?;
            }
            let done = introductions::find(conn, &id)?.ok_or_else(not_found)?;
            staff_view(conn, &done, now)
        })
    })
    .await
}

/// Write the introduction's e-mail: to both members (or to the one who asked, when there was nobody to ask), in a
/// language both read, with each one's contact e-mail.
fn queue_introduction(
    conn: &mut DbConnection,
    mailer: &Mailer,
    intro: &Introduction,
    note: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let s = suggestions::find(conn, &intro.suggestion)?.ok_or_else(not_found)?;
    let asking = members::find(conn, intro.member)?.ok_or_else(not_found)?;
    let other = match intro.counterpart {
        Some(c) => members::find(conn, c)?,
        None => None,
    };
    let lang = shared_language(&asking, other.as_ref());
    let about = about(conn, &s, lang, false)?;
    let mut cards = vec![(view::card(conn, asking.id)?, &asking)];
    if let Some(o) = &other {
        cards.push((view::card(conn, o.id)?, o));
    }
    let parties: Vec<Party<'_>> = cards
        .iter()
        .map(|(card, m)| Party {
            card,
            description: Some(m.profile.description.as_str()),
            email: &m.profile.contact_email,
        })
        .collect();
    let rendered = render::introduction(lang, &parties, &about, note)?;
    let to: Vec<&str> = parties.iter().map(|p| p.email).collect();
    enqueue(conn, mailer, "introduction", intro, &to, lang, rendered, now)
}

/// A consent page, ready to render.
#[derive(Debug, Clone)]
pub struct ConsentPage {
    pub state: SuggestionPage,
    /// The language of the member asked; `None` when the link names nobody we know (the page follows the browser).
    pub lang: Option<&'static str>,
    /// The asking member's card and words about itself.
    pub card: Value,
    pub description: Option<String>,
    pub note: Option<String>,
    pub about: String,
    pub answered: Option<&'static str>,
    pub notice: Option<&'static str>,
}

impl ConsentPage {
    fn refused(state: SuggestionPage, lang: Option<&'static str>) -> Self {
        let (card, about) = (Value::Null, String::new());
        Self { state, lang, card, description: None, note: None, about, answered: None, notice: None }
    }

    /// The page's content, for the renderer.
    pub fn content(&self, action: String) -> ConsentContent<'_> {
        ConsentContent {
            asker: (self.state == SuggestionPage::Shown).then_some(Asker {
                card: &self.card,
                description: self.description.as_deref(),
                note: self.note.as_deref(),
            }),
            about: self.about.clone(),
            action,
            answered: self.answered,
            notice: self.notice,
        }
    }
}

/// The consent page a link shows: `answer` `None` changes nothing (mail scanners follow links); `Some(yes)` records
/// the other side's answer, once.
pub async fn consent(svc: &Services, token: Option<String>, answer: Option<bool>) -> Result<ConsentPage, AppError> {
    let now = svc.clock.now();
    let verified = token
        .as_deref()
        .map_or(Err(LinkError::Invalid), |t| svc.jobs.mailer.key.verify_suggestion(LinkPurpose::Consent, t, now));
    let link = match verified {
        Ok(link) => link,
        Err(LinkError::Invalid) => return Ok(ConsentPage::refused(SuggestionPage::Invalid, None)),
        Err(LinkError::Expired) => return Ok(ConsentPage::refused(SuggestionPage::Expired, None)),
    };
    db::run(&svc.pool, move |conn| {
        let Some(asked) = members::find(conn, link.member)? else {
            return Ok(ConsentPage::refused(SuggestionPage::Unavailable, None));
        };
        let lang = mail_language(asked.profile.preferred_language, &asked.profile.languages);
        let id = link.suggestion.to_string();
        let mine = |i: &Introduction| i.counterpart == Some(link.member);
        let Some(intro) = introductions::find(conn, &id)?.filter(mine) else {
            return Ok(ConsentPage::refused(SuggestionPage::Unavailable, Some(lang)));
        };
        let notice = match answer {
            Some(yes) => db::write(conn, |conn| {
                if !introductions::answer(conn, &id, yes, now)? {
                    return Ok::<_, AppError>(Some("conflict"));
                }
                let to = if yes { IntroductionStatus::Requested } else { IntroductionStatus::Declined };
                let actor = format!("member:{}", link.member);
                let from = Some(IntroductionStatus::AwaitingConsent.as_str());
                record_event(conn, &intro.suggestion, "introduction", from, Some(to.as_str()), &actor, None, now)?;
                Ok(None)
            })?,
            None => None,
        };
        let Some(intro) = introductions::find(conn, &id)?.filter(mine) else {
            return Ok(ConsentPage::refused(SuggestionPage::Unavailable, Some(lang)));
        };
        let Some(s) = suggestions::find(conn, &intro.suggestion)? else {
            return Ok(ConsentPage::refused(SuggestionPage::Unavailable, Some(lang)));
        };
        let answered = match intro.status {
            IntroductionStatus::AwaitingConsent => None,
            IntroductionStatus::Declined => Some("declined"),
            IntroductionStatus::Requested | IntroductionStatus::Introduced | IntroductionStatus::Closed => {
                Some("accepted")
            }
        };
        let asking = members::find(conn, intro.member)?;
        Ok(ConsentPage {
            state: SuggestionPage::Shown,
            lang: Some(lang),
            card: view::card(conn, intro.member)?,
            description: asking.map(|m| m.profile.description),
            note: intro.note.clone(),
            about: about(conn, &s, lang, true)?,
            answered,
            notice,
        })
    })
    .await
}

/// Where the member's request to be introduced from suggestion `id` stands, if it asked.
pub fn status_of(conn: &mut DbConnection, id: &str) -> Result<Option<IntroductionStatus>, AppError> {
    Ok(introductions::of_suggestion(conn, id)?.map(|i| i.status))
}
