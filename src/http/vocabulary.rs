//! `/v1/vocabulary`: autocomplete for portals' forms, concept lookup, and staff edits (synonyms, merges).

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::json;

use super::AppState;
use super::extract::{
    JsonBody, actor, bool_param, bounded_text, lang_param, offset_page, offset_query, parsed, query_params,
};
use crate::app::vocabulary::{self, Edited};
use crate::auth::Caller;
use crate::domain::FieldError;
use crate::domain::member::timestamp;
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

/// A `dry_run` flag of a body (`false` when absent).
fn dry_run_field(p: &mut ObjectParser<'_>) -> Option<bool> {
    p.defaulted("dry_run", false, crate::domain::parse::boolean)
}

/// What an edit did (or, on a dry run, would do): the stored terms it maps anew.
fn edited_json(edited: &Edited) -> serde_json::Value {
    json!({"dry_run": edited.dry_run, "terms_renormalised": edited.remapped.len(), "remapped": edited.remapped})
}

/// `POST /v1/vocabulary/synonyms` (staff): `{concept, lang, label, dry_run}`. Stored terms the label explains
/// better are mapped anew; a dry run says which, and changes nothing.
pub async fn add_synonym(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    JsonBody(body): JsonBody,
) -> Result<HttpResponse, ApiError> {
    let mut p = ObjectParser::new(&body).map_err(ApiError::validation)?;
    p.only(&["concept", "lang", "label", "dry_run"], &[]);
    let concept = p.required("concept", |v| line(v, 1, 300));
    let lang = p.required("lang", |v| match v.as_str().and_then(Lang::parse) {
        Some(l) => Ok(l),
        None => crate::domain::parse::fail("must be en, fr, de or lb"),
    });
    let label = p.required("label", |v| line(v, 1, 100));
    let dry_run = dry_run_field(&mut p);
    let (concept, lang, label, dry_run) =
        p.finish(|| Some((concept?, lang?, label?, dry_run?))).map_err(ApiError::validation)?;
    let actor = actor(&req, &state, &caller);
    let added = vocabulary::add_synonym(&state, &actor, &concept, lang, label.clone(), dry_run).await?;
    let mut body = edited_json(&added.edited);
    body["id"] = json!(added.id);
    body["concept"] = json!(added.concept);
    body["lang"] = json!(lang);
    body["label"] = json!(label);
    Ok(if dry_run { HttpResponse::Ok() } else { HttpResponse::Created() }.json(body))
}

/// `DELETE /v1/vocabulary/synonyms/{id}` (staff): take a synonym back; `?dry_run=true` says what it would re-map.
pub async fn remove_synonym(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let params = query_params(req.query_string(), &["dry_run"])?;
    let mut errors = Vec::new();
    let dry_run = parsed(bool_param(&params, "dry_run", &mut errors), errors)?;
    let edited = vocabulary::remove_synonym(&state, &actor(&req, &state, &caller), path.into_inner(), dry_run).await?;
    Ok(HttpResponse::Ok().json(edited_json(&edited)))
}

/// `POST /v1/vocabulary/merges` (staff): `{from, into, dry_run}`. `from` stays as an alias; stored terms follow.
pub async fn merge(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    JsonBody(body): JsonBody,
) -> Result<HttpResponse, ApiError> {
    let mut p = ObjectParser::new(&body).map_err(ApiError::validation)?;
    p.only(&["from", "into", "dry_run"], &[]);
    let from = p.required("from", |v| line(v, 1, 300));
    let into = p.required("into", |v| line(v, 1, 300));
    let dry_run = dry_run_field(&mut p);
    let (from, into, dry_run) = p.finish(|| Some((from?, into?, dry_run?))).map_err(ApiError::validation)?;
    let actor = actor(&req, &state, &caller);
    let (from, into, edited) = vocabulary::merge(&state, &actor, &from, &into, dry_run).await?;
    let mut body = edited_json(&edited);
    body["from"] = json!(from);
    body["into"] = json!(into);
    body["moved"] = json!(edited.remapped.len());
    Ok(HttpResponse::Ok().json(body))
}

/// `DELETE /v1/vocabulary/merges?from=` (staff): undo a merge; `dry_run=true` says what it would re-map.
pub async fn unmerge(state: web::Data<AppState>, req: HttpRequest, caller: Caller) -> Result<HttpResponse, ApiError> {
    let params = query_params(req.query_string(), &["from", "dry_run"])?;
    let mut errors = Vec::new();
    let dry_run = bool_param(&params, "dry_run", &mut errors);
    let from = bounded_text(&params, "from", 300, &mut errors);
    if from.is_none() && errors.is_empty() {
        errors.push(FieldError::new("?from", "is required: the concept that was merged away"));
    }
    let (from, dry_run) = parsed((from.unwrap_or_default(), dry_run), errors)?;
    let edited = vocabulary::unmerge(&state, &actor(&req, &state, &caller), from, dry_run).await?;
    Ok(HttpResponse::Ok().json(edited_json(&edited)))
}

/// `GET /v1/vocabulary/synonyms` and `GET /v1/vocabulary/merges` (staff): the edits staff made, oldest first.
pub async fn synonyms(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let (labels, _) = vocabulary::staff_edits(&state).await?;
    let items: Vec<_> = labels
        .iter()
        .map(|l| json!({"id": l.id, "concept": l.concept, "lang": l.lang, "label": l.label, "created_by": l.created_by, "created_at": timestamp(l.created_at.and_utc())}))
        .collect();
    Ok(HttpResponse::Ok().json(json!({"items": items})))
}

/// `GET /v1/vocabulary/merges` (staff).
pub async fn merges(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let (_, merges) = vocabulary::staff_edits(&state).await?;
    let items: Vec<_> = merges
        .iter()
        .map(|m| json!({"from": m.from_concept, "into": m.into_concept, "created_by": m.created_by, "created_at": timestamp(m.created_at.and_utc())}))
        .collect();
    Ok(HttpResponse::Ok().json(json!({"items": items})))
}

const UNMAPPED_KIND: &str = "v1";

/// `GET /v1/vocabulary/unmapped` (staff): free, partial and fuzzy terms, most used first, with candidates.
pub async fn unmapped(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let mut errors = Vec::new();
    let (_, limit, offset) = offset_query(req.query_string(), &["limit", "cursor"], UNMAPPED_KIND, &mut errors)?;
    let (limit, offset) = parsed((limit, offset), errors)?;
    let (offset_at, take) = (usize::try_from(offset).unwrap_or(0), usize::try_from(limit).unwrap_or(20) + 1);
    let (items, _) = vocabulary::unmapped(&state, offset_at, take).await?;
    Ok(offset_page(&req, UNMAPPED_KIND, items, offset, limit, |u| json!(u)))
}
