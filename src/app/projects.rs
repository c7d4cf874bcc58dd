//! Projects and calls: create, change, delete, read, and the import of the Funding & Tenders export.

use std::sync::Arc;

use uuid::Uuid;

use super::{Actor, AppError, Services, Store, allowed, change};
use crate::auth::policy;
use crate::auth::{Caller, ClientScope};
use crate::db::changes::Entity;
use crate::db::imports::{self, ImportRow};
use crate::db::projects::{self, ProjectFilter};
use crate::db::{self, DbConnection, accounts, members};
use crate::domain::FieldError;
use crate::domain::project::{Project, ProjectDraft};
use crate::domain::version::Precondition;
use crate::import::{self, ImportError, Summary};
use crate::indexer::IndexSync;
use crate::matching::Vocabulary;
use crate::matching::resolve::resolve_list;

fn not_found() -> AppError {
    AppError::NotFound("no project has this id".to_owned())
}

pub fn location(id: Uuid) -> String {
    format!("/v1/projects/{id}")
}

/// Map required skills and themes to the vocabulary.
pub fn resolve_project(vocab: &Vocabulary, draft: &mut ProjectDraft) -> Result<(), AppError> {
    let mut errors = Vec::new();
    resolve_list(vocab, "required_skills", &mut draft.required_skills, &mut errors);
    resolve_list(vocab, "themes", &mut draft.themes, &mut errors);
    if errors.is_empty() { Ok(()) } else { Err(AppError::Invalid(errors)) }
}

/// Whether a calling portal is linked to `member`.
fn portal_linked(conn: &mut DbConnection, caller: &Caller, member: Option<Uuid>) -> Result<bool, AppError> {
    match (caller, member) {
        (Caller::Portal { client_id, .. }, Some(m)) => Ok(accounts::is_linked(conn, client_id, m)?),
        _ => Ok(false),
    }
}

/// The lead a draft names, checked by the rule book: a member account leads its own projects (named for it when the
/// draft names none), a portal one of its linked members, staff any existing member.
fn check_lead(conn: &mut DbConnection, caller: &Caller, draft: &mut ProjectDraft) -> Result<(), AppError> {
    if draft.lead_member_id.is_none() {
        draft.lead_member_id = caller.own_member();
    }
    if matches!(caller, Caller::Portal { .. }) && draft.lead_member_id.is_none() {
        return Err(AppError::invalid(
            "/lead_member_id",
            "is required: a portal posts projects that one of its members leads",
        ));
    }
    let linked = portal_linked(conn, caller, draft.lead_member_id)?;
    allowed(policy::may_lead(caller, draft.lead_member_id, linked))?;
    if let Some(lead) = draft.lead_member_id
        && members::find(conn, lead)?.is_none()
    {
        return Err(AppError::invalid("/lead_member_id", "no member has this id"));
    }
    Ok(())
}

/// The project as it is, if the caller may change it and the precondition holds.
fn current(
    conn: &mut DbConnection,
    caller: &Caller,
    id: Uuid,
    precondition: &Precondition,
) -> Result<Project, AppError> {
    let project = projects::find(conn, id)?.ok_or_else(not_found)?;
    let lead = project.draft.lead_member_id;
    allowed(policy::may_change_project(caller, lead, portal_linked(conn, caller, lead)?))?;
    if precondition.holds(&project.etag()) { Ok(project) } else { Err(AppError::Stale) }
}

pub async fn create(svc: &Services, caller: &Caller, mut draft: ProjectDraft) -> Result<Project, AppError> {
    resolve_project(&svc.index.matcher.vocabulary(), &mut draft)?;
    let now = svc.clock.now();
    let caller = caller.clone();
    change(svc, Entity::Project, move |conn| {
        check_lead(conn, &caller, &mut draft)?;
        let p = projects::insert(conn, draft, None, None, now)?;
        let id = p.id;
        Ok((p, Some(id)))
    })
    .await
}

/// Apply a JSON Merge Patch to a project the caller may change, if the precondition holds.
pub async fn update(
    svc: &Services,
    caller: &Caller,
    id: Uuid,
    precondition: Precondition,
    patch: serde_json::Value,
) -> Result<Project, AppError> {
    let vocab = svc.index.matcher.vocabulary();
    let now = svc.clock.now();
    let caller = caller.clone();
    change(svc, Entity::Project, move |conn| {
        let project = current(conn, &caller, id, &precondition)?;
        let mut draft = project.draft.patched(&patch).map_err(AppError::Invalid)?;
        resolve_project(&vocab, &mut draft)?;
        check_lead(conn, &caller, &mut draft)?;
        if draft == project.draft {
            return Ok((project, None));
        }
        // An imported call remembers what staff changed, so that the next import keeps it.
        let mut project = project;
        if project.reference.is_some() {
            for field in draft.changed_fields(&project.draft) {
                if !project.edited.iter().any(|f| f == field) {
                    project.edited.push(field.to_owned());
                }
            }
        }
        Ok((projects::replace(conn, &project, draft, now)?, Some(id)))
    })
    .await
}

