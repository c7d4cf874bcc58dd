//! Matching runs, the review queue, decisions, reactions, and each member's suggestions.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, ResponseError as _, web};
use serde_json::{Value, json};
use uuid::Uuid;

use super::AppState;
use super::extract::{JsonBody, Params, enum_param, if_match, offset_page, offset_query, parsed};
use crate::app::AppError;
use crate::app::review::{self as use_case, BulkItem, QueueFilter, Reacting, Shown};
use crate::auth::Caller;
use crate::domain::FieldError;
use crate::domain::member::{Scope, Sector, timestamp};
use crate::domain::parse::{self, ApiEnum as _, Check, ObjectParser};
use crate::domain::version::Precondition;
use crate::http::error::ApiError;
use crate::review::{Decision, MatchingRun, Reaction, ReactionReason, SuggestionKind, SuggestionStatus};

const CURSOR_KIND: &str = "s1";
pub const REASON_MAX: usize = 1000;
pub const RATIONALE_MAX: usize = 2000;
pub const BULK_MAX: usize = 200;

/// A matching run as the API shows it (and the console's run page reads).
pub fn run_json(r: &MatchingRun) -> Value {
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
    let run = use_case::start_run(&state, &caller).await?;
    Ok(HttpResponse::Accepted()
        .insert_header((header::LOCATION, format!("/v1/matching/runs/{}", run.id)))
        .json(run_json(&run)))
}

/// `GET /v1/matching/runs/{id}`
pub async fn get_run(state: web::Data<AppState>, path: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let run = use_case::get_run(&state, path.into_inner()).await?;
    Ok(HttpResponse::Ok().json(run_json(&run)))
}

/// The query's parameters (only those `allowed`) and its page: limit and offset.
fn paged(query: &str, allowed: &[&str], errors: &mut Vec<FieldError>) -> Result<(Params, i64, i64), ApiError> {
    offset_query(query, allowed, CURSOR_KIND, errors)
}

fn number_param(params: &Params, name: &str, max: f64, errors: &mut Vec<FieldError>) -> Option<f64> {
    params.get(name).and_then(|v| match v.parse::<f64>() {
        Ok(n) if (0.0..=max).contains(&n) => Some(n),
        _ => {
            errors.push(FieldError::new(format!("?{name}"), format!("must be a number from 0 to {max}")));
            None
        }
    })
}

/// A page of suggestion views (fetched with one extra).
fn page(req: &HttpRequest, views: Vec<Value>, offset: i64, limit: i64) -> HttpResponse {
    offset_page(req, CURSOR_KIND, views, offset, limit, Clone::clone)
}

const QUEUE_PARAMS: &[&str] =
    &["kind", "sector", "scope", "min_score", "min_age_days", "max_age_days", "order", "limit", "cursor"];

/// The review queue's filters, order and page, from the query.
pub fn parse_queue(query: &str) -> Result<(QueueFilter, i64, i64), ApiError> {
    let mut errors = Vec::new();
    let (params, limit, offset) = paged(query, QUEUE_PARAMS, &mut errors)?;
    let kind = enum_param::<SuggestionKind>(&params, "kind", &mut errors);
    let sector = enum_param::<Sector>(&params, "sector", &mut errors);
    let scope = enum_param::<Scope>(&params, "scope", &mut errors);
    let min_score = number_param(&params, "min_score", 100.0, &mut errors);
    let min_age_days = number_param(&params, "min_age_days", 3650.0, &mut errors);
    let max_age_days = number_param(&params, "max_age_days", 3650.0, &mut errors);
    let best_first = match params.get("order").map(String::as_str) {
        None | Some("oldest") => false,
        Some("best") => true,
        Some(_) => {
            errors.push(FieldError::new("?order", "must be oldest or best"));
            false
        }
    };
    let filter = QueueFilter { kind, sector, scope, min_score, min_age_days, max_age_days, best_first };
    parsed((filter, limit, offset), errors)
}

