//! The review queue, the page staff live in: pending suggestions with both sides' cards, the score and its
//! explanation side by side; approve, reject with a reason, approve a selection; a suggestion's own page with its
//! history. A decision names the version it was made on: a colleague's decision in between is shown, never
//! overwritten.

use actix_web::{HttpResponse, web};
use serde_json::{Value, json};

use crate::app::review as use_case;
use crate::app::{AppError, review::BulkItem};
use crate::console::form::Posted;
use crate::console::query::{self, encode, with_param};
use crate::console::render::{see_other, text};
use crate::console::{Access, ConsoleError, Ctx, Page, page};
use crate::domain::member::{Scope, Sector};
use crate::domain::parse::ApiEnum as _;
use crate::domain::suggestion::Decision;
use crate::domain::version::{Precondition, etag_for};
use crate::http::AppState;
use crate::http::review::{BULK_MAX, RATIONALE_MAX, REASON_MAX, parse_queue};
use crate::review::SuggestionKind;

pub const PAGES: &[Page] = &[
    page!("GET", "/console/queue", Access::Staff, queue),
    page!("POST", "/console/queue/decisions", Access::Staff, decide_selected),
    page!("GET", "/console/suggestions/{id}", Access::Staff, suggestion),
    page!("POST", "/console/suggestions/{id}/decision", Access::Staff, decide),
];

/// Suggestions a queue page shows.
pub const PAGE_SIZE: i64 = 50;

/// The choices of the filter form.
fn choices() -> Value {
    json!({
        "kinds": SuggestionKind::ALL.iter().map(|k| k.as_str()).collect::<Vec<_>>(),
        "sectors": Sector::ALL.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
        "scopes": Scope::ALL.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
    })
}

/// `GET /console/queue`: filters and order as the API's (`kind`, `sector`, `scope`, `min_score`, `min_age_days`,
/// `max_age_days`, `order`, `offset`).
pub async fn queue(
    ctx: Ctx,
    state: web::Data<AppState>,
    req: actix_web::HttpRequest,
) -> Result<HttpResponse, ConsoleError> {
    let pairs = query::pairs(req.query_string(), &["decided", "done", "limit"]);
    let query = encode(&pairs);
    let (filter, _, offset) = match parse_queue(&format!("{query}&limit={PAGE_SIZE}")) {
        Ok(parsed) => parsed,
        Err(e) => return Err(ConsoleError::BadRequest(e.to_string())),
    };
    let mut items = use_case::queue_with_cards(&state, filter, offset, PAGE_SIZE).await?;
    let more = items.len() as i64 > PAGE_SIZE;
    items.truncate(PAGE_SIZE as usize);
    let items: Vec<Value> = items.into_iter().map(|item| in_page_language(&ctx, item)).collect();
    let without_offset: Vec<(String, String)> = pairs.iter().filter(|(k, _)| k != "offset").cloned().collect();
    let link = |offset: i64| {
        let mut p = without_offset.clone();
        if offset > 0 {
            p.push(("offset".to_owned(), offset.to_string()));
        }
        format!("/console/queue?{}", encode(&p))
    };
    let params: serde_json::Map<String, Value> = pairs.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
    let back = format!("/console/queue?{query}");
    let done = url::form_urlencoded::parse(req.query_string().as_bytes())
        .find(|(k, _)| k == "done")
        .map(|(_, v)| text(ctx.lang, &format!("queue.done_{}", if v == "rejected" { "rejected" } else { "approved" })));
    ctx.page(
        "queue.html",
        json!({
            "items": items,
            "params": params,
            "choices": choices(),
            "back": back,
            "offset": offset,
            "first": offset + 1,
            "last": offset + items.len() as i64,
            "previous": (offset > 0).then(|| link((offset - PAGE_SIZE).max(0))),
            "next": more.then(|| link(offset + PAGE_SIZE)),
            "done": done,
            "reason_max": REASON_MAX,
            "rationale_max": RATIONALE_MAX,
        }),
    )
}