pub async fn delete(svc: &Services, caller: &Caller, id: Uuid, precondition: Precondition) -> Result<(), AppError> {
    let caller = caller.clone();
    change(svc, Entity::Project, move |conn| {
        let project = current(conn, &caller, id, &precondition)?;
        projects::delete(conn, &project)?;
        Ok(((), Some(id)))
    })
    .await
}

/// Let an imported call follow its imports again (staff): the fields staff changed are no longer kept, so the next
/// import or sync gives them the portal's values. Refused for a project that was not imported. Recorded in the audit
/// trail (`project.follow_import`, with the fields released).
pub async fn follow_import(svc: &Services, actor: &Actor, id: Uuid) -> Result<Project, AppError> {
    let now = svc.clock.now();
    let (project, released) = change(svc, Entity::Project, move |conn| {
        let project = projects::find(conn, id)?.ok_or_else(not_found)?;
        if project.reference.is_none() {
            return Err(AppError::Conflict(
                "this project was not imported: it has no import to follow (edit it with PATCH)".to_owned(),
            ));
        }
        if project.edited.is_empty() {
            return Ok(((project, Vec::new()), None));
        }
        let released = project.edited.clone();
        Ok(((projects::set_edited(conn, &project, Vec::new(), now)?, released), Some(id)))
    })
    .await?;
    let event = actor.event("project.follow_import").target(id.to_string());
    super::audit::record(svc, event.details(serde_json::json!({"fields": released}))).await;
    Ok(project)
}

/// Let a call in (staff): no longer left out, matched like any other, and never left out by a later import.
/// Recorded in the audit trail (`project.let_in`).
pub async fn let_in(svc: &Services, actor: &Actor, id: Uuid) -> Result<Project, AppError> {
    let now = svc.clock.now();
    let project = change(svc, Entity::Project, move |conn| {
        let project = projects::find(conn, id)?.ok_or_else(not_found)?;
        if project.let_in && project.left_out.is_none() {
            return Ok((project, None));
        }
        Ok((projects::set_left_out(conn, &project, None, true, now)?, Some(id)))
    })
    .await?;
    super::audit::record(svc, actor.event("project.let_in").target(id.to_string())).await;
    Ok(project)
}

/// The members whose lead role this caller may see: `None` for all (staff).
fn visible_leads(conn: &mut DbConnection, caller: &Caller) -> Result<Option<Vec<Uuid>>, AppError> {
    Ok(match caller {
        _ if caller.is_staff() => None,
        Caller::Person { .. } => Some(caller.own_member().into_iter().collect()),
        Caller::Portal { client_id, .. } => Some(accounts::client_member_ids(conn, client_id)?),
    })
}

/// Projects as a caller sees them: each with whether its lead may be shown to this caller (staff, the lead, the
/// lead's portals).
#[derive(Debug)]
pub struct Seen {
    pub project: Project,
    pub shows_lead: bool,
}

fn seen(visible: Option<&Vec<Uuid>>, project: Project) -> Seen {
    let shows_lead = match (visible, project.draft.lead_member_id) {
        (None, _) => true,
        (Some(_), None) => false,
        (Some(v), Some(lead)) => v.contains(&lead),
    };
    Seen { project, shows_lead }
}

pub async fn get(svc: &Services, caller: &Caller, id: Uuid) -> Result<Seen, AppError> {
    let caller = caller.clone();
    db::run(&svc.pool, move |conn| {
        let project = projects::find(conn, id)?.ok_or_else(not_found)?;
        Ok(seen(visible_leads(conn, &caller)?.as_ref(), project))
    })
    .await
}

/// A page of projects (one more than `limit`). Filtering by a lead the caller does not represent is refused.
pub async fn list(
    svc: &Services,
    caller: &Caller,
    filter: ProjectFilter,
    after: Option<Uuid>,
    limit: i64,
) -> Result<Vec<Seen>, AppError> {
    let now = svc.clock.now();
    let caller = caller.clone();
    db::run(&svc.pool, move |conn| {
        if filter.left_out && !caller.is_staff() {
            return Err(AppError::Forbidden("only agency staff list the calls left out".to_owned()));
        }
        let visible = visible_leads(conn, &caller)?;
        if let (Some(lead), Some(v)) = (filter.lead, &visible)
            && !v.contains(&lead)
        {
            return Err(AppError::Forbidden("you may filter by a lead you represent only".to_owned()));
        }
        let page = projects::list(conn, &filter, now, after, limit + 1)?;
        Ok(page.into_iter().map(|p| seen(visible.as_ref(), p)).collect())
    })
    .await
}

