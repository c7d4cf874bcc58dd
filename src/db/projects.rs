//! Project queries. Required skills and themes live in `project_terms`, sectors in `project_sectors`.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use super::DbConnection;
use super::WriteError;
use super::members::stored_term;
use super::schema::{project_sectors, project_terms, projects};
use crate::domain::fold::contains_pattern;
use crate::domain::member::{Scope, Sector, Size};
use crate::domain::parse::ApiEnum;
use crate::domain::project::{Project, ProjectDraft, ProjectStatus};
use crate::domain::term::TermItem;

#[derive(Debug, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = projects)]
#[diesel(treat_none_as_null = true)]
struct ProjectRow {
    id: String,
    title: String,
    description: String,
    scope: String,
    programme: Option<String>,
    call_id: Option<String>,
    reference: Option<String>,
    deadline: Option<NaiveDateTime>,
    budget_min: Option<i64>,
    budget_max: Option<i64>,
    source_url: Option<String>,
    eligible_countries: String,
    min_partners: i32,
    max_partners: Option<i32>,
    min_countries: i32,
    lead_member_id: Option<String>,
    closed: bool,
    search_folded: String,
    version: i64,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    left_out: Option<String>,
    let_in: bool,
    opens_at: Option<NaiveDateTime>,
    edited_fields: String,
    eligible_sizes: String,
}

#[derive(Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = project_terms)]
struct TermRow {
    project_id: String,
    kind: String,
    position: i32,
    term: String,
    folded: String,
    strength: Option<i32>,
    concept: Option<String>,
    match_kind: String,
    similarity: Option<f64>,
}

fn corrupt(what: &str) -> diesel::result::Error {
    diesel::result::Error::DeserializationError(format!("stored {what} is not valid").into())
}

fn i32_of(n: u32) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

/// The row of a project: its fields, and where it came from and whether it is left out (`p`'s own fields but the
/// draft, version and times).
fn to_row(p: &Project, d: &ProjectDraft, version: i64, updated: DateTime<Utc>) -> ProjectRow {
    ProjectRow {
        id: p.id.to_string(),
        title: d.title.clone(),
        description: d.description.clone(),
        scope: d.scope.as_str().to_owned(),
        programme: d.programme.clone(),
        call_id: d.call_id.clone(),
        reference: p.reference.clone(),
        deadline: d.deadline.map(|t| t.naive_utc()),
        budget_min: d.budget_min,
        budget_max: d.budget_max,
        source_url: d.source_url.clone(),
        eligible_countries: serde_json::Value::from(d.eligible_countries.clone()).to_string(),
        min_partners: i32_of(d.min_partners),
        max_partners: d.max_partners.map(i32_of),
        min_countries: i32_of(d.min_countries),
        lead_member_id: d.lead_member_id.map(|m| m.to_string()),
        closed: d.closed,
        search_folded: d.search_text(),
        version,
        created_at: p.created_at.naive_utc(),
        updated_at: updated.naive_utc(),
        left_out: p.left_out.clone(),
        let_in: p.let_in,
        opens_at: d.opens_at.map(|t| t.naive_utc()),
        edited_fields: p.edited.join(" "),
        eligible_sizes: d.eligible_sizes.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(" "),
    }
}

#[derive(Debug, Default)]
struct Children {
    sectors: Vec<Sector>,
    required: Vec<TermItem>,
    themes: Vec<TermItem>,
}

fn from_row(r: ProjectRow, c: Children) -> QueryResult<Project> {
    let mut sectors = c.sectors;
    sectors.sort();
    let u32_of = |n: i32| u32::try_from(n).unwrap_or(0);
    Ok(Project {
        id: Uuid::parse_str(&r.id).map_err(|_| corrupt("project id"))?,
        reference: r.reference,
        draft: ProjectDraft {
            title: r.title,
            description: r.description,
            scope: Scope::from_name(&r.scope).ok_or_else(|| corrupt("scope"))?,
            programme: r.programme,
            call_id: r.call_id,
            opens_at: r.opens_at.map(|t| t.and_utc()),
            deadline: r.deadline.map(|t| t.and_utc()),
            budget_min: r.budget_min,
            budget_max: r.budget_max,
            source_url: r.source_url,
            required_skills: c.required,
            themes: c.themes,
            sectors,
            eligible_countries: serde_json::from_str(&r.eligible_countries).map_err(|_| corrupt("countries"))?,
            eligible_sizes: r
                .eligible_sizes
                .split_whitespace()
                .map(|s| Size::from_name(s).ok_or_else(|| corrupt("sizes")))
                .collect::<QueryResult<_>>()?,
            min_partners: u32_of(r.min_partners),
            max_partners: r.max_partners.map(u32_of),
            min_countries: u32_of(r.min_countries),
            lead_member_id: r.lead_member_id.as_deref().and_then(|s| Uuid::parse_str(s).ok()),
            closed: r.closed,
        },
        version: r.version,
        created_at: r.created_at.and_utc(),
        updated_at: r.updated_at.and_utc(),
        left_out: r.left_out,
        let_in: r.let_in,
        edited: r.edited_fields.split_whitespace().map(str::to_owned).collect(),
    })
}

