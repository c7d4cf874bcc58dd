//! Concepts: their index, kind and labels by language, and how a term found its concept.

use serde::Serialize;

pub type ConceptIdx = u32;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ConceptKind {
    Skill,
    Theme,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    En,
    Fr,
    De,
    Lb,
}

impl Lang {
    pub const ALL: [Lang; 4] = [Lang::En, Lang::Fr, Lang::De, Lang::Lb];

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "en" => Some(Self::En),
            "fr" => Some(Self::Fr),
            "de" => Some(Self::De),
            "lb" => Some(Self::Lb),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::En => "en",
            Self::Fr => "fr",
            Self::De => "de",
            Self::Lb => "lb",
        }
    }

    pub(super) fn index(self) -> usize {
        self as usize
    }
}

#[derive(Debug, Clone)]
pub struct Concept {
    pub id: String,
    pub kind: ConceptKind,
    /// Preferred label per language (en, fr, de, lb), where there is one.
    pub preferred: [Option<String>; 4],
    pub broader: Vec<ConceptIdx>,
    pub narrower: Vec<ConceptIdx>,
    /// Set when staff merged this concept into another; lookups resolve to the survivor.
    pub merged_into: Option<ConceptIdx>,
    /// The cluster's sectors the concept belongs to (none: it cuts across them, like most themes).
    pub sectors: Vec<crate::domain::member::Sector>,
}

impl Concept {
    /// The label to show, in `lang` if there is one, else English, else any.
    pub fn label(&self, lang: Lang) -> &str {
        self.preferred[lang.index()]
            .as_deref()
            .or(self.preferred[0].as_deref())
            .or(self.preferred.iter().flatten().next().map(String::as_str))
            .unwrap_or(&self.id)
    }
}

/// How a term found its concept.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "match", rename_all = "lowercase")]
pub enum MatchKind {
    /// A preferred label (after case, accent, punctuation folding and light stemming).
    Exact,
    /// An alternative label or synonym.
    Synonym,
    /// Close to a label: a typo of it; `similarity` in 0..1.
    Fuzzy { similarity: f64 },
    /// A phrase that contains a label ("Storyboards erstellen", "photographie d'architecture"): the concept is what
    /// the phrase is about, with less certainty than a label (an offer so matched counts at a lower level).
    Partial,
    /// The caller named the concept (e.g. from the autocomplete).
    Chosen,
    /// No concept: the term is kept as typed.
    Free,
}

impl MatchKind {
    pub fn name(self) -> &'static str {
        match self {
            Self::Exact => "exact",
            Self::Synonym => "synonym",
            Self::Fuzzy { .. } => "fuzzy",
            Self::Partial => "partial",
            Self::Chosen => "chosen",
            Self::Free => "free",
        }
    }

    pub fn similarity(self) -> Option<f64> {
        match self {
            Self::Fuzzy { similarity } => Some(similarity),
            _ => None,
        }
    }

    pub fn from_stored(kind: &str, similarity: Option<f64>) -> Self {
        match kind {
            "exact" => Self::Exact,
            "synonym" => Self::Synonym,
            "fuzzy" => Self::Fuzzy { similarity: similarity.unwrap_or(0.0) },
            "partial" => Self::Partial,
            "chosen" => Self::Chosen,
            _ => Self::Free,
        }
    }
}

impl MatchKind {
    /// How sure the match is, to compare a stored match with a new one: a label or a choice, then a typo, then a
    /// phrase containing a label, then nothing.
    pub fn certainty(self) -> u8 {
        match self {
            Self::Exact | Self::Synonym | Self::Chosen => 3,
            Self::Fuzzy { .. } => 2,
            Self::Partial => 1,
            Self::Free => 0,
        }
    }
}

pub(super) fn resolve_in(concepts: &[Concept], mut idx: ConceptIdx) -> ConceptIdx {
    for _ in 0..16 {
        match concepts.get(idx as usize).and_then(|c| c.merged_into) {
            Some(next) => idx = next,
            None => break,
        }
    }
    idx
}
