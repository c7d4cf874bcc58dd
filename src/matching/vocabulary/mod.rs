//! The vocabulary: concepts with a stable id (the ESCO URI where one exists, else `mm:…`), labels in English,
//! French, German and Luxembourgish, and the indexes that map what a member typed to a concept.
//!
//! Lookup order: the folded label itself; then a light-stemmed, word-order-free key; then a fuzzy match with
//! `strsim` over candidates that share character trigrams with the term (never a scan of every label). Anything
//! else stays a free term, text intact.
//!
//! Rooms: `concepts` (concepts and their kinds, languages, how a term matched), `load` (the shipped CSV files and
//! the lookup indexes built from them), `fuzzy` (trigrams and the fuzzy lookup), `compare` (the string similarity over
//! reused buffers), `complete` (the autocomplete) and `edit` (staff synonyms and merges). This room holds the
//! vocabulary itself and the exact and stemmed lookups.

mod compare;
mod complete;
mod concepts;
mod edit;
mod fuzzy;
mod load;

use std::collections::HashMap;

pub use self::complete::Completion;
use self::concepts::resolve_in;
pub use self::concepts::{Concept, ConceptIdx, ConceptKind, Lang, MatchKind};
pub use self::fuzzy::similarity;
use crate::domain::fold::fold;

#[derive(Debug, Clone)]
struct LabelEntry {
    text: String,
    folded: String,
    concept: ConceptIdx,
    lang: Lang,
    preferred: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Hit {
    One(u32),
    Ambiguous,
}

/// The outcome of normalising one term.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Normalised {
    pub concept: Option<ConceptIdx>,
    pub kind: MatchKind,
}

impl Normalised {
    pub const FREE: Self = Self { concept: None, kind: MatchKind::Free };
}

/// The fuzzy threshold, tuned on `tests/data/variants_tuning.csv` (see the README).
pub const DEFAULT_FUZZY_THRESHOLD: f64 = 0.82;

#[derive(Debug, Clone, Default)]
pub struct Vocabulary {
    concepts: Vec<Concept>,
    ids: HashMap<String, ConceptIdx>,
    labels: Vec<LabelEntry>,
    exact: HashMap<String, Hit>,
    keyed: HashMap<String, Hit>,
    /// Labels by rank: in order of length (in characters), so that the labels a term's length can reach are one range
    /// of ranks. `by_len[rank]` is the label, `rank_chars[rank]` its length (ascending).
    by_len: Vec<u32>,
    rank_chars: Vec<u16>,
    /// Trigram → the ranks of the labels that have it, ascending.
    grams: HashMap<u32, Vec<u32>>,
    /// By rank: how many distinct trigrams the label has (for the overlap ratio).
    gram_counts: Vec<u16>,
    /// (folded word-suffix of a label, label index), sorted: prefix search for the autocomplete.
    prefixes: Vec<(String, u32)>,
    /// By concept `c`: the concepts that have `c` among their [`Vocabulary::neighbours`] (rankings walk the
    /// hierarchy from an offer to the wants it gives partial credit to).
    neighbour_of: Vec<Vec<ConceptIdx>>,
    pub fuzzy_threshold: f64,
}

/// Light stemming shared by labels and terms: plural endings of English, French and German nouns.
fn stem(word: &str) -> &str {
    let n = word.len();
    if n <= 3 || !word.is_ascii() {
        return word;
    }
    for suffix in ["ies", "es", "s", "x"] {
        if let Some(base) = word.strip_suffix(suffix)
            && base.len() >= 3
            && !word.ends_with("ss")
            && !word.ends_with("us")
            && !word.ends_with("is")
        {
            return base;
        }
    }
    word
}

/// The word-order-free, stemmed key of a folded text.
fn key(folded: &str) -> String {
    let mut words: Vec<&str> = folded.split(' ').filter(|w| !w.is_empty()).map(stem).collect();
    words.sort_unstable();
    words.dedup();
    words.join(" ")
}

