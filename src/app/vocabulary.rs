//! The vocabulary: autocomplete and lookup for forms, and the staff's repair loop: the terms the vocabulary does not
//! explain well (free, partial, fuzzy), synonyms and merges that explain them, each shown before it is made (a dry
//! run) and each undone as it was made. One rule re-maps stored terms after every edit, for members and projects
//! alike (see [`remap`](crate::indexer::remap)); every instance rebuilds its vocabulary and index from the change log.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use serde::Serialize;
use serde_json::json;

use super::audit::record;
use super::{Actor, AppError, Services};
use crate::db::changes::{self, Entity};
use crate::db::vocabulary::{self, Holder, StaffLabel, StaffMerge, StoredTerm};
use crate::db::{self, DbConnection, DbError};
use crate::indexer::{Touched, remap_stored};
use crate::matching::Vocabulary;
use crate::matching::vocabulary::{Completion, Lang, MatchKind, term_key};

/// The live vocabulary of this instance.
pub fn current(svc: &Services) -> Arc<Vocabulary> {
    svc.index.matcher.vocabulary()
}

pub use crate::indexer::{Mapping, Remapped};

/// What an edit did, or (a dry run) would do.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Edited {
    pub dry_run: bool,
    pub remapped: Vec<Remapped>,
}

/// Why an edit's transaction ended without committing: a dry run, with what it would have done.
#[derive(Debug, thiserror::Error)]
enum Ended {
    #[error("a dry run")]
    DryRun(Vec<Remapped>),
    #[error(transparent)]
    Failed(#[from] AppError),
}

impl From<crate::db::QueryError> for Ended {
    fn from(e: crate::db::QueryError) -> Self {
        Self::Failed(e.into())
    }
}

/// Run an edit (`change` writes it) in one transaction, then map the stored terms anew by [`remap`] with the
/// vocabulary as it now stands, record the change for every instance, and rebuild this instance's vocabulary and
/// index. A dry run does all of it and rolls it back, so what it reports is exactly what the edit would do.
async fn edit(
    svc: &Services,
    dry_run: bool,
    touched: HashSet<String>,
    change: impl FnOnce(&mut DbConnection) -> Result<(), AppError> + Send + 'static,
) -> Result<Edited, AppError> {
    let (now, index) = (svc.clock.now(), svc.index.clone());
    db::run(&svc.pool, move |conn| {
        let outcome = db::write(conn, |conn| {
            change(conn)?;
            let vocab = index.vocabulary_in(conn).map_err(AppError::from)?;
            let remapped = remap_stored(conn, &vocab, &Touched::Concepts(touched))?;
            if dry_run {
                return Err(Ended::DryRun(remapped));
            }
            changes::record(conn, Entity::Vocabulary, "edit", now)?;
            Ok(remapped)
        });
        match outcome {
            Ok(remapped) => {
                index.reload_all(conn).map_err(AppError::from)?;
                Ok(Edited { dry_run: false, remapped })
            }
            Err(Ended::DryRun(remapped)) => Ok(Edited { dry_run: true, remapped }),
            Err(Ended::Failed(e)) => Err(e),
        }
    })
    .await
}

fn unknown(pointer: &str) -> AppError {
    AppError::invalid(pointer, "is not a concept of the vocabulary")
}

fn taken() -> AppError {
    AppError::Conflict("this label already names another concept".to_owned())
}

/// A synonym added (or, for a dry run, what adding it would re-map).
#[derive(Debug)]
pub struct Synonym {
    pub id: Option<String>,
    pub concept: String,
    pub edited: Edited,
}

/// Add a label to a concept: the stored terms it explains better are mapped anew.
pub async fn add_synonym(
    svc: &Services,
    actor: &Actor,
    concept: &str,
    lang: Lang,
    label: String,
    dry_run: bool,
) -> Result<Synonym, AppError> {
    let mut vocab = (*current(svc)).clone();
    let idx = vocab.find(concept).ok_or_else(|| unknown("/concept"))?;
    let survivor = vocab.concept(idx).id.clone();
    if !vocab.add_label(idx, lang, &label) {
        return Err(taken());
    }
    let id = std::sync::Arc::new(std::sync::Mutex::new(None));
    let (by, now, written, c2, l2) = (actor.subject(), svc.clock.now(), id.clone(), survivor.clone(), label.clone());
    let edited = edit(svc, dry_run, HashSet::from([survivor.clone()]), move |conn| {
        let new =
            db::savepoint(conn, |conn| vocabulary::insert_label(conn, &c2, lang, &l2, &by, now)).map_err(|e| {
                if db::is_unique_violation(&e) {
                    AppError::Conflict("this label already exists".to_owned())
                } else {
                    e.into()
                }
            })?;
        *written.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(new);
        Ok(())
    })
    .await?;
    let id = if dry_run { None } else { id.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take() };
    if !dry_run {
        let details = json!({"lang": lang, "label": label, "id": id, "terms_remapped": edited.remapped.len()});
        record(svc, actor.event("vocabulary.synonym_added").target(survivor.clone()).details(details)).await;
    }
    Ok(Synonym { id, concept: survivor, edited })
}

/// Take back a synonym staff added: the stored terms it mapped are mapped anew without it.
pub async fn remove_synonym(svc: &Services, actor: &Actor, id: String, dry_run: bool) -> Result<Edited, AppError> {
    let labels = db::run(&svc.pool, |conn| vocabulary::staff_labels(conn).map_err(AppError::from)).await?;
    let label =
        labels.into_iter().find(|l| l.id == id).ok_or_else(|| AppError::NotFound("no synonym has this id".into()))?;
    let target = id.clone();
    let edited = edit(svc, dry_run, HashSet::from([label.concept.clone()]), move |conn| {
        vocabulary::delete_label(conn, &target)?.ok_or_else(|| AppError::NotFound("no synonym has this id".into()))?;
        Ok(())
    })
    .await?;
    if !dry_run {
        let details =
            json!({"id": id, "label": label.label, "lang": label.lang, "terms_remapped": edited.remapped.len()});
        record(svc, actor.event("vocabulary.synonym_removed").target(label.concept).details(details)).await;
    }
    Ok(edited)
}

/// Merge `from` into `into`: `from` stays as an alias, and the stored terms follow (every one mapped to `from`,
/// and those the survivor's labels now explain better).
pub async fn merge(
    svc: &Services,
    actor: &Actor,
    from: &str,
    into: &str,
    dry_run: bool,
) -> Result<(String, String, Edited), AppError> {
    let vocab = current(svc);
    let (f, i) = (vocab.find(from), vocab.find(into));
    let mut errors = Vec::new();
    if f.is_none() {
        errors.push(crate::domain::FieldError::new("/from", "is not a concept of the vocabulary"));
    }
    if i.is_none() {
        errors.push(crate::domain::FieldError::new("/into", "is not a concept of the vocabulary"));
    }
    let (Some(f), Some(i)) = (f, i) else { return Err(AppError::Invalid(errors)) };
    if f == i {
        return Err(AppError::invalid("/into", "is the same concept as `from`"));
    }
    let (from_id, into_id) = (vocab.concept(f).id.clone(), vocab.concept(i).id.clone());
    let (by, now, a, b) = (actor.subject(), svc.clock.now(), from_id.clone(), into_id.clone());
    let touched = HashSet::from([from_id.clone(), into_id.clone()]);
    let edited = edit(svc, dry_run, touched, move |conn| Ok(vocabulary::insert_merge(conn, &a, &b, &by, now)?)).await?;
    if !dry_run {
        let details = json!({"into": into_id, "terms_remapped": edited.remapped.len()});
        record(svc, actor.event("vocabulary.merged").target(from_id.clone()).details(details)).await;
    }
    Ok((from_id, into_id, edited))
}

/// Undo a merge: `from` is a concept of its own again, and the stored terms its labels explain go back to it.
pub async fn unmerge(svc: &Services, actor: &Actor, from: String, dry_run: bool) -> Result<Edited, AppError> {
    let merges = db::run(&svc.pool, |conn| vocabulary::staff_merges(conn).map_err(AppError::from)).await?;
    let merge = merges
        .into_iter()
        .find(|m| m.from_concept == from)
        .ok_or_else(|| AppError::NotFound("no merge has this concept as `from`".into()))?;
    let touched = HashSet::from([merge.from_concept.clone(), merge.into_concept.clone()]);
    let target = from.clone();
    let edited = edit(svc, dry_run, touched, move |conn| {
        vocabulary::delete_merge(conn, &target)?
            .ok_or_else(|| AppError::NotFound("no merge has this concept".into()))?;
        Ok(())
    })
    .await?;
    if !dry_run {
        let details = json!({"into": merge.into_concept, "terms_remapped": edited.remapped.len()});
        record(svc, actor.event("vocabulary.unmerged").target(from).details(details)).await;
    }
    Ok(edited)
}

/// The synonyms and merges staff made.
pub async fn staff_edits(svc: &Services) -> Result<(Vec<StaffLabel>, Vec<StaffMerge>), AppError> {
    db::run(&svc.pool, |conn| Ok((vocabulary::staff_labels(conn)?, vocabulary::staff_merges(conn)?))).await
}

/// Terms the vocabulary does not explain well, by the words they share: how they map now, who uses them, and the
/// concepts they might be.
#[derive(Debug, Clone, Serialize)]
pub struct Unmapped {
    /// The words (folded, stemmed, in order) the terms share.
    pub key: String,
    /// How they were typed (up to five forms).
    pub examples: Vec<String>,
    /// `free`, `partial`, `fuzzy` (the least certain first).
    #[serde(rename = "match")]
    pub kind: String,
    /// The concept they map to now (partial and fuzzy).
    pub concept: Option<String>,
    pub members: usize,
    pub projects: usize,
    pub candidates: Vec<Completion>,
}

/// The terms the vocabulary does not explain well (free, partial, fuzzy), most used first: the staff's worklist.
pub async fn unmapped(svc: &Services, offset: usize, limit: usize) -> Result<(Vec<Unmapped>, usize), AppError> {
    let stored = db::run(&svc.pool, |conn| vocabulary::stored_terms(conn).map_err(DbError::from)).await?;
    let vocab = current(svc);
    let mut groups: BTreeMap<String, (Vec<StoredTerm>, HashSet<Holder>)> = BTreeMap::new();
    for t in stored.into_iter().filter(|t| matches!(t.match_kind.as_str(), "free" | "partial" | "fuzzy")) {
        let key = term_key(&t.text);
        if key.is_empty() {
            continue;
        }
        let entry = groups.entry(key).or_default();
        entry.1.insert(t.holder.clone());
        entry.0.push(t);
    }
    let mut items: Vec<Unmapped> = groups
        .into_iter()
        .map(|(key, (terms, holders))| {
            let least = terms.iter().min_by_key(|t| MatchKind::from_stored(&t.match_kind, t.similarity).certainty());
            let mut examples: Vec<String> = Vec::new();
            for t in &terms {
                if examples.len() < 5 && !examples.contains(&t.text) {
                    examples.push(t.text.clone());
                }
            }
            let candidates = vocab.search(&examples[0], None, 3);
            Unmapped {
                key,
                kind: least.map_or_else(|| "free".to_owned(), |t| t.match_kind.clone()),
                concept: least.and_then(|t| t.concept.clone()),
                members: holders.iter().filter(|h| matches!(h, Holder::Member(_))).count(),
                projects: holders.iter().filter(|h| matches!(h, Holder::Project(_))).count(),
                examples,
                candidates,
            }
        })
        .collect();
    items.sort_by(|a, b| (b.members + b.projects).cmp(&(a.members + a.projects)).then(a.key.cmp(&b.key)));
    let total = items.len();
    Ok((items.into_iter().skip(offset).take(limit).collect(), total))
}
