//! `/v1/projects`: collaborative projects and funding calls.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use uuid::Uuid;

use super::extract::{JsonBody, decode_cursor, if_match, limit, page_response, query_params, search_param};
use crate::auth::{Caller, ClientScope};
use crate::db::changes::{self, Entity};
use crate::db::members::WriteError;
use crate::db::projects::{self, ProjectFilter};
use crate::db::{self, DbConnection, accounts};
use crate::domain::FieldError;
use crate::domain::member::{Scope, Sector};
use crate::domain::parse::ApiEnum as _;
use crate::domain::project::{Project, ProjectDraft, ProjectStatus};
use crate::error::ApiError;
use crate::matching::Vocabulary;
use crate::matching::resolve::resolve_list;
use crate::startup::AppState;

const CURSOR_KIND: &str = "p1";

fn not_found() -> ApiError {
    ApiError::NotFound("no project has this id".to_owned())
}

fn project_id(raw: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw).map_err(|_| not_found())
}

/// Map required skills and themes to the vocabulary.
pub fn resolve_project(vocab: &Vocabulary, draft: &mut ProjectDraft) -> Result<(), Vec<FieldError>> {
    let mut errors = Vec::new();
    resolve_list(vocab, "required_skills", &mut draft.required_skills, &mut errors);
    resolve_list(vocab, "themes", &mut draft.themes, &mut errors);
    if errors.is_empty() { Ok(()) } else { Err(errors) }
}

/// Who may lead: staff name any existing member (or none); a member leads its own projects; a portal leads for a
/// member linked to it.
fn check_lead(conn: &mut DbConnection, caller: &Caller, draft: &mut ProjectDraft) -> Result<(), WriteError> {
    match caller {
        _ if caller.is_staff() => {}
        Caller::Person { .. } => match (caller.own_member(), draft.lead_member_id) {
            (Some(own), None) => draft.lead_member_id = Some(own),
            (Some(own), Some(lead)) if lead == own => {}
            (Some(_), Some(_)) => {
                return Err(WriteError::Forbidden("a member can only lead its own projects".to_owned()));
            }
            (None, _) => {
                return Err(WriteError::Forbidden("this account is not tied to a member organisation".to_owned()));
            }
        },
        Caller::Portal { client_id, .. } => match draft.lead_member_id {
            Some(lead) if accounts::is_linked(conn, client_id, lead)? => {}
            Some(_) => return Err(WriteError::Forbidden("the lead must be a member linked to this portal".to_owned())),
            None => {
                return Err(WriteError::Invalid(vec![FieldError::new(
                    "/lead_member_id",
                    "is required: a portal posts projects that one of its members leads",
                )]));
            }
        },
    }
    if let Some(lead) = draft.lead_member_id
        && crate::db::members::find(conn, lead)?.is_none()
    {
        return Err(WriteError::Invalid(vec![FieldError::new("/lead_member_id", "no member has this id")]));
    }
    Ok(())
}

/// Non-staff may change only the projects they lead.
fn check_owner(conn: &mut DbConnection, caller: &Caller, project: &Project) -> Result<(), WriteError> {
    let lead = project.draft.lead_member_id;
    let ok = match caller {
        _ if caller.is_staff() => true,
        Caller::Person { .. } => lead.is_some() && lead == caller.own_member(),
        Caller::Portal { client_id, .. } => match lead {
            Some(l) => accounts::is_linked(conn, client_id, l)?,
            None => false,
        },
    };
    if ok { Ok(()) } else { Err(WriteError::Forbidden("only staff and the project's lead may change it".to_owned())) }
}

fn response(
    status: actix_web::http::StatusCode,
    p: &Project,
    now: chrono::DateTime<chrono::Utc>,
    show_lead: bool,
) -> HttpResponse {
    HttpResponse::build(status).insert_header((header::ETAG, p.etag())).json(p.to_json(now, show_lead))
}

/// The answer to a write: the project, or for a write-only portal (`members:write` without `members:read`) only its
/// id (on create) or nothing (on change), with the new `ETag` either way.
fn written(
    caller: &Caller,
    status: actix_web::http::StatusCode,
    p: &Project,
    now: chrono::DateTime<chrono::Utc>,
) -> HttpResponse {
    match caller.has_scope(READ) {
        true => response(status, p, now, true),
        false if status == actix_web::http::StatusCode::CREATED => {
            HttpResponse::build(status).insert_header((header::ETAG, p.etag())).json(serde_json::json!({ "id": p.id }))
        }
        false => HttpResponse::NoContent().insert_header((header::ETAG, p.etag())).finish(),
    }
}

/// The members whose lead role this caller may see: `None` for all (staff).
fn visible_leads(conn: &mut DbConnection, caller: &Caller) -> Result<Option<Vec<Uuid>>, crate::db::DbError> {
    Ok(match caller {
        _ if caller.is_staff() => None,
        Caller::Person { .. } => Some(caller.own_member().into_iter().collect()),
        Caller::Portal { client_id, .. } => Some(accounts::client_member_ids(conn, client_id)?),
    })
}

fn shows(visible: Option<&Vec<Uuid>>, p: &Project) -> bool {
    match (visible, p.draft.lead_member_id) {
        (None, _) => true,
        (Some(_), None) => false,
        (Some(v), Some(lead)) => v.contains(&lead),
    }
}

