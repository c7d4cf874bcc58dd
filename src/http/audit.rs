//! `GET /v1/audit` (staff).

use actix_web::{HttpRequest, HttpResponse, web};

use super::AppState;
use super::extract::{bounded_text, key_cursor, page_response, paged, parsed, time_param};
use crate::app::audit;
use crate::db::audit::{AuditFilter, AuditRow};
use crate::http::error::ApiError;

const CURSOR_KIND: &str = "a1";
/// Longest value of a text filter (an actor, action or target is an id or a short name).
const FILTER_MAX: usize = 200;
const PARAMS: &[&str] = &["actor", "action", "target", "since", "until", "limit", "cursor"];

/// The cursor of the page after the entry `id`.
pub fn cursor_after(id: &str) -> String {
    super::extract::encode_cursor(CURSOR_KIND, id)
}

/// The filters of the audit log, and where the page starts.
pub fn parse_list(query: &str) -> Result<(AuditFilter, Option<String>, i64), ApiError> {
    let mut errors = Vec::new();
    let (params, limit) = paged(query, PARAMS, &mut errors)?;
    let filter = AuditFilter {
        actor: bounded_text(&params, "actor", FILTER_MAX, &mut errors),
        action: bounded_text(&params, "action", FILTER_MAX, &mut errors),
        target: bounded_text(&params, "target", FILTER_MAX, &mut errors),
        since: time_param(&params, "since", &mut errors),
        until: time_param(&params, "until", &mut errors),
    };
    let before = key_cursor(CURSOR_KIND, &params, &mut errors);
    parsed((filter, before, limit), errors)
}

/// `GET /v1/audit`: newest first.
pub async fn list(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let (filter, before, limit) = parse_list(req.query_string())?;
    let page = audit::list(&state, filter, before, limit).await?;
    Ok(page_response(&req, CURSOR_KIND, page, limit, |r| r.id.clone(), AuditRow::to_json))
}
