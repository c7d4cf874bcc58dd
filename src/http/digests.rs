//! Stored digests, staff previews and retries, and the public unsubscribe page (RFC 8058 one-click).

use std::collections::HashMap;

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};
use uuid::Uuid;

use super::AppState;
use super::extract::{Params, actor, enum_param, offset_page, offset_query, parsed, query_params};
use crate::app::digests::{self as use_case, PreviewOf};
use crate::app::links::{self, LinkAction, LinkPage};
use crate::auth::Caller;
use crate::db::digests::DigestFilter;
use crate::digest::render::{self, PageState, SuggestionPage};
use crate::digest::{Digest, DigestStatus, IsoWeek, mail_language};
use crate::domain::FieldError;
use crate::domain::introduction::NOTE_MAX;
use crate::domain::parse::ApiEnum as _;
use crate::domain::suggestion::{Outcome, ReactionReason};
use crate::http::error::ApiError;
use crate::http::review::REASON_MAX;

const CURSOR_KIND: &str = "d1";

fn member_id(raw: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw).map_err(|_| ApiError::NotFound("no member has this id".to_owned()))
}

/// The query's parameters (only those `allowed`) and its page: limit and offset.
fn paged(query: &str, allowed: &[&str], errors: &mut Vec<FieldError>) -> Result<(Params, i64, i64), ApiError> {
    offset_query(query, allowed, CURSOR_KIND, errors)
}

fn week_param(params: &Params, errors: &mut Vec<FieldError>) -> Option<IsoWeek> {
    params.get("week").and_then(|w| {
        IsoWeek::parse(w).or_else(|| {
            errors.push(FieldError::new("?week", "must be an ISO week such as 2026-W48"));
            None
        })
    })
}

/// A digest without its rendered parts, the error shown to staff only.
fn summary(d: &Digest, staff: bool) -> Value {
    let mut v = d.to_json(&[], false);
    if let Some(o) = v.as_object_mut() {
        o.remove("suggestions");
        if !staff {
            o.remove("last_error");
        }
    }
    v
}

/// A page of digests (fetched with one extra).
fn page(req: &HttpRequest, digests: Vec<Digest>, offset: i64, limit: i64, staff: bool) -> HttpResponse {
    offset_page(req, CURSOR_KIND, digests, offset, limit, |d| summary(d, staff))
}

/// `GET /v1/members/{id}/digests`: newest first.
pub async fn for_member(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let member = member_id(&path)?;
    let mut errors = Vec::new();
    let (_, limit, offset) = paged(req.query_string(), &["limit", "cursor"], &mut errors)?;
    parsed((), errors)?;
    let digests = use_case::for_member(&state, member, offset, limit).await?;
    Ok(page(&req, digests, offset, limit, caller.is_staff()))
}

/// The list's filters and page, from the query.
pub fn parse_list(query: &str) -> Result<(DigestFilter, i64, i64), ApiError> {
    let mut errors = Vec::new();
    let (params, limit, offset) = paged(query, &["status", "week", "member", "limit", "cursor"], &mut errors)?;
    let week = week_param(&params, &mut errors);
    let status = enum_param::<DigestStatus>(&params, "status", &mut errors);
    let member = params.get("member").and_then(|m| {
        Uuid::parse_str(m).ok().or_else(|| {
            errors.push(FieldError::new("?member", "must be a member id"));
            None
        })
    });
    parsed((DigestFilter { member, status, week }, limit, offset), errors)
}

/// `GET /v1/digests` (staff): `status` (e.g. `failed`), `week`, `member`.
pub async fn list(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let (filter, limit, offset) = parse_list(req.query_string())?;
    let digests = use_case::list(&state, filter, offset, limit).await?;
    Ok(page(&req, digests, offset, limit, true))
}

/// `GET /v1/digests/{id}`: with its HTML and text and its suggestions.
pub async fn get(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let shown = use_case::get(&state, &caller, path.into_inner()).await?;
    let mut v = shown.digest.to_json(&shown.suggestions, true);
    if !caller.is_staff()
        && let Some(o) = v.as_object_mut()
    {
        o.remove("last_error");
    }
    Ok(HttpResponse::Ok().json(v))
}

/// `POST /v1/digests/{id}/retry` (staff): a failed digest back to the queue; the scheduler (or `matchmaker digest
/// run`) sends it.
pub async fn retry(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let digest = use_case::retry(&state, &actor(&req, &state, &caller), path.into_inner()).await?;
    Ok(HttpResponse::Ok().json(summary(&digest, true)))
}

