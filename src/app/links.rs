//! A suggestion's page, reached signed out from the member's digest: what it shows, and the answers given there.
//! The link is the credential (see `digest::token`): `show` changes nothing, so mail scanners that follow links do
//! no harm; `answer` records what the member chose, as the member.

use chrono::TimeDelta;
use serde_json::Value;

use super::{AppError, Services};
use crate::app::introductions::{self, Asking};
use crate::app::review::Recording;
use crate::db::suggestions::ReactError;
use crate::db::{self, members, suggestions};
use crate::digest::mail_language;
use crate::digest::render::{Extras, SuggestionPage};
use crate::digest::token::{LinkError, LinkPurpose};
use crate::domain::introduction::IntroductionStatus;
use crate::domain::member::timestamp;
use crate::domain::suggestion::{REACTION_UNDO_DAYS, Reaction, ReactionReason};
use crate::domain::webhook::EventType;
use crate::review::view;

/// What a member can do from a suggestion's page.
#[derive(Debug, Clone)]
pub enum LinkAction {
    Interested,
    NotRelevant {
        reason: ReactionReason,
        comment: Option<String>,
    },
    /// Take the answer back (within [`REACTION_UNDO_DAYS`]).
    Undo,
    /// Say what came of it (a question's link only).
    Outcome(Recording),
    /// Ask to be introduced, with a few words for the other side.
    Introduce {
        note: Option<String>,
    },
}

impl LinkAction {
    /// The purpose a link must have been made for to do this.
    fn purpose(&self) -> LinkPurpose {
        match self {
            Self::Outcome(_) => LinkPurpose::Outcome,
            Self::Interested | Self::NotRelevant { .. } | Self::Undo | Self::Introduce { .. } => LinkPurpose::React,
        }
    }
}

/// A suggestion's page, ready to render.
#[derive(Debug, Clone)]
pub struct LinkPage {
    pub state: SuggestionPage,
    /// What the link was made for: the page shows the reaction's buttons, or the question what came of it.
    pub purpose: LinkPurpose,
    /// The member's language; `None` when the link names nobody we know (the page follows the browser).
    pub lang: Option<&'static str>,
    pub view: Option<Value>,
    pub extras: Extras,
    /// Until when the current answer can be taken back (RFC 3339), if it still can.
    pub undo_until: Option<String>,
    pub notice: Option<&'static str>,
    /// Today in Luxembourg, `YYYY-MM-DD`.
    pub today: String,
    /// Where the member's request to be introduced stands, if it asked.
    pub introduction: Option<IntroductionStatus>,
}

impl LinkPage {
    fn refused(state: SuggestionPage, lang: Option<&'static str>) -> Self {
        let purpose = LinkPurpose::React;
        let (today, extras) = (String::new(), Extras::default());
        Self { state, purpose, lang, view: None, extras, undo_until: None, notice: None, today, introduction: None }
    }
}

/// The page a suggestion link shows now. Changes nothing.
pub async fn show(svc: &Services, token: Option<String>) -> Result<LinkPage, AppError> {
    page(svc, token, None).await
}

/// Record what the member chose on the page, then the page as it is after.
pub async fn answer(svc: &Services, token: Option<String>, action: LinkAction) -> Result<LinkPage, AppError> {
    page(svc, token, Some(action)).await
}

