//! `/v1/webhooks`: a partner portal's webhook endpoints, their delivery log and resending (portals with
//! `webhooks:manage`; administrators see and disable any).

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};

use super::AppState;
use super::error::ApiError;
use super::extract::{JsonBody, actor, key_cursor, page_response, paged, parsed};
use crate::app::webhooks::{self, EndpointChange, Registration};
use crate::auth::Caller;
use crate::domain::parse::{ApiEnum, Check, ObjectParser, array, boolean, fail, line, unique_by};
use crate::domain::webhook::{EventType, MAX_URL_LEN, parse_url};

const CURSOR_KIND: &str = "w1";
const LOG_CURSOR_KIND: &str = "wd1";
const READ_ONLY: &[&str] =
    &["id", "client_id", "disabled_reason", "disabled_at", "previous_secret_until", "created_at", "updated_at"];

fn url(value: &Value) -> Check<url::Url> {
    let raw = line(value, 1, MAX_URL_LEN)?;
    parse_url(&raw).or_else(fail)
}

fn events(value: &Value) -> Check<Vec<EventType>> {
    let list = unique_by(array(value, EventType::ALL.len(), EventType::parse_value)?, |e| *e, "the event")?;
    if list.is_empty() {
        return fail(format!("must name at least one of {}", EventType::choices()));
    }
    Ok(list)
}

/// An answer carrying a secret: never cached.
fn with_secret(status: actix_web::http::StatusCode, endpoint: &Value, secret: &str) -> HttpResponse {
    let mut answer = HttpResponse::build(status);
    if status == actix_web::http::StatusCode::CREATED {
        answer.insert_header((header::LOCATION, format!("/v1/webhooks/{}", endpoint["id"].as_str().unwrap_or(""))));
    }
    answer.insert_header((header::CACHE_CONTROL, "no-store")).json(json!({"endpoint": endpoint, "secret": secret}))
}

/// `POST /v1/webhooks`: the secret is in this answer only.
pub async fn create(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    JsonBody(body): JsonBody,
) -> Result<HttpResponse, ApiError> {
    let mut p = ObjectParser::new(&body).map_err(ApiError::validation)?;
    p.only(&["url", "events"], &[READ_ONLY, &["enabled", "secret"]].concat());
    let (target, wanted) = (p.required("url", url), p.required("events", events));
    let r = p.finish(|| Some(Registration { url: target?, events: wanted? })).map_err(ApiError::validation)?;
    let (endpoint, secret) = webhooks::create(&state, &actor(&req, &state, &caller), &caller, r).await?;
    Ok(with_secret(actix_web::http::StatusCode::CREATED, &endpoint, &secret))
}

/// `GET /v1/webhooks`
pub async fn list(state: web::Data<AppState>, req: HttpRequest, caller: Caller) -> Result<HttpResponse, ApiError> {
    let mut errors = Vec::new();
    let (params, limit) = paged(req.query_string(), &["limit", "cursor"], &mut errors)?;
    let after = key_cursor(CURSOR_KIND, &params, &mut errors);
    let (after, limit) = parsed((after, limit), errors)?;
    let page = webhooks::list(&state, &caller, after, limit).await?;
    Ok(page_response(&req, CURSOR_KIND, page, limit, |v| v["id"].as_str().unwrap_or_default().to_owned(), Clone::clone))
}

/// `GET /v1/webhooks/{id}`
pub async fn get(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(webhooks::get(&state, &caller, path.into_inner()).await?))
}

/// `PATCH /v1/webhooks/{id}`: url, events, enabled.
pub async fn update(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    path: web::Path<String>,
    JsonBody(body): JsonBody,
) -> Result<HttpResponse, ApiError> {
    let mut p = ObjectParser::new(&body).map_err(ApiError::validation)?;
    p.only(&["url", "events", "enabled"], READ_ONLY);
    let (target, wanted, enabled) =
        (p.optional("url", url), p.optional("events", events), p.optional("enabled", boolean));
    let change = p
        .finish(|| Some(EndpointChange { url: target?, events: wanted?, enabled: enabled? }))
        .map_err(ApiError::validation)?;
    let id = path.into_inner();
    Ok(HttpResponse::Ok().json(webhooks::update(&state, &actor(&req, &state, &caller), &caller, id, change).await?))
}

/// `POST /v1/webhooks/{id}/secret`: a new secret; the previous one signs too for the grace period.
pub async fn rotate_secret(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let (endpoint, secret) =
        webhooks::rotate(&state, &actor(&req, &state, &caller), &caller, path.into_inner()).await?;
    Ok(with_secret(actix_web::http::StatusCode::OK, &endpoint, &secret))
}

/// `GET /v1/webhooks/{id}/deliveries`: newest first.
pub async fn deliveries(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let mut errors = Vec::new();
    let (params, limit) = paged(req.query_string(), &["limit", "cursor"], &mut errors)?;
    let before = key_cursor(LOG_CURSOR_KIND, &params, &mut errors);
    let (before, limit) = parsed((before, limit), errors)?;
    let page = webhooks::deliveries(&state, &caller, path.into_inner(), before, limit).await?;
    let position = |v: &Value| v["id"].as_str().unwrap_or_default().to_owned();
    Ok(page_response(&req, LOG_CURSOR_KIND, page, limit, position, Clone::clone))
}

/// `POST /v1/webhooks/{id}/deliveries/{delivery_id}/resend`: 202, sent again on the sender's next pass.
pub async fn resend(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (id, delivery) = path.into_inner();
    let row = webhooks::resend(&state, &actor(&req, &state, &caller), &caller, id, delivery).await?;
    Ok(HttpResponse::Accepted().json(row))
}