/// `POST /v1/projects`
pub async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody,
) -> Result<HttpResponse, ApiError> {
    let mut draft = ProjectDraft::parse(&body).map_err(ApiError::validation)?;
    resolve_project(&state.sync.matcher.vocabulary(), &mut draft).map_err(ApiError::validation)?;
    let now = state.clock.now();
    let sync = state.sync.clone();
    let who = caller.clone();
    let project = db::run(&state.pool, move |conn| {
        let p = db::write(conn, |conn| {
            check_lead(conn, &who, &mut draft)?;
            let p = projects::insert(conn, draft, None, now)?;
            changes::record(conn, Entity::Project, &p.id.to_string(), now)?;
            Ok::<_, WriteError>(p)
        })?;
        sync.refresh_project(conn, p.id)?;
        Ok::<_, WriteError>(p)
    })
    .await?;
    let mut r = written(&caller, actix_web::http::StatusCode::CREATED, &project, now);
    if let Ok(v) = header::HeaderValue::from_str(&format!("/v1/projects/{}", project.id)) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    Ok(r)
}

/// `GET /v1/projects/{id}`
pub async fn get(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = project_id(&path)?;
    let (p, visible) = db::run(&state.pool, move |conn| {
        Ok::<_, crate::db::DbError>((projects::find(conn, id)?, visible_leads(conn, &caller)?))
    })
    .await?;
    let p = p.ok_or_else(not_found)?;
    let show = shows(visible.as_ref(), &p);
    Ok(response(actix_web::http::StatusCode::OK, &p, state.clock.now(), show))
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
    let precondition = if_match(&req)?;
    let now = state.clock.now();
    let vocab = state.sync.matcher.vocabulary();
    let sync = state.sync.clone();
    let who = caller.clone();
    let p = db::run(&state.pool, move |conn| {
        let p = db::write(conn, |conn| {
            let lead_before = projects::find(conn, id)?.ok_or(WriteError::NotFound)?;
            check_owner(conn, &who, &lead_before)?;
            let p = projects::patch(conn, id, &precondition, &patch, now, |conn, _, draft| {
                resolve_project(&vocab, draft).map_err(WriteError::Invalid)?;
                check_lead(conn, &who, draft)
            })?;
            changes::record(conn, Entity::Project, &id.to_string(), now)?;
            Ok::<_, WriteError>(p)
        })?;
        sync.refresh_project(conn, id)?;
        Ok::<_, WriteError>(p)
    })
    .await?;
    Ok(written(&caller, actix_web::http::StatusCode::OK, &p, now))
}

/// `DELETE /v1/projects/{id}`
pub async fn delete(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = project_id(&path)?;
    let precondition = if_match(&req)?;
    let now = state.clock.now();
    let sync = state.sync.clone();
    db::run(&state.pool, move |conn| {
        db::write(conn, |conn| {
            let current = projects::find(conn, id)?.ok_or(WriteError::NotFound)?;
            check_owner(conn, &caller, &current)?;
            projects::delete(conn, id, &precondition, |_| Ok(()))?;
            changes::record(conn, Entity::Project, &id.to_string(), now)?;
            Ok::<_, WriteError>(())
        })?;
        Ok::<_, WriteError>(sync.refresh_project(conn, id)?)
    })
    .await?;
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
    let now = state.clock.now();
    let (page, visible) = db::run(&state.pool, move |conn| {
        let visible = visible_leads(conn, &caller)?;
        if let (Some(lead), Some(v)) = (filter.lead, &visible)
            && !v.contains(&lead)
        {
            return Err(ApiError::Forbidden("you may filter by a lead you represent only".to_owned()));
        }
        Ok::<_, ApiError>((projects::list(conn, &filter, now, after, limit + 1)?, visible))
    })
    .await?;
    Ok(page_response(
        &req,
        CURSOR_KIND,
        page,
        limit,
        |p| p.id.to_string(),
        |p| p.to_json(now, shows(visible.as_ref(), p)),
    ))
}

/// Projects need `members:read` to read and `members:write` to write, for portals.
pub const READ: ClientScope = ClientScope::MembersRead;
pub const WRITE: ClientScope = ClientScope::MembersWrite;

/// The import endpoint takes a whole export.
pub const IMPORT_LIMIT: usize = 32 * 1024 * 1024;

fn import_error(e: crate::import::ImportError) -> ApiError {
    match e {
        crate::import::ImportError::Format(why) => ApiError::validation(vec![FieldError::new("", why)]),
        crate::import::ImportError::Write(w) => w.into(),
    }
}

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
    let data = super::extract::read_body(payload.into_inner(), IMPORT_LIMIT).await?;
    let now = state.clock.now();
    let vocab = state.sync.matcher.vocabulary();
    // Read and check every row first, on the blocking pool and without a connection; then store them in one go.
    let prepared = web::block(move || crate::import::prepare(&data, &vocab, now, |_, _| {}))
        .await
        .map_err(|e| ApiError::Unexpected(anyhow::anyhow!("{e}")))?
        .map_err(import_error)?;
    let sync = state.sync.clone();
    let summary = db::run(&state.pool, move |conn| {
        let (summary, changed) = crate::import::store(conn, prepared, now)?;
        for id in changed {
            sync.refresh_project(conn, id).map_err(|e| crate::import::ImportError::Write(e.into()))?;
        }
        Ok(summary)
    })
    .await
    .map_err(import_error)?;
    tracing::info!(
        created = summary.created,
        updated = summary.updated,
        unchanged = summary.unchanged,
        "calls imported"
    );
    Ok(HttpResponse::Ok().json(summary))
}