fn write_children(conn: &mut DbConnection, id: &str, d: &ProjectDraft) -> QueryResult<()> {
    for s in &d.sectors {
        diesel::insert_into(project_sectors::table)
            .values((project_sectors::project_id.eq(id), project_sectors::sector.eq(s.as_str())))
            .execute(conn)?;
    }
    for (kind, list) in [("skill", &d.required_skills), ("theme", &d.themes)] {
        for (i, t) in list.iter().enumerate() {
            let (term, folded, strength, concept, match_kind, similarity) = t.columns();
            let position = i32::try_from(i).unwrap_or(i32::MAX);
            let (project_id, kind) = (id.to_owned(), kind.to_owned());
            let row = TermRow { project_id, kind, position, term, folded, strength, concept, match_kind, similarity };
            diesel::insert_into(project_terms::table).values(&row).execute(conn)?;
        }
    }
    Ok(())
}

fn delete_children(conn: &mut DbConnection, id: &str) -> QueryResult<()> {
    diesel::delete(project_sectors::table.filter(project_sectors::project_id.eq(id))).execute(conn)?;
    diesel::delete(project_terms::table.filter(project_terms::project_id.eq(id))).execute(conn)?;
    Ok(())
}

fn assemble(conn: &mut DbConnection, rows: Vec<ProjectRow>) -> QueryResult<Vec<Project>> {
    let mut children: HashMap<String, Children> = HashMap::new();
    // Chunks keep the IN lists of a full load within every backend's parameter limits.
    for chunk in rows.chunks(500) {
        let ids: Vec<&str> = chunk.iter().map(|r| r.id.as_str()).collect();
        let sectors: Vec<(String, String)> = project_sectors::table
            .filter(project_sectors::project_id.eq_any(&ids))
            .select((project_sectors::project_id, project_sectors::sector))
            .load(conn)?;
        for (id, s) in sectors {
            children.entry(id).or_default().sectors.push(Sector::from_name(&s).ok_or_else(|| corrupt("sector"))?);
        }
        let terms: Vec<TermRow> = project_terms::table
            .filter(project_terms::project_id.eq_any(&ids))
            .order((project_terms::project_id, project_terms::kind, project_terms::position))
            .select(TermRow::as_select())
            .load(conn)?;
        for t in terms {
            let entry = children.entry(t.project_id.clone()).or_default();
            let item = stored_term(t.term, t.strength, t.concept, &t.match_kind, t.similarity);
            if t.kind == "skill" { entry.required.push(item) } else { entry.themes.push(item) }
        }
    }
    rows.into_iter()
        .map(|r| {
            let c = children.remove(&r.id).unwrap_or_default();
            from_row(r, c)
        })
        .collect()
}

/// Store a new project: written through the API (no reference), or an imported call (its reference, and why it is
/// left out, if it is).
pub fn insert(
    conn: &mut DbConnection,
    draft: ProjectDraft,
    reference: Option<&str>,
    left_out: Option<String>,
    now: DateTime<Utc>,
) -> QueryResult<Project> {
    let reference = reference.map(str::to_owned);
    let p = Project {
        id: Uuid::now_v7(),
        reference,
        draft,
        version: 1,
        created_at: now,
        updated_at: now,
        left_out,
        let_in: false,
        edited: Vec::new(),
    };
    diesel::insert_into(projects::table).values(&to_row(&p, &p.draft, 1, now)).execute(conn)?;
    write_children(conn, &p.id.to_string(), &p.draft)?;
    Ok(p)
}

