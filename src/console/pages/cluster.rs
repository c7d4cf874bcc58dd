//! Running the cluster: the suggestion funnel, matching runs (start one, follow it), the week's digests (a failed
//! one sent again), introductions to make, imports and syncs of calls, and the audit log. Each page calls the same
//! use-case as the API's route for it, parses its query with the API's parser, and shows times in Luxembourg time.

use std::collections::HashMap;

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use chrono_tz::Europe::Luxembourg;
use serde_json::{Value, json};

use crate::app::introductions::Finishing;
use crate::app::names::{self, Named};
use crate::app::{audit, digests, introductions, projects, review};
use crate::console::form::Posted;
use crate::console::query::{encode, param, with_param, with_query};
use crate::console::render::{see_other, text};
use crate::console::{Access, ConsoleError, Ctx, Page, page};
use crate::domain::digest::DigestStatus;
use crate::domain::introduction::{IntroductionStatus, NOTE_MAX};
use crate::domain::member::timestamp;
use crate::domain::parse::ApiEnum;
use crate::domain::suggestion::{Outcome, Reaction, RunStatus};
use crate::http::AppState;
use crate::http::error::ApiError;

pub const PAGES: &[Page] = &[
    page!("GET", "/console/cluster", Access::Staff, overview),
    page!("POST", "/console/cluster/runs", Access::Staff, start_run),
    page!("GET", "/console/cluster/runs/{id}", Access::Staff, run),
    page!("GET", "/console/cluster/digests", Access::Staff, digest_list),
    page!("POST", "/console/cluster/digests/{id}/retry", Access::Staff, retry_digest),
    page!("GET", "/console/cluster/introductions", Access::Staff, introduction_list),
    page!("POST", "/console/cluster/introductions/{id}/introduce", Access::Staff, introduce),
    page!("POST", "/console/cluster/introductions/{id}/close", Access::Staff, close),
    page!("POST", "/console/cluster/messages/{id}/retry", Access::Staff, retry_message),
    page!("GET", "/console/cluster/imports", Access::Staff, import_list),
    // Before `imports/{id}`: the first resource whose path matches takes the request.
    page!("POST", "/console/cluster/imports/sync", Access::Staff, sync),
    page!("GET", "/console/cluster/imports/{id}", Access::Staff, import),
    page!("GET", "/console/cluster/audit", Access::Staff, audit_log),
];

/// Rows a list page shows.
pub const PAGE_SIZE: i64 = 50;
/// The funnel's default period: the last 90 days.
pub const FUNNEL_DAYS: i64 = 90;

/// An API parser's refusal as the console says it: each field and what is wrong with it.
fn refused(e: ApiError) -> ConsoleError {
    match e {
        ApiError::Validation { errors, .. } => ConsoleError::BadRequest(
            errors
                .iter()
                .map(|e| format!("{}: {}", e.pointer.trim_start_matches(['?', '/']), e.detail))
                .collect::<Vec<_>>()
                .join("; "),
        ),
        other => ConsoleError::BadRequest(other.to_string()),
    }
}

/// The query's parameters, blanks (a filter left unset) left out.
fn query_of(req: &HttpRequest) -> Vec<(String, String)> {
    crate::console::query::pairs(req.query_string(), &[])
}

/// Only the parameters `names`, in the query's order.
fn only(query: &[(String, String)], names: &[&str]) -> Vec<(String, String)> {
    query.iter().filter(|(k, _)| names.contains(&k.as_str())).cloned().collect()
}

/// The page's position (`offset`, a whole number).
fn offset_of(ctx: &Ctx, query: &[(String, String)]) -> Result<i64, ConsoleError> {
    match param(query, "offset") {
        None => Ok(0),
        Some(o) => o
            .parse::<i64>()
            .ok()
            .filter(|o| (0..=crate::http::extract::MAX_OFFSET).contains(o))
            .ok_or_else(|| ConsoleError::BadRequest(text(ctx.lang, "cluster.bad_offset"))),
    }
}

