//! Matching runs, the review queue, decisions, reactions, and each member's suggestions.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{Value, json};

use super::AppState;
use super::extract::{JsonBody, if_match, limit, offset_page, query_params};
use crate::auth::Caller;
use crate::db::runs;
use crate::db::suggestions::{self as store, DecideError, Filter, ReactError};
use crate::db::{self, DbConnection, DbError};
use crate::domain::FieldError;
use crate::domain::member::{Scope, Sector, timestamp};
use crate::domain::parse::{self, ApiEnum as _, Check, ObjectParser};
use crate::domain::version::Precondition;
use crate::http::error::ApiError;
use crate::review::{
    Decision, MatchingRun, Reaction, ReactionReason, Suggestion, SuggestionKind, SuggestionStatus, view,
};

const CURSOR_KIND: &str = "s1";
pub const REASON_MAX: usize = 1000;
pub const RATIONALE_MAX: usize = 2000;
pub const BULK_MAX: usize = 200;

fn run_json(r: &MatchingRun) -> Value {
    let c = r.counts;
    json!({
        "id": r.id,
        "status": r.status,
        "requested_by": r.requested_by,
        "members_total": c.members_total,
        "members_done": c.members_done,
        "created": c.created,
        "kept": c.kept,
        "held_back": c.held_back,
        "error": r.error,
        "created_at": timestamp(r.created_at),
        "finished_at": r.finished_at.map(timestamp),
    })
}

/// `POST /v1/matching/runs`: start a run in the background; 202 with where to follow it.
pub async fn start_run(state: web::Data<AppState>, caller: Caller) -> Result<HttpResponse, ApiError> {
    let run = state.jobs.start_matching_run(caller.subject()).await?;
    Ok(HttpResponse::Accepted()
        .insert_header((header::LOCATION, format!("/v1/matching/runs/{}", run.id)))
        .json(run_json(&run)))
}

/// `GET /v1/matching/runs/{id}`
pub async fn get_run(state: web::Data<AppState>, path: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let run = db::run(&state.pool, move |conn| runs::find(conn, &id).map_err(DbError::from)).await?;
    let run = run.ok_or_else(|| ApiError::NotFound("no matching run has this id".to_owned()))?;
    Ok(HttpResponse::Ok().json(run_json(&run)))
}

fn offset(params: &std::collections::HashMap<String, String>, errors: &mut Vec<FieldError>) -> i64 {
    super::extract::offset_cursor(CURSOR_KIND, params, errors)
}

fn enum_param<T: parse::ApiEnum>(
    params: &std::collections::HashMap<String, String>,
    name: &str,
    errors: &mut Vec<FieldError>,
) -> Option<T> {
    params.get(name).and_then(|v| {
        T::from_name(v).or_else(|| {
            errors.push(FieldError::new(format!("?{name}"), format!("must be one of {}", T::choices())));
            None
        })
    })
}

fn number_param(
    params: &std::collections::HashMap<String, String>,
    name: &str,
    max: f64,
    errors: &mut Vec<FieldError>,
) -> Option<f64> {
    params.get(name).and_then(|v| match v.parse::<f64>() {
        Ok(n) if (0.0..=max).contains(&n) => Some(n),
        _ => {
            errors.push(FieldError::new(format!("?{name}"), format!("must be a number from 0 to {max}")));
            None
        }
    })
}

/// Render rows (fetched with one extra) as a page.
async fn page(
    state: &AppState,
    req: &HttpRequest,
    rows: Vec<Suggestion>,
    offset: i64,
    limit: i64,
    staff: bool,
) -> Result<HttpResponse, ApiError> {
    let now = state.clock.now();
    let views = db::run(&state.pool, move |conn| {
        rows.iter()
            .map(|r| view::for_caller(conn, r, now, staff, false))
            .collect::<Result<Vec<Value>, _>>()
            .map_err(DbError::from)
    })
    .await?;
    Ok(offset_page(req, CURSOR_KIND, views, offset, limit, Clone::clone))
}