pub fn find(conn: &mut DbConnection, id: Uuid) -> QueryResult<Option<Project>> {
    let row: Option<ProjectRow> =
        projects::table.find(id.to_string()).select(ProjectRow::as_select()).first(conn).optional()?;
    match row {
        Some(r) => Ok(assemble(conn, vec![r])?.pop()),
        None => Ok(None),
    }
}

pub fn find_by_reference(conn: &mut DbConnection, reference: &str) -> QueryResult<Option<Project>> {
    let row: Option<ProjectRow> = projects::table
        .filter(projects::reference.eq(reference))
        .select(ProjectRow::as_select())
        .first(conn)
        .optional()?;
    match row {
        Some(r) => Ok(assemble(conn, vec![r])?.pop()),
        None => Ok(None),
    }
}

/// A call the portal's search has returned, as the sync tracks it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortalTracked {
    pub id: Uuid,
    pub reference: String,
    /// Successful full syncs since that did not return it.
    pub missed: i32,
}

/// The calls the portal's search has returned before that are open on `now` (not closed by staff or as withdrawn,
/// deadline to come): a call whose deadline passed is closed by the clock, and not withdrawn.
pub fn portal_tracked(conn: &mut DbConnection, now: DateTime<Utc>) -> QueryResult<Vec<PortalTracked>> {
    let rows: Vec<(String, Option<String>, i32)> = projects::table
        .filter(projects::portal_seen_at.is_not_null())
        .filter(projects::closed.eq(false))
        .filter(projects::deadline.is_null().or(projects::deadline.gt(now.naive_utc())))
        .select((projects::id, projects::reference, projects::portal_missed))
        .order(projects::id.asc())
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, reference, missed)| {
            Some(PortalTracked { id: Uuid::parse_str(&id).ok()?, reference: reference?, missed })
        })
        .collect())
}

/// The portal returned this call now: seen, and no miss counted.
pub fn portal_seen(conn: &mut DbConnection, id: Uuid, now: DateTime<Utc>) -> QueryResult<usize> {
    diesel::update(projects::table.find(id.to_string()))
        .set((projects::portal_seen_at.eq(Some(now.naive_utc())), projects::portal_missed.eq(0)))
        .execute(conn)
}

/// Count the successful full syncs that did not return this call.
pub fn portal_missed(conn: &mut DbConnection, id: Uuid, missed: i32) -> QueryResult<usize> {
    diesel::update(projects::table.find(id.to_string())).set(projects::portal_missed.eq(missed)).execute(conn)
}

/// Every project (to build the matching index).
pub fn all(conn: &mut DbConnection) -> QueryResult<Vec<Project>> {
    let rows = projects::table.select(ProjectRow::as_select()).order(projects::id.asc()).load(conn)?;
    assemble(conn, rows)
}

#[derive(Debug, Clone, Default)]
pub struct ProjectFilter {
    pub scope: Option<Scope>,
    pub sector: Option<Sector>,
    pub status: Option<ProjectStatus>,
    pub q: Option<crate::domain::fold::SearchWords>,
    pub lead: Option<Uuid>,
    /// The imported calls left out instead of the others (staff ask for them).
    pub left_out: bool,
}

pub fn list(
    conn: &mut DbConnection,
    f: &ProjectFilter,
    now: DateTime<Utc>,
    after: Option<Uuid>,
    limit: i64,
) -> QueryResult<Vec<Project>> {
    let mut q = projects::table.select(ProjectRow::as_select()).into_boxed();
    if let Some(after) = after {
        q = q.filter(projects::id.gt(after.to_string()));
    }
    q = if f.left_out { q.filter(projects::left_out.is_not_null()) } else { q.filter(projects::left_out.is_null()) };
    if let Some(scope) = f.scope {
        q = q.filter(projects::scope.eq(scope.as_str()));
    }
    if let Some(lead) = f.lead {
        q = q.filter(projects::lead_member_id.eq(lead.to_string()));
    }
    if let Some(sector) = f.sector {
        let ids = project_sectors::table
            .filter(project_sectors::sector.eq(sector.as_str()))
            .select(project_sectors::project_id);
        q = q.filter(projects::id.eq_any(ids));
    }
    let at = now.naive_utc();
    match f.status {
        Some(ProjectStatus::Open) => {
            q = q
                .filter(projects::closed.eq(false))
                .filter(projects::deadline.is_null().or(projects::deadline.gt(at)))
                .filter(projects::opens_at.is_null().or(projects::opens_at.le(at)));
        }
        Some(ProjectStatus::Forthcoming) => {
            q = q
                .filter(projects::closed.eq(false))
                .filter(projects::deadline.is_null().or(projects::deadline.gt(at)))
                .filter(projects::opens_at.gt(at));
        }
        Some(ProjectStatus::Closed) => {
            q = q.filter(projects::closed.eq(true).or(projects::deadline.le(now.naive_utc())));
        }
        None => {}
    }
    if let Some(text) = &f.q {
        for word in text.words() {
            q = q.filter(projects::search_folded.like(contains_pattern(word)).escape('\\'));
        }
    }
    let rows = q.order(projects::id.asc()).limit(limit).load(conn)?;
    assemble(conn, rows)
}