async fn page(svc: &Services, token: Option<String>, action: Option<LinkAction>) -> Result<LinkPage, AppError> {
    let now = svc.clock.now();
    let key = &svc.jobs.mailer.key;
    let verified = token.as_deref().map_or(Err(LinkError::Invalid), |t| {
        [LinkPurpose::React, LinkPurpose::Outcome]
            .into_iter()
            .map(|p| key.verify_suggestion(p, t, now).map(|link| (link, p)))
            .find(|r| r != &Err(LinkError::Invalid))
            .unwrap_or(Err(LinkError::Invalid))
    });
    let (link, purpose) = match verified {
        Ok(found) => found,
        Err(LinkError::Invalid) => return Ok(LinkPage::refused(SuggestionPage::Invalid, None)),
        Err(LinkError::Expired) => return Ok(LinkPage::refused(SuggestionPage::Expired, None)),
    };
    if action.as_ref().is_some_and(|a| a.purpose() != purpose) {
        return Ok(LinkPage::refused(SuggestionPage::Invalid, None));
    }
    let jobs = svc.jobs.clone();
    db::run(&svc.pool, move |conn| {
        let Some(member) = members::find(conn, link.member)? else {
            return Ok(LinkPage::refused(SuggestionPage::Unavailable, None));
        };
        let lang = Some(mail_language(member.profile.preferred_language, &member.profile.languages));
        let id = link.suggestion.to_string();
        let mine = |s: &crate::review::Suggestion| s.member == link.member && s.status.visible_to_member();
        if !suggestions::find(conn, &id)?.is_some_and(|s| mine(&s)) {
            return Ok(LinkPage::refused(SuggestionPage::Unavailable, lang));
        }
        let actor = format!("member:{}", link.member);
        let event = match &action {
            None => None,
            Some(LinkAction::Interested | LinkAction::NotRelevant { .. } | LinkAction::Undo) => {
                Some(EventType::SuggestionReaction)
            }
            // An outcome and a new introduction request tell of themselves (`record_outcome_in`, `request_in`).
            Some(LinkAction::Outcome(_) | LinkAction::Introduce { .. }) => None,
        };
        let done = db::write(conn, |conn| {
            let done = match action {
                None => Ok(None),
                Some(LinkAction::Interested) => {
                    suggestions::react(conn, &id, Reaction::Interested, None, None, &actor, now)
                        .map(|_| Some("recorded"))
                }
                Some(LinkAction::NotRelevant { reason, comment }) => {
                    let comment = comment.as_deref().map(str::trim).filter(|c| !c.is_empty());
                    suggestions::react(conn, &id, Reaction::NotRelevant, Some(reason), comment, &actor, now)
                        .map(|_| Some("recorded"))
                }
                Some(LinkAction::Undo) => suggestions::undo_reaction(conn, &id, &actor, now).map(|_| Some("undone")),
                Some(LinkAction::Outcome(r)) => {
                    match crate::app::review::record_outcome_in(conn, &id, &r, &actor, false, now) {
                        Ok(_) => Ok(Some("recorded")),
                        Err(AppError::Conflict(why)) => Err(ReactError::Conflict(why)),
                        Err(e) => return Err(e),
                    }
                }
                Some(LinkAction::Introduce { note }) => {
                    let asking = Asking { suggestion: id.clone(), note };
                    introductions::request_in(conn, &jobs.mailer, &asking, &actor, now)?;
                    Ok(Some("introduction_asked"))
                }
            };
            if let (Ok(Some(_)), Some(event)) = (&done, event) {
                crate::webhook::suggestion_event(conn, event, &id, now)?;
            }
            Ok::<_, AppError>(done)
        })?;
        let notice = match done {
            Ok(n) => n,
            Err(ReactError::Conflict(_)) => Some("conflict"),
            Err(ReactError::NotFound) => return Ok(LinkPage::refused(SuggestionPage::Unavailable, lang)),
            Err(ReactError::Db(e)) => return Err(e.into()),
        };
        let Some(s) = suggestions::find(conn, &id)?.filter(mine) else {
            return Ok(LinkPage::refused(SuggestionPage::Unavailable, lang));
        };
        let mut view = view::for_member(conn, &s, now)?;
        if let Some(lang) = lang {
            crate::digest::label_in(&mut view, lang);
        }
        let description = view::description(conn, &s)?;
        let undo_until =
            s.reacted_at.map(|at| at + TimeDelta::days(REACTION_UNDO_DAYS)).filter(|until| *until > now).map(timestamp);
        Ok::<_, AppError>(LinkPage {
            state: SuggestionPage::Shown,
            purpose,
            lang,
            view: Some(view),
            extras: Extras { description, page_url: None },
            undo_until,
            notice,
            today: now.with_timezone(&chrono_tz::Europe::Luxembourg).date_naive().to_string(),
            introduction: introductions::status_of(conn, &id)?,
        })
    })
    .await
}