/// `GET /v1/review/queue`: pending suggestions; `kind`, `sector` (the member's), `scope` (the project's),
/// `min_score`, `min_age_days`, `max_age_days`; `order=oldest` (default) or `best`.
pub async fn queue(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let params = query_params(
        req.query_string(),
        &["kind", "sector", "scope", "min_score", "min_age_days", "max_age_days", "order", "limit", "cursor"],
    )?;
    let mut errors = Vec::new();
    let limit = limit(&params).map_err(|e| errors.push(e)).unwrap_or_default();
    let offset = offset(&params, &mut errors);
    let now = state.clock.now();
    let kind = enum_param::<SuggestionKind>(&params, "kind", &mut errors);
    let sector = enum_param::<Sector>(&params, "sector", &mut errors);
    let scope = enum_param::<Scope>(&params, "scope", &mut errors);
    let min_score = number_param(&params, "min_score", 100.0, &mut errors);
    let days = |n: f64| now - TimeDelta::seconds((n * 86_400.0) as i64);
    let created_before = number_param(&params, "min_age_days", 3650.0, &mut errors).map(days);
    let created_after = number_param(&params, "max_age_days", 3650.0, &mut errors).map(days);
    let best_first = match params.get("order").map(String::as_str) {
        None | Some("oldest") => false,
        Some("best") => true,
        Some(_) => {
            errors.push(FieldError::new("?order", "must be oldest or best"));
            false
        }
    };
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let filter = Filter {
        statuses: vec![SuggestionStatus::Pending],
        kind,
        sector,
        scope,
        min_score,
        created_before,
        created_after,
        best_first,
        ..Filter::default()
    };
    let rows = db::run(&state.pool, move |conn| {
        store::expire_due(conn, now)?;
        store::list(conn, &filter, offset, limit).map_err(DbError::from)
    })
    .await?;
    page(&state, &req, rows, offset, limit, true).await
}

/// A decision as the body gives it.
fn parse_decision(body: &Value, allow_etag: bool) -> Check<(Decision, Option<String>)> {
    let mut p = ObjectParser::new(body)?;
    let allowed: &[&str] = if allow_etag {
        &["id", "decision", "reason", "rationale", "etag"]
    } else {
        &["decision", "reason", "rationale"]
    };
    p.only(allowed, &[]);
    let approve = p.required("decision", |v| match v.as_str() {
        Some("approve") => Ok(true),
        Some("reject") => Ok(false),
        _ => parse::fail("must be approve or reject"),
    });
    let reason = p.nullable("reason", |v| parse::text(v, 1, REASON_MAX));
    let rationale = p.nullable("rationale", |v| parse::text(v, 1, RATIONALE_MAX));
    let etag = if allow_etag { p.nullable("etag", |v| parse::line(v, 1, 100)) } else { Some(None) };
    if approve == Some(false) && matches!(reason, Some(None)) {
        return Err(vec![FieldError::new("/reason", "is required to reject a suggestion")]);
    }
    p.finish(|| Some((Decision { approve: approve?, reason: reason?, rationale: rationale? }, etag?)))
}

fn decide_error(e: DecideError) -> ApiError {
    match e {
        DecideError::NotFound => ApiError::NotFound("no suggestion has this id".to_owned()),
        DecideError::Stale => ApiError::PreconditionFailed,
        DecideError::NotPending(_) => ApiError::Conflict(e.to_string()),
        DecideError::Db(e) => ApiError::from(DbError::from(e)),
    }
}