/// Replace a project's fields (the version check is in the UPDATE).
pub fn replace(
    conn: &mut DbConnection,
    current: &Project,
    draft: ProjectDraft,
    now: DateTime<Utc>,
) -> Result<Project, WriteError> {
    let id = current.id.to_string();
    let version = current.version + 1;
    let row = to_row(current, &draft, version, now);
    let changed =
        diesel::update(projects::table.filter(projects::id.eq(&id)).filter(projects::version.eq(current.version)))
            .set(&row)
            .execute(conn)?;
    if changed == 0 {
        return Err(WriteError::Stale);
    }
    delete_children(conn, &id)?;
    write_children(conn, &id, &draft)?;
    Ok(Project { draft, version, updated_at: now, ..current.clone() })
}

/// Set the fields staff changed on an imported call (what later imports keep), if the project is still at the
/// version it was read at.
pub fn set_edited(
    conn: &mut DbConnection,
    current: &Project,
    edited: Vec<String>,
    now: DateTime<Utc>,
) -> Result<Project, WriteError> {
    let id = current.id.to_string();
    let version = current.version + 1;
    let changed =
        diesel::update(projects::table.filter(projects::id.eq(&id)).filter(projects::version.eq(current.version)))
            .set((
                projects::edited_fields.eq(edited.join(" ")),
                projects::version.eq(version),
                projects::updated_at.eq(now.naive_utc()),
            ))
            .execute(conn)?;
    if changed == 0 {
        return Err(WriteError::Stale);
    }
    Ok(Project { edited, version, updated_at: now, ..current.clone() })
}

/// Set why an imported call is left out (`None`: it is not), and whether staff let it in, if the project is still at
/// the version it was read at.
pub fn set_left_out(
    conn: &mut DbConnection,
    current: &Project,
    left_out: Option<String>,
    let_in: bool,
    now: DateTime<Utc>,
) -> Result<Project, WriteError> {
    let id = current.id.to_string();
    let version = current.version + 1;
    let changed =
        diesel::update(projects::table.filter(projects::id.eq(&id)).filter(projects::version.eq(current.version)))
            .set((
                projects::left_out.eq(&left_out),
                projects::let_in.eq(let_in),
                projects::version.eq(version),
                projects::updated_at.eq(now.naive_utc()),
            ))
            .execute(conn)?;
    if changed == 0 {
        return Err(WriteError::Stale);
    }
    Ok(Project { left_out, let_in, version, updated_at: now, ..current.clone() })
}

/// Delete a project if it is still at the version it was read at. Call inside a write transaction.
pub fn delete(conn: &mut DbConnection, current: &Project) -> Result<(), WriteError> {
    let key = current.id.to_string();
    delete_children(conn, &key)?;
    let gone =
        diesel::delete(projects::table.filter(projects::id.eq(&key)).filter(projects::version.eq(current.version)))
            .execute(conn)?;
    if gone == 0 {
        return Err(WriteError::Stale);
    }
    Ok(())
}

/// Move stored terms from one concept to another (a vocabulary merge).
pub fn move_concept(conn: &mut DbConnection, from: &str, into: &str) -> QueryResult<Vec<String>> {
    let ids: Vec<String> = project_terms::table
        .filter(project_terms::concept.eq(from))
        .select(project_terms::project_id)
        .distinct()
        .load(conn)?;
    diesel::update(project_terms::table.filter(project_terms::concept.eq(from)))
        .set(project_terms::concept.eq(into))
        .execute(conn)?;
    Ok(ids)
}