/// Whether a caller may read projects: a write-only portal gets the id and version of what it wrote back.
pub fn reads_projects(caller: &Caller) -> bool {
    caller.has_scope(ClientScope::MembersRead)
}

fn import_error(e: ImportError) -> AppError {
    match e {
        ImportError::Format(why) => AppError::Invalid(vec![FieldError::new("", why)]),
        ImportError::Write(w) => w.into(),
    }
}

/// Where an import's calls come from, for the log: `upload` (the API) or `file` (the command line), and who asked.
#[derive(Debug, Clone)]
pub struct ImportedBy {
    pub source: &'static str,
    pub requested_by: String,
}

/// Import a Funding & Tenders export: every row read and checked first, on the blocking pool and without a
/// connection; then the accepted rows stored in one transaction with the import's entry in the log, and `index`
/// (this instance's, when serving) refreshed. An import that fails is logged with why. `progress` is told after each
/// row read.
pub async fn import_calls(
    store: &Store,
    by: ImportedBy,
    vocab: Arc<Vocabulary>,
    index: Option<Arc<IndexSync>>,
    data: Vec<u8>,
    progress: impl FnMut(usize, usize) + Send + 'static,
) -> Result<Summary, AppError> {
    let started = store.clock.now();
    let result = import_logged(store, &by, started, vocab, index, data, progress).await;
    if let Err(e) = &result {
        let error = match e {
            AppError::Invalid(errors) => errors.iter().map(|f| f.detail.as_str()).collect::<Vec<_>>().join("; "),
            other => other.to_string(),
        };
        let finished = store.clock.now();
        let entry = ImportRow::new(by.source, &by.requested_by, (started, finished), Err(error));
        let logged = db::run(&store.pool, move |conn| {
            db::write(conn, |conn| imports::insert(conn, &entry)).map_err(db::DbError::from)
        })
        .await;
        if let Err(log_error) = logged {
            tracing::error!(error = %log_error, "a failed import could not be logged");
        }
    }
    result
}

async fn import_logged(
    store: &Store,
    by: &ImportedBy,
    started: chrono::DateTime<chrono::Utc>,
    vocab: Arc<Vocabulary>,
    index: Option<Arc<IndexSync>>,
    data: Vec<u8>,
    progress: impl FnMut(usize, usize) + Send + 'static,
) -> Result<Summary, AppError> {
    let filter = store.calls.clone();
    let prepared = actix_web::web::block(move || import::prepare(&data, &vocab, &filter, started, progress))
        .await
        .map_err(|e| AppError::Unexpected(anyhow::anyhow!("{e}")))?
        .map_err(import_error)?;
    let (now, by) = (store.clock.now(), by.clone());
    let summary = db::run(&store.pool, move |conn| {
        let origin = import::Origin { source: by.source, requested_by: &by.requested_by, started };
        let (summary, changed) = import::store(conn, prepared, origin, now).map_err(import_error)?;
        if let Some(index) = &index {
            for id in changed {
                index.refresh(conn, Entity::Project, id)?;
            }
        }
        Ok::<_, AppError>(summary)
    })
    .await?;
    tracing::info!(
        created = summary.created,
        updated = summary.updated,
        unchanged = summary.unchanged,
        left_out = summary.left_out,
        "calls imported"
    );
    Ok(summary)
}

/// Start a sync of calls from the Funding & Tenders portal (staff), in the background: its entry in the imports
/// log, or that of the sync already running, on this or another instance.
pub async fn start_sync(svc: &Services, caller: &Caller) -> Result<ImportRow, AppError> {
    Ok(svc.jobs.start_sync(caller.subject()).await?)
}

/// One import as logged.
pub async fn import(store: &Store, id: String) -> Result<ImportRow, AppError> {
    db::run(&store.pool, move |conn| imports::find(conn, &id).map_err(AppError::from))
        .await?
        .ok_or_else(|| AppError::NotFound("no import has this id".to_owned()))
}

/// The log of imports, newest first (one more than `limit`).
pub async fn imports(store: &Store, offset: i64, limit: i64) -> Result<Vec<ImportRow>, AppError> {
    db::run(&store.pool, move |conn| imports::list(conn, offset, limit).map_err(AppError::from)).await
}