fn decide_one(
    conn: &mut DbConnection,
    id: &str,
    precondition: &Precondition,
    d: &Decision,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<Value, ApiError> {
    let row = store::decide(conn, id, precondition, d, actor, now).map_err(decide_error)?;
    view::for_staff(conn, &row, now, false).map_err(|e| ApiError::from(DbError::from(e)))
}

/// `POST /v1/suggestions/{id}/decision` with `If-Match`: approve, or reject with a reason; staff may rewrite the
/// rationale the member will read.
pub async fn decide(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    path: web::Path<String>,
    body: JsonBody,
) -> Result<HttpResponse, ApiError> {
    let precondition = if_match(&req)?;
    let (decision, _) = parse_decision(&body.0, false).map_err(ApiError::validation)?;
    let (id, now, actor) = (path.into_inner(), state.clock.now(), caller.subject());
    let out = db::run(&state.pool, move |conn| decide_one(conn, &id, &precondition, &decision, &actor, now)).await?;
    let etag = crate::domain::member::etag_for(out["version"].as_i64().unwrap_or_default());
    Ok(HttpResponse::Ok().insert_header((header::ETAG, etag)).json(out))
}

/// `POST /v1/suggestions/decisions`: many decisions, each answered on its own (`etag` per item, like `If-Match`).
pub async fn decide_bulk(state: web::Data<AppState>, caller: Caller, body: JsonBody) -> Result<HttpResponse, ApiError> {
    let items = body.0.get("decisions").and_then(Value::as_array).cloned().unwrap_or_default();
    let extra: Vec<&String> =
        body.0.as_object().map(|o| o.keys().filter(|k| *k != "decisions").collect()).unwrap_or_default();
    if items.is_empty() || items.len() > BULK_MAX || !extra.is_empty() {
        return Err(ApiError::validation(vec![FieldError::new(
            "/decisions",
            format!("must be an array of 1 to {BULK_MAX} decisions, and the only field"),
        )]));
    }
    let mut parsed = Vec::with_capacity(items.len());
    let mut errors = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let id = item.get("id").and_then(Value::as_str).map(str::to_owned);
        match (id, parse_decision(item, true)) {
            (Some(id), Ok((d, etag))) => parsed.push((id, d, etag)),
            (None, _) => errors.push(FieldError::new(format!("/decisions/{i}/id"), "is required")),
            (_, Err(es)) => {
                errors
                    .extend(es.into_iter().map(|e| FieldError::new(format!("/decisions/{i}{}", e.pointer), e.detail)));
            }
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let (now, actor) = (state.clock.now(), caller.subject());
    let results = db::run(&state.pool, move |conn| {
        let mut out = Vec::new();
        for (id, d, etag) in parsed {
            let precondition = match etag {
                None => Precondition::Any,
                Some(t) if t == "*" => Precondition::Any,
                Some(t) => Precondition::Tags(vec![t]),
            };
            let answer = match decide_one(conn, &id, &precondition, &d, &actor, now) {
                Ok(s) => json!({"id": id, "status": 200, "suggestion": s}),
                Err(e) => {
                    let status = actix_web::ResponseError::status_code(&e).as_u16();
                    json!({"id": id, "status": status, "detail": e.to_string()})
                }
            };
            out.push(answer);
        }
        Ok::<_, ApiError>(out)
    })
    .await?;
    Ok(HttpResponse::Ok().json(json!({"results": results})))
}

/// `GET /v1/suggestions/{id}`: staff see all of it and its history; the member (or its portal) only an approved or
/// delivered one.
pub async fn get(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let (id, now, staff) = (path.into_inner(), state.clock.now(), caller.is_staff());
    let found = db::run(&state.pool, move |conn| {
        let Some(row) = store::find(conn, &id)? else { return Ok(None) };
        if !staff && !row.status.visible_to_member() {
            return Ok(None);
        }
        let v = view::for_caller(conn, &row, now, staff, true)?;
        Ok::<_, DbError>(Some((v, row.etag())))
    })
    .await?;
    let (v, etag) = found.ok_or_else(|| ApiError::NotFound("no suggestion has this id".to_owned()))?;
    Ok(HttpResponse::Ok().insert_header((header::ETAG, etag)).json(v))
}

fn react_error(e: ReactError) -> ApiError {
    match e {
        ReactError::NotFound => ApiError::NotFound("no suggestion has this id".to_owned()),
        ReactError::Conflict(m) => ApiError::Conflict(m),
        ReactError::Db(e) => ApiError::from(DbError::from(e)),
    }
}

/// `POST /v1/suggestions/{id}/reaction`: `{reaction, reason (for not_relevant), comment}`.
pub async fn react(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    body: JsonBody,
) -> Result<HttpResponse, ApiError> {
    let parsed = (|| {
        let mut p = ObjectParser::new(&body.0)?;
        p.only(&["reaction", "reason", "comment"], &[]);
        let reaction = p.required("reaction", Reaction::parse_value);
        let reason = p.nullable("reason", ReactionReason::parse_value);
        let comment = p.nullable("comment", |v| parse::text(v, 1, REASON_MAX));
        match (reaction, &reason) {
            (Some(Reaction::NotRelevant), Some(None)) => {
                return Err(vec![FieldError::new(
                    "/reason",
                    format!("is required for not_relevant: one of {}", ReactionReason::choices()),
                )]);
            }
            (Some(r), Some(Some(_))) if r != Reaction::NotRelevant => {
                return Err(vec![FieldError::new("/reason", "is only for not_relevant")]);
            }
            _ => {}
        }
        p.finish(|| Some((reaction?, reason?, comment?)))
    })()
    .map_err(ApiError::validation)?;
    let (id, now, actor) = (path.into_inner(), state.clock.now(), caller.subject());
    let (reaction, reason, comment) = parsed;
    let out = db::run(&state.pool, move |conn| {
        let row = store::react(conn, &id, reaction, reason, comment.as_deref(), &actor, now).map_err(react_error)?;
        view::for_member(conn, &row, now).map_err(|e| ApiError::from(DbError::from(e)))
    })
    .await?;
    Ok(HttpResponse::Ok().json(out))
}

/// `DELETE /v1/suggestions/{id}/reaction`: take it back, within 14 days.
pub async fn undo_reaction(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let (id, now, actor) = (path.into_inner(), state.clock.now(), caller.subject());
    db::run(&state.pool, move |conn| store::undo_reaction(conn, &id, &actor, now).map_err(react_error)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `GET /v1/reactions` (staff): suggestions members reacted to, latest first; `reaction`, `kind` filters.
pub async fn reactions(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let params = query_params(req.query_string(), &["reaction", "kind", "limit", "cursor"])?;
    let mut errors = Vec::new();
    let limit = limit(&params).map_err(|e| errors.push(e)).unwrap_or_default();
    let offset = offset(&params, &mut errors);
    let reaction = enum_param::<Reaction>(&params, "reaction", &mut errors);
    let kind = enum_param::<SuggestionKind>(&params, "kind", &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let filter = Filter { kind, reaction, with_reaction: true, ..Filter::default() };
    let rows =
        db::run(&state.pool, move |conn| store::list(conn, &filter, offset, limit).map_err(DbError::from)).await?;
    page(&state, &req, rows, offset, limit, true).await
}

/// `GET /v1/members/{id}/suggestions`: members and portals see approved and delivered ones only; staff see all and
/// may filter by `status`.
pub async fn for_member(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let member = uuid::Uuid::parse_str(&path).map_err(|_| ApiError::NotFound("no member has this id".to_owned()))?;
    let params = query_params(req.query_string(), &["status", "kind", "limit", "cursor"])?;
    let mut errors = Vec::new();
    let limit = limit(&params).map_err(|e| errors.push(e)).unwrap_or_default();
    let offset = offset(&params, &mut errors);
    let status = enum_param::<SuggestionStatus>(&params, "status", &mut errors);
    let kind = enum_param::<SuggestionKind>(&params, "kind", &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let staff = caller.is_staff();
    let visible: Vec<SuggestionStatus> =
        SuggestionStatus::ALL.iter().copied().filter(|s| staff || s.visible_to_member()).collect();
    let statuses = match status {
        Some(s) if visible.contains(&s) => vec![s],
        Some(_) => vec![],
        None => visible,
    };
    let now = state.clock.now();
    let rows = db::run(&state.pool, move |conn| {
        if crate::db::members::find(conn, member)?.is_none() {
            return Err(ApiError::NotFound("no member has this id".to_owned()));
        }
        if statuses.is_empty() {
            return Ok(Vec::new());
        }
        store::expire_due(conn, now).map_err(DbError::from)?;
        let filter = Filter { member: Some(member), statuses, kind, newest_first: true, ..Filter::default() };
        Ok(store::list(conn, &filter, offset, limit).map_err(DbError::from)?)
    })
    .await?;
    page(&state, &req, rows, offset, limit, staff).await
}
