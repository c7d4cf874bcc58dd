//! Projects and calls, as staff look them up and post them: a search with the API's filters; a project's page with
//! its required skills and themes (each with the concept it mapped to and how), the members it should invite and
//! the teams it could form; a form to create a national, European or international project and to edit one on the
//! version it was read at; and the vocabulary's labels for what is typed in a term field (the form's autocomplete).

use std::collections::BTreeMap;

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, NaiveDateTime, TimeZone as _, Utc};
use chrono_tz::Europe::Luxembourg;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::members::{labelled_terms, problems, ranked, shared, top, vocabulary_lang};
use crate::app::{self, AppError};
use crate::console::form::Posted;
use crate::console::query::{self, encode};
use crate::console::render::{see_other, text};
use crate::console::{Access, ConsoleError, Ctx, Page, page};
use crate::domain::FieldError;
use crate::domain::fold::fold;
use crate::domain::member::{Scope, Sector, Size, timestamp};
use crate::domain::parse::ApiEnum as _;
use crate::domain::project::{Project, ProjectDraft, ProjectStatus};
use crate::domain::term::{TERM_MAX, TERMS_MAX};
use crate::domain::version::{Precondition, etag_for};
use crate::http::AppState;
use crate::http::extract::encode_cursor;

// `new` and `terms` come before `{id}`: a path is matched against the pages in this order.
pub const PAGES: &[Page] = &[
    page!("GET", "/console/projects", Access::Staff, projects),
    page!("POST", "/console/projects", Access::Staff, create),
    page!("GET", "/console/projects/new", Access::Staff, new_form),
    page!("GET", "/console/projects/terms", Access::Staff, terms),
    page!("GET", "/console/projects/{id}", Access::Staff, project),
    page!("POST", "/console/projects/{id}", Access::Staff, update),
    page!("GET", "/console/projects/{id}/edit", Access::Staff, edit_form),
    page!("POST", "/console/projects/{id}/follow-import", Access::Staff, follow_import),
];

/// Projects a page of the search shows.
pub const PAGE_SIZE: i64 = 25;

/// Labels the term fields' autocomplete offers at a time.
pub const SUGGESTED_TERMS: usize = 10;

/// Empty term rows the form offers beyond the project's terms (more once it is saved).
const SPARE_ROWS: usize = 3;

/// Term rows the form shows at least.
const MIN_ROWS: usize = 5;

/// Strengths a required skill takes.
const WEIGHTS: [u8; 5] = [1, 2, 3, 4, 5];

fn not_found(ctx: &Ctx) -> ConsoleError {
    ConsoleError::NotFound(text(ctx.lang, "projects.not_found"))
}

fn project_id(ctx: &Ctx, raw: &str) -> Result<Uuid, ConsoleError> {
    Uuid::parse_str(raw).map_err(|_| not_found(ctx))
}

/// The project as staff see it, or the page saying there is none.
async fn find(ctx: &Ctx, state: &AppState, id: Uuid) -> Result<Project, ConsoleError> {
    let caller = ctx.current()?.caller.clone();
    match app::projects::get(state, &caller, id).await {
        Ok(seen) => Ok(seen.project),
        Err(AppError::NotFound(_)) => Err(not_found(ctx)),
        Err(e) => Err(e.into()),
    }
}

fn names<T: crate::domain::parse::ApiEnum>() -> Vec<&'static str> {
    T::ALL.iter().map(|v| v.as_str()).collect()
}

/// The choices of the search form and of the project form.
fn choices() -> Value {
    json!({
        "sectors": names::<Sector>(),
        "sizes": names::<Size>(),
        "scopes": names::<Scope>(),
        "statuses": names::<ProjectStatus>(),
        "weights": WEIGHTS,
    })
}

/// A project as a row of the search shows it.
fn row(p: &Project, now: DateTime<Utc>) -> Value {
    let d = &p.draft;
    json!({
        "id": p.id,
        "title": d.title,
        "scope": d.scope,
        "programme": d.programme,
        "call_id": d.call_id,
        "status": d.status(now),
        "deadline": d.deadline.map(timestamp),
        "left_out": p.left_out,
    })
}

