//! `/v1/vocabulary`: autocomplete for portals' forms, concept lookup, and staff edits (synonyms, merges).

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::json;

use super::AppState;
use super::auth::record;
use super::client_ip;
use super::extract::{JsonBody, query_params};
use crate::auth::Caller;
use crate::db::audit::AuditEvent;
use crate::db::changes::{self, Entity};
use crate::db::{self, DbError, members, projects, vocabulary};
use crate::domain::FieldError;
use crate::domain::parse::{ObjectParser, line};
use crate::http::error::ApiError;
use crate::matching::resolve::resolve_term;
use crate::matching::vocabulary::Lang;

fn lang_param(v: Option<&String>, errors: &mut Vec<FieldError>) -> Option<Lang> {
    v.and_then(|l| {
        Lang::parse(l).or_else(|| {
            errors.push(FieldError::new("?lang", "must be en, fr, de or lb"));
            None
        })
    })
}

/// `GET /v1/vocabulary/search?q=&lang=&limit=`
pub async fn search(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let params = query_params(req.query_string(), &["q", "lang", "limit"])?;
    let mut errors = Vec::new();
    let q = params.get("q").cloned().unwrap_or_default();
    if q.trim().is_empty() || q.chars().count() > 100 {
        errors.push(FieldError::new("?q", "is required: 1 to 100 characters"));
    }
    let lang = lang_param(params.get("lang"), &mut errors);
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
    let items = state.index.matcher.vocabulary().search(&q, lang, limit);
    Ok(HttpResponse::Ok().json(json!({"items": items})))
}

/// `GET /v1/vocabulary/concept?id=`: one concept; a merged id answers with the survivor.
pub async fn concept(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let params = query_params(req.query_string(), &["id"])?;
    let id = params.get("id").ok_or_else(|| ApiError::validation(vec![FieldError::new("?id", "is required")]))?;
    let vocab = state.index.matcher.vocabulary();
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
    let mut vocab = (*state.index.matcher.vocabulary()).clone();
    // A private copy to check the label and re-normalise with; the live one is rebuilt from the database below.
    let idx = vocab
        .find(&concept)
        .ok_or_else(|| ApiError::validation(vec![FieldError::new("/concept", "is not a concept of the vocabulary")]))?;
    let survivor = vocab.concept(idx).id.clone();
    if !vocab.add_label(idx, lang, &label) {
        return Err(ApiError::Conflict("this label already names another concept".to_owned()));
    }
    let now = state.clock.now();
    let by = caller.subject();
    let sync = state.index.clone();
    let (c2, l2) = (survivor.clone(), label.clone());
    let renormalised = db::run(&state.pool, move |conn| {
        let n = db::write(conn, |conn| {
            vocabulary::insert_label(conn, &c2, lang, &l2, &by, now)?;
            // Free terms the new label now explains move to its concept.
            let mut n = 0;
            for (member, kind, position, text) in members::free_terms(conn)? {
                let item = crate::domain::member::ProfileTerm {
                    term: crate::domain::term::Term::from_stored(text),
                    strength: None,
                    chosen: None,
                    resolution: crate::domain::term::Resolution::free(),
                };
                if let Ok(r) = resolve_term(&vocab, &item)
                    && r.concept.is_some()
                {
                    members::set_term_concept(conn, &member, &kind, position, &r)?;
                    n += 1;
                }
            }
            changes::record(conn, Entity::Vocabulary, &c2, now)?;
            Ok::<_, DbError>(n)
        })?;
        sync.reload_all(conn)?;
        Ok::<_, DbError>(n)
    })
    .await
    .map_err(|e| match e {
        DbError::Query(ref q) if db::is_unique_violation(q) => {
            ApiError::Conflict("this label already exists".to_owned())
        }
        other => other.into(),
    })?;
    let ip = client_ip(&req, &state).map(|a| a.to_string());
    let event = AuditEvent::new(caller.subject(), "vocabulary.synonym_added", ip)
        .target(survivor.clone())
        .details(json!({"lang": lang, "label": label, "terms_renormalised": renormalised}));
    record(&state, event).await;
    Ok(HttpResponse::Created()
        .json(json!({"concept": survivor, "lang": lang, "label": label, "terms_renormalised": renormalised})))
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
    let vocab = state.index.matcher.vocabulary();
    let mut errors = Vec::new();
    let f = vocab.find(&from);
    let i = vocab.find(&into);
    if f.is_none() {
        errors.push(FieldError::new("/from", "is not a concept of the vocabulary"));
    }
    if i.is_none() {
        errors.push(FieldError::new("/into", "is not a concept of the vocabulary"));
    }
    let (Some(f), Some(i)) = (f, i) else { return Err(ApiError::validation(errors)) };
    if f == i {
        return Err(ApiError::validation(vec![FieldError::new("/into", "is the same concept as `from`")]));
    }
    let (from_id, into_id) = (vocab.concept(f).id.clone(), vocab.concept(i).id.clone());
    let now = state.clock.now();
    let by = caller.subject();
    let sync = state.index.clone();
    let (a, b) = (from_id.clone(), into_id.clone());
    let moved = db::run(&state.pool, move |conn| {
        let moved = db::write(conn, |conn| {
            vocabulary::insert_merge(conn, &a, &b, &by, now)?;
            let m = members::move_concept(conn, &a, &b)?.len();
            let p = projects::move_concept(conn, &a, &b)?.len();
            changes::record(conn, Entity::Vocabulary, &a, now)?;
            Ok::<_, DbError>(m + p)
        })?;
        sync.reload_all(conn)?;
        Ok::<_, DbError>(moved)
    })
    .await?;
    let ip = client_ip(&req, &state).map(|a| a.to_string());
    let event = AuditEvent::new(caller.subject(), "vocabulary.merged", ip)
        .target(from_id.clone())
        .details(json!({"into": into_id, "profiles_and_projects_moved": moved}));
    record(&state, event).await;
    Ok(HttpResponse::Ok().json(json!({"from": from_id, "into": into_id, "moved": moved})))
}
