//! Ranked, explained matches: projects for a member, partners for a member, members and consortia for a project.

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};
use uuid::Uuid;

use super::AppState;
use super::extract::{
    encode_cursor, enum_param, lang_param, limit, next_offset, number_param, offset_cursor, parsed, query_params,
};
use crate::app::matches::{self, Ranking};
use crate::domain::member::Scope;
use crate::http::error::ApiError;
use crate::matching::index::{Scored, Window};
use crate::matching::model::{MemberProfile, ProjectProfile};
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
    let query = RankQuery {
        limit: limit(&params).map_err(|e| errors.push(e)).unwrap_or_default(),
        scope: enum_param::<Scope>(&params, "scope", &mut errors),
        min_score: number_param(&params, "min_score", 0.0, 100.0, &mut errors).unwrap_or(0.0),
        lang: lang_param(&params, &mut errors).unwrap_or(Lang::En),
        offset: usize::try_from(offset_cursor(CURSOR_KIND, &params, &mut errors)).unwrap_or(0),
    };
    parsed(query, errors)
}

impl RankQuery {
    /// The part of the ranking this query asks for.
    fn window(&self) -> Window {
        Window { offset: self.offset, limit: usize::try_from(self.limit).unwrap_or(20), min_score: self.min_score }
    }
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

fn id_of(raw: &str, what: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw).map_err(|_| ApiError::NotFound(format!("no {what} has this id")))
}

/// A member as another member (or staff) may see it in a match: no contact e-mail.
pub fn card(m: &MemberProfile) -> Value {
    json!({"id": m.id, "name": m.name, "sectors": m.sectors, "country": m.country, "city": m.city, "website": m.website})
}

fn project_item(p: &ProjectProfile, s: &Scored) -> Value {
    let deadline = p.deadline.map(crate::domain::member::timestamp);
    json!({
        "project": {"id": p.id, "title": p.title, "scope": p.scope, "deadline": deadline},
        "score": s.score,
        "explanation": s.explanation,
    })
}

fn member_item(m: &MemberProfile, s: &Scored) -> Value {
    json!({"member": card(m), "score": s.score, "explanation": s.explanation})
}

fn rendered<T>(ranking: &Ranking<T>, item: impl Fn(&T, &Scored) -> Value) -> (Vec<Value>, usize) {
    (ranking.items.iter().map(|(t, s)| item(t, s)).collect(), ranking.total)
}

/// `GET /v1/members/{id}/matches/projects`
pub async fn projects_for_member(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = id_of(&path, "member")?;
    let q = rank_query(&req, true)?;
    let ranking = matches::projects_for_member(&state, id, q.scope, q.lang, q.window()).await?;
    Ok(page(&req, &q, rendered(&ranking, project_item)))
}

/// `GET /v1/members/{id}/matches/partners` (staff)
pub async fn partners_for_member(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = id_of(&path, "member")?;
    let q = rank_query(&req, false)?;
    let ranking = matches::partners_for_member(&state, id, q.lang, q.window()).await?;
    Ok(page(&req, &q, rendered(&ranking, member_item)))
}

/// `GET /v1/projects/{id}/matches/members` (staff)
pub async fn members_for_project(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = id_of(&path, "project")?;
    let q = rank_query(&req, false)?;
    let ranking = matches::members_for_project(&state, id, q.lang, q.window()).await?;
    Ok(page(&req, &q, rendered(&ranking, member_item)))
}

/// `GET /v1/projects/{id}/consortia` (staff)
pub async fn consortia(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = id_of(&path, "project")?;
    let params = query_params(req.query_string(), &["lang"])?;
    let mut errors = Vec::new();
    let lang = parsed(lang_param(&params, &mut errors).unwrap_or(Lang::En), errors)?;
    Ok(HttpResponse::Ok().json(matches::consortia(&state, id, lang).await?))
}
