//! The vocabulary: autocomplete and lookup for forms, and staff's edits (synonyms, merges), which every instance
//! applies on top of the shipped data.

use std::sync::Arc;

use serde_json::json;

use super::audit::record;
use super::{Actor, AppError, Services};
use crate::db::changes::{self, Entity};
use crate::db::{self, DbError, members, projects, vocabulary};
use crate::domain::member::ProfileTerm;
use crate::domain::term::{Resolution, Term};
use crate::matching::Vocabulary;
use crate::matching::resolve::resolve_term;
use crate::matching::vocabulary::{ConceptIdx, Lang};

/// The live vocabulary of this instance.
pub fn current(svc: &Services) -> Arc<Vocabulary> {
    svc.index.matcher.vocabulary()
}

fn unknown(pointer: &str) -> AppError {
    AppError::invalid(pointer, "is not a concept of the vocabulary")
}

/// What a synonym added.
#[derive(Debug)]
pub struct Synonym {
    pub concept: String,
    pub terms_renormalised: usize,
}

/// Add a label to a concept; free terms of members it now explains move to that concept.
pub async fn add_synonym(
    svc: &Services,
    actor: &Actor,
    concept: &str,
    lang: Lang,
    label: String,
) -> Result<Synonym, AppError> {
    // A private copy to check the label and re-normalise with; the live one is rebuilt from the database below.
    let mut vocab = (*current(svc)).clone();
    let idx = vocab.find(concept).ok_or_else(|| unknown("/concept"))?;
    let survivor = vocab.concept(idx).id.clone();
    if !vocab.add_label(idx, lang, &label) {
        return Err(AppError::Conflict("this label already names another concept".to_owned()));
    }
    let (now, by, index) = (svc.clock.now(), actor.subject(), svc.index.clone());
    let (c2, l2) = (survivor.clone(), label.clone());
    let renormalised = db::run(&svc.pool, move |conn| {
        let n = db::write(conn, |conn| {
            vocabulary::insert_label(conn, &c2, lang, &l2, &by, now)?;
            let mut n = 0;
            for (member, kind, position, text) in members::free_terms(conn)? {
                let item = ProfileTerm {
                    term: Term::from_stored(text),
                    strength: None,
                    chosen: None,
                    resolution: Resolution::free(),
                };
                if let Ok(r) = resolve_term(&vocab, &item)
                    && r.concept.is_some()
                {
                    members::set_term_concept(conn, &member, &kind, position, &r)?;
                    n += 1;
                }
            }
            changes::record(conn, Entity::Vocabulary, &c2, now)?;
            Ok::<_, DbError>(n)
        })?;
        index.reload_all(conn)?;
        Ok::<_, DbError>(n)
    })
    .await
    .map_err(|e| match e {
        DbError::Query(ref q) if db::is_unique_violation(q) => {
            AppError::Conflict("this label already exists".to_owned())
        }
        other => other.into(),
    })?;
    let details = json!({"lang": lang, "label": label, "terms_renormalised": renormalised});
    record(svc, actor.event("vocabulary.synonym_added").target(survivor.clone()).details(details)).await;
    Ok(Synonym { concept: survivor, terms_renormalised: renormalised })
}

/// The two concepts of a merge, checked.
fn merge_pair(vocab: &Vocabulary, from: &str, into: &str) -> Result<(ConceptIdx, ConceptIdx), AppError> {
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
    Ok((f, i))
}

/// Merge `from` into `into`: `from` stays as an alias; stored terms (members' and projects') move to `into`.
/// Returns the two ids and how many profiles and projects moved.
pub async fn merge(svc: &Services, actor: &Actor, from: &str, into: &str) -> Result<(String, String, usize), AppError> {
    let vocab = current(svc);
    let (f, i) = merge_pair(&vocab, from, into)?;
    let (from_id, into_id) = (vocab.concept(f).id.clone(), vocab.concept(i).id.clone());
    let (now, by, index) = (svc.clock.now(), actor.subject(), svc.index.clone());
    let (a, b) = (from_id.clone(), into_id.clone());
    let moved = db::run(&svc.pool, move |conn| {
        let moved = db::write(conn, |conn| {
            vocabulary::insert_merge(conn, &a, &b, &by, now)?;
            let m = members::move_concept(conn, &a, &b)?.len();
            let p = projects::move_concept(conn, &a, &b)?.len();
            changes::record(conn, Entity::Vocabulary, &a, now)?;
            Ok::<_, DbError>(m + p)
        })?;
        index.reload_all(conn)?;
        Ok::<_, DbError>(moved)
    })
    .await?;
    let details = json!({"into": into_id, "profiles_and_projects_moved": moved});
    record(svc, actor.event("vocabulary.merged").target(from_id.clone()).details(details)).await;
    Ok((from_id, into_id, moved))
}
