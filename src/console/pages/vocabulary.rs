//! The vocabulary worklist: the terms members and projects typed that the vocabulary does not explain well (free,
//! part of a phrase, a near spelling), most used first, each with a form to add it as a synonym of a concept; the
//! synonyms and merges staff made, each with its undo; and a form to merge one concept into another. Every edit is
//! previewed first (a dry run of the same use-case: which stored terms of which members and projects it re-maps,
//! and to what), then confirmed.
//!
//! The concept fields take a concept's label as typed (an autocomplete fills a `datalist` as one types, from
//! `GET /console/vocabulary/suggest`) or its id; without the script, the server resolves the label, and asks which
//! concept was meant when several fit.

use std::collections::HashMap;

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};

use crate::app::names::{self, Named};
use crate::app::vocabulary::{self as use_case, Edited, Remapped};
use crate::console::form::Posted;
use crate::console::render::{see_other, text};
use crate::console::{Access, ConsoleError, Ctx, Page, page};
use crate::domain::fold::fold;
use crate::domain::member::timestamp;
use crate::http::AppState;
use crate::matching::Vocabulary;
use crate::matching::vocabulary::Lang;

pub const PAGES: &[Page] = &[
    page!("GET", "/console/vocabulary", Access::Staff, worklist),
    page!("GET", "/console/vocabulary/suggest", Access::Staff, suggest),
    page!("POST", "/console/vocabulary/preview", Access::Staff, preview),
    page!("POST", "/console/vocabulary/synonyms", Access::Staff, add_synonym),
    page!("POST", "/console/vocabulary/synonyms/{id}/remove", Access::Staff, remove_synonym),
    page!("POST", "/console/vocabulary/merges", Access::Staff, merge),
    page!("POST", "/console/vocabulary/merges/remove", Access::Staff, unmerge),
];

/// Terms a worklist page shows.
pub const PAGE_SIZE: usize = 50;
/// Concepts the autocomplete offers.
pub const SUGGESTIONS: usize = 10;
/// The longest text a concept field or a search takes (the API's bound on `q`).
const TYPED_MAX: usize = 100;
/// The longest concept id or label a concept field takes (the API's bound on `concept`).
const CONCEPT_MAX: usize = 300;
/// The longest synonym (the API's bound on `label`).
const LABEL_MAX: usize = 100;
/// The languages a synonym may be in.
const LANGS: [&str; 4] = ["en", "fr", "de", "lb"];

/// The reader's language as the vocabulary's (labels are shown in it where the concept has one).
fn lang_of(ctx: &Ctx) -> Lang {
    Lang::parse(ctx.lang).unwrap_or(Lang::En)
}

/// How a concept is shown: its label in `lang`, by its id. A concept merged into another keeps its own label
/// (from the shipped vocabulary, where nothing is merged).
fn label_of(vocab: &Vocabulary, id: &str, lang: Lang) -> String {
    if let Some(idx) = vocab.find(id)
        && vocab.concept(idx).id == id
    {
        return vocab.concept(idx).label(lang).to_owned();
    }
    if let Ok(shipped) = Vocabulary::shipped_shared()
        && let Some(idx) = shipped.find(id)
    {
        return shipped.concept(idx).label(lang).to_owned();
    }
    id.to_owned()
}

fn concept_json(vocab: &Vocabulary, id: Option<&str>, lang: Lang) -> Value {
    match id {
        Some(id) => json!({"id": id, "label": label_of(vocab, id, lang)}),
        None => Value::Null,
    }
}

/// The query's parameters, blanks left out.
fn query_of(req: &HttpRequest) -> HashMap<String, String> {
    crate::console::query::pairs(req.query_string(), &[]).into_iter().collect()
}

/// The notice after an edit (`done`, with `n` stored terms re-mapped).
fn notice(ctx: &Ctx, query: &HashMap<String, String>) -> Option<String> {
    let done = query.get("done")?;
    let key = match done.as_str() {
        "synonym_added" | "synonym_removed" | "merged" | "unmerged" => format!("vocabulary.done_{done}"),
        _ => return None,
    };
    let n = query.get("n").and_then(|n| n.parse::<usize>().ok()).unwrap_or(0);
    Some(text(ctx.lang, &key).replace("{n}", &n.to_string()))
}

