//! `/v1/projects`: collaborative projects and funding calls.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use uuid::Uuid;

use super::AppState;
use super::error::ApiError;
use super::extract::{JsonBody, decode_cursor, if_match, limit, page_response, query_params, read_body, search_param};
use crate::app::projects::{self as use_case, Seen, location, reads_projects};
use crate::auth::Caller;
use crate::db::projects::ProjectFilter;
use crate::domain::FieldError;
use crate::domain::member::{Scope, Sector};
use crate::domain::parse::ApiEnum as _;
use crate::domain::project::{Project, ProjectDraft, ProjectStatus};

const CURSOR_KIND: &str = "p1";

fn project_id(raw: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw).map_err(|_| ApiError::NotFound("no project has this id".to_owned()))
}

/// The answer to a write: the project, or for a write-only portal (`members:write` without `members:read`) only its
/// id (on create) or nothing (on change), with the new `ETag` either way.
fn written(caller: &Caller, status: StatusCode, p: &Project, now: chrono::DateTime<chrono::Utc>) -> HttpResponse {
    let mut response = HttpResponse::build(status);
    response.insert_header((header::ETAG, p.etag()));
    if status == StatusCode::CREATED {
        response.insert_header((header::LOCATION, location(p.id)));
    }
    match reads_projects(caller) {
        true => response.json(p.to_json(now, true)),
        false if status == StatusCode::CREATED => response.json(serde_json::json!({ "id": p.id })),
        false => response.status(StatusCode::NO_CONTENT).finish(),
    }
}

/// `POST /v1/projects`
pub async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody,
) -> Result<HttpResponse, ApiError> {
    let draft = ProjectDraft::parse(&body).map_err(ApiError::validation)?;
    let project = use_case::create(&state, &caller, draft).await?;
    Ok(written(&caller, StatusCode::CREATED, &project, state.clock.now()))
}

/// `GET /v1/projects/{id}`
pub async fn get(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let Seen { project, shows_lead } = use_case::get(&state, &caller, project_id(&path)?).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, project.etag()))
        .json(project.to_json(state.clock.now(), shows_lead)))
}

/// `PATCH /v1/projects/{id}`
pub async fn update(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    path: web::Path<String>,
    JsonBody(patch): JsonBody,
) -> Result<HttpResponse, ApiError> {
    let id = project_id(&path)?;
    let project = use_case::update(&state, &caller, id, if_match(&req)?, patch).await?;
    Ok(written(&caller, StatusCode::OK, &project, state.clock.now()))
}

/// `DELETE /v1/projects/{id}`
pub async fn delete(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    use_case::delete(&state, &caller, project_id(&path)?, if_match(&req)?).await?;
    Ok(HttpResponse::NoContent().finish())
}

const LIST_PARAMS: &[&str] = &["scope", "sector", "status", "q", "lead", "limit", "cursor"];

/// `GET /v1/projects`
pub async fn list(state: web::Data<AppState>, req: HttpRequest, caller: Caller) -> Result<HttpResponse, ApiError> {
    let params = query_params(req.query_string(), LIST_PARAMS)?;
    let mut errors = Vec::new();
    let limit = limit(&params).map_err(|e| errors.push(e)).unwrap_or_default();
    let mut filter = ProjectFilter::default();
    let mut enum_param = |name: &str, parse: &dyn Fn(&str) -> Option<()>, choices: String| {
        if let Some(v) = params.get(name)
            && parse(v).is_none()
        {
            errors.push(FieldError::new(format!("?{name}"), format!("must be one of {choices}")));
        }
    };
    enum_param("scope", &|v| Scope::from_name(v).map(|_| ()), Scope::choices());
    enum_param("sector", &|v| Sector::from_name(v).map(|_| ()), Sector::choices());
    enum_param("status", &|v| ProjectStatus::from_name(v).map(|_| ()), ProjectStatus::choices());
    filter.scope = params.get("scope").and_then(|v| Scope::from_name(v));
    filter.sector = params.get("sector").and_then(|v| Sector::from_name(v));
    filter.status = params.get("status").and_then(|v| ProjectStatus::from_name(v));
    filter.q = search_param(&params, "q", &mut errors);
    if let Some(lead) = params.get("lead") {
        match Uuid::parse_str(lead) {
            Ok(id) => filter.lead = Some(id),
            Err(_) => errors.push(FieldError::new("?lead", "must be a member id (UUID)")),
        }
    }
    let after = params.get("cursor").and_then(|c| {
        decode_cursor(CURSOR_KIND, c).and_then(|v| Uuid::parse_str(&v).ok()).or_else(|| {
            errors.push(FieldError::new("?cursor", "is not a cursor this service gave out"));
            None
        })
    });
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let page = use_case::list(&state, &caller, filter, after, limit).await?;
    let now = state.clock.now();
    Ok(page_response(
        &req,
        CURSOR_KIND,
        page,
        limit,
        |s| s.project.id.to_string(),
        |s| s.project.to_json(now, s.shows_lead),
    ))
}

/// The import endpoint takes a whole export.
pub const IMPORT_LIMIT: usize = 32 * 1024 * 1024;

/// `POST /v1/projects/import` (staff): a Funding & Tenders CSV export, as `text/csv`.
pub async fn import(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let media = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or_default().trim().to_ascii_lowercase());
    if media.as_deref() != Some("text/csv") {
        return Err(ApiError::UnsupportedMediaType("send the export as text/csv".to_owned()));
    }
    let data = read_body(payload.into_inner(), IMPORT_LIMIT).await?;
    let summary = use_case::import_calls(&state, data.to_vec(), state.clock.now()).await?;
    Ok(HttpResponse::Ok().json(summary))
}