/// `GET /v1/review/queue`: pending suggestions; `kind`, `sector` (the member's), `scope` (the project's),
/// `min_score`, `min_age_days`, `max_age_days`; `order=oldest` (default) or `best`.
pub async fn queue(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let (filter, limit, offset) = parse_queue(req.query_string())?;
    let views = use_case::queue(&state, filter, offset, limit).await?;
    Ok(page(&req, views, offset, limit))
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

/// A suggestion as its caller sees it, with its `ETag`.
fn shown(s: Shown) -> HttpResponse {
    HttpResponse::Ok().insert_header((header::ETAG, s.suggestion.etag())).json(s.view)
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
    let decided = use_case::decide(&state, &caller, path.into_inner(), precondition, decision).await?;
    Ok(shown(decided))
}

/// The decisions of a bulk request, each with the version (`etag`, like `If-Match`) it is conditional on.
fn parse_bulk(body: &Value) -> Result<Vec<BulkItem>, ApiError> {
    let items = body.get("decisions").and_then(Value::as_array).cloned().unwrap_or_default();
    let extra = body.as_object().is_some_and(|o| o.keys().any(|k| k != "decisions"));
    if items.is_empty() || items.len() > BULK_MAX || extra {
        return Err(ApiError::validation(vec![FieldError::new(
            "/decisions",
            format!("must be an array of 1 to {BULK_MAX} decisions, and the only field"),
        )]));
    }
    let mut decisions = Vec::with_capacity(items.len());
    let mut errors = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let id = item.get("id").and_then(Value::as_str).map(str::to_owned);
        match (id, parse_decision(item, true)) {
            (Some(id), Ok((decision, etag))) => {
                let precondition = match etag {
                    None => Precondition::Any,
                    Some(t) if t == "*" => Precondition::Any,
                    Some(t) => Precondition::Tags(vec![t]),
                };
                decisions.push(BulkItem { id, decision, precondition });
            }
            (None, _) => errors.push(FieldError::new(format!("/decisions/{i}/id"), "is required")),
            (_, Err(es)) => {
                errors
                    .extend(es.into_iter().map(|e| FieldError::new(format!("/decisions/{i}{}", e.pointer), e.detail)));
            }
        }
    }
    parsed(decisions, errors)
}

/// Each decision's answer: the suggestion, or the status and detail its own request would have had.
fn bulk_results(decided: Vec<(String, Result<Shown, AppError>)>) -> Value {
    let results: Vec<Value> = decided
        .into_iter()
        .map(|(id, outcome)| match outcome {
            Ok(s) => json!({"id": id, "status": 200, "suggestion": s.view}),
            Err(e) => {
                let e = ApiError::from(e);
                json!({"id": id, "status": e.status_code().as_u16(), "detail": e.to_string()})
            }
        })
        .collect();
    json!({"results": results})
}

/// `POST /v1/suggestions/decisions`: many decisions, each answered on its own (`etag` per item, like `If-Match`).
pub async fn decide_bulk(state: web::Data<AppState>, caller: Caller, body: JsonBody) -> Result<HttpResponse, ApiError> {
    let items = parse_bulk(&body.0)?;
    let decided = use_case::decide_bulk(&state, &caller, items).await?;
    Ok(HttpResponse::Ok().json(bulk_results(decided)))
}

/// `GET /v1/suggestions/{id}`: staff see all of it and its history; the member (or its portal) only an approved or
/// delivered one.
pub async fn get(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(shown(use_case::get(&state, &caller, path.into_inner()).await?))
}

/// A reaction as the body gives it: `{reaction, reason (for not_relevant), comment}`.
fn parse_reaction(body: &Value) -> Check<Reacting> {
    let mut p = ObjectParser::new(body)?;
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
    p.finish(|| Some(Reacting { reaction: reaction?, reason: reason?, comment: comment? }))
}

