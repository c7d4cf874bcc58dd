//! `/v1/members`: member profiles.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::Value;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::extract::{
    JsonBody, bounded_text, decode_cursor, idempotency_key, if_match, limit, page_response, query_params, search_param,
};
use crate::auth::{Caller, ClientScope};
use crate::db::changes::{self, Entity};
use crate::db::idempotency::{self, StoredResponse};
use crate::db::members::{self, MemberFilter, Visibility, WriteError};
use crate::db::{self, DbError, accounts};
use crate::domain::FieldError;
use crate::domain::member::{Member, MemberDraft, Scope, Sector};
use crate::domain::parse::ApiEnum;
use crate::error::ApiError;
use crate::matching::resolve::resolve_profile;
use crate::startup::AppState;

/// `status` is set by agency staff only.
fn refuse_staff_fields(caller: &Caller, body: &Value) -> Result<(), ApiError> {
    if !caller.is_staff() && body.get("status").is_some() {
        return Err(ApiError::Forbidden("`status` is set by agency staff".to_owned()));
    }
    Ok(())
}

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
    HttpResponse::build(status).insert_header((header::ETAG, member.etag())).json(member.to_json())
}

/// Whether the caller may read profiles: a write-only portal (`members:write` without `members:read`) gets the id
/// and `ETag` of what it wrote back, never the profile.
fn reads_members(caller: &Caller) -> bool {
    caller.has_scope(ClientScope::MembersRead)
}

/// The answer a write-only caller gets in place of the profile.
fn written_only(id: Uuid) -> Value {
    serde_json::json!({ "id": id })
}

