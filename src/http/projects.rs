//! `/v1/projects`: collaborative projects and funding calls.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use uuid::Uuid;

use super::AppState;
use super::error::ApiError;
use super::extract::{
    JsonBody, actor, bool_param, enum_param, id_cursor, if_match, media_type, offset_page, offset_query, page_response,
    paged, parsed, read_body, search_param, uuid_param,
};
use crate::app::projects::{self as use_case, Seen, location, reads_projects};
use crate::auth::Caller;
use crate::db::projects::ProjectFilter;
use crate::domain::member::{Scope, Sector};
use crate::domain::project::{Project, ProjectDraft, ProjectStatus};

/// The kind of the list's cursors (the console pages through the same list).
pub const CURSOR_KIND: &str = "p1";

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

const LIST_PARAMS: &[&str] = &["scope", "sector", "status", "q", "lead", "left_out", "limit", "cursor"];

/// The list's filters, and where the page starts, from the query (the console's search reads the same).
pub fn parse_list_query(query: &str) -> Result<(ProjectFilter, Option<Uuid>, i64), ApiError> {
    let mut errors = Vec::new();
    let (params, limit) = paged(query, LIST_PARAMS, &mut errors)?;
    let filter = ProjectFilter {
        scope: enum_param::<Scope>(&params, "scope", &mut errors),
        sector: enum_param::<Sector>(&params, "sector", &mut errors),
        status: enum_param::<ProjectStatus>(&params, "status", &mut errors),
        q: search_param(&params, "q", &mut errors),
        lead: uuid_param(&params, "lead", &mut errors),
        left_out: bool_param(&params, "left_out", &mut errors),
    };
    let after = id_cursor(CURSOR_KIND, &params, &mut errors);
    parsed((filter, after, limit), errors)
}

/// `GET /v1/projects`
pub async fn list(state: web::Data<AppState>, req: HttpRequest, caller: Caller) -> Result<HttpResponse, ApiError> {
    let (filter, after, limit) = parse_list_query(req.query_string())?;
    let page = use_case::list(&state, &caller, filter, after, limit).await?;
    let now = state.clock.now();
    let position = |s: &Seen| s.project.id.to_string();
    Ok(page_response(&req, CURSOR_KIND, page, limit, position, |s| s.project.to_json(now, s.shows_lead)))
}

/// `POST /v1/projects/{id}/let-in` (staff): a call the import left out becomes the cluster's.
pub async fn let_in(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let project = use_case::let_in(&state, &actor(&req, &state, &caller), project_id(&path)?).await?;
    Ok(HttpResponse::Ok().insert_header((header::ETAG, project.etag())).json(project.to_json(state.clock.now(), true)))
}

/// `POST /v1/projects/{id}/follow-import` (staff): an imported call's staff edits are no longer kept; the next
/// import or sync gives those fields the portal's values.
pub async fn follow_import(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let project = use_case::follow_import(&state, &actor(&req, &state, &caller), project_id(&path)?).await?;
    Ok(HttpResponse::Ok().insert_header((header::ETAG, project.etag())).json(project.to_json(state.clock.now(), true)))
}

/// The import endpoint takes a whole export.
pub const IMPORT_LIMIT: usize = 32 * 1024 * 1024;

/// `POST /v1/projects/import` (staff): a Funding & Tenders CSV export, as `text/csv`.
pub async fn import(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    if media_type(&req).as_deref() != Some("text/csv") {
        return Err(ApiError::UnsupportedMediaType("send the export as text/csv".to_owned()));
    }
    let data = read_body(payload.into_inner(), IMPORT_LIMIT).await?;
    let (vocab, index) = (state.index.matcher.vocabulary(), Some(state.index.clone()));
    let by = use_case::ImportedBy { source: "upload", requested_by: caller.subject() };
    let summary = use_case::import_calls(&state, by, vocab, index, data.to_vec(), |_, _| {}).await?;
    Ok(HttpResponse::Ok().json(summary))
}

const IMPORTS_CURSOR: &str = "i1";

/// `GET /v1/imports` (staff): every import of calls, newest first, with what it did or why it failed.
pub async fn imports(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let mut errors = Vec::new();
    let (_, limit, offset) = offset_query(req.query_string(), &["limit", "cursor"], IMPORTS_CURSOR, &mut errors)?;
    parsed((), errors)?;
    let rows = use_case::imports(&state, offset, limit).await?;
    Ok(offset_page(&req, IMPORTS_CURSOR, rows, offset, limit, import_json))
}

/// `POST /v1/imports/sync` (staff): start a sync of calls from the portal; 202 with its log entry and where to
/// follow it (the running one's, when a sync is running already).
pub async fn sync(state: web::Data<AppState>, caller: Caller) -> Result<HttpResponse, ApiError> {
    let row = use_case::start_sync(&state, &caller).await?;
    Ok(HttpResponse::Accepted()
        .insert_header((header::LOCATION, format!("/v1/imports/{}", row.id)))
        .json(import_json(&row)))
}

/// `GET /v1/imports/{id}` (staff): one import, a running sync included.
pub async fn get_import(state: web::Data<AppState>, path: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let row = use_case::import(&state, path.into_inner()).await?;
    Ok(HttpResponse::Ok().json(import_json(&row)))
}

pub fn import_json(row: &crate::db::imports::ImportRow) -> serde_json::Value {
    use crate::domain::member::timestamp;
    let summary = row.summary.as_deref().and_then(|s| serde_json::from_str::<serde_json::Value>(s).ok());
    serde_json::json!({
        "id": row.id,
        "source": row.source,
        "requested_by": row.requested_by,
        "started_at": timestamp(row.started_at.and_utc()),
        "finished_at": row.finished_at.map(|f| timestamp(f.and_utc())),
        "outcome": row.outcome,
        "summary": summary,
        "error": row.error,
    })
}
