//! Stored digests, staff previews and retries, and the public unsubscribe page (RFC 8058 one-click).

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};
use uuid::Uuid;

use super::AppState;
use super::extract::{limit, offset_page, query_params};
use crate::auth::Caller;
use crate::db::audit::{self, AuditEvent};
use crate::db::digests::{self as outbox, DigestFilter};
use crate::db::suggestions as store;
use crate::db::{self, DbError};
use crate::digest::outbox::{self as lease, RetryError};
use crate::digest::render::{self, PageState};
use crate::digest::{Digest, DigestStatus, IsoWeek, mail_language};
use crate::domain::FieldError;
use crate::domain::member::DigestFrequency;
use crate::domain::parse::ApiEnum as _;
use crate::http::error::ApiError;
use crate::review::view;

const CURSOR_KIND: &str = "d1";

fn offset(params: &std::collections::HashMap<String, String>, errors: &mut Vec<FieldError>) -> i64 {
    super::extract::offset_cursor(CURSOR_KIND, params, errors)
}

fn week_param(params: &std::collections::HashMap<String, String>, errors: &mut Vec<FieldError>) -> Option<IsoWeek> {
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

async fn list_page(
    state: &AppState,
    req: &HttpRequest,
    filter: DigestFilter,
    offset: i64,
    limit: i64,
    staff: bool,
) -> Result<HttpResponse, ApiError> {
    let rows =
        db::run(&state.pool, move |conn| outbox::list(conn, &filter, offset, limit).map_err(DbError::from)).await?;
    Ok(offset_page(req, CURSOR_KIND, rows, offset, limit, |d| summary(d, staff)))
}

/// `GET /v1/members/{id}/digests`: newest first.
pub async fn for_member(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let member = Uuid::parse_str(&path).map_err(|_| ApiError::NotFound("no member has this id".to_owned()))?;
    let params = query_params(req.query_string(), &["limit", "cursor"])?;
    let mut errors = Vec::new();
    let limit = limit(&params).map_err(|e| errors.push(e)).unwrap_or_default();
    let offset = offset(&params, &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let exists =
        db::run(&state.pool, move |conn| crate::db::members::find(conn, member).map_err(DbError::from)).await?;
    if exists.is_none() {
        return Err(ApiError::NotFound("no member has this id".to_owned()));
    }
    let filter = DigestFilter { member: Some(member), ..DigestFilter::default() };
    list_page(&state, &req, filter, offset, limit, caller.is_staff()).await
}

/// `GET /v1/digests` (staff): `status` (e.g. `failed`), `week`, `member`.
pub async fn list(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let params = query_params(req.query_string(), &["status", "week", "member", "limit", "cursor"])?;
    let mut errors = Vec::new();
    let limit = limit(&params).map_err(|e| errors.push(e)).unwrap_or_default();
    let offset = offset(&params, &mut errors);
    let week = week_param(&params, &mut errors);
    let status = params.get("status").and_then(|s| {
        DigestStatus::from_name(s).or_else(|| {
            errors.push(FieldError::new("?status", format!("must be one of {}", DigestStatus::choices())));
            None
        })
    });
    let member = params.get("member").and_then(|m| {
        Uuid::parse_str(m).ok().or_else(|| {
            errors.push(FieldError::new("?member", "must be a member id"));
            None
        })
    });
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let filter = DigestFilter { member, status, week };
    list_page(&state, &req, filter, offset, limit, true).await
}

/// `GET /v1/digests/{id}`: with its HTML and text and its suggestions.
pub async fn get(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let (id, now, staff) = (path.into_inner(), state.clock.now(), caller.is_staff());
    let found = db::run(&state.pool, move |conn| {
        let Some(d) = outbox::find(conn, &id)? else { return Ok(None) };
        let mut items = Vec::new();
        for s in store::in_digest(conn, &d.id)? {
            items.push(view::for_caller(conn, &s, now, staff, false)?);
        }
        let mut v = d.to_json(&items, true);
        if !staff && let Some(o) = v.as_object_mut() {
            o.remove("last_error");
        }
        Ok::<_, DbError>(Some(v))
    })
    .await?;
    Ok(HttpResponse::Ok().json(found.ok_or_else(|| ApiError::NotFound("no digest has this id".to_owned()))?))
}

/// `POST /v1/digests/{id}/retry` (staff): a failed digest back to the queue; the scheduler (or `matchmaker digest
/// run`) sends it.
pub async fn retry(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let (id, now) = (path.into_inner(), state.clock.now());
    let row = db::run(&state.pool, move |conn| {
        let row = lease::retry(conn, &id, now).map_err(|e| match e {
            RetryError::NotFailed(_) => ApiError::Conflict(e.to_string()),
            RetryError::Db(e) => ApiError::from(DbError::from(e)),
        })?;
        if let Some(r) = &row {
            audit::record(conn, &AuditEvent::new(caller.subject(), "digest.retry", None).target(r.id.clone()), now)
                .map_err(DbError::from)?;
        }
        Ok::<_, ApiError>(row)
    })
    .await?;
    let row = row.ok_or_else(|| ApiError::NotFound("no digest has this id".to_owned()))?;
    Ok(HttpResponse::Ok().json(summary(&row, true)))
}

/// `GET /v1/members/{id}/digest-preview?week=` (staff): what the member would receive now, rendered, nothing stored.
pub async fn preview(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let member = Uuid::parse_str(&path).map_err(|_| ApiError::NotFound("no member has this id".to_owned()))?;
    let params = query_params(req.query_string(), &["week"])?;
    let mut errors = Vec::new();
    let week = week_param(&params, &mut errors).unwrap_or_else(|| state.jobs.current_week());
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let (jobs, now) = (state.jobs.clone(), state.clock.now());
    let out = db::run(&state.pool, move |conn| {
        if crate::db::members::find(conn, member)?.is_none() {
            return Err(ApiError::NotFound("no member has this id".to_owned()));
        }
        store::expire_due(conn, now).map_err(DbError::from)?;
        Ok(jobs.mailer.preview(conn, member, week, now)?)
    })
    .await?;
    let body = match out {
        Some(p) => json!({
            "member_id": member,
            "week": week.to_string(),
            "would_send": true,
            "language": p.language,
            "subject": p.rendered.subject,
            "html": p.rendered.html,
            "text": p.rendered.text,
            "suggestions": p.suggestions,
        }),
        None => json!({"member_id": member, "week": week.to_string(), "would_send": false, "language": null,
                       "subject": null, "html": null, "text": null, "suggestions": []}),
    };
    Ok(HttpResponse::Ok().json(body))
}

/// The member a token names, with its name and mail language.
fn token_member(state: &AppState, req: &HttpRequest) -> Option<Uuid> {
    let params: std::collections::HashMap<String, String> =
        url::form_urlencoded::parse(req.query_string().as_bytes()).into_owned().collect();
    state.jobs.mailer.key.verify(params.get("token")?)
}

fn html(status: actix_web::http::StatusCode, body: String) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::CONTENT_TYPE, "text/html; charset=utf-8"))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header(("referrer-policy", "no-referrer"))
        .body(body)
}

