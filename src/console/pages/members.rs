//! Members, as staff look them up: a search with the API's filters; a member's page with its profile (each term
//! with the concept it mapped to and how), its best projects and partners, its suggestions with what came of them,
//! its portals; a preview of this week's digest; its export as a download; its erasure, confirmed by typing its
//! name, on the version the page showed.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::app::{self, AppError};
use crate::console::form::Posted;
use crate::console::query::{self, encode};
use crate::console::render::{see_other, text};
use crate::console::{Access, ConsoleError, Ctx, Page, page};
use crate::domain::member::{Member, Scope, Sector, timestamp};
use crate::domain::parse::ApiEnum as _;
use crate::domain::version::{Precondition, etag_for};
use crate::http::AppState;
use crate::http::error::ApiError;
use crate::http::extract::encode_cursor;
use crate::matching::index::{Explanation, Window};
use crate::matching::vocabulary::{Lang, Vocabulary};

pub const PAGES: &[Page] = &[
    page!("GET", "/console/members", Access::Staff, members),
    page!("GET", "/console/members/{id}", Access::Staff, member),
    page!("GET", "/console/members/{id}/digest-preview", Access::Staff, digest_preview),
    page!("GET", "/console/members/{id}/export", Access::Staff, export),
    page!("POST", "/console/members/{id}/erase", Access::Staff, erase),
];

/// Members a page of the search shows.
pub const PAGE_SIZE: i64 = 25;

/// Matches of each kind a member's page shows.
pub const TOP_MATCHES: usize = 10;

/// Suggestions a member's page shows, newest first.
pub const SUGGESTIONS_SHOWN: i64 = 50;

/// What a parser refused, one line per field, each named by its label in the form (`{area}.field_{name}`) when the
/// form has one.
pub(crate) fn problems(ctx: &Ctx, area: &str, e: &ApiError) -> Vec<String> {
    let ApiError::Validation { errors, .. } = e else { return vec![e.to_string()] };
    errors
        .iter()
        .map(|f| {
            let name = f.pointer.trim_start_matches(['?', '/']);
            let key = format!("{area}.field_{}", name.split('/').next().unwrap_or(name));
            let label = text(ctx.lang, &key);
            let label = if label == key { name.to_owned() } else { label };
            format!("{label}: {}", f.detail)
        })
        .collect()
}

/// The vocabulary's language for the reader's.
pub(crate) fn vocabulary_lang(ctx: &Ctx) -> Lang {
    Lang::parse(ctx.lang).unwrap_or(Lang::En)
}

/// A concept's label in `lang`, if the vocabulary has the concept.
pub(crate) fn concept_label(vocab: &Vocabulary, lang: Lang, id: Option<&str>) -> Option<String> {
    let idx = vocab.find(id?)?;
    Some(vocab.concept(idx).label(lang).to_owned())
}

/// Terms as the API shows them (`term`, strength, `concept`, `match`, `similarity`), each with its concept's label
/// in the reader's language and the similarity as a percentage.
pub(crate) fn labelled_terms(terms: &Value, vocab: &Vocabulary, lang: Lang) -> Vec<Value> {
    let Some(items) = terms.as_array() else { return Vec::new() };
    items
        .iter()
        .map(|t| {
            let mut t = t.clone();
            t["label"] = json!(concept_label(vocab, lang, t["concept"].as_str()));
            if let Some(s) = t["similarity"].as_f64() {
                t["percent"] = json!((s * 100.0).round() as i64);
            }
            t
        })
        .collect()
}

/// The concepts (or shared words) an explanation names, once each.
pub(crate) fn shared(e: &Explanation) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for m in &e.matched {
        if !out.contains(&m.label) {
            out.push(m.label.clone());
        }
    }
    out
}

/// The top of a ranking, as a page lists it.
pub(crate) fn top() -> Window {
    Window { offset: 0, limit: TOP_MATCHES, min_score: 0.0 }
}