impl Vocabulary {
    /// Follow merges to the surviving concept.
    pub fn resolve(&self, idx: ConceptIdx) -> ConceptIdx {
        resolve_in(&self.concepts, idx)
    }

    pub fn concept(&self, idx: ConceptIdx) -> &Concept {
        &self.concepts[idx as usize]
    }

    pub fn len(&self) -> usize {
        self.concepts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.concepts.is_empty()
    }

    pub fn label_count(&self) -> usize {
        self.labels.len()
    }

    /// The concept with this id (or a merged id), resolved to the survivor.
    pub fn find(&self, id: &str) -> Option<ConceptIdx> {
        self.ids.get(id).map(|&i| self.resolve(i))
    }

    /// All concept ids (for generators and checks).
    pub fn concept_ids(&self) -> impl Iterator<Item = (ConceptIdx, &Concept)> {
        self.concepts.iter().enumerate().filter_map(|(i, c)| {
            let i = ConceptIdx::try_from(i).ok()?;
            c.merged_into.is_none().then_some((i, c))
        })
    }

    /// Labels of a concept (for generators and checks).
    pub fn labels_of(&self, idx: ConceptIdx) -> impl Iterator<Item = (&str, Lang)> {
        self.labels.iter().filter(move |l| self.resolve(l.concept) == idx).map(|l| (l.text.as_str(), l.lang))
    }

    fn hit(&self, hit: Option<&Hit>) -> Option<Normalised> {
        match hit {
            Some(Hit::One(i)) => {
                let label = &self.labels[*i as usize];
                let kind = if label.preferred { MatchKind::Exact } else { MatchKind::Synonym };
                Some(Normalised { concept: Some(self.resolve(label.concept)), kind })
            }
            _ => None,
        }
    }

    /// Map a term to a concept, or leave it free.
    pub fn normalise(&self, text: &str) -> Normalised {
        let folded = fold(text);
        if folded.is_empty() {
            return Normalised::FREE;
        }
        if let Some(n) = self.hit(self.exact.get(&folded)) {
            return n;
        }
        if let Some(n) = self.hit(self.keyed.get(&key(&folded))) {
            return n;
        }
        self.fuzzy(&folded).unwrap_or(Normalised::FREE)
    }

    /// Concepts named in a text (longest label first, exact or stemmed labels only, no fuzzy guesses), with how
    /// often each is named and the label it was named by. For extracting a call's skills and themes.
    pub fn scan(&self, text: &str, min_chars: usize) -> Vec<(ConceptIdx, usize, String)> {
        let folded = fold(text);
        let words: Vec<&str> = folded.split(' ').filter(|w| !w.is_empty()).collect();
        let mut found: Vec<(ConceptIdx, usize, String)> = Vec::new();
        let mut i = 0;
        while i < words.len() {
            let mut step = 1;
            for n in (1..=4).rev() {
                if i + n > words.len() {
                    continue;
                }
                let phrase = words[i..i + n].join(" ");
                if phrase.len() < min_chars {
                    continue;
                }
                let hit = match self.exact.get(&phrase) {
                    Some(h) => Some(*h),
                    None => self.keyed.get(&key(&phrase)).copied(),
                };
                if let Some(Hit::One(label)) = hit {
                    let entry = &self.labels[label as usize];
                    // In running text, jargon and abbreviations ("SoMe", "PR") and short or alternative one-word
                    // labels ("source", "events") are ordinary words far more often than skills.
                    let acronym = entry.text.chars().filter(|c| c.is_uppercase()).count() > 1;
                    if acronym || (n == 1 && phrase.len() < 7) {
                        continue;
                    }
                    let concept = self.resolve(entry.concept);
                    match found.iter_mut().find(|(c, _, _)| *c == concept) {
                        Some(f) => f.1 += 1,
                        None => found.push((concept, 1, entry.text.clone())),
                    }
                    step = n;
                    break;
                }
            }
            i += step;
        }
        found.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        found
    }