/// `GET /console/vocabulary?offset=`: the worklist, the synonyms and merges staff made, the merge form.
pub async fn worklist(ctx: Ctx, state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, ConsoleError> {
    let query = query_of(&req);
    let offset = match query.get("offset") {
        None => 0,
        Some(o) => o.parse::<usize>().map_err(|_| ConsoleError::BadRequest(text(ctx.lang, "vocabulary.bad_offset")))?,
    };
    let (mut items, total) = use_case::unmapped(&state, offset, PAGE_SIZE + 1).await?;
    let more = items.len() > PAGE_SIZE;
    items.truncate(PAGE_SIZE);
    let (labels, merges) = use_case::staff_edits(&state).await?;
    let (vocab, lang) = (use_case::current(&state), lang_of(&ctx));
    let terms: Vec<Value> = items
        .iter()
        .map(|u| {
            let term = u.examples.first().cloned().unwrap_or_else(|| u.key.clone());
            let now = concept_json(&vocab, u.concept.as_deref(), lang);
            // A near spelling is most often a typo of the concept it was guessed to: offered as the answer.
            let guess = if u.kind == "fuzzy" { now["label"].clone() } else { Value::Null };
            json!({
                "term": term,
                "examples": u.examples,
                "match": u.kind,
                "concept": now,
                "guess": guess,
                "members": u.members,
                "projects": u.projects,
                "candidates": u.candidates.iter().map(|c| json!({"concept": c.concept, "label": c.label})).collect::<Vec<_>>(),
            })
        })
        .collect();
    let synonyms: Vec<Value> = labels
        .iter()
        .map(|l| {
            json!({
                "id": l.id,
                "concept": concept_json(&vocab, Some(&l.concept), lang),
                "lang": l.lang,
                "label": l.label,
                "created_by": l.created_by,
                "created_at": timestamp(l.created_at.and_utc()),
            })
        })
        .collect();
    let merged: Vec<Value> = merges
        .iter()
        .map(|m| {
            json!({
                "from": concept_json(&vocab, Some(&m.from_concept), lang),
                "into": concept_json(&vocab, Some(&m.into_concept), lang),
                "created_by": m.created_by,
                "created_at": timestamp(m.created_at.and_utc()),
            })
        })
        .collect();
    let link =
        |at: usize| if at == 0 { "/console/vocabulary".to_owned() } else { format!("/console/vocabulary?offset={at}") };
    ctx.page(
        "vocabulary.html",
        json!({
            "terms": terms,
            "total": total,
            "first": offset + 1,
            "last": offset + terms.len(),
            "previous": (offset > 0).then(|| link(offset.saturating_sub(PAGE_SIZE))),
            "next": more.then(|| link(offset + PAGE_SIZE)),
            "synonyms": synonyms,
            "merges": merged,
            "langs": LANGS,
            "done": notice(&ctx, &query),
            "label_max": LABEL_MAX,
            "concept_max": CONCEPT_MAX,
        }),
    )
}

/// `GET /console/vocabulary/suggest?q=`: the autocomplete, `{"items": [{"concept", "label"}]}`, at most
/// [`SUGGESTIONS`], labels in the reader's language where there is one.
pub async fn suggest(ctx: Ctx, state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, ConsoleError> {
    let q = query_of(&req).remove("q").unwrap_or_default();
    if q.chars().count() > TYPED_MAX {
        return Err(ConsoleError::BadRequest(text(ctx.lang, "vocabulary.too_long")));
    }
    let items: Vec<Value> = if q.is_empty() {
        Vec::new()
    } else {
        use_case::current(&state)
            .search(&q, Some(lang_of(&ctx)), SUGGESTIONS)
            .into_iter()
            .map(|c| json!({"concept": c.concept, "label": c.label}))
            .collect()
    };
    Ok(HttpResponse::Ok()
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .json(json!({"items": items})))
}

/// What a typed concept field names.
#[derive(Debug)]
enum Resolved {
    /// One concept (its id).
    One(String),
    /// Several could be meant: which?
    Several(Vec<Value>),
    /// None.
    Nothing,
}

/// The concept `typed` names: its id, or a label (folded: case, accents and punctuation aside) of exactly one
/// concept. Otherwise the concepts it might be, from the autocomplete.
fn resolve(vocab: &Vocabulary, typed: &str, lang: Lang) -> Resolved {
    if let Some(idx) = vocab.find(typed) {
        return Resolved::One(vocab.concept(idx).id.clone());
    }
    let found = vocab.search(typed, Some(lang), SUGGESTIONS);
    let folded = fold(typed);
    let exact: Vec<&crate::matching::vocabulary::Completion> =
        found.iter().filter(|c| fold(&c.label) == folded || fold(&c.matched) == folded).collect();
    let choice = |c: &crate::matching::vocabulary::Completion| json!({"concept": c.concept, "label": c.label});
    match exact.as_slice() {
        [one] => Resolved::One(one.concept.clone()),
        [] if found.is_empty() => Resolved::Nothing,
        [] => Resolved::Several(found.iter().map(choice).collect()),
        several => Resolved::Several(several.iter().map(|c| choice(c)).collect()),
    }
}

/// A synonym's fields: its concept as typed, its language, its text.
fn synonym_fields<'a>(ctx: &Ctx, form: &'a Posted) -> Result<(&'a str, Lang, String), ConsoleError> {
    let label = form.get("label").ok_or_else(|| ConsoleError::BadRequest(text(ctx.lang, "vocabulary.no_label")))?;
    if label.chars().count() > LABEL_MAX || label.contains(['\r', '\n']) {
        return Err(ConsoleError::BadRequest(text(ctx.lang, "vocabulary.too_long")));
    }
    let lang = form
        .get("lang")
        .and_then(Lang::parse)
        .ok_or_else(|| ConsoleError::BadRequest(text(ctx.lang, "vocabulary.bad_lang")))?;
    Ok((concept_field(ctx, form, "concept")?, lang, label.to_owned()))
}

/// A concept field as typed: required, at most [`CONCEPT_MAX`] characters.
fn concept_field<'a>(ctx: &Ctx, form: &'a Posted, name: &str) -> Result<&'a str, ConsoleError> {
    let typed =
        form.get(name).ok_or_else(|| ConsoleError::BadRequest(text(ctx.lang, &format!("vocabulary.no_{name}"))))?;
    if typed.chars().count() > CONCEPT_MAX {
        return Err(ConsoleError::BadRequest(text(ctx.lang, "vocabulary.too_long")));
    }
    Ok(typed)
}