fn preview_json(p: PreviewOf) -> Value {
    let (member, week) = (p.member, p.week.to_string());
    match p.preview {
        Some(p) => json!({
            "member_id": member,
            "week": week,
            "would_send": true,
            "language": p.language,
            "subject": p.rendered.subject,
            "html": p.rendered.html,
            "text": p.rendered.text,
            "suggestions": p.suggestions,
        }),
        None => json!({"member_id": member, "week": week, "would_send": false, "language": null,
                       "subject": null, "html": null, "text": null, "suggestions": []}),
    }
}

/// `GET /v1/members/{id}/digest-preview?week=` (staff): what the member would receive now, rendered, nothing stored.
pub async fn preview(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let member = member_id(&path)?;
    let params = query_params(req.query_string(), &["week"])?;
    let mut errors = Vec::new();
    let week = week_param(&params, &mut errors);
    parsed((), errors)?;
    let preview = use_case::preview(&state, member, week).await?;
    Ok(HttpResponse::Ok().json(preview_json(preview)))
}

/// The token of an unsubscribe link.
pub(super) fn token(req: &HttpRequest) -> Option<String> {
    url::form_urlencoded::parse(req.query_string().as_bytes())
        .filter(|(k, _)| k == "token")
        .last()
        .map(|(_, v)| v.into_owned())
}

pub(super) fn html(status: StatusCode, body: String) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::CONTENT_TYPE, "text/html; charset=utf-8"))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header(("referrer-policy", "no-referrer"))
        .body(body)
}

/// The unsubscribe page for the member a link named (`None`: the link is not genuine, or the member is gone).
fn unsubscribe_page(
    req: &HttpRequest,
    member: Option<crate::domain::member::Member>,
    shows: PageState,
) -> Result<HttpResponse, ApiError> {
    let Some(m) = member else {
        let lang = render::page_language(accept_language(req));
        return Ok(html(StatusCode::NOT_FOUND, render::unsubscribe_page(lang, PageState::Invalid, "", "")?));
    };
    let lang = mail_language(m.profile.preferred_language, &m.profile.languages);
    let action = format!("/v1/unsubscribe?{}", req.query_string());
    Ok(html(StatusCode::OK, render::unsubscribe_page(lang, shows, &m.profile.name, &action)?))
}

/// `GET /v1/unsubscribe?token=`: a confirmation page (signed out; changes nothing: mail scanners follow links).
pub async fn confirm_unsubscribe(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let member = use_case::confirm_unsubscribe(&state, token(&req)).await?;
    unsubscribe_page(&req, member, PageState::Confirm)
}

/// `POST /v1/unsubscribe?token=`: unsubscribe (the page's button, or a mail client's RFC 8058 one-click POST).
pub async fn unsubscribe(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let member = use_case::unsubscribe(&state, token(&req)).await?;
    unsubscribe_page(&req, member, PageState::Done)
}

pub(super) fn accept_language(req: &HttpRequest) -> Option<&str> {
    req.headers().get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok())
}

/// A suggestion's page as the response: in the member's language, or the browser's when the link names nobody.
fn suggestion_page(req: &HttpRequest, page: &LinkPage, choice: Option<String>) -> Result<HttpResponse, ApiError> {
    let lang = page.lang.unwrap_or_else(|| render::page_language(accept_language(req)));
    let status = match page.state {
        SuggestionPage::Shown => StatusCode::OK,
        SuggestionPage::Expired => StatusCode::GONE,
        SuggestionPage::Invalid | SuggestionPage::Unavailable => StatusCode::NOT_FOUND,
    };
    let content = render::PageContent {
        view: page.view.as_ref(),
        extras: page.extras.clone(),
        action: format!("/v1/suggestion-page?token={}", urlencoding(&token(req).unwrap_or_default())),
        notice: page.notice,
        choice,
        undo_until: page.undo_until.clone(),
        asks_outcome: page.purpose == crate::digest::token::LinkPurpose::Outcome,
        today: page.today.clone(),
        introduction: page.introduction.map(|i| i.as_str()),
    };
    Ok(html(status, render::suggestion_page(lang, page.state, &content)?))
}

