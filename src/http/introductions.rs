//! Introductions: a member's request from a suggestion, the other side's consent page (signed out), and staff's
//! list and answers.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::Value;

use super::AppState;
use super::digests::{accept_language, html, token, urlencoding};
use super::extract::{JsonBody, enum_param, offset_page, offset_query, parsed, query_params};
use crate::app::introductions::{self as use_case, Asking, Finishing};
use crate::auth::Caller;
use crate::digest::render::{self, SuggestionPage};
use crate::domain::FieldError;
use crate::domain::introduction::{IntroductionStatus, NOTE_MAX};
use crate::domain::parse::{self, Check, ObjectParser};
use crate::http::error::ApiError;

const CURSOR_KIND: &str = "i1";

/// A text of at most [`NOTE_MAX`] characters under `name` (optional unless `required`), and nothing else in the
/// body.
fn parse_note(body: &Value, name: &'static str, required: bool) -> Check<Option<String>> {
    let mut p = ObjectParser::new(body)?;
    p.only(&[name], &[]);
    let text = |v: &Value| parse::text(v, 1, NOTE_MAX);
    let note = if required { p.required(name, text).map(Some) } else { p.nullable(name, text) };
    p.finish(|| note)
}

/// `POST /v1/suggestions/{id}/introduction`: ask to be introduced (`{note}` optional: a few words for the other
/// side). 201 with the new request; 200 with the request as it stands when there is one already.
pub async fn request(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    body: JsonBody,
) -> Result<HttpResponse, ApiError> {
    let note = parse_note(&body.0, "note", false).map_err(ApiError::validation)?;
    let asking = Asking { suggestion: path.into_inner(), note };
    let (view, created) = use_case::request(&state, caller.subject(), asking).await?;
    Ok(if created { HttpResponse::Created().json(view) } else { HttpResponse::Ok().json(view) })
}

/// `GET /v1/introductions` (staff): oldest request first; `status` narrows (e.g. `requested`: waiting for staff).
pub async fn list(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let mut errors = Vec::new();
    let (params, limit, offset) =
        offset_query(req.query_string(), &["status", "limit", "cursor"], CURSOR_KIND, &mut errors)?;
    let status = enum_param::<IntroductionStatus>(&params, "status", &mut errors);
    parsed((), errors)?;
    let views = use_case::list(&state, status, offset, limit).await?;
    Ok(offset_page(&req, CURSOR_KIND, views, offset, limit, Clone::clone))
}

/// `GET /v1/introductions/{id}` (staff).
pub async fn get(state: web::Data<AppState>, path: web::Path<String>) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(use_case::get(&state, path.into_inner()).await?))
}

/// `POST /v1/introductions/{id}/introduce` (staff): introduce both sides in one e-mail, with `{message}` (optional).
pub async fn introduce(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    body: JsonBody,
) -> Result<HttpResponse, ApiError> {
    let message = parse_note(&body.0, "message", false).map_err(ApiError::validation)?;
    let done = use_case::finish(&state, caller.subject(), path.into_inner(), Finishing::Introduce { message }).await?;
    Ok(HttpResponse::Ok().json(done))
}

/// `POST /v1/introductions/{id}/close` (staff): close a request without an introduction, with `{reason}`.
pub async fn close(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    body: JsonBody,
) -> Result<HttpResponse, ApiError> {
    let reason = parse_note(&body.0, "reason", true).map_err(ApiError::validation)?.unwrap_or_default();
    let done = use_case::finish(&state, caller.subject(), path.into_inner(), Finishing::Close { reason }).await?;
    Ok(HttpResponse::Ok().json(done))
}

/// The consent page as the response: in the asked member's language, or the browser's when the link names nobody.
fn consent_page(req: &HttpRequest, page: &use_case::ConsentPage) -> Result<HttpResponse, ApiError> {
    let lang = page.lang.unwrap_or_else(|| render::page_language(accept_language(req)));
    let status = match page.state {
        SuggestionPage::Shown => StatusCode::OK,
        SuggestionPage::Expired => StatusCode::GONE,
        SuggestionPage::Invalid | SuggestionPage::Unavailable => StatusCode::NOT_FOUND,
    };
    let action = format!("/v1/introduction-page?token={}", urlencoding(&token(req).unwrap_or_default()));
    Ok(html(status, render::consent_page(lang, page.state, &page.content(action))?))
}

/// `GET /v1/introduction-page?token=`: who asks to be introduced, with buttons to agree or decline (signed out;
/// changes nothing: mail scanners follow links).
pub async fn show_consent_page(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    query_params(req.query_string(), &["token"])?;
    let page = use_case::consent(&state, token(&req), None).await?;
    consent_page(&req, &page)
}

/// `POST /v1/introduction-page?token=`: the other side's answer (a form post: `action` is `accept` or `decline`).
pub async fn answer_consent_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    query_params(req.query_string(), &["token"])?;
    let action = url::form_urlencoded::parse(&body).filter(|(k, _)| k == "action").last().map(|(_, v)| v.into_owned());
    let yes = match action.as_deref() {
        Some("accept") => true,
        Some("decline") => false,
        _ => return Err(ApiError::validation(vec![FieldError::new("/action", "must be one of accept, decline")])),
    };
    let page = use_case::consent(&state, token(&req), Some(yes)).await?;
    consent_page(&req, &page)
}

/// `POST /v1/messages/{id}/retry` (staff): send a failed consent request or introduction again.
pub async fn retry_message(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let actor = super::extract::actor(&req, &state, &caller);
    Ok(HttpResponse::Ok().json(use_case::retry_message(&state, &actor, path.into_inner()).await?))
}