/// The member a stored create answer is about.
fn stored_member(stored: &StoredResponse) -> Option<Uuid> {
    stored.location.as_deref().and_then(|l| l.rsplit('/').next()).and_then(|id| Uuid::parse_str(id).ok())
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
    #[error("the member this request created is no longer linked to this portal")]
    NoLongerVisible,
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
    caller: Caller,
    JsonBody(body): JsonBody,
) -> Result<HttpResponse, ApiError> {
    let key = idempotency_key(&req)?;
    refuse_staff_fields(&caller, &body)?;
    let mut draft = MemberDraft::parse(&body).map_err(ApiError::validation)?;
    resolve_profile(&state.sync.matcher.vocabulary(), &mut draft).map_err(ApiError::validation)?;
    // serde_json's map is ordered, so the same document hashes the same whatever the key order on the wire.
    let request_hash = format!("{:x}", Sha256::digest(body.to_string().as_bytes()));
    let now = state.clock.now();
    // Keys are scoped per account or client: two portals may use the same key without meeting.
    let owner = caller.subject();
    let portal = match &caller {
        Caller::Portal { client_id, .. } => Some(client_id.clone()),
        Caller::Person { .. } => None,
    };

    let attempt = move |conn: &mut db::DbConnection| -> Result<Created, CreateError> {
        db::write(conn, |conn| {
            if let Some(key) = &key
                && let Some(stored) = idempotency::find(conn, &owner, key, now)?
            {
                if stored.request_hash != request_hash {
                    return Err(CreateError::KeyReused);
                }
                // A replay answers only what the caller may still see: a portal unlinked since then gets nothing.
                if let (Some(client_id), Some(created)) = (&portal, stored_member(&stored))
                    && !accounts::is_linked(conn, client_id, created)?
                {
                    return Err(CreateError::NoLongerVisible);
                }
                return Ok(Created::Replay(Box::new(stored)));
            }
            let member = members::insert(conn, draft.clone(), now)?;
            if let Some(client_id) = &portal {
                // A member created by a portal is linked to it.
                accounts::link(conn, client_id, member.id, now)?;
            }
            changes::record(conn, Entity::Member, &member.id.to_string(), now)?;
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
    let sync = state.sync.clone();
    let created = db::run(&state.pool, move |conn| {
        let outcome = match attempt(conn) {
            // Two requests with the same new key raced and the other stored it first: answer as a retry would.
            Err(CreateError::Db(DbError::Query(e))) if db::is_unique_violation(&e) => attempt(conn),
            other => other,
        };
        if let Ok(Created::New(m)) = &outcome {
            sync.refresh_member(conn, m.id)?;
        }
        outcome
    })
    .await;

    let reads = reads_members(&caller);
    match created {
        Ok(Created::New(member)) => {
            tracing::info!(member_id = %member.id, "member created");
            let body = if reads { member.to_json() } else { written_only(member.id) };
            Ok(HttpResponse::Created()
                .insert_header((header::LOCATION, location(member.id)))
                .insert_header((header::ETAG, member.etag()))
                .json(body))
        }
        Ok(Created::Replay(stored)) => {
            let created_id = stored_member(&stored);
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
            match created_id {
                Some(id) if !reads => Ok(response.body(written_only(id).to_string())),
                _ => Ok(response.body(stored.body)),
            }
        }
        Err(CreateError::KeyReused) => Err(ApiError::Unprocessable(
            "this Idempotency-Key was already used with a different body; use a new key for a new request".to_owned(),
        )),
        Err(e @ CreateError::NoLongerVisible) => Err(ApiError::NotFound(e.to_string())),
        Err(CreateError::Db(e)) => Err(e.into()),
    }
}

/// `GET /v1/members/{id}`
pub async fn get(state: web::Data<AppState>, path: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let id = member_id(&path)?;
    let member = db::run(&state.pool, move |conn| members::find(conn, id).map_err(DbError::from))
        .await?
        .ok_or_else(not_found)?;
    Ok(member_response(actix_web::http::StatusCode::OK, &member))
}

/// `PATCH /v1/members/{id}` (JSON Merge Patch)
pub async fn update(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    path: web::Path<String>,
    JsonBody(patch): JsonBody,
) -> Result<HttpResponse, ApiError> {
    let id = member_id(&path)?;
    refuse_staff_fields(&caller, &patch)?;
    let precondition = if_match(&req)?;
    let now = state.clock.now();
    let vocab = state.sync.matcher.vocabulary();
    let sync = state.sync.clone();
    let member = db::run(&state.pool, move |conn| {
        let member = db::write(conn, |conn| {
            let m = members::patch(conn, id, &precondition, &patch, now, |draft| {
                resolve_profile(&vocab, draft).map_err(WriteError::Invalid)
            })?;
            changes::record(conn, Entity::Member, &id.to_string(), now)?;
            Ok::<_, WriteError>(m)
        })?;
        sync.refresh_member(conn, id)?;
        Ok::<_, WriteError>(member)
    })
    .await
    .map_err(ApiError::from)?;
    if reads_members(&caller) {
        Ok(member_response(actix_web::http::StatusCode::OK, &member))
    } else {
        Ok(HttpResponse::NoContent().insert_header((header::ETAG, member.etag())).finish())
    }
}

/// `DELETE /v1/members/{id}`
pub async fn delete(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = member_id(&path)?;
    let precondition = if_match(&req)?;
    let now = state.clock.now();
    let sync = state.sync.clone();
    db::run(&state.pool, move |conn| -> Result<(), WriteError> {
        db::write(conn, |conn| {
            members::delete(conn, id, &precondition)?;
            changes::record(conn, Entity::Member, &id.to_string(), now)?;
            Ok::<_, WriteError>(())
        })?;
        Ok(sync.refresh_member(conn, id)?)
    })
    .await?;
    tracing::info!(member_id = %id, "member deleted");
    Ok(HttpResponse::NoContent().finish())
}

const LIST_PARAMS: &[&str] = &["sector", "country", "scope", "q", "skill", "limit", "cursor"];
const CURSOR_KIND: &str = "m1";

/// The list's filters, from the query.
fn parse_list_query(query: &str) -> Result<(MemberFilter, i64, Option<Uuid>), ApiError> {
    let params = query_params(query, LIST_PARAMS)?;
    let mut filter = MemberFilter::default();
    let mut errors = Vec::new();
    let limit = limit(&params).map_err(|e| errors.push(e)).unwrap_or_default();
    let mut after = None;
    for name in LIST_PARAMS {
        let Some(value) = params.get(*name) else { continue };
        let pointer = format!("?{name}");
        match *name {
            "sector" => match Sector::from_name(value) {
                Some(s) => filter.sector = Some(s),
                None => errors.push(FieldError::new(pointer, format!("must be one of {}", Sector::choices()))),
            },
            "scope" => match Scope::from_name(value) {
                Some(s) => filter.scope = Some(s),
                None => errors.push(FieldError::new(pointer, format!("must be one of {}", Scope::choices()))),
            },
            "country" => {
                let code = value.to_ascii_uppercase();
                if code.len() == 2 && crate::domain::codes::is_country(&code) {
                    filter.country = Some(code);
                } else {
                    errors.push(FieldError::new(pointer, "must be an ISO 3166-1 alpha-2 country code"));
                }
            }
            "q" => filter.q = search_param(&params, "q", &mut errors),
            "skill" => filter.skill = bounded_text(&params, "skill", crate::domain::term::TERM_MAX, &mut errors),
            "cursor" => match decode_cursor(CURSOR_KIND, value).and_then(|v| Uuid::parse_str(&v).ok()) {
                Some(id) => after = Some(id),
                None => errors.push(FieldError::new(pointer, "is not a cursor this service gave out")),
            },
            _ => {}
        }
    }
    if errors.is_empty() { Ok((filter, limit, after)) } else { Err(ApiError::validation(errors)) }
}

/// `GET /v1/members`: what the caller may see (staff: all; a member: its own; a portal: its linked members).
pub async fn list(state: web::Data<AppState>, req: HttpRequest, caller: Caller) -> Result<HttpResponse, ApiError> {
    let (mut filter, limit, after) = parse_list_query(req.query_string())?;
    filter.visible = match &caller {
        _ if caller.is_staff() => Visibility::All,
        Caller::Portal { client_id, .. } => Visibility::LinkedTo(client_id.clone()),
        Caller::Person { .. } => match caller.own_member() {
            Some(id) => Visibility::Only(id),
            None => return Err(ApiError::Forbidden("this account is not tied to a member organisation".to_owned())),
        },
    };
    let page =
        db::run(&state.pool, move |conn| members::list(conn, &filter, after, limit + 1).map_err(DbError::from)).await?;
    Ok(page_response(&req, CURSOR_KIND, page, limit, |m| m.id.to_string(), Member::to_json))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::extract::encode_cursor;

    #[test]
    fn cursors_round_trip_and_reject_forgeries() {
        let id = Uuid::now_v7();
        let (_, _, after) =
            parse_list_query(&format!("cursor={}", encode_cursor(CURSOR_KIND, &id.to_string()))).unwrap();
        assert_eq!(after, Some(id));
        assert!(parse_list_query("cursor=not-a-cursor").is_err());
        assert!(parse_list_query(&format!("cursor={}", encode_cursor("u1", &id.to_string()))).is_err());
    }

    #[test]
    fn list_query_collects_every_problem() {
        let Err(ApiError::Validation { errors, .. }) = parse_list_query("limit=0&sector=food&bogus=1&q=a&q=b") else {
            panic!("expected a validation error");
        };
        let mut pointers: Vec<_> = errors.iter().map(|e| e.pointer.as_str()).collect();
        pointers.sort_unstable();
        assert_eq!(pointers, ["?bogus", "?q"], "unknown and repeated parameters are refused first");
        let Err(ApiError::Validation { errors, .. }) = parse_list_query("limit=0&sector=food") else {
            panic!("expected a validation error");
        };
        let pointers: Vec<_> = errors.iter().map(|e| e.pointer.as_str()).collect();
        assert_eq!(pointers, ["?limit", "?sector"]);
        let (filter, limit, _) = parse_list_query("limit=5&country=lu&skill=3D").unwrap();
        assert_eq!(limit, 5);
        assert_eq!(filter.country.as_deref(), Some("LU"));
    }
}
