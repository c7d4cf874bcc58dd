//! Ranked, explained matches: projects for a member, partners for a member, members and consortia for a project.

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};
use uuid::Uuid;

use super::AppState;
use super::extract::{encode_cursor, limit, next_offset, offset_cursor, query_params};
use crate::auth::Caller;
use crate::domain::FieldError;
use crate::domain::member::Scope;
use crate::domain::parse::ApiEnum as _;
use crate::http::error::ApiError;
use crate::matching::consortium;
use crate::matching::index::{Page, Scored, Window};
use crate::matching::vocabulary::Lang;

const CURSOR_KIND: &str = "r1";

/// The query of a ranking: `scope`, `min_score`, `lang`, `limit`, `cursor` (a position in the ranking).
struct RankQuery {
    scope: Option<Scope>,
    min_score: f64,
    lang: Lang,
    limit: i64,
    offset: usize,
}

fn rank_query(req: &HttpRequest, with_scope: bool) -> Result<RankQuery, ApiError> {
    let allowed: &[&str] = if with_scope {
        &["scope", "min_score", "lang", "limit", "cursor"]
    } else {
        &["min_score", "lang", "limit", "cursor"]
    };
    let params = query_params(req.query_string(), allowed)?;
    let mut errors = Vec::new();
    let limit = limit(&params).map_err(|e| errors.push(e)).unwrap_or_default();
    let scope = params.get("scope").and_then(|s| {
        Scope::from_name(s).or_else(|| {
            errors.push(FieldError::new("?scope", format!("must be one of {}", Scope::choices())));
            None
        })
    });
    let min_score = match params.get("min_score") {
        None => 0.0,
        Some(v) => match v.parse::<f64>() {
            Ok(n) if (0.0..=100.0).contains(&n) => n,
            _ => {
                errors.push(FieldError::new("?min_score", "must be a number from 0 to 100"));
                0.0
            }
        },
    };
    let lang = match params.get("lang") {
        None => Lang::En,
        Some(l) => Lang::parse(l).unwrap_or_else(|| {
            errors.push(FieldError::new("?lang", "must be en, fr, de or lb"));
            Lang::En
        }),
    };
    let offset = usize::try_from(offset_cursor(CURSOR_KIND, &params, &mut errors)).unwrap_or(0);
    if errors.is_empty() {
        Ok(RankQuery { scope, min_score, lang, limit, offset })
    } else {
        Err(ApiError::validation(errors))
    }
}

impl RankQuery {
    /// The part of the ranking this query asks for.
    fn window(&self) -> Window {
        Window { offset: self.offset, limit: usize::try_from(self.limit).unwrap_or(20), min_score: self.min_score }
    }
}

/// One page of a ranking (explained by the index), each item rendered by `item`; with the ranking's length.
fn page_items(page: &Page, item: impl Fn(&Scored) -> Option<Value>) -> (Vec<Value>, usize) {
    (page.items.iter().filter_map(item).collect(), page.total)
}

fn page(req: &HttpRequest, q: &RankQuery, (items, total): (Vec<Value>, usize)) -> HttpResponse {
    let next = i64::try_from(q.offset)
        .ok()
        .and_then(|offset| next_offset(offset, q.limit))
        .filter(|n| usize::try_from(*n).is_ok_and(|n| total > n))
        .map(|n| encode_cursor(CURSOR_KIND, &n.to_string()));
    let mut response = HttpResponse::Ok();
    if let Some(cursor) = &next {
        let link = super::extract::next_link(req.path(), req.query_string(), cursor);
        response.insert_header((actix_web::http::header::LINK, link));
    }
    response.json(json!({"items": items, "next": next, "total": total}))
}

/// Rankings are CPU work: run them on the blocking pool, not on the server's async workers.
async fn off_executor<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    web::block(f).await.map_err(|e| ApiError::Unexpected(anyhow::anyhow!("ranking task failed: {e}")))?
}

fn id_of(raw: &str, what: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw).map_err(|_| ApiError::NotFound(format!("no {what} has this id")))
}