/// `POST /v1/suggestions/{id}/reaction`: `{reaction, reason (for not_relevant), comment}`.
pub async fn react(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    body: JsonBody,
) -> Result<HttpResponse, ApiError> {
    let reacting = parse_reaction(&body.0).map_err(ApiError::validation)?;
    let reacted = use_case::react(&state, &caller, path.into_inner(), reacting).await?;
    Ok(HttpResponse::Ok().json(reacted.view))
}

/// `DELETE /v1/suggestions/{id}/reaction`: take it back, within 14 days.
pub async fn undo_reaction(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    use_case::undo_reaction(&state, &caller, path.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `GET /v1/reactions` (staff): suggestions members reacted to, latest first; `reaction`, `kind` filters.
pub async fn reactions(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let mut errors = Vec::new();
    let (params, limit, offset) = paged(req.query_string(), &["reaction", "kind", "limit", "cursor"], &mut errors)?;
    let reaction = enum_param::<Reaction>(&params, "reaction", &mut errors);
    let kind = enum_param::<SuggestionKind>(&params, "kind", &mut errors);
    parsed((), errors)?;
    let views = use_case::reactions(&state, reaction, kind, offset, limit).await?;
    Ok(page(&req, views, offset, limit))
}

/// `GET /v1/members/{id}/suggestions`: members and portals see approved and delivered ones only; staff see all and
/// may filter by `status`.
pub async fn for_member(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let member = Uuid::parse_str(&path).map_err(|_| ApiError::NotFound("no member has this id".to_owned()))?;
    let mut errors = Vec::new();
    let (params, limit, offset) = paged(req.query_string(), &["status", "kind", "limit", "cursor"], &mut errors)?;
    let status = enum_param::<SuggestionStatus>(&params, "status", &mut errors);
    let kind = enum_param::<SuggestionKind>(&params, "kind", &mut errors);
    parsed((), errors)?;
    let views = use_case::for_member(&state, &caller, member, status, kind, offset, limit).await?;
    Ok(page(&req, views, offset, limit))
}

/// The longest call reference an outcome takes.
const CALL_MAX: usize = 200;

fn date_value(v: &Value) -> Check<chrono::NaiveDate> {
    let text = v.as_str().ok_or_else(|| vec![FieldError::new("", "must be a date such as 2026-12-06")])?;
    chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|_| vec![FieldError::new("", "must be a date such as 2026-12-06")])
}

/// An outcome as the body gives it: `{outcome, date, call}`.
fn parse_outcome(body: &Value) -> Check<use_case::Recording> {
    let mut p = ObjectParser::new(body)?;
    p.only(&["outcome", "date", "call"], &[]);
    let outcome = p.required("outcome", crate::domain::suggestion::Outcome::parse_value);
    let date = p.nullable("date", date_value);
    let call = p.nullable("call", |v| parse::text(v, 1, CALL_MAX));
    p.finish(|| Some(use_case::Recording { outcome: outcome?, date: date?, call: call? }))
}

/// `POST /v1/suggestions/{id}/outcomes`: what came of it (`met`, `applied_together` or `funded` with the call,
/// `no_follow_up`), with its date.
pub async fn record_outcome(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    body: JsonBody,
) -> Result<HttpResponse, ApiError> {
    let recording = parse_outcome(&body.0).map_err(ApiError::validation)?;
    let recorded = use_case::record_outcome(&state, &caller, path.into_inner(), recording).await?;
    Ok(HttpResponse::Created().json(recorded.view))
}

/// A `from` or `to` day of the funnel: the start of that day in Luxembourg.
pub fn day_param(params: &Params, name: &str, errors: &mut Vec<FieldError>) -> Option<chrono::DateTime<chrono::Utc>> {
    let text = params.get(name)?;
    let day = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").ok().and_then(|d| {
        d.and_hms_opt(0, 0, 0)?.and_local_timezone(chrono_tz::Europe::Luxembourg).earliest().map(|t| t.to_utc())
    });
    if day.is_none() {
        errors.push(FieldError::new(format!("?{name}"), "must be a date such as 2026-12-06"));
    }
    day
}