/// The stored terms an edit re-maps, as the preview's rows: who holds each, in which list, how it maps now and
/// after.
async fn rows(
    state: &AppState,
    vocab: &Vocabulary,
    lang: Lang,
    remapped: &[Remapped],
) -> Result<Vec<Value>, ConsoleError> {
    let named = |r: &Remapped| {
        let id = uuid::Uuid::parse_str(&r.id).ok()?;
        Some(if r.holder == "member" { Named::Member(id) } else { Named::Project(id) })
    };
    let found = names::names(state, remapped.iter().filter_map(named).collect()).await?;
    Ok(remapped
        .iter()
        .map(|r| {
            let name = named(r).and_then(|n| found.get(&n).cloned());
            json!({
                "holder": r.holder,
                "id": r.id,
                "name": name,
                "list": r.list,
                "term": r.term,
                "from": {"concept": concept_json(vocab, r.from.concept.as_deref(), lang), "match": r.from.kind},
                "to": {"concept": concept_json(vocab, r.to.concept.as_deref(), lang), "match": r.to.kind},
            })
        })
        .collect())
}

/// The form's fields, to post again (a choice of concept made, the others as they were).
fn carried(form: &Posted, names: &[&str], except: &str) -> Vec<Value> {
    names.iter().filter(|n| **n != except).filter_map(|n| form.get(n).map(|v| json!({"name": n, "value": v}))).collect()
}

/// The page that asks which concept a field meant (422: nothing is done until it is answered), or says none fits.
fn choose(
    ctx: &Ctx,
    form: &Posted,
    fields: &[&str],
    field: &str,
    typed: &str,
    choices: &[Value],
) -> Result<HttpResponse, ConsoleError> {
    let key = if choices.is_empty() { "vocabulary.nothing_fits" } else { "vocabulary.which_concept" };
    ctx.page_with_status(
        actix_web::http::StatusCode::UNPROCESSABLE_ENTITY,
        "vocabulary_preview.html",
        json!({
            "choosing": true,
            "field": field,
            "typed": typed,
            "message": text(ctx.lang, key).replace("{typed}", typed),
            "choices": choices,
            "carried": carried(form, fields, field),
        }),
    )
}

const SYNONYM_FIELDS: &[&str] = &["action", "concept", "lang", "label"];
const MERGE_FIELDS: &[&str] = &["action", "from", "into"];