/// `GET /v1/members/{id}/matches/projects`
pub async fn projects_for_member(
    state: web::Data<AppState>,
    req: HttpRequest,
    _caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = id_of(&path, "member")?;
    let q = rank_query(&req, true)?;
    let (matcher, now) = (state.index.matcher.clone(), state.clock.now());
    let (q, result) = off_executor(move || {
        let vocab = matcher.vocabulary();
        let index = matcher.read_index();
        if index.member(id).is_none() {
            return Err(ApiError::NotFound("no member has this id".to_owned()));
        }
        let keep = |p: &crate::matching::model::ProjectProfile| q.scope.is_none_or(|s| s == p.scope);
        let ranked = index.top_projects_for_member(&vocab, q.lang, id, now, keep, q.window());
        let result = page_items(&ranked, |s| {
            let p = index.project(s.id)?;
            Some(json!({
                "project": {"id": p.id, "title": p.title, "scope": p.scope, "deadline": p.deadline.map(crate::domain::member::timestamp)},
                "score": s.score,
                "explanation": s.explanation,
            }))
        });
        Ok((q, result))
    })
    .await?;
    Ok(page(&req, &q, result))
}

/// A member as another member (or staff) may see it in a match: no contact e-mail.
pub fn card(m: &crate::matching::model::MemberProfile) -> Value {
    json!({"id": m.id, "name": m.name, "sectors": m.sectors, "country": m.country, "city": m.city, "website": m.website})
}

/// `GET /v1/members/{id}/matches/partners` (staff)
pub async fn partners_for_member(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = id_of(&path, "member")?;
    let q = rank_query(&req, false)?;
    let matcher = state.index.matcher.clone();
    let (q, result) = off_executor(move || {
        let vocab = matcher.vocabulary();
        let index = matcher.read_index();
        if index.member(id).is_none() {
            return Err(ApiError::NotFound("no member has this id".to_owned()));
        }
        let ranked = index.top_partners_for_member(&vocab, q.lang, id, q.window());
        let result = page_items(&ranked, |s| {
            let m = index.member(s.id)?;
            Some(json!({"member": card(m), "score": s.score, "explanation": s.explanation}))
        });
        Ok((q, result))
    })
    .await?;
    Ok(page(&req, &q, result))
}

/// `GET /v1/projects/{id}/matches/members` (staff)
pub async fn members_for_project(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = id_of(&path, "project")?;
    let q = rank_query(&req, false)?;
    let (matcher, now) = (state.index.matcher.clone(), state.clock.now());
    let (q, result) = off_executor(move || {
        let vocab = matcher.vocabulary();
        let index = matcher.read_index();
        if index.project(id).is_none() {
            return Err(ApiError::NotFound("no project has this id".to_owned()));
        }
        let ranked = index.top_members_for_project(&vocab, q.lang, id, now, q.window());
        let result = page_items(&ranked, |s| {
            let m = index.member(s.id)?;
            Some(json!({"member": card(m), "score": s.score, "explanation": s.explanation}))
        });
        Ok((q, result))
    })
    .await?;
    Ok(page(&req, &q, result))
}

/// `GET /v1/projects/{id}/consortia` (staff)
pub async fn consortia(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = id_of(&path, "project")?;
    let params = query_params(req.query_string(), &["lang"])?;
    let lang = match params.get("lang") {
        None => Lang::En,
        Some(l) => Lang::parse(l)
            .ok_or_else(|| ApiError::validation(vec![FieldError::new("?lang", "must be en, fr, de or lb")]))?,
    };
    let (matcher, now) = (state.index.matcher.clone(), state.clock.now());
    let result = off_executor(move || {
        let vocab = matcher.vocabulary();
        let index = matcher.read_index();
        consortium::propose(&index, &vocab, lang, id, now)
            .ok_or_else(|| ApiError::NotFound("no project has this id".to_owned()))
    })
    .await?;
    Ok(HttpResponse::Ok().json(result))
}