/// The links to the previous and next pages of a list paged by offset (`more`: a row beyond this page was read).
fn pager(path: &str, filters: &[(String, String)], offset: i64, more: bool) -> (Option<String>, Option<String>) {
    let link = |at: i64| {
        let mut pairs = filters.to_vec();
        if at > 0 {
            pairs.push(("offset".to_owned(), at.to_string()));
        }
        with_query(path, &pairs)
    };
    ((offset > 0).then(|| link((offset - PAGE_SIZE).max(0))), more.then(|| link(offset + PAGE_SIZE)))
}

/// The notice of a page reached after a form (`done`), from the strings `cluster.done_<done>`.
fn notice(ctx: &Ctx, query: &[(String, String)], known: &[&str]) -> Option<String> {
    param(query, "done").filter(|d| known.contains(d)).map(|d| text(ctx.lang, &format!("cluster.done_{d}")))
}

/// Where a form goes back to: the console page it names, else `fallback`.
fn back_of(form: &Posted, fallback: &str) -> String {
    form.get("back").filter(|b| b.starts_with("/console/cluster")).unwrap_or(fallback).to_owned()
}

/// The start of a day in Luxembourg.
fn lux_midnight(day: NaiveDate) -> Option<DateTime<Utc>> {
    day.and_hms_opt(0, 0, 0)?.and_local_timezone(Luxembourg).earliest().map(|t| t.to_utc())
}

fn today(state: &AppState) -> NaiveDate {
    state.clock.now().with_timezone(&Luxembourg).date_naive()
}

/// One row of the funnel's table.
fn funnel_row(name: &str, counts: &Value) -> Value {
    json!({
        "name": name,
        "created": counts["created"],
        "approved": counts["approved"],
        "delivered": counts["delivered"],
        "introduced": counts["introduced"],
        "reacted": Reaction::ALL.iter().map(|r| counts["reacted"][r.as_str()].clone()).collect::<Vec<_>>(),
        "outcomes": Outcome::ALL.iter().map(|o| counts["outcomes"][o.as_str()].clone()).collect::<Vec<_>>(),
    })
}

/// A slice of the funnel (`by_sector`, …) as rows, each named by `name`.
fn funnel_group(funnel: &Value, slice: &str, name: impl Fn(&str) -> String) -> Vec<Value> {
    funnel[slice].as_object().map_or_else(Vec::new, |m| m.iter().map(|(k, c)| funnel_row(&name(k), c)).collect())
}