/// `POST /console/vocabulary/preview`: what an edit would re-map (`action` `synonym`: `concept`, `lang`, `label`;
/// `merge`: `from`, `into`), computed by the use-case's dry run, with the button that makes it. A concept typed
/// that several could be is asked about first.
pub async fn preview(ctx: Ctx, state: web::Data<AppState>, form: Posted) -> Result<HttpResponse, ConsoleError> {
    let (actor, vocab, lang) = (ctx.actor()?, use_case::current(&state), lang_of(&ctx));
    match form.get("action") {
        Some("synonym") => {
            let (typed, syn_lang, label) = synonym_fields(&ctx, &form)?;
            let concept = match resolve(&vocab, typed, lang) {
                Resolved::One(id) => id,
                Resolved::Several(choices) => return choose(&ctx, &form, SYNONYM_FIELDS, "concept", typed, &choices),
                Resolved::Nothing => return choose(&ctx, &form, SYNONYM_FIELDS, "concept", typed, &[]),
            };
            let dry = use_case::add_synonym(&state, &actor, &concept, syn_lang, label.clone(), true).await?;
            let shown = rows(&state, &vocab, lang, &dry.edited.remapped).await?;
            ctx.page(
                "vocabulary_preview.html",
                json!({
                    "action": "synonym",
                    "concept": concept_json(&vocab, Some(&dry.concept), lang),
                    "lang": syn_lang.as_str(),
                    "label": label,
                    "rows": shown,
                }),
            )
        }
        Some("merge") => {
            let mut ids = Vec::with_capacity(2);
            for field in ["from", "into"] {
                let typed = concept_field(&ctx, &form, field)?;
                match resolve(&vocab, typed, lang) {
                    Resolved::One(id) => ids.push(id),
                    Resolved::Several(choices) => return choose(&ctx, &form, MERGE_FIELDS, field, typed, &choices),
                    Resolved::Nothing => return choose(&ctx, &form, MERGE_FIELDS, field, typed, &[]),
                }
            }
            let (from, into, dry) = use_case::merge(&state, &actor, &ids[0], &ids[1], true).await?;
            let shown = rows(&state, &vocab, lang, &dry.remapped).await?;
            ctx.page(
                "vocabulary_preview.html",
                json!({
                    "action": "merge",
                    "from": concept_json(&vocab, Some(&from), lang),
                    "into": concept_json(&vocab, Some(&into), lang),
                    "rows": shown,
                }),
            )
        }
        _ => Err(ConsoleError::BadRequest(text(ctx.lang, "vocabulary.bad_action"))),
    }
}

/// Back to the worklist, saying what was done and how many stored terms it re-mapped.
fn done(what: &str, edited: &Edited) -> HttpResponse {
    see_other(&format!("/console/vocabulary?done={what}&n={}", edited.remapped.len()))
}

/// A concept id as the preview's confirm button sends it (a label here is refused: it is chosen on the preview).
fn concept_id(ctx: &Ctx, vocab: &Vocabulary, typed: &str) -> Result<String, ConsoleError> {
    vocab
        .find(typed)
        .map(|idx| vocab.concept(idx).id.clone())
        .ok_or_else(|| ConsoleError::BadRequest(text(ctx.lang, "vocabulary.preview_first")))
}

/// `POST /console/vocabulary/synonyms` (the preview's confirm button): `concept` (an id), `lang`, `label`.
pub async fn add_synonym(ctx: Ctx, state: web::Data<AppState>, form: Posted) -> Result<HttpResponse, ConsoleError> {
    let (typed, lang, label) = synonym_fields(&ctx, &form)?;
    let concept = concept_id(&ctx, &use_case::current(&state), typed)?;
    let added = use_case::add_synonym(&state, &ctx.actor()?, &concept, lang, label, false).await?;
    Ok(done("synonym_added", &added.edited))
}

/// `POST /console/vocabulary/synonyms/{id}/remove`: take a synonym back; the terms it mapped are mapped anew.
pub async fn remove_synonym(
    ctx: Ctx,
    state: web::Data<AppState>,
    id: web::Path<String>,
    _form: Posted,
) -> Result<HttpResponse, ConsoleError> {
    let edited = use_case::remove_synonym(&state, &ctx.actor()?, id.into_inner(), false).await?;
    Ok(done("synonym_removed", &edited))
}

/// `POST /console/vocabulary/merges` (the preview's confirm button): `from`, `into` (ids).
pub async fn merge(ctx: Ctx, state: web::Data<AppState>, form: Posted) -> Result<HttpResponse, ConsoleError> {
    let vocab = use_case::current(&state);
    let from = concept_id(&ctx, &vocab, concept_field(&ctx, &form, "from")?)?;
    let into = concept_id(&ctx, &vocab, concept_field(&ctx, &form, "into")?)?;
    let (_, _, edited) = use_case::merge(&state, &ctx.actor()?, &from, &into, false).await?;
    Ok(done("merged", &edited))
}

/// `POST /console/vocabulary/merges/remove`: undo the merge of `from`.
pub async fn unmerge(ctx: Ctx, state: web::Data<AppState>, form: Posted) -> Result<HttpResponse, ConsoleError> {
    let from = concept_field(&ctx, &form, "from")?.to_owned();
    let edited = use_case::unmerge(&state, &ctx.actor()?, from, false).await?;
    Ok(done("unmerged", &edited))
}
