//! Before a profile or project is written, each of its terms is mapped to the vocabulary.

use super::vocabulary::{MatchKind, Normalised, Vocabulary};
use crate::domain::FieldError;
use crate::domain::term::{Resolution, TermItem};

/// How one term maps: the chosen concept if the caller named one (it must exist), else normalisation of its text.
pub fn resolve_term(vocab: &Vocabulary, item: &TermItem) -> Result<Resolution, &'static str> {
    let auto = vocab.normalise(item.term.as_str());
    let (concept, kind) = match &item.chosen {
        Some(id) => {
            let Some(idx) = vocab.find(id) else { return Err("is not a concept of the vocabulary") };
            // Naming the concept the text maps to anyway is not a choice worth recording.
            if auto.concept == Some(idx) { (Some(idx), auto.kind) } else { (Some(idx), MatchKind::Chosen) }
        }
        None => match auto {
            Normalised { concept: Some(c), kind } => (Some(c), kind),
            Normalised { concept: None, .. } => (None, MatchKind::Free),
        },
    };
    Ok(Resolution {
        concept: concept.map(|c| vocab.concept(c).id.clone()),
        kind: kind.name(),
        similarity: kind.similarity(),
    })
}

/// Resolve every term of a list; errors point at `/{field}/{i}/concept`.
pub fn resolve_list(vocab: &Vocabulary, field: &str, items: &mut [TermItem], errors: &mut Vec<FieldError>) {
    for (i, item) in items.iter_mut().enumerate() {
        match resolve_term(vocab, item) {
            Ok(r) => item.resolution = r,
            Err(why) => errors.push(FieldError::new(format!("/{field}/{i}/concept"), why)),
        }
    }
}

/// Resolve a member profile's offers, needs and interests.
pub fn resolve_profile(
    vocab: &Vocabulary,
    draft: &mut crate::domain::member::MemberDraft,
) -> Result<(), Vec<FieldError>> {
    let mut errors = Vec::new();
    resolve_list(vocab, "offers", &mut draft.offers, &mut errors);
    resolve_list(vocab, "needs", &mut draft.needs, &mut errors);
    resolve_list(vocab, "interests", &mut draft.interests, &mut errors);
    if errors.is_empty() { Ok(()) } else { Err(errors) }
}