async fn unsubscribe_page(state: &AppState, req: &HttpRequest, confirm: bool) -> Result<HttpResponse, ApiError> {
    let Some(member) = token_member(state, req) else {
        let page = render::unsubscribe_page("en", PageState::Invalid, "", "")?;
        return Ok(html(actix_web::http::StatusCode::NOT_FOUND, page));
    };
    let now = state.clock.now();
    let found = db::run(&state.pool, move |conn| {
        let Some(m) = crate::db::members::find(conn, member)? else { return Ok(None) };
        if !confirm && m.profile.digest != DigestFrequency::Off {
            crate::db::write(conn, |conn| {
                crate::db::members::set_digest(conn, member, DigestFrequency::Off, now)?;
                let event = AuditEvent::new(format!("member:{member}"), "digest.unsubscribe", None);
                audit::record(conn, &event.target(member.to_string()), now)
            })?;
        }
        Ok::<_, DbError>(Some(m))
    })
    .await?;
    let Some(m) = found else {
        let page = render::unsubscribe_page("en", PageState::Invalid, "", "")?;
        return Ok(html(actix_web::http::StatusCode::NOT_FOUND, page));
    };
    let lang = mail_language(m.profile.preferred_language, &m.profile.languages);
    let state_ = if confirm { PageState::Confirm } else { PageState::Done };
    let action = format!("/v1/unsubscribe?{}", req.query_string());
    Ok(html(actix_web::http::StatusCode::OK, render::unsubscribe_page(lang, state_, &m.profile.name, &action)?))
}

/// `GET /v1/unsubscribe?token=`: a confirmation page (signed out; changes nothing: mail scanners follow links).
pub async fn confirm_unsubscribe(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    unsubscribe_page(&state, &req, true).await
}

/// `POST /v1/unsubscribe?token=`: unsubscribe (the page's button, or a mail client's RFC 8058 one-click POST).
pub async fn unsubscribe(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    unsubscribe_page(&state, &req, false).await
}
