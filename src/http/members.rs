//! `/v1/members`: member profiles.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::Value;
use uuid::Uuid;

use super::AppState;
use super::error::ApiError;
use super::extract::{
    JsonBody, Params, bounded_text, enum_param, id_cursor, idempotency_key, if_match, page_response, paged, parsed,
    search_param, verdict,
};
use crate::app::members::{self as use_case, Created, Idempotency, location, reads_members};
use crate::auth::Caller;
use crate::auth::policy::may_set_member_status;
use crate::db::idempotency::StoredResponse;
use crate::db::members::{MemberFilter, Visibility};
use crate::domain::FieldError;
use crate::domain::member::{Member, MemberDraft, Scope, Sector};

fn not_found() -> ApiError {
    ApiError::NotFound("no member has this id".to_owned())
}

fn member_id(raw: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw).map_err(|_| not_found())
}

/// `status` is set by agency staff only.
fn refuse_staff_fields(caller: &Caller, body: &Value) -> Result<(), ApiError> {
    if body.get("status").is_some() {
        verdict(may_set_member_status(caller))?;
    }
    Ok(())
}

/// A member as the caller may see it: the profile, or for a write-only portal its id only (on create) or nothing.
fn answer(caller: &Caller, status: StatusCode, member: &Member) -> HttpResponse {
    let mut response = HttpResponse::build(status);
    response.insert_header((header::ETAG, member.etag()));
    if status == StatusCode::CREATED {
        response.insert_header((header::LOCATION, location(member.id)));
    }
    match reads_members(caller) {
        true => response.json(member.to_json()),
        false if status == StatusCode::CREATED => response.json(serde_json::json!({ "id": member.id })),
        false => response.status(StatusCode::NO_CONTENT).finish(),
    }
}

/// The first answer to a create, as stored under its `Idempotency-Key` (only the id for a write-only portal).
fn replay(caller: &Caller, stored: StoredResponse, id: Option<Uuid>) -> HttpResponse {
    let status = StatusCode::from_u16(u16::try_from(stored.status).unwrap_or(500)).unwrap_or(StatusCode::CREATED);
    let mut response = HttpResponse::build(status);
    response.insert_header((header::CONTENT_TYPE, "application/json")).insert_header(("Idempotent-Replayed", "true"));
    if let Some(l) = stored.location {
        response.insert_header((header::LOCATION, l));
    }
    if let Some(e) = stored.etag {
        response.insert_header((header::ETAG, e));
    }
    match (id, reads_members(caller)) {
        (Some(id), false) => response.json(serde_json::json!({ "id": id })),
        _ => response.body(stored.body),
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
    let draft = MemberDraft::parse(&body).map_err(ApiError::validation)?;
    let idempotency = key.map(|k| Idempotency::new(k, &body));
    let created = use_case::create(&state, &caller, draft, idempotency).await?;
    let id = created.member_id();
    Ok(match created {
        Created::New(member) => {
            tracing::info!(member_id = %member.id, "member created");
            answer(&caller, StatusCode::CREATED, &member)
        }
        Created::Replay(stored) => replay(&caller, *stored, id),
    })
}

/// `GET /v1/members/{id}`
pub async fn get(state: web::Data<AppState>, path: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let member = use_case::get(&state, member_id(&path)?).await?;
    Ok(HttpResponse::Ok().insert_header((header::ETAG, member.etag())).json(member.to_json()))
}

/// `GET /v1/members/{id}/export`: everything held about the member, as one document.
pub async fn export(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let document = crate::app::privacy::export(&state, &caller, member_id(&path)?).await?;
    let name = format!("attachment; filename=\"member-{}.json\"", path.as_str());
    Ok(HttpResponse::Ok().insert_header((header::CONTENT_DISPOSITION, name)).json(document))
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
    let member = use_case::update(&state, id, if_match(&req)?, patch).await?;
    Ok(answer(&caller, StatusCode::OK, &member))
}

/// `DELETE /v1/members/{id}`
pub async fn delete(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    use_case::delete(&state, member_id(&path)?, if_match(&req)?).await?;
    Ok(HttpResponse::NoContent().finish())
}

const LIST_PARAMS: &[&str] = &["sector", "country", "scope", "q", "skill", "limit", "cursor"];
/// The kind of the list's cursors (the console pages through the same list).
pub const CURSOR_KIND: &str = "m1";

/// A `country` parameter: an assigned ISO 3166-1 alpha-2 code, any case.
fn country_param(params: &Params, errors: &mut Vec<FieldError>) -> Option<String> {
    let code = params.get("country")?.to_ascii_uppercase();
    if code.len() == 2 && crate::domain::codes::is_country(&code) {
        Some(code)
    } else {
        errors.push(FieldError::new("?country", "must be an ISO 3166-1 alpha-2 country code"));
        None
    }
}

/// The list's filters, from the query (the console's search reads the same).
pub fn parse_list_query(query: &str) -> Result<(MemberFilter, i64, Option<Uuid>), ApiError> {
    let mut errors = Vec::new();
    let (params, limit) = paged(query, LIST_PARAMS, &mut errors)?;
    let filter = MemberFilter {
        visible: Visibility::default(),
        sector: enum_param::<Sector>(&params, "sector", &mut errors),
        country: country_param(&params, &mut errors),
        scope: enum_param::<Scope>(&params, "scope", &mut errors),
        q: search_param(&params, "q", &mut errors),
        skill: bounded_text(&params, "skill", crate::domain::term::TERM_MAX, &mut errors),
        skill_concepts: Vec::new(),
    };
    let after = id_cursor(CURSOR_KIND, &params, &mut errors);
    parsed((filter, limit, after), errors)
}

/// `GET /v1/members`: what the caller may see (staff: all; a member: its own; a portal: its linked members).
pub async fn list(state: web::Data<AppState>, req: HttpRequest, caller: Caller) -> Result<HttpResponse, ApiError> {
    let (filter, limit, after) = parse_list_query(req.query_string())?;
    let page = use_case::list(&state, &caller, filter, after, limit).await?;
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
