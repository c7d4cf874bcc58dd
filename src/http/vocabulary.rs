//! `/v1/vocabulary`: autocomplete for portals' forms, concept lookup, and staff edits (synonyms, merges).

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::json;

use super::AppState;
use super::extract::{JsonBody, actor, lang_param, query_params};
use crate::app::vocabulary;
use crate::auth::Caller;
use crate::domain::FieldError;
use crate::domain::parse::{ObjectParser, line};
use crate::http::error::ApiError;
use crate::matching::vocabulary::Lang;

/// `GET /v1/vocabulary/search?q=&lang=&limit=`
pub async fn search(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let params = query_params(req.query_string(), &["q", "lang", "limit"])?;
    let mut errors = Vec::new();
    let q = params.get("q").cloned().unwrap_or_default();
    if q.trim().is_empty() || q.chars().count() > 100 {
        errors.push(FieldError::new("?q", "is required: 1 to 100 characters"));
    }
    let lang = lang_param(&params, &mut errors);
    let limit = match params.get("limit") {
        None => 10,
        Some(v) => v.parse::<usize>().ok().filter(|n| (1..=50).contains(n)).unwrap_or_else(|| {
            errors.push(FieldError::new("?limit", "must be a whole number from 1 to 50"));
            10
        }),
    };
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let items = vocabulary::current(&state).search(&q, lang, limit);
    Ok(HttpResponse::Ok().json(json!({"items": items})))
}

/// `GET /v1/vocabulary/concept?id=`: one concept; a merged id answers with the survivor.
pub async fn concept(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let params = query_params(req.query_string(), &["id"])?;
    let id = params.get("id").ok_or_else(|| ApiError::validation(vec![FieldError::new("?id", "is required")]))?;
    let vocab = vocabulary::current(&state);
    let idx = vocab.find(id).ok_or_else(|| ApiError::NotFound("no concept has this id".to_owned()))?;
    let c = vocab.concept(idx);
    let labels: serde_json::Map<String, serde_json::Value> = Lang::ALL
        .iter()
        .map(|l| {
            (
                l.as_str().to_owned(),
                json!(vocab.labels_of(idx).filter(|(_, ll)| ll == l).map(|(t, _)| t).collect::<Vec<_>>()),
            )
        })
        .collect();
    let ids = |list: &[u32]| list.iter().map(|i| vocab.concept(vocab.resolve(*i)).id.clone()).collect::<Vec<_>>();
    Ok(HttpResponse::Ok().json(json!({
        "id": c.id,
        "kind": c.kind,
        "label": c.label(Lang::En),
        "labels": labels,
        "broader": ids(&c.broader),
        "narrower": ids(&c.narrower),
    })))
}

/// `POST /v1/vocabulary/synonyms` (staff): `{concept, lang, label}`. Free terms the new label explains get its concept.
pub async fn add_synonym(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    JsonBody(body): JsonBody,
) -> Result<HttpResponse, ApiError> {
    let mut p = ObjectParser::new(&body).map_err(ApiError::validation)?;
    p.only(&["concept", "lang", "label"], &[]);
    let concept = p.required("concept", |v| line(v, 1, 300));
    let lang = p.required("lang", |v| match v.as_str().and_then(Lang::parse) {
        Some(l) => Ok(l),
        None => crate::domain::parse::fail("must be en, fr, de or lb"),
    });
    let label = p.required("label", |v| line(v, 1, 100));
    let (concept, lang, label) = p.finish(|| Some((concept?, lang?, label?))).map_err(ApiError::validation)?;
    let added = vocabulary::add_synonym(&state, &actor(&req, &state, &caller), &concept, lang, label.clone()).await?;
    Ok(HttpResponse::Created().json(
        json!({"concept": added.concept, "lang": lang, "label": label, "terms_renormalised": added.terms_renormalised}),
    ))
}

/// `POST /v1/vocabulary/merges` (staff): `{from, into}`. `from` stays as an alias; stored terms move to `into`.
pub async fn merge(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    JsonBody(body): JsonBody,
) -> Result<HttpResponse, ApiError> {
    let mut p = ObjectParser::new(&body).map_err(ApiError::validation)?;
    p.only(&["from", "into"], &[]);
    let from = p.required("from", |v| line(v, 1, 300));
    let into = p.required("into", |v| line(v, 1, 300));
    let (from, into) = p.finish(|| Some((from?, into?))).map_err(ApiError::validation)?;
    let (from, into, moved) = vocabulary::merge(&state, &actor(&req, &state, &caller), &from, &into).await?;
    Ok(HttpResponse::Ok().json(json!({"from": from, "into": into, "moved": moved})))
}
