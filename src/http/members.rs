//! `/v1/members`: member profiles.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::extract::{JsonBody, idempotency_key, if_match};
use crate::db::idempotency::{self, StoredResponse};
use crate::db::members::{self, MemberFilter, WriteError};
use crate::db::{self, DbError};
use crate::domain::FieldError;
use crate::domain::member::{Member, MemberDraft, Scope, Sector};
use crate::domain::parse::Vocabulary;
use crate::error::ApiError;
use crate::startup::AppState;

const DEFAULT_LIMIT: i64 = 20;
const MAX_LIMIT: i64 = 100;

/// Until callers are authenticated, every Idempotency-Key shares one namespace.
const ANONYMOUS: &str = "";

fn not_found() -> ApiError {
    ApiError::NotFound("no member has this id".to_owned())
}

fn member_id(raw: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw).map_err(|_| not_found())
}

fn location(id: Uuid) -> String {
    format!("/v1/members/{id}")
}

fn member_response(status: actix_web::http::StatusCode, member: &Member) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::ETAG, member.etag()))
        .json(member.to_json())
}

/// What a create attempt ended with.
enum Created {
    New(Box<Member>),
    Replay(Box<StoredResponse>),
}

#[derive(Debug, thiserror::Error)]
enum CreateError {
    #[error("this Idempotency-Key was used with a different body")]
    KeyReused,
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<diesel::result::Error> for CreateError {
    fn from(e: diesel::result::Error) -> Self {
        Self::Db(DbError::Query(e))
    }
}

/// `POST /v1/members`
pub async fn create(
    state: web::Data<AppState>,
    req: HttpRequest,
    JsonBody(body): JsonBody,
) -> Result<HttpResponse, ApiError> {
    let key = idempotency_key(&req)?;
    let draft = MemberDraft::parse(&body).map_err(ApiError::validation)?;
    // serde_json's map is ordered, so the same document hashes the same whatever the key order on the wire.
    let request_hash = format!("{:x}", Sha256::digest(body.to_string().as_bytes()));
    let now = state.clock.now();
    let owner = ANONYMOUS.to_owned();

    let attempt = move |conn: &mut db::DbConnection| -> Result<Created, CreateError> {
        db::write(conn, |conn| {
            if let Some(key) = &key
                && let Some(stored) = idempotency::find(conn, &owner, key, now)?
            {
                return if stored.request_hash == request_hash {
                    Ok(Created::Replay(Box::new(stored)))
                } else {
                    Err(CreateError::KeyReused)
                };
            }
            let member = members::insert(conn, draft.clone(), now)?;
            if let Some(key) = &key {
                let stored = StoredResponse {
                    owner: owner.clone(),
                    key: key.clone(),
                    request_hash: request_hash.clone(),
                    status: 201,
                    body: member.to_json().to_string(),
                    location: Some(location(member.id)),
                    etag: Some(member.etag()),
                    created_at: now.naive_utc(),
                };
                idempotency::insert(conn, &stored, now)?;
            }
            Ok(Created::New(Box::new(member)))
        })
    };
    let created = db::run(&state.pool, move |conn| match attempt(conn) {
        // Two requests with the same new key raced and the other stored it first: answer as a retry would.
        Err(CreateError::Db(DbError::Query(e))) if db::is_unique_violation(&e) => attempt(conn),
        other => other,
    })
    .await;

    match created {
        Ok(Created::New(member)) => {
            tracing::info!(member_id = %member.id, "member created");
            Ok(HttpResponse::Created()
                .insert_header((header::LOCATION, location(member.id)))
                .insert_header((header::ETAG, member.etag()))
                .json(member.to_json()))
        }
        Ok(Created::Replay(stored)) => {
            let status = actix_web::http::StatusCode::from_u16(u16::try_from(stored.status).unwrap_or(500))
                .map_err(|e| ApiError::Unexpected(e.into()))?;
            let mut response = HttpResponse::build(status);
            response.insert_header((header::CONTENT_TYPE, "application/json"));
            response.insert_header(("Idempotent-Replayed", "true"));
            if let Some(l) = stored.location {
                response.insert_header((header::LOCATION, l));
            }
            if let Some(e) = stored.etag {
                response.insert_header((header::ETAG, e));
            }
            Ok(response.body(stored.body))
        }
        Err(CreateError::KeyReused) => Err(ApiError::Unprocessable(
            "this Idempotency-Key was already used with a different body; use a new key for a new request".to_owned(),
        )),
        Err(CreateError::Db(e)) => Err(e.into()),
    }
}

/// `GET /v1/members/{id}`
pub async fn get(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = member_id(&path)?;
    let member = db::run(&state.pool, move |conn| {
        members::find(conn, id).map_err(DbError::from)
    })
    .await?
    .ok_or_else(not_found)?;
    Ok(member_response(actix_web::http::StatusCode::OK, &member))
}

/// `PATCH /v1/members/{id}` (JSON Merge Patch)
pub async fn update(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    JsonBody(patch): JsonBody,
) -> Result<HttpResponse, ApiError> {
    let id = member_id(&path)?;
    let precondition = if_match(&req)?;
    let now = state.clock.now();
    let member = db::run(&state.pool, move |conn| {
        db::write(conn, |conn| {
            members::patch(conn, id, &precondition, &patch, now)
        })
    })
    .await
    .map_err(ApiError::from)?;
    Ok(member_response(actix_web::http::StatusCode::OK, &member))
}

/// `DELETE /v1/members/{id}`
pub async fn delete(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = member_id(&path)?;
    let precondition = if_match(&req)?;
    db::run(&state.pool, move |conn| -> Result<(), WriteError> {
        db::write(conn, |conn| members::delete(conn, id, &precondition))
    })
    .await?;
    tracing::info!(member_id = %id, "member deleted");
    Ok(HttpResponse::NoContent().finish())
}

/// Query of `GET /v1/members`, parsed.
#[derive(Debug, Default)]
struct ListQuery {
    filter: MemberFilter,
    limit: i64,
    after: Option<Uuid>,
}

const LIST_PARAMS: &[&str] = &[
    "sector", "country", "scope", "q", "skill", "limit", "cursor",
];

fn encode_cursor(id: Uuid) -> String {
    URL_SAFE_NO_PAD.encode(format!("m1:{id}"))
}

fn decode_cursor(raw: &str) -> Option<Uuid> {
    let bytes = URL_SAFE_NO_PAD.decode(raw).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    Uuid::parse_str(text.strip_prefix("m1:")?).ok()
}

fn parse_list_query(query: &str) -> Result<ListQuery, ApiError> {
    let mut out = ListQuery {
        limit: DEFAULT_LIMIT,
        ..ListQuery::default()
    };
    let mut errors = Vec::new();
    let mut seen: Vec<String> = Vec::new();
    for (name, value) in url::form_urlencoded::parse(query.as_bytes()) {
        let pointer = format!("?{name}");
        if !LIST_PARAMS.contains(&name.as_ref()) {
            errors.push(FieldError::new(
                pointer,
                format!("is not a parameter; use {}", LIST_PARAMS.join(", ")),
            ));
            continue;
        }
        if seen.contains(&name.to_string()) {
            errors.push(FieldError::new(pointer, "is given more than once"));
            continue;
        }
        seen.push(name.to_string());
        let value = value.trim();
        match name.as_ref() {
            "sector" => match Sector::from_name(value) {
                Some(s) => out.filter.sector = Some(s),
                None => errors.push(FieldError::new(
                    pointer,
                    format!("must be one of {}", Sector::choices()),
                )),
            },
            "scope" => match Scope::from_name(value) {
                Some(s) => out.filter.scope = Some(s),
                None => errors.push(FieldError::new(
                    pointer,
                    format!("must be one of {}", Scope::choices()),
                )),
            },
            "country" => {
                let code = value.to_ascii_uppercase();
                if code.len() == 2 && crate::domain::codes::is_country(&code) {
                    out.filter.country = Some(code);
                } else {
                    errors.push(FieldError::new(
                        pointer,
                        "must be an ISO 3166-1 alpha-2 country code",
                    ));
                }
            }
            "q" | "skill" => {
                let max = if name == "q" { 200 } else { 100 };
                if value.chars().count() > max {
                    errors.push(FieldError::new(
                        pointer,
                        format!("must have at most {max} characters"),
                    ));
                } else if !value.is_empty() {
                    let slot = if name == "q" {
                        &mut out.filter.q
                    } else {
                        &mut out.filter.skill
                    };
                    *slot = Some(value.to_owned());
                }
            }
            "limit" => match value.parse::<i64>() {
                Ok(n) if (1..=MAX_LIMIT).contains(&n) => out.limit = n,
                _ => errors.push(FieldError::new(
                    pointer,
                    format!("must be a whole number from 1 to {MAX_LIMIT}"),
                )),
            },
            "cursor" => match decode_cursor(value) {
                Some(id) => out.after = Some(id),
                None => errors.push(FieldError::new(
                    pointer,
                    "is not a cursor this service gave out",
                )),
            },
            _ => {}
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(ApiError::validation(errors))
    }
}

/// The same query with the cursor replaced, for the `Link` header.
fn next_link(query: &str, cursor: &str) -> String {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    for (name, value) in url::form_urlencoded::parse(query.as_bytes()) {
        if name != "cursor" {
            s.append_pair(&name, &value);
        }
    }
    s.append_pair("cursor", cursor);
    format!("</v1/members?{}>; rel=\"next\"", s.finish())
}

/// `GET /v1/members`
pub async fn list(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let query = parse_list_query(req.query_string())?;
    let limit = query.limit;
    let mut page = db::run(&state.pool, move |conn| {
        members::list(conn, &query.filter, query.after, limit + 1).map_err(DbError::from)
    })
    .await?;
    let more = page.len() > usize::try_from(limit).unwrap_or(usize::MAX);
    page.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let next = if more {
        page.last().map(|m| encode_cursor(m.id))
    } else {
        None
    };
    let items: Vec<Value> = page.iter().map(Member::to_json).collect();
    let mut response = HttpResponse::Ok();
    if let Some(cursor) = &next {
        response.insert_header((header::LINK, next_link(req.query_string(), cursor)));
    }
    Ok(response.json(json!({"items": items, "next": next})))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_forgeries() {
        let id = Uuid::now_v7();
        assert_eq!(decode_cursor(&encode_cursor(id)), Some(id));
        assert_eq!(decode_cursor("not-a-cursor"), None);
        assert_eq!(decode_cursor(&URL_SAFE_NO_PAD.encode("m1:nope")), None);
    }

    #[test]
    fn list_query_collects_every_problem() {
        let Err(ApiError::Validation { errors, .. }) =
            parse_list_query("limit=0&sector=food&bogus=1&q=a&q=b")
        else {
            panic!("expected a validation error");
        };
        let pointers: Vec<_> = errors.iter().map(|e| e.pointer.as_str()).collect();
        assert_eq!(pointers, ["?limit", "?sector", "?bogus", "?q"]);
        let ok = parse_list_query("limit=5&country=lu&skill=3D").unwrap();
        assert_eq!(ok.limit, 5);
        assert_eq!(ok.filter.country.as_deref(), Some("LU"));
    }

    #[test]
    fn next_link_keeps_filters() {
        let link = next_link("sector=design&cursor=old&limit=2", "new");
        assert_eq!(
            link,
            "</v1/members?sector=design&limit=2&cursor=new>; rel=\"next\""
        );
    }
}