/// `GET /console/suggestions/{id}`: one suggestion, its history, and the decision form while it is pending.
pub async fn suggestion(
    ctx: Ctx,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ConsoleError> {
    let shown = use_case::for_console(&state, id.into_inner()).await?;
    ctx.page(
        "suggestion.html",
        json!({
            "s": in_page_language(&ctx, shown.view),
            "back": "/console/queue",
            "reason_max": REASON_MAX,
            "rationale_max": RATIONALE_MAX,
        }),
    )
}

/// A suggestion's view with its explanation's concepts named in the page's language (the run named them in the
/// member's).
fn in_page_language(ctx: &Ctx, mut view: Value) -> Value {
    crate::digest::label_in(&mut view, ctx.lang);
    view
}

/// The decision a form gives: `decision` approve or reject (a reason required), the rationale as edited.
fn decision_of(ctx: &Ctx, form: &Posted) -> Result<Decision, String> {
    let approve = match form.get("decision") {
        Some("approve") => true,
        Some("reject") => false,
        _ => return Err(text(ctx.lang, "queue.choose_decision")),
    };
    let reason = form.get("reason").map(str::to_owned);
    let rationale = form.get("rationale").map(str::to_owned);
    if !approve && reason.is_none() {
        return Err(text(ctx.lang, "queue.reason_required"));
    }
    if reason.as_ref().is_some_and(|r| r.chars().count() > REASON_MAX)
        || rationale.as_ref().is_some_and(|r| r.chars().count() > RATIONALE_MAX)
    {
        return Err(text(ctx.lang, "queue.too_long"));
    }
    Ok(Decision { approve, reason, rationale })
}

/// The version a form was made on (`version`), as a precondition.
fn version_of(form: &Posted) -> Option<Precondition> {
    form.get("version").and_then(|v| v.parse::<i64>().ok()).map(|v| Precondition::Tags(vec![etag_for(v)]))
}

/// Where to go back to after a decision: the queue the form came from.
fn back_of(form: &Posted) -> String {
    form.get("back").filter(|b| b.starts_with("/console/")).unwrap_or("/console/queue").to_owned()
}

/// The suggestion as it is now, shown because what was asked could not be done (409: a colleague decided first, or
/// it changed since the page was read; 422: the form was incomplete).
async fn shown_again(
    ctx: &Ctx,
    state: &AppState,
    id: String,
    status: actix_web::http::StatusCode,
    message: String,
    form: &Posted,
) -> Result<HttpResponse, ConsoleError> {
    let shown = use_case::for_console(state, id).await?;
    ctx.page_with_status(
        status,
        "suggestion.html",
        json!({
            "s": in_page_language(ctx, shown.view),
            "back": back_of(form),
            "error": message,
            "conflict": status == actix_web::http::StatusCode::CONFLICT,
            "reason": form.get("reason"),
            "reason_max": REASON_MAX,
            "rationale_max": RATIONALE_MAX,
        }),
    )
}

/// `POST /console/suggestions/{id}/decision`: approve, or reject with a reason, on the version the page showed.
pub async fn decide(
    ctx: Ctx,
    state: web::Data<AppState>,
    id: web::Path<String>,
    form: Posted,
) -> Result<HttpResponse, ConsoleError> {
    let id = id.into_inner();
    let caller = ctx.current()?.caller.clone();
    let decision = match decision_of(&ctx, &form) {
        Ok(d) => d,
        Err(message) => {
            return shown_again(&ctx, &state, id, actix_web::http::StatusCode::UNPROCESSABLE_ENTITY, message, &form)
                .await;
        }
    };
    let approve = decision.approve;
    let Some(precondition) = version_of(&form) else {
        return Err(ConsoleError::BadRequest(text(ctx.lang, "queue.no_version")));
    };
    match use_case::decide(&state, &caller, id.clone(), precondition, decision).await {
        Ok(_) => {
            let done = if approve { "approved" } else { "rejected" };
            Ok(see_other(&with_param(&with_param(&back_of(&form), "done", done), "decided", &id)))
        }
        Err(AppError::Stale | AppError::Conflict(_)) => {
            let message = text(ctx.lang, "queue.conflict");
            shown_again(&ctx, &state, id, actix_web::http::StatusCode::CONFLICT, message, &form).await
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /console/queue/decisions`: approve the suggestions selected (`pick`, each `id:version`); each is decided
/// on its own, and those a colleague decided first are listed, untouched.
pub async fn decide_selected(ctx: Ctx, state: web::Data<AppState>, form: Posted) -> Result<HttpResponse, ConsoleError> {
    let caller = ctx.current()?.caller.clone();
    let picks = form.all("pick");
    if picks.is_empty() || picks.len() > BULK_MAX {
        return Err(ConsoleError::BadRequest(text(ctx.lang, "queue.pick_some")));
    }
    let mut items = Vec::with_capacity(picks.len());
    for pick in picks {
        let Some((id, version)) = pick.split_once(':') else {
            return Err(ConsoleError::BadRequest(text(ctx.lang, "queue.pick_some")));
        };
        let Ok(version) = version.parse::<i64>() else {
            return Err(ConsoleError::BadRequest(text(ctx.lang, "queue.pick_some")));
        };
        items.push(BulkItem {
            id: id.to_owned(),
            decision: Decision { approve: true, reason: None, rationale: None },
            precondition: Precondition::Tags(vec![etag_for(version)]),
        });
    }
    let decided = use_case::decide_bulk(&state, &caller, items).await?;
    let failed: Vec<Value> = decided
        .iter()
        .filter_map(|(id, outcome)| outcome.as_ref().err().map(|e| json!({"id": id, "detail": e.to_string()})))
        .collect();
    let approved = decided.len() - failed.len();
    if failed.is_empty() {
        return Ok(see_other(&with_param(&back_of(&form), "done", "approved")));
    }
    ctx.page_with_status(
        actix_web::http::StatusCode::CONFLICT,
        "error.html",
        json!({
            "status": 409,
            "title": text(ctx.lang, "queue.bulk_partly"),
            "detail": text(ctx.lang, "queue.bulk_partly_detail").replace("{approved}", &approved.to_string()),
            "failed": failed,
            "back": back_of(&form),
        }),
    )
}