    /// Concepts directly above or below `idx` in the hierarchy (partial credit).
    pub fn neighbours(&self, idx: ConceptIdx) -> impl Iterator<Item = ConceptIdx> + '_ {
        let c = &self.concepts[idx as usize];
        c.broader.iter().chain(c.narrower.iter()).map(|&n| self.resolve(n)).filter(move |&n| n != idx)
    }

    /// The concepts that have `idx` among their neighbours: the inverse of [`Self::neighbours`] (the same set when
    /// the hierarchy is symmetric, as it is unless merges left it otherwise).
    pub fn neighbour_of(&self, idx: ConceptIdx) -> &[ConceptIdx] {
        self.neighbour_of.get(idx as usize).map_or(&[], Vec::as_slice)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONCEPTS: &str = "concept,kind,broader,pref_en\n\
        esco:gd,skill,esco:design,graphic design\n\
        esco:design,skill,,design\n\
        esco:3d,skill,,3D modeling\n\
        mm:theme:heritage,theme,,cultural heritage\n";
    const LABELS: &str = "concept,lang,kind,label\n\
        esco:gd,en,pref,graphic design\n\
        esco:gd,fr,pref,conception graphique\n\
        esco:gd,de,alt,Grafikdesign\n\
        esco:design,en,pref,design\n\
        esco:3d,en,pref,3D modeling\n\
        esco:3d,en,alt,3D modelling\n\
        esco:3d,fr,pref,modélisation 3D\n\
        esco:3d,de,alt,3D-Modellierung\n\
        mm:theme:heritage,en,pref,cultural heritage\n";

    pub(super) fn vocab() -> Vocabulary {
        Vocabulary::from_csv(&[CONCEPTS], &[LABELS]).unwrap()
    }

    #[test]
    fn exact_synonym_fuzzy_and_free() {
        let v = vocab();
        let gd = v.find("esco:gd").unwrap();
        assert_eq!(v.normalise("Graphic Design"), Normalised { concept: Some(gd), kind: MatchKind::Exact });
        assert_eq!(v.normalise("CONCEPTION GRAPHIQUE").concept, Some(gd));
        assert_eq!(v.normalise("grafikdesign").kind, MatchKind::Synonym);
        assert_eq!(v.normalise("design graphic").concept, Some(gd), "word order does not matter");
        assert_eq!(v.normalise("graphic designs").concept, Some(gd), "plurals");
        let typo = v.normalise("graphic desgin");
        assert_eq!(typo.concept, Some(gd));
        assert!(matches!(typo.kind, MatchKind::Fuzzy { similarity } if similarity > 0.9));
        let three_d = v.find("esco:3d").unwrap();
        for t in ["3D-Modellierung", "3D Modellierung", "modelisation 3d", "3D modeilng"] {
            assert_eq!(v.normalise(t).concept, Some(three_d), "{t}");
        }
        assert_eq!(v.normalise("beekeeping"), Normalised::FREE);
        assert_eq!(v.normalise("UX"), Normalised::FREE, "short terms are never fuzzy");
        assert_eq!(v.normalise("  "), Normalised::FREE);
    }

    /// Slips of the keyboard on every label: each letter dropped, doubled, swapped with the next.
    pub(super) fn slips(v: &Vocabulary, every: usize) -> Vec<String> {
        let mut out = Vec::new();
        for label in v.labels.iter().step_by(every) {
            let chars: Vec<char> = label.folded.chars().collect();
            for i in 1..chars.len() {
                let mut dropped = chars.clone();
                dropped.remove(i);
                let mut doubled = chars.clone();
                doubled.insert(i, chars[i]);
                let mut swapped = chars.clone();
                swapped.swap(i - 1, i);
                for c in [dropped, doubled, swapped] {
                    out.push(c.into_iter().collect());
                }
            }
        }
        out
    }
}