/// `GET /console/cluster?from=&to=`: the sub-pages, the form that starts a matching run, and the funnel of the
/// suggestions made from `from` to `to` (days in Luxembourg, both included; the last 90 days by default).
pub async fn overview(ctx: Ctx, state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, ConsoleError> {
    let query = query_of(&req);
    let params: crate::http::extract::Params = only(&query, &["from", "to"]).into_iter().collect();
    let mut errors = Vec::new();
    let from = crate::http::review::day_param(&params, "from", &mut errors);
    let to = crate::http::review::day_param(&params, "to", &mut errors);
    crate::http::extract::parsed((), errors).map_err(refused)?;
    // The API's parser reads a day as its start in Luxembourg; the page shows it as the day it is.
    let day = |t: DateTime<Utc>| t.with_timezone(&Luxembourg).date_naive();
    let last = today(&state);
    let from_day = from.map_or(last - TimeDelta::days(FUNNEL_DAYS - 1), day);
    let to_day = to.map_or(last, day);
    if to_day < from_day {
        return Err(ConsoleError::BadRequest(text(ctx.lang, "cluster.to_before_from")));
    }
    let start = lux_midnight(from_day).unwrap_or(DateTime::UNIX_EPOCH);
    let end = lux_midnight(to_day).unwrap_or_else(|| state.clock.now()) + TimeDelta::days(1);
    let funnel = serde_json::to_value(review::funnel(&state, start, end).await?)
        .map_err(|e| ConsoleError::Internal(e.into()))?;
    let lang = ctx.lang;
    let groups = json!([
        {"title": text(lang, "cluster.by_sector"), "rows": funnel_group(&funnel, "by_sector", |k| text(lang, &format!("sector.{k}")))},
        {"title": text(lang, "cluster.by_scope"), "rows": funnel_group(&funnel, "by_scope", |k| {
            if k == "none" { text(lang, "cluster.scope_none") } else { text(lang, &format!("scope.{k}")) }
        })},
        {"title": text(lang, "cluster.by_size"), "rows": funnel_group(&funnel, "by_size", |k| text(lang, &format!("cluster.size_{k}")))},
    ]);
    ctx.page(
        "cluster.html",
        json!({
            "from": from_day.to_string(),
            "to": to_day.to_string(),
            "overall": funnel_row(&text(lang, "cluster.funnel_overall"), &funnel["overall"]),
            "groups": groups,
            "reactions": Reaction::ALL.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
            "outcomes": Outcome::ALL.iter().map(|o| o.as_str()).collect::<Vec<_>>(),
        }),
    )
}

/// `POST /console/cluster/runs`: start a matching run in the background, and follow it on its page.
pub async fn start_run(ctx: Ctx, state: web::Data<AppState>, _form: Posted) -> Result<HttpResponse, ConsoleError> {
    let run = review::start_run(&state, &ctx.current()?.caller).await?;
    Ok(see_other(&format!("/console/cluster/runs/{}", run.id)))
}

/// `GET /console/cluster/runs/{id}`: a run's status and counts; the page follows it while it goes on.
pub async fn run(ctx: Ctx, state: web::Data<AppState>, id: web::Path<String>) -> Result<HttpResponse, ConsoleError> {
    let r = review::get_run(&state, id.into_inner()).await?;
    let going = matches!(r.status, RunStatus::Queued | RunStatus::Running);
    ctx.page(
        "cluster_run.html",
        json!({
            "run": crate::http::review::run_json(&r),
            "going": going,
        }),
    )
}

const DIGEST_FILTERS: &[&str] = &["status", "week", "member"];

/// `GET /console/cluster/digests?status=&week=&member=&offset=`: the digests, newest first, with the API's
/// filters; a failed one can be sent again.
pub async fn digest_list(ctx: Ctx, state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, ConsoleError> {
    let query = query_of(&req);
    let filters = only(&query, DIGEST_FILTERS);
    let offset = offset_of(&ctx, &query)?;
    let (filter, _, _) =
        crate::http::digests::parse_list(&format!("{}&limit={PAGE_SIZE}", encode(&filters))).map_err(refused)?;
    let mut found = digests::list(&state, filter, offset, PAGE_SIZE).await?;
    let more = found.len() as i64 > PAGE_SIZE;
    found.truncate(usize::try_from(PAGE_SIZE).unwrap_or(0));
    let named = names::names(&state, found.iter().map(|d| Named::Member(d.member)).collect()).await?;
    let items: Vec<Value> = found
        .iter()
        .map(|d| {
            let mut v = d.to_json(&[], false);
            v["member_name"] = json!(named.get(&Named::Member(d.member)));
            if let Some(o) = v.as_object_mut() {
                o.remove("suggestions");
            }
            v
        })
        .collect();
    let (previous, next) = pager("/console/cluster/digests", &filters, offset, more);
    let params: HashMap<String, String> = filters.iter().cloned().collect();
    ctx.page(
        "cluster_digests.html",
        json!({
            "items": items,
            "params": params,
            "statuses": DigestStatus::ALL.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
            "back": with_query("/console/cluster/digests", &filters),
            "previous": previous,
            "next": next,
            "done": notice(&ctx, &query, &["retried"]),
        }),
    )
}

/// `POST /console/cluster/digests/{id}/retry`: a failed digest back in the queue; the next delivery sends it.
pub async fn retry_digest(
    ctx: Ctx,
    state: web::Data<AppState>,
    id: web::Path<String>,
    form: Posted,
) -> Result<HttpResponse, ConsoleError> {
    digests::retry(&state, &ctx.actor()?, id.into_inner()).await?;
    Ok(see_other(&with_param(&back_of(&form, "/console/cluster/digests"), "done", "retried")))
}

/// `GET /console/cluster/introductions?status=&offset=`: introduction requests, oldest first; by default those
/// waiting for staff (`requested`); `status=all` for every one.
pub async fn introduction_list(
    ctx: Ctx,
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, ConsoleError> {
    let query = query_of(&req);
    let offset = offset_of(&ctx, &query)?;
    let chosen = param(&query, "status").unwrap_or("requested");
    let status = match chosen {
        "all" => None,
        name => Some(IntroductionStatus::from_name(name).ok_or_else(|| {
            ConsoleError::BadRequest(
                text(ctx.lang, "cluster.bad_status").replace("{choices}", &IntroductionStatus::choices()),
            )
        })?),
    };
    let mut items = introductions::list(&state, status, offset, PAGE_SIZE).await?;
    let more = items.len() as i64 > PAGE_SIZE;
    items.truncate(usize::try_from(PAGE_SIZE).unwrap_or(0));
    let filters = vec![("status".to_owned(), chosen.to_owned())];
    let (previous, next) = pager("/console/cluster/introductions", &filters, offset, more);
    ctx.page(
        "cluster_introductions.html",
        json!({
            "items": items,
            "status": chosen,
            "statuses": IntroductionStatus::ALL.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
            "back": with_query("/console/cluster/introductions", &filters),
            "previous": previous,
            "next": next,
            "note_max": NOTE_MAX,
            "done": notice(&ctx, &query, &["introduced", "closed", "message_retried"]),
        }),
    )
}

/// A note of at most [`NOTE_MAX`] characters (the API's bound).
fn note(ctx: &Ctx, form: &Posted, name: &str) -> Result<Option<String>, ConsoleError> {
    let note = form.get(name).map(str::to_owned);
    if note.as_ref().is_some_and(|n| n.chars().count() > NOTE_MAX) {
        return Err(ConsoleError::BadRequest(
            text(ctx.lang, "cluster.note_too_long").replace("{max}", &NOTE_MAX.to_string()),
        ));
    }
    Ok(note)
}

/// `POST /console/cluster/introductions/{id}/introduce`: one e-mail to both sides, with `message` (optional).
pub async fn introduce(
    ctx: Ctx,
    state: web::Data<AppState>,
    id: web::Path<String>,
    form: Posted,
) -> Result<HttpResponse, ConsoleError> {
    let message = note(&ctx, &form, "message")?;
    let subject = ctx.current()?.caller.subject();
    introductions::finish(&state, subject, id.into_inner(), Finishing::Introduce { message }).await?;
    Ok(see_other(&with_param(&back_of(&form, "/console/cluster/introductions"), "done", "introduced")))
}

/// `POST /console/cluster/introductions/{id}/close`: close a request without an introduction; `reason` required.
pub async fn close(
    ctx: Ctx,
    state: web::Data<AppState>,
    id: web::Path<String>,
    form: Posted,
) -> Result<HttpResponse, ConsoleError> {
    let Some(reason) = note(&ctx, &form, "reason")? else {
        return Err(ConsoleError::BadRequest(text(ctx.lang, "cluster.reason_required")));
    };
    let subject = ctx.current()?.caller.subject();
    introductions::finish(&state, subject, id.into_inner(), Finishing::Close { reason }).await?;
    Ok(see_other(&with_param(&back_of(&form, "/console/cluster/introductions"), "done", "closed")))
}

/// `POST /console/cluster/messages/{id}/retry`: send a failed consent request or introduction again.
pub async fn retry_message(
    ctx: Ctx,
    state: web::Data<AppState>,
    id: web::Path<String>,
    form: Posted,
) -> Result<HttpResponse, ConsoleError> {
    introductions::retry_message(&state, &ctx.actor()?, id.into_inner()).await?;
    Ok(see_other(&with_param(&back_of(&form, "/console/cluster/introductions"), "done", "message_retried")))
}

/// `GET /console/cluster/imports?offset=`: every import and sync of calls, newest first; the form that starts a
/// sync from the portal.
pub async fn import_list(ctx: Ctx, state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, ConsoleError> {
    let query = query_of(&req);
    let offset = offset_of(&ctx, &query)?;
    let mut rows = projects::imports(&state, offset, PAGE_SIZE).await?;
    let more = rows.len() as i64 > PAGE_SIZE;
    rows.truncate(usize::try_from(PAGE_SIZE).unwrap_or(0));
    let items: Vec<Value> = rows.iter().map(crate::http::projects::import_json).collect();
    let (previous, next) = pager("/console/cluster/imports", &[], offset, more);
    ctx.page("cluster_imports.html", json!({"items": items, "previous": previous, "next": next}))
}

/// `POST /console/cluster/imports/sync`: start a sync of calls from the portal (or follow the one running).
pub async fn sync(ctx: Ctx, state: web::Data<AppState>, _form: Posted) -> Result<HttpResponse, ConsoleError> {
    let row = projects::start_sync(&state, &ctx.current()?.caller).await?;
    Ok(see_other(&format!("/console/cluster/imports/{}", row.id)))
}

/// `GET /console/cluster/imports/{id}`: one import, what it did or why it failed; followed while it runs.
pub async fn import(ctx: Ctx, state: web::Data<AppState>, id: web::Path<String>) -> Result<HttpResponse, ConsoleError> {
    let row = projects::import(&state, id.into_inner()).await?;
    let going = row.outcome == "running";
    ctx.page("cluster_import.html", json!({"entry": crate::http::projects::import_json(&row), "going": going}))
}

const AUDIT_FILTERS: &[&str] = &["actor", "action", "target", "since", "until"];

/// A day of the audit form (Luxembourg) as the API's RFC 3339 instant: its start, or (`end`) the next day's.
fn audit_instant(ctx: &Ctx, day: &str, end: bool) -> Result<String, ConsoleError> {
    let bad = || ConsoleError::BadRequest(text(ctx.lang, "cluster.bad_day"));
    let day = day.parse::<NaiveDate>().map_err(|_| bad())?;
    let day = if end { day.succ_opt().ok_or_else(bad)? } else { day };
    lux_midnight(day).map(timestamp).ok_or_else(bad)
}

/// `GET /console/cluster/audit?actor=&action=&target=&since=&until=&cursor=`: the audit log, newest first, with the
/// API's filters; `since` and `until` are days in Luxembourg (both included).
pub async fn audit_log(ctx: Ctx, state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, ConsoleError> {
    let query = query_of(&req);
    let filters = only(&query, AUDIT_FILTERS);
    let mut api: Vec<(String, String)> = Vec::new();
    for (k, v) in &filters {
        let v = match k.as_str() {
            "since" => audit_instant(&ctx, v, false)?,
            "until" => audit_instant(&ctx, v, true)?,
            _ => v.clone(),
        };
        api.push((k.clone(), v));
    }
    api.extend(only(&query, &["cursor"]));
    api.push(("limit".to_owned(), PAGE_SIZE.to_string()));
    let (filter, before, limit) = crate::http::audit::parse_list(&encode(&api)).map_err(refused)?;
    let mut rows = audit::list(&state, filter, before, limit).await?;
    let more = rows.len() as i64 > limit;
    rows.truncate(usize::try_from(limit).unwrap_or(0));
    let next = more.then(|| rows.last()).flatten().map(|last| {
        let mut pairs = filters.clone();
        pairs.push(("cursor".to_owned(), crate::http::audit::cursor_after(&last.id)));
        with_query("/console/cluster/audit", &pairs)
    });
    let items: Vec<Value> = rows
        .iter()
        .map(|r| {
            let mut v = r.to_json();
            let details = v["details"].as_object().filter(|d| !d.is_empty()).map(|_| v["details"].to_string());
            v["details_text"] = json!(details);
            v
        })
        .collect();
    let params: HashMap<String, String> = filters.iter().cloned().collect();
    ctx.page(
        "cluster_audit.html",
        json!({
            "items": items,
            "params": params,
            "first_page": with_query("/console/cluster/audit", &filters),
            "paged": param(&query, "cursor").is_some(),
            "next": next,
        }),
    )
}
