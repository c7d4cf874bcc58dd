//! `GET /v1/audit` (staff).

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::DateTime;

use super::AppState;
use super::extract::{bounded_text, decode_cursor, limit, page_response, query_params};
use crate::app::audit;
use crate::db::audit::{AuditFilter, AuditRow};
use crate::domain::FieldError;
use crate::http::error::ApiError;

const CURSOR_KIND: &str = "a1";
/// Longest value of a text filter (an actor, action or target is an id or a short name).
const FILTER_MAX: usize = 200;
const PARAMS: &[&str] = &["actor", "action", "target", "since", "until", "limit", "cursor"];

/// `GET /v1/audit`: newest first.
pub async fn list(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let params = query_params(req.query_string(), PARAMS)?;
    let mut errors = Vec::new();
    let limit = limit(&params).map_err(|e| errors.push(e)).unwrap_or_default();
    let mut time = |name: &str| {
        params.get(name).and_then(|v| match DateTime::parse_from_rfc3339(v) {
            Ok(t) => Some(t.to_utc()),
            Err(_) => {
                errors.push(FieldError::new(format!("?{name}"), "must be an RFC 3339 date-time"));
                None
            }
        })
    };
    let since = time("since");
    let until = time("until");
    let before = params.get("cursor").and_then(|c| {
        decode_cursor(CURSOR_KIND, c).or_else(|| {
            errors.push(FieldError::new("?cursor", "is not a cursor this service gave out"));
            None
        })
    });
    let filter = AuditFilter {
        actor: bounded_text(&params, "actor", FILTER_MAX, &mut errors),
        action: bounded_text(&params, "action", FILTER_MAX, &mut errors),
        target: bounded_text(&params, "target", FILTER_MAX, &mut errors),
        since,
        until,
    };
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let page = audit::list(&state, filter, before, limit).await?;
    Ok(page_response(&req, CURSOR_KIND, page, limit, |r| r.id.clone(), AuditRow::to_json))
}