/// `GET /console/projects`: the API's search (`q` in the title, call id and description, `scope`, `sector`,
/// `status`, `left_out` for the calls an import left out), a page at a time.
pub async fn projects(ctx: Ctx, state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, ConsoleError> {
    let pairs = query::pairs(req.query_string(), &["limit"]);
    let params: Map<String, Value> = pairs.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
    let query = format!("{}&limit={PAGE_SIZE}", encode(&pairs));
    let (filter, after, limit) = match crate::http::projects::parse_list_query(&query) {
        Ok(parsed) => parsed,
        Err(e) => {
            let values = json!({"params": params, "choices": choices(), "errors": problems(&ctx, "projects", &e)});
            return ctx.page_with_status(StatusCode::UNPROCESSABLE_ENTITY, "projects.html", values);
        }
    };
    let caller = ctx.current()?.caller.clone();
    let mut found = app::projects::list(&state, &caller, filter, after, limit).await?;
    let more = found.len() as i64 > limit;
    found.truncate(usize::try_from(limit).unwrap_or(0));
    let cursor = found
        .last()
        .filter(|_| more)
        .map(|last| encode_cursor(crate::http::projects::CURSOR_KIND, &last.project.id.to_string()));
    let (next, first) = query::cursor_links("/console/projects", &pairs, cursor, after.is_none());
    let now = state.clock.now();
    ctx.page(
        "projects.html",
        json!({
            "items": found.iter().map(|s| row(&s.project, now)).collect::<Vec<_>>(),
            "params": params,
            "choices": choices(),
            "next": next,
            "first": first,
        }),
    )
}

/// `GET /console/projects/{id}`: the project, its terms and how they mapped, the members it should invite (best
/// first) and the teams it could form.
pub async fn project(
    ctx: Ctx,
    state: web::Data<AppState>,
    id: web::Path<String>,
    req: HttpRequest,
) -> Result<HttpResponse, ConsoleError> {
    let id = project_id(&ctx, &id)?;
    let found = find(&ctx, &state, id).await?;
    let (lang, now) = (vocabulary_lang(&ctx), state.clock.now());
    let vocab = app::vocabulary::current(&state);
    let mut shown = found.to_json(now, true);
    for list in ["required_skills", "themes"] {
        shown[list] = json!(labelled_terms(&shown[list], &vocab, lang));
    }
    let lead = match found.draft.lead_member_id {
        Some(lead) => match app::members::get(&state, lead).await {
            Ok(m) => json!({"id": lead, "name": m.profile.name}),
            Err(AppError::NotFound(_)) => json!({"id": lead, "name": null}),
            Err(e) => return Err(e.into()),
        },
        None => Value::Null,
    };
    let members = ranked(app::matches::members_for_project(&state, id, lang, top()).await)?.map(|r| {
        r.items
            .iter()
            .map(|(m, s)| {
                json!({
                    "id": m.id,
                    "name": m.name,
                    "country": m.country,
                    "city": m.city,
                    "sectors": m.sectors,
                    "score": s.score,
                    "shared": shared(&s.explanation),
                })
            })
            .collect::<Vec<_>>()
    });
    let consortia = ranked(app::matches::consortia(&state, id, lang).await)?;
    let done = url::form_urlencoded::parse(req.query_string().as_bytes()).find(|(k, _)| k == "done").map(|(_, v)| {
        let key = match v.as_ref() {
            "created" => "projects.created",
            "followed" => "projects.followed",
            _ => "projects.saved",
        };
        text(ctx.lang, key)
    });
    ctx.page(
        "project.html",
        json!({"p": shown, "lead": lead, "members": members, "consortia": consortia, "done": done}),
    )
}

/// `GET /console/projects/terms?q=`: the vocabulary's labels (in the reader's language) for what is typed in a
/// term field, as JSON, for the form's autocomplete; nothing for a blank `q`.
pub async fn terms(ctx: Ctx, state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, ConsoleError> {
    let q = url::form_urlencoded::parse(req.query_string().as_bytes())
        .find(|(k, _)| k == "q")
        .map(|(_, v)| v.trim().to_owned())
        .unwrap_or_default();
    if q.chars().count() > TERM_MAX {
        return Err(ConsoleError::BadRequest(text(ctx.lang, "projects.terms_too_long")));
    }
    let items = if q.is_empty() {
        Vec::new()
    } else {
        app::vocabulary::current(&state).search(&q, Some(vocabulary_lang(&ctx)), SUGGESTED_TERMS)
    };
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .json(json!({"items": items})))
}

/// A project form as typed: shown again as typed when something is wrong. Term rows left blank are dropped, so
/// that the n-th term of the draft is the n-th row shown.
#[derive(Debug, Clone, Default)]
struct Typed {
    title: String,
    scope: String,
    programme: String,
    call_id: String,
    source_url: String,
    opens_at: String,
    deadline: String,
    status: String,
    description: String,
    sectors: Vec<String>,
    /// Who may apply by size; none: any size.
    sizes: Vec<String>,
    /// Each required skill's words and weight.
    skills: Vec<(String, String)>,
    themes: Vec<String>,
}

/// The values of a group of checkboxes.
fn checked(form: &Posted, name: &str) -> Vec<String> {
    form.all(name).iter().map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect()
}

/// A UTC instant as a `datetime-local` field shows it: Luxembourg time, to the minute.
fn local_field(at: Option<DateTime<Utc>>) -> String {
    at.map(|t| t.with_timezone(&Luxembourg).format("%Y-%m-%dT%H:%M").to_string()).unwrap_or_default()
}

/// A `datetime-local` field (Luxembourg time) as an RFC 3339 instant in UTC; blank is none. The hour skipped when
/// the clocks go forward does not exist; of the hour that happens twice, the first is meant.
fn utc_of_local(raw: &str) -> Result<Option<String>, &'static str> {
    if raw.is_empty() {
        return Ok(None);
    }
    let naive = NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M")
        .or_else(|_| NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M:%S"))
        .map_err(|_| "projects.bad_time")?;
    match Luxembourg.from_local_datetime(&naive) {
        chrono::LocalResult::Single(t) | chrono::LocalResult::Ambiguous(t, _) => Ok(Some(timestamp(t.to_utc()))),
        chrono::LocalResult::None => Err("projects.no_such_time"),
    }
}

impl Typed {
    fn new_project() -> Self {
        Self { scope: Scope::National.as_str().to_owned(), status: "open".to_owned(), ..Self::default() }
    }

    fn of(p: &Project) -> Self {
        let d = &p.draft;
        Self {
            title: d.title.clone(),
            scope: d.scope.as_str().to_owned(),
            programme: d.programme.clone().unwrap_or_default(),
            call_id: d.call_id.clone().unwrap_or_default(),
            source_url: d.source_url.clone().unwrap_or_default(),
            opens_at: local_field(d.opens_at),
            deadline: local_field(d.deadline),
            status: if d.closed { "closed" } else { "open" }.to_owned(),
            description: d.description.clone(),
            sectors: d.sectors.iter().map(|s| s.as_str().to_owned()).collect(),
            sizes: d.eligible_sizes.iter().map(|s| s.as_str().to_owned()).collect(),
            skills: d
                .required_skills
                .iter()
                .map(|t| (t.term.as_str().to_owned(), t.strength.unwrap_or(3).to_string()))
                .collect(),
            themes: d.themes.iter().map(|t| t.term.as_str().to_owned()).collect(),
        }
    }

    fn posted(form: &Posted) -> Self {
        let field = |name: &str| form.get(name).unwrap_or("").to_owned();
        let weights = form.all("skill_weight");
        let skills = form
            .all("skill")
            .iter()
            .enumerate()
            .map(|(i, t)| (t.trim().to_owned(), weights.get(i).map_or("", |w| w.trim()).to_owned()))
            .filter(|(t, _)| !t.is_empty())
            .collect();
        Self {
            title: field("title"),
            scope: field("scope"),
            programme: field("programme"),
            call_id: field("call_id"),
            source_url: field("source_url"),
            opens_at: field("opens_at"),
            deadline: field("deadline"),
            status: field("status"),
            description: form.raw("description").unwrap_or("").replace("\r\n", "\n").trim().to_owned(),
            sectors: checked(form, "sector"),
            sizes: checked(form, "size"),
            skills,
            themes: form.all("theme").iter().map(|t| t.trim().to_owned()).filter(|t| !t.is_empty()).collect(),
        }
    }

    /// The form as the API's JSON (a whole draft, or a merge patch of the fields the form holds: a blank optional
    /// field removes its value); a term the project had keeps the concept chosen for it. Times that cannot be read
    /// are errors of their own.
    fn body(&self, before: Option<&ProjectDraft>) -> (Value, Vec<FieldError>) {
        let optional = |v: &str| if v.is_empty() { Value::Null } else { json!(v) };
        let mut errors = Vec::new();
        let mut time = |name: &str, raw: &str| match utc_of_local(raw) {
            Ok(t) => json!(t),
            Err(key) => {
                errors.push(FieldError::new(format!("/{name}"), key));
                Value::Null
            }
        };
        let opens_at = time("opens_at", &self.opens_at);
        let deadline = time("deadline", &self.deadline);
        let chosen = |term: &str, list: Option<&Vec<crate::domain::term::TermItem>>| {
            list.and_then(|l| l.iter().find(|t| t.term.folded() == fold(term))).and_then(|t| t.chosen.clone())
        };
        let skills: Vec<Value> = self
            .skills
            .iter()
            .map(|(term, weight)| {
                let mut item =
                    json!({"term": term, "weight": weight.parse::<i64>().map_or(json!(weight), |w| json!(w))});
                if let Some(c) = chosen(term, before.map(|d| &d.required_skills)) {
                    item["concept"] = json!(c);
                }
                item
            })
            .collect();
        let themes: Vec<Value> = self
            .themes
            .iter()
            .map(|term| {
                let mut item = json!({"term": term});
                if let Some(c) = chosen(term, before.map(|d| &d.themes)) {
                    item["concept"] = json!(c);
                }
                item
            })
            .collect();
        let mut body = json!({
            "title": self.title,
            "programme": optional(&self.programme),
            "call_id": optional(&self.call_id),
            "source_url": optional(&self.source_url),
            "opens_at": opens_at,
            "deadline": deadline,
            "description": self.description,
            "sectors": self.sectors,
            "eligible_sizes": self.sizes,
            "required_skills": skills,
            "themes": themes,
        });
        if !self.scope.is_empty() {
            body["scope"] = json!(self.scope);
        }
        if !self.status.is_empty() {
            body["status"] = json!(self.status);
        }
        if before.is_none()
            && let Some(obj) = body.as_object_mut()
        {
            // A new project: nothing to remove, and a field left out takes its default.
            obj.retain(|_, v| !v.is_null());
        }
        (body, errors)
    }

    /// The term rows the form shows: the terms typed, then a few empty ones.
    fn rows<T: Clone>(typed: &[T], blank: T) -> Vec<T> {
        let shown = (typed.len() + SPARE_ROWS).max(MIN_ROWS).min(TERMS_MAX.max(typed.len()));
        let mut rows = typed.to_vec();
        rows.resize(shown, blank);
        rows
    }

    fn to_json(&self) -> Value {
        let skills: Vec<Value> = Self::rows(&self.skills, (String::new(), "3".to_owned()))
            .into_iter()
            .map(|(term, weight)| json!({"term": term, "weight": weight}))
            .collect();
        json!({
            "title": self.title,
            "scope": self.scope,
            "programme": self.programme,
            "call_id": self.call_id,
            "source_url": self.source_url,
            "opens_at": self.opens_at,
            "deadline": self.deadline,
            "status": self.status,
            "description": self.description,
            "sectors": self.sectors,
            "sizes": self.sizes,
            "skills": skills,
            "themes": Self::rows(&self.themes, String::new()),
        })
    }
}

/// The fields of the form, in the order it shows them (its errors are listed in this order).
const FIELDS: &[&str] = &[
    "title",
    "scope",
    "programme",
    "call_id",
    "source_url",
    "opens_at",
    "deadline",
    "status",
    "description",
    "sectors",
    "eligible_sizes",
    "required_skills",
    "themes",
];

/// Where an error of the draft shows in the form: `skill.3` for the fourth required skill's words, `skill_weight.3`
/// for its weight, `theme.0`, or the field's name.
fn field_of(pointer: &str) -> String {
    let mut parts = pointer.trim_start_matches('/').split('/');
    let name = parts.next().unwrap_or("");
    match (name, parts.next().and_then(|i| i.parse::<usize>().ok()), parts.next()) {
        ("required_skills", Some(i), Some("weight")) => format!("skill_weight.{i}"),
        ("required_skills", Some(i), _) => format!("skill.{i}"),
        ("themes", Some(i), _) => format!("theme.{i}"),
        _ => name.to_owned(),
    }
}

/// Where an error comes in the form's order: its field's place, then its row.
fn place(pointer: &str) -> (usize, usize) {
    let mut parts = pointer.trim_start_matches('/').split('/');
    let name = parts.next().unwrap_or("");
    let row = parts.next().and_then(|i| i.parse::<usize>().ok()).map_or(0, |i| i + 1);
    (FIELDS.iter().position(|f| *f == name).unwrap_or(FIELDS.len()), row)
}

/// The errors of a form: by where each shows (`errors`), and all of them for the summary at the top, each named
/// by its field's label.
fn shown_errors(ctx: &Ctx, errors: &[FieldError]) -> (Map<String, Value>, Vec<String>) {
    let mut by_field: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut summary = Vec::new();
    let mut ordered: Vec<&FieldError> = errors.iter().collect();
    ordered.sort_by_key(|e| place(&e.pointer));
    for e in ordered {
        let field = field_of(&e.pointer);
        // Details of our own (times) are string keys; the others come from the API's parser.
        let detail = if e.detail.starts_with("projects.") { text(ctx.lang, &e.detail) } else { e.detail.clone() };
        let label = match field.split_once('.') {
            Some((list, i)) => {
                let n = i.parse::<usize>().map_or(1, |i| i + 1);
                text(ctx.lang, &format!("projects.{list}_n")).replace("{n}", &n.to_string())
            }
            None => {
                let key = format!("projects.field_{field}");
                let label = text(ctx.lang, &key);
                if label == key { field.clone() } else { label }
            }
        };
        summary.push(format!("{label}: {detail}"));
        by_field.entry(field).or_default().push(detail);
    }
    (by_field.into_iter().map(|(k, v)| (k, json!(v.join("; ")))).collect(), summary)
}

/// The project form: new (`project` none) or editing `project` at `version`; with `status` and errors when it comes
/// back.
fn form_page(
    ctx: &Ctx,
    status: StatusCode,
    typed: &Typed,
    project: Option<(Uuid, i64)>,
    errors: &[FieldError],
    conflict: bool,
) -> Result<HttpResponse, ConsoleError> {
    let (by_field, summary) = shown_errors(ctx, errors);
    let (action, id, version) = match project {
        Some((id, version)) => (format!("/console/projects/{id}"), Some(id), Some(version)),
        None => ("/console/projects".to_owned(), None, None),
    };
    ctx.page_with_status(
        status,
        "project_form.html",
        json!({
            "f": typed.to_json(),
            "id": id,
            "version": version,
            "action": action,
            "choices": choices(),
            "errors": by_field,
            "summary": summary,
            "conflict": conflict,
            "term_max": TERM_MAX,
        }),
    )
}

/// `GET /console/projects/new`: the form for a new project.
pub async fn new_form(ctx: Ctx) -> Result<HttpResponse, ConsoleError> {
    form_page(&ctx, StatusCode::OK, &Typed::new_project(), None, &[], false)
}

/// `POST /console/projects`: create the project the form describes (the API's `POST /v1/projects`); its page
/// next, or the form again with what is wrong next to each field (422), nothing stored.
pub async fn create(ctx: Ctx, state: web::Data<AppState>, form: Posted) -> Result<HttpResponse, ConsoleError> {
    let typed = Typed::posted(&form);
    let (body, mut errors) = typed.body(None);
    let draft = match ProjectDraft::parse(&body) {
        Ok(draft) if errors.is_empty() => draft,
        Ok(_) => return form_page(&ctx, StatusCode::UNPROCESSABLE_ENTITY, &typed, None, &errors, false),
        Err(found) => {
            errors.extend(found);
            return form_page(&ctx, StatusCode::UNPROCESSABLE_ENTITY, &typed, None, &errors, false);
        }
    };
    let caller = ctx.current()?.caller.clone();
    match app::projects::create(&state, &caller, draft).await {
        Ok(p) => Ok(see_other(&format!("/console/projects/{}?done=created", p.id))),
        Err(AppError::Invalid(found)) => form_page(&ctx, StatusCode::UNPROCESSABLE_ENTITY, &typed, None, &found, false),
        Err(e) => Err(e.into()),
    }
}

/// `GET /console/projects/{id}/edit`: the form holding the project as it is, and the version it is at.
pub async fn edit_form(
    ctx: Ctx,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ConsoleError> {
    let id = project_id(&ctx, &id)?;
    let found = find(&ctx, &state, id).await?;
    form_page(&ctx, StatusCode::OK, &Typed::of(&found), Some((id, found.version)), &[], false)
}

/// `POST /console/projects/{id}`: save the form over the project (the API's `PATCH /v1/projects/{id}`) if it is
/// still at the version the form was made on (`version`). A colleague's change in between: the form again holding
/// the project as it is now (409), nothing overwritten. Something wrong: the form again as typed (422).
pub async fn update(
    ctx: Ctx,
    state: web::Data<AppState>,
    id: web::Path<String>,
    form: Posted,
) -> Result<HttpResponse, ConsoleError> {
    let id = project_id(&ctx, &id)?;
    let Some(version) = form.get("version").and_then(|v| v.parse::<i64>().ok()) else {
        return Err(ConsoleError::BadRequest(text(ctx.lang, "projects.no_version")));
    };
    let before = find(&ctx, &state, id).await?;
    let typed = Typed::posted(&form);
    let again =
        |status: StatusCode, errors: &[FieldError]| form_page(&ctx, status, &typed, Some((id, version)), errors, false);
    let (patch, mut errors) = typed.body(Some(&before.draft));
    if let Err(found) = before.draft.patched(&patch) {
        errors.extend(found);
    }
    if !errors.is_empty() {
        return again(StatusCode::UNPROCESSABLE_ENTITY, &errors);
    }
    let caller = ctx.current()?.caller.clone();
    let precondition = Precondition::Tags(vec![etag_for(version)]);
    match app::projects::update(&state, &caller, id, precondition, patch).await {
        Ok(_) => Ok(see_other(&format!("/console/projects/{id}?done=saved"))),
        Err(AppError::Invalid(found)) => again(StatusCode::UNPROCESSABLE_ENTITY, &found),
        Err(AppError::Stale) => {
            let now = find(&ctx, &state, id).await?;
            form_page(&ctx, StatusCode::CONFLICT, &Typed::of(&now), Some((id, now.version)), &[], true)
        }
        Err(AppError::NotFound(_)) => Err(not_found(&ctx)),
        Err(e) => Err(e.into()),
    }
}

/// `POST /console/projects/{id}/follow-import`: the imported call follows its imports again (the API's
/// `POST /v1/projects/{id}/follow-import`); back to its page, which says so. The form carries nothing but its
/// token, which taking it checks (with its origin).
pub async fn follow_import(
    ctx: Ctx,
    state: web::Data<AppState>,
    id: web::Path<String>,
    _form: Posted,
) -> Result<HttpResponse, ConsoleError> {
    let id = project_id(&ctx, &id)?;
    match app::projects::follow_import(&state, &ctx.actor()?, id).await {
        Ok(_) => Ok(see_other(&format!("/console/projects/{id}?done=followed"))),
        Err(AppError::NotFound(_)) => Err(not_found(&ctx)),
        Err(e) => Err(e.into()),
    }
}