/// A ranking, or `None` when the index does not hold what it is for (yet: another instance's change is read within a
/// second).
pub(crate) fn ranked<T>(found: Result<T, AppError>) -> Result<Option<T>, ConsoleError> {
    match found {
        Ok(r) => Ok(Some(r)),
        Err(AppError::NotFound(_)) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

fn not_found(ctx: &Ctx) -> ConsoleError {
    ConsoleError::NotFound(text(ctx.lang, "members.not_found"))
}

fn member_id(ctx: &Ctx, raw: &str) -> Result<Uuid, ConsoleError> {
    Uuid::parse_str(raw).map_err(|_| not_found(ctx))
}

/// The member, or the page saying there is none (in the reader's language).
async fn find(ctx: &Ctx, state: &AppState, id: Uuid) -> Result<Member, ConsoleError> {
    app::members::get(state, id).await.map_err(|e| match e {
        AppError::NotFound(_) => not_found(ctx),
        e => e.into(),
    })
}

/// The choices of the search form.
fn choices() -> Value {
    json!({
        "sectors": Sector::ALL.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
        "scopes": Scope::ALL.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
    })
}

/// A member as a row of the search shows it.
fn row(m: &Member) -> Value {
    let p = &m.profile;
    json!({
        "id": m.id,
        "name": p.name,
        "sectors": p.sectors,
        "country": p.country,
        "city": p.city,
        "status": p.status,
        "scopes": p.scopes,
        "updated_at": timestamp(m.updated_at),
    })
}

/// `GET /console/members`: the API's search (`q` in the name and description, `sector`, `country`, `scope`,
/// `skill` among the offers), a page at a time.
pub async fn members(ctx: Ctx, state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, ConsoleError> {
    let pairs = query::pairs(req.query_string(), &["limit", "done"]);
    let params: serde_json::Map<String, Value> = pairs.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
    let done = url::form_urlencoded::parse(req.query_string().as_bytes())
        .any(|(k, v)| k == "done" && v == "erased")
        .then(|| text(ctx.lang, "members.erased"));
    let query = format!("{}&limit={PAGE_SIZE}", encode(&pairs));
    let (filter, limit, after) = match crate::http::members::parse_list_query(&query) {
        Ok(parsed) => parsed,
        Err(e) => {
            let values = json!({"params": params, "choices": choices(), "errors": problems(&ctx, "members", &e)});
            return ctx.page_with_status(StatusCode::UNPROCESSABLE_ENTITY, "members.html", values);
        }
    };
    let caller = ctx.current()?.caller.clone();
    let mut found = app::members::list(&state, &caller, filter, after, limit).await?;
    let more = found.len() as i64 > limit;
    found.truncate(usize::try_from(limit).unwrap_or(0));
    let cursor = found
        .last()
        .filter(|_| more)
        .map(|last| encode_cursor(crate::http::members::CURSOR_KIND, &last.id.to_string()));
    let (next, first) = query::cursor_links("/console/members", &pairs, cursor, after.is_none());
    ctx.page(
        "members.html",
        json!({
            "items": found.iter().map(row).collect::<Vec<_>>(),
            "params": params,
            "choices": choices(),
            "next": next,
            "first": first,
            "done": done,
        }),
    )
}

/// What a member's page shows besides the member: matches, suggestions, portals.
async fn member_page(ctx: &Ctx, state: &AppState, member: &Member) -> Result<Value, ConsoleError> {
    let (id, lang) = (member.id, vocabulary_lang(ctx));
    let vocab = app::vocabulary::current(state);
    let caller = ctx.current()?.caller.clone();
    let mut profile = member.to_json();
    for list in ["offers", "needs", "interests"] {
        profile[list] = json!(labelled_terms(&profile[list], &vocab, lang));
    }
    let projects = ranked(app::matches::projects_for_member(state, id, None, lang, top()).await)?.map(|r| {
        r.items
            .iter()
            .map(|(p, s)| {
                json!({
                    "id": p.id,
                    "title": p.title,
                    "scope": p.scope,
                    "deadline": p.deadline.map(timestamp),
                    "score": s.score,
                    "shared": shared(&s.explanation),
                })
            })
            .collect::<Vec<_>>()
    });
    let partners = ranked(app::matches::partners_for_member(state, id, lang, top()).await)?.map(|r| {
        r.items
            .iter()
            .map(|(m, s)| {
                json!({
                    "id": m.id,
                    "name": m.name,
                    "country": m.country,
                    "city": m.city,
                    "sectors": m.sectors,
                    "score": s.score,
                    "shared": shared(&s.explanation),
                })
            })
            .collect::<Vec<_>>()
    });
    let mut suggestions = app::review::for_member(state, &caller, id, None, None, 0, SUGGESTIONS_SHOWN).await?;
    let more_suggestions = suggestions.len() as i64 > SUGGESTIONS_SHOWN;
    suggestions.truncate(usize::try_from(SUGGESTIONS_SHOWN).unwrap_or(0));
    let portals: Vec<Value> = app::accounts::portals(state, id)
        .await?
        .iter()
        .map(|(c, at)| {
            json!({
                "client_id": c.client_id,
                "name": c.name,
                "scopes": c.scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
                "disabled": c.disabled,
                "linked_at": timestamp(*at),
            })
        })
        .collect();
    Ok(json!({
        "member": profile,
        "version": member.version,
        "projects": projects,
        "partners": partners,
        "suggestions": suggestions,
        "more_suggestions": more_suggestions,
        "suggestions_shown": SUGGESTIONS_SHOWN,
        "portals": portals,
    }))
}

/// `GET /console/members/{id}`: the member's page.
pub async fn member(ctx: Ctx, state: web::Data<AppState>, id: web::Path<String>) -> Result<HttpResponse, ConsoleError> {
    let id = member_id(&ctx, &id)?;
    let found = find(&ctx, &state, id).await?;
    let values = member_page(&ctx, &state, &found).await?;
    ctx.page("member.html", values)
}

/// `GET /console/members/{id}/digest-preview`: what the member would receive this week, rendered now and stored
/// nowhere: its subject, the suggestions it carries and its plain-text version (the mail's HTML is not framed here).
pub async fn digest_preview(
    ctx: Ctx,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ConsoleError> {
    let id = member_id(&ctx, &id)?;
    let found = find(&ctx, &state, id).await?;
    let preview = app::digests::preview(&state, id, None).await?;
    let digest = preview.preview.map(|p| {
        json!({
            "subject": p.rendered.subject,
            "text": p.rendered.text,
            "language": p.language,
            "suggestions": p.suggestions,
        })
    });
    ctx.page(
        "member_digest.html",
        json!({"member": {"id": id, "name": found.profile.name}, "week": preview.week.to_string(), "digest": digest}),
    )
}

/// `GET /console/members/{id}/export`: everything held about the member as one JSON document, downloaded (the
/// API's `GET /v1/members/{id}/export`).
pub async fn export(ctx: Ctx, state: web::Data<AppState>, id: web::Path<String>) -> Result<HttpResponse, ConsoleError> {
    let id = member_id(&ctx, &id)?;
    let caller = ctx.current()?.caller.clone();
    let document = app::privacy::export(&state, &caller, id).await.map_err(|e| match e {
        AppError::NotFound(_) => not_found(&ctx),
        e => e.into(),
    })?;
    let body = serde_json::to_vec_pretty(&document).map_err(|e| ConsoleError::Internal(e.into()))?;
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .insert_header((header::CONTENT_DISPOSITION, format!("attachment; filename=\"member-{id}.json\"")))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .body(body))
}

/// The member's page again, because the erasure was not done: `status` 422 (the name typed is not the member's)
/// or 409 (the member changed since the page was read), with why.
async fn erase_refused(
    ctx: &Ctx,
    state: &AppState,
    member: &Member,
    status: StatusCode,
    message: String,
) -> Result<HttpResponse, ConsoleError> {
    let mut values = member_page(ctx, state, member).await?;
    values["erase_error"] = json!(message);
    ctx.page_with_status(status, "member.html", values)
}

/// `POST /console/members/{id}/erase`: erase the member (the API's `DELETE /v1/members/{id}`), on the version the
/// page showed (`version`), once `confirm` holds the member's name as typed by staff. Then back to the search.
pub async fn erase(
    ctx: Ctx,
    state: web::Data<AppState>,
    id: web::Path<String>,
    form: Posted,
) -> Result<HttpResponse, ConsoleError> {
    let id = member_id(&ctx, &id)?;
    let found = find(&ctx, &state, id).await?;
    let Some(version) = form.get("version").and_then(|v| v.parse::<i64>().ok()) else {
        return Err(ConsoleError::BadRequest(text(ctx.lang, "members.no_version")));
    };
    if form.get("confirm") != Some(found.profile.name.trim()) {
        let message = text(ctx.lang, "members.erase_wrong_name");
        return erase_refused(&ctx, &state, &found, StatusCode::UNPROCESSABLE_ENTITY, message).await;
    }
    match app::members::delete(&state, id, Precondition::Tags(vec![etag_for(version)])).await {
        Ok(()) => Ok(see_other("/console/members?done=erased")),
        Err(AppError::Stale) => {
            let now = find(&ctx, &state, id).await?;
            let message = text(ctx.lang, "members.erase_changed");
            erase_refused(&ctx, &state, &now, StatusCode::CONFLICT, message).await
        }
        Err(AppError::NotFound(_)) => Err(not_found(&ctx)),
        Err(e) => Err(e.into()),
    }
}