pub(super) fn urlencoding(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// `GET /v1/suggestion-page?token=[&choice=interested|not_relevant]`: one suggestion of a digest, with buttons to
/// answer (signed out; changes nothing: mail scanners follow links).
pub async fn show_suggestion_page(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let params = query_params(req.query_string(), &["token", "choice"])?;
    let choice = params.get("choice").filter(|c| matches!(c.as_str(), "interested" | "not_relevant")).cloned();
    let page = links::show(&state, token(&req)).await?;
    suggestion_page(&req, &page, choice)
}

/// The answer a suggestion's page posts: `action` (`interested`, `not_relevant` with an optional `reason` and
/// `comment`, or `undo`).
fn link_action(body: &[u8]) -> Result<LinkAction, ApiError> {
    let mut fields = HashMap::new();
    for (k, v) in url::form_urlencoded::parse(body) {
        fields.insert(k.into_owned(), v.into_owned());
    }
    let mut errors = Vec::new();
    let action = match fields.get("action").map(String::as_str) {
        Some("interested") => Some(LinkAction::Interested),
        Some("not_relevant") => not_relevant_answer(&fields, &mut errors),
        Some("undo") => Some(LinkAction::Undo),
        Some("outcome") => outcome_answer(&fields, &mut errors).map(LinkAction::Outcome),
        Some("introduce") => Some(LinkAction::Introduce { note: note_field(&fields, "note", &mut errors) }),
        _ => {
            errors
                .push(FieldError::new("/action", "must be one of interested, not_relevant, undo, outcome, introduce"));
            None
        }
    };
    match parsed(action, errors)? {
        Some(a) => Ok(a),
        None => Err(ApiError::validation(vec![FieldError::new("/action", "is required")])),
    }
}

/// An optional text field of a form: trimmed, empty as none, at most [`NOTE_MAX`] characters, no NUL.
fn note_field(fields: &HashMap<String, String>, name: &str, errors: &mut Vec<FieldError>) -> Option<String> {
    let note = fields.get(name).map(|c| c.trim().to_owned()).filter(|c| !c.is_empty());
    if note.as_ref().is_some_and(|c| c.chars().count() > NOTE_MAX || c.contains('\0')) {
        errors.push(FieldError::new(format!("/{name}"), format!("at most {NOTE_MAX} characters, no NUL")));
    }
    note
}

/// Not relevant, as the page's form gives it: a `reason` (required) and a `comment` (optional).
fn not_relevant_answer(fields: &HashMap<String, String>, errors: &mut Vec<FieldError>) -> Option<LinkAction> {
    let reason = fields.get("reason").and_then(|r| ReactionReason::from_name(r));
    if reason.is_none() {
        errors.push(FieldError::new("/reason", format!("is required: one of {}", ReactionReason::choices())));
    }
    let comment = fields.get("comment").map(|c| c.trim().to_owned()).filter(|c| !c.is_empty());
    if comment.as_ref().is_some_and(|c| c.chars().count() > REASON_MAX || c.contains('\0')) {
        errors.push(FieldError::new("/comment", format!("at most {REASON_MAX} characters, no NUL")));
    }
    Some(LinkAction::NotRelevant { reason: reason?, comment })
}

/// What came of it, as a question's form gives it: `outcome`, `date` (empty for today), `call`.
fn outcome_answer(
    fields: &HashMap<String, String>,
    errors: &mut Vec<FieldError>,
) -> Option<crate::app::review::Recording> {
    let outcome = fields.get("outcome").and_then(|o| Outcome::from_name(o));
    if outcome.is_none() {
        errors.push(FieldError::new("/outcome", format!("is required: one of {}", Outcome::choices())));
    }
    let date = match fields.get("date").map(|d| d.trim()).filter(|d| !d.is_empty()) {
        None => None,
        Some(d) => chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok().or_else(|| {
            errors.push(FieldError::new("/date", "must be a date such as 2026-12-06"));
            None
        }),
    };
    let call = fields.get("call").map(|c| c.trim().to_owned()).filter(|c| !c.is_empty());
    if call.as_ref().is_some_and(|c| c.chars().count() > 200 || c.contains('\0')) {
        errors.push(FieldError::new("/call", "at most 200 characters, no NUL"));
    }
    Some(crate::app::review::Recording { outcome: outcome?, date, call })
}

/// `POST /v1/suggestion-page?token=`: record the answer given on a suggestion's page (a form post), then the page.
pub async fn answer_suggestion_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    query_params(req.query_string(), &["token"])?;
    let action = link_action(&body)?;
    let page = links::answer(&state, token(&req), action).await?;
    suggestion_page(&req, &page, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_query_is_typed_and_collects_every_problem() {
        let Err(ApiError::Validation { errors, .. }) = parse_list("status=bounced&member=someone&week=2026-48") else {
            panic!("expected a validation error");
        };
        let pointers: Vec<_> = errors.iter().map(|e| e.pointer.as_str()).collect();
        assert_eq!(pointers, ["?week", "?status", "?member"]);
        assert_eq!(errors[1].detail, "must be one of queued, sending, sent, failed");
        let member = Uuid::now_v7();
        let (filter, limit, offset) = parse_list(&format!("status=failed&week=2026-W48&member={member}")).unwrap();
        assert_eq!(filter.status, Some(DigestStatus::Failed));
        assert_eq!(filter.week, IsoWeek::parse("2026-W48"));
        assert_eq!(filter.member, Some(member));
        assert_eq!(offset, 0);
        assert!(limit > 0);
    }
}
