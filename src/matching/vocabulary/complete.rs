//! The autocomplete: concepts whose labels start with what was typed, or a word of them.

use serde::Serialize;

use super::{ConceptKind, Lang, Normalised, Vocabulary};
use crate::domain::fold::fold;

/// A completion the autocomplete offers.
#[derive(Debug, Clone, Serialize)]
pub struct Completion {
    pub concept: String,
    pub label: String,
    pub lang: Lang,
    pub kind: ConceptKind,
    /// The label that matched what was typed.
    pub matched: String,
}

impl Vocabulary {
    /// Autocomplete: concepts whose labels start (or have a word that starts) with `q`, best first: whole-label
    /// prefix before word prefix, the requested language first, preferred labels first, shorter first. Falls back to
    /// the fuzzy match for a mistyped word.
    pub fn search(&self, q: &str, lang: Option<Lang>, limit: usize) -> Vec<Completion> {
        let folded = fold(q);
        if folded.is_empty() || limit == 0 {
            return Vec::new();
        }
        let start = self.prefixes.partition_point(|(p, _)| p.as_str() < folded.as_str());
        let mut scored: Vec<((u8, u8, u8, usize), u32)> = Vec::new();
        for (p, label) in self.prefixes[start..].iter().take_while(|(p, _)| p.starts_with(folded.as_str())).take(5000) {
            let entry = &self.labels[*label as usize];
            let whole = u8::from(p.len() != entry.folded.len());
            let other_lang = u8::from(lang.is_some_and(|l| l != entry.lang));
            let alt = u8::from(!entry.preferred);
            scored.push(((whole, other_lang, alt, entry.folded.len()), *label));
        }
        scored.sort_unstable();
        let mut out: Vec<Completion> = Vec::new();
        for (_, label) in scored {
            let entry = &self.labels[label as usize];
            let idx = self.resolve(entry.concept);
            let concept = &self.concepts[idx as usize];
            if out.iter().any(|s| s.concept == concept.id) {
                continue;
            }
            let show = lang.unwrap_or(entry.lang);
            out.push(Completion {
                concept: concept.id.clone(),
                label: concept.label(show).to_owned(),
                lang: show,
                kind: concept.kind,
                matched: entry.text.clone(),
            });
            if out.len() == limit {
                break;
            }
        }
        if out.is_empty()
            && let Some(Normalised { concept: Some(idx), .. }) = self.fuzzy(&folded)
        {
            let concept = &self.concepts[idx as usize];
            let show = lang.unwrap_or(Lang::En);
            out.push(Completion {
                concept: concept.id.clone(),
                label: concept.label(show).to_owned(),
                lang: show,
                kind: concept.kind,
                matched: concept.label(show).to_owned(),
            });
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matching::vocabulary::tests::vocab;

    #[test]
    fn autocomplete_ranks_prefixes() {
        let v = vocab();
        let r = v.search("gra", Some(Lang::En), 5);
        assert_eq!(r[0].concept, "esco:gd");
        assert_eq!(r[0].label, "graphic design");
        let r = v.search("model", Some(Lang::Fr), 5);
        assert_eq!(r[0].concept, "esco:3d");
        assert_eq!(r[0].label, "modélisation 3D");
        assert_eq!(v.search("graphci desing", None, 5)[0].concept, "esco:gd", "fuzzy fallback");
        assert!(v.search("zzz", None, 5).is_empty());
    }
}
