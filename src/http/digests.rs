//! Stored digests, staff previews and retries, and the public unsubscribe page (RFC 8058 one-click).

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};
use uuid::Uuid;

use super::AppState;
use super::extract::{Params, actor, enum_param, offset_page, offset_query, parsed, query_params};
use crate::app::digests::{self as use_case, PreviewOf};
use crate::auth::Caller;
use crate::db::digests::DigestFilter;
use crate::digest::render::{self, PageState};
use crate::digest::{Digest, DigestStatus, IsoWeek, mail_language};
use crate::domain::FieldError;
use crate::http::error::ApiError;

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
fn parse_list(query: &str) -> Result<(DigestFilter, i64, i64), ApiError> {
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
fn token(req: &HttpRequest) -> Option<String> {
    url::form_urlencoded::parse(req.query_string().as_bytes())
        .filter(|(k, _)| k == "token")
        .last()
        .map(|(_, v)| v.into_owned())
}

fn html(status: StatusCode, body: String) -> HttpResponse {
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
        return Ok(html(StatusCode::NOT_FOUND, render::unsubscribe_page("en", PageState::Invalid, "", "")?));
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