/// `GET /v1/stats/suggestions?from=&to=` (staff): the funnel of suggestions made from `from` to `to` (days in
/// Luxembourg, both included; all of them by default).
pub async fn funnel(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let params = super::extract::query_params(req.query_string(), &["from", "to"])?;
    let mut errors = Vec::new();
    let from = day_param(&params, "from", &mut errors);
    let to = day_param(&params, "to", &mut errors).map(|t| t + chrono::TimeDelta::days(1));
    if let (Some(f), Some(t)) = (from, to)
        && t <= f
    {
        errors.push(FieldError::new("?to", "must not be before from"));
    }
    parsed((), errors)?;
    let from = from.unwrap_or(chrono::DateTime::UNIX_EPOCH);
    let to = to.unwrap_or_else(|| state.clock.now() + chrono::TimeDelta::days(1));
    let funnel = use_case::funnel(&state, from, to).await?;
    Ok(HttpResponse::Ok().json(json!({
        "from": timestamp(from),
        "to": timestamp(to),
        "overall": funnel.overall,
        "by_sector": funnel.by_sector,
        "by_scope": funnel.by_scope,
        "by_size": funnel.by_size,
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pointers(e: ApiError) -> Vec<String> {
        let ApiError::Validation { errors, .. } = e else { panic!("expected a validation error, got {e:?}") };
        errors.into_iter().map(|e| e.pointer).collect()
    }

    #[test]
    fn queue_query_collects_every_problem_in_order() {
        let e = parse_queue("order=worst&kind=call&limit=0&min_score=101&cursor=x").unwrap_err();
        assert_eq!(pointers(e), ["?limit", "?cursor", "?kind", "?min_score", "?order"]);
        assert_eq!(pointers(parse_queue("nope=1").unwrap_err()), ["?nope"], "unknown parameters are refused first");
        let (filter, limit, offset) = parse_queue("kind=partner&order=best&min_age_days=7&limit=5").unwrap();
        assert_eq!(
            (filter.kind, filter.best_first, filter.min_age_days),
            (Some(SuggestionKind::Partner), true, Some(7.0))
        );
        assert_eq!((limit, offset), (5, 0));
    }

    #[test]
    fn bulk_decisions_each_carry_their_precondition() {
        let body = json!({"decisions": [
            {"id": "a", "decision": "approve"},
            {"id": "b", "decision": "reject", "reason": "off topic", "etag": "\"3\""},
            {"id": "c", "decision": "approve", "etag": "*"},
        ]});
        let items = parse_bulk(&body).unwrap();
        assert_eq!(items.len(), 3);
        assert!(matches!(items[0].precondition, Precondition::Any));
        assert!(matches!(&items[1].precondition, Precondition::Tags(t) if t == &["\"3\"".to_owned()]));
        assert!(matches!(items[2].precondition, Precondition::Any));
        let bad = json!({"decisions": [{"decision": "approve"}, {"id": "b", "decision": "reject"}]});
        assert_eq!(pointers(parse_bulk(&bad).unwrap_err()), ["/decisions/0/id", "/decisions/1/reason"]);
        assert_eq!(pointers(parse_bulk(&json!({"decisions": []})).unwrap_err()), ["/decisions"]);
        assert_eq!(pointers(parse_bulk(&json!({"decisions": [], "x": 1})).unwrap_err()), ["/decisions"]);
    }

    #[test]
    fn reactions_need_a_reason_for_not_relevant_only() {
        let r = parse_reaction(&json!({"reaction": "not_relevant", "reason": "wrong_scope"})).unwrap();
        assert_eq!((r.reaction, r.reason), (Reaction::NotRelevant, Some(ReactionReason::WrongScope)));
        assert!(parse_reaction(&json!({"reaction": "not_relevant"})).is_err());
        assert!(parse_reaction(&json!({"reaction": "interested", "reason": "other"})).is_err());
    }
}
