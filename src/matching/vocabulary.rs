//! The vocabulary: concepts with a stable id (the ESCO URI where one exists, else `mm:…`), labels in English,
//! French, German and Luxembourgish, and the indexes that map what a member typed to a concept.
//!
//! Lookup order: the folded label itself; then a light-stemmed, word-order-free key; then a fuzzy match with
//! `strsim` over candidates that share character trigrams with the term (never a scan of every label). Anything
//! else stays a free term, text intact.

use std::collections::HashMap;

use serde::Serialize;

use crate::domain::fold::fold;

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

    fn index(self) -> usize {
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

/// How a term found its concept.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "match", rename_all = "lowercase")]
pub enum MatchKind {
    /// A preferred label (after case, accent, punctuation folding and light stemming).
    Exact,
    /// An alternative label or synonym.
    Synonym,
    /// Close to a label; `similarity` in 0..1.
    Fuzzy { similarity: f64 },
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
            "chosen" => Self::Chosen,
            _ => Self::Free,
        }
    }
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
/// Terms shorter than this (folded, in characters) are never matched fuzzily: "UX" is not "UI".
const FUZZY_MIN_CHARS: usize = 5;
/// How many trigram-sharing candidates get a full string comparison.
const FUZZY_CANDIDATES: usize = 24;

/// A suggestion of the autocomplete.
#[derive(Debug, Clone, Serialize)]
pub struct Suggestion {
    pub concept: String,
    pub label: String,
    pub lang: Lang,
    pub kind: ConceptKind,
    /// The label that matched what was typed.
    pub matched: String,
}

#[derive(Debug, Clone, Default)]
pub struct Vocabulary {
    concepts: Vec<Concept>,
    ids: HashMap<String, ConceptIdx>,
    labels: Vec<LabelEntry>,
    exact: HashMap<String, Hit>,
    keyed: HashMap<String, Hit>,
    grams: HashMap<u32, Vec<u32>>,
    /// How many distinct trigrams each label has (for the overlap ratio).
    gram_counts: Vec<u16>,
    /// (folded word-suffix of a label, label index), sorted: prefix search for the autocomplete.
    prefixes: Vec<(String, u32)>,
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

fn trigrams(folded: &str) -> Vec<u32> {
    let chars: Vec<char> = format!(" {folded} ").chars().collect();
    let mut out: Vec<u32> = chars
        .windows(3)
        .map(|w| {
            let mut h: u32 = 2_166_136_261;
            for c in w {
                h = (h ^ (*c as u32)).wrapping_mul(16_777_619);
            }
            h
        })
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// The similarity used for fuzzy matching: the mean of Jaro-Winkler (kind to typos late in a word) and normalised
/// Damerau-Levenshtein (kind to transpositions, strict on length), on folded text.
pub fn similarity(a: &str, b: &str) -> f64 {
    (strsim::jaro_winkler(a, b) + strsim::normalized_damerau_levenshtein(a, b)) / 2.0
}

/// One row of a concepts file.
#[derive(Debug, Clone, serde::Deserialize)]
struct ConceptRow {
    concept: String,
    kind: String,
    #[serde(default)]
    broader: String,
}

/// One row of a labels file.
#[derive(Debug, Clone, serde::Deserialize)]
struct LabelRow {
    concept: String,
    lang: String,
    kind: String,
    label: String,
}

const ESCO_CONCEPTS: &str = include_str!("../../assets/vocabulary/esco_concepts.csv");
const ESCO_LABELS: &str = include_str!("../../assets/vocabulary/esco_labels.csv");
const OWN_CONCEPTS: &str = include_str!("../../assets/vocabulary/own_concepts.csv");
const OWN_LABELS: &str = include_str!("../../assets/vocabulary/own_labels.csv");

static SHIPPED: std::sync::LazyLock<Result<std::sync::Arc<Vocabulary>, String>> = std::sync::LazyLock::new(|| {
    Vocabulary::from_csv(&[ESCO_CONCEPTS, OWN_CONCEPTS], &[ESCO_LABELS, OWN_LABELS])
        .map(std::sync::Arc::new)
        .map_err(|e| format!("the shipped vocabulary cannot be read: {e}"))
});

impl Vocabulary {
    /// The vocabulary the service ships: the ESCO subset and our own layer.
    pub fn shipped() -> anyhow::Result<Self> {
        Ok((*Self::shipped_shared()?).clone())
    }

    /// The shipped vocabulary, read once per process and shared.
    pub fn shipped_shared() -> anyhow::Result<std::sync::Arc<Self>> {
        SHIPPED.as_ref().map(std::sync::Arc::clone).map_err(|e| anyhow::anyhow!("{e}"))
    }

    /// Build from concept files (`concept,kind,broader,…`) and label files (`concept,lang,kind,label`).
    pub fn from_csv(concept_files: &[&str], label_files: &[&str]) -> anyhow::Result<Self> {
        let mut v = Self { fuzzy_threshold: DEFAULT_FUZZY_THRESHOLD, ..Self::default() };
        let mut broader: Vec<(ConceptIdx, String)> = Vec::new();
        for text in concept_files {
            let mut reader = csv::Reader::from_reader(text.as_bytes());
            for row in reader.deserialize::<ConceptRow>() {
                let row = row?;
                let kind = if row.kind == "theme" { ConceptKind::Theme } else { ConceptKind::Skill };
                if v.ids.contains_key(&row.concept) {
                    continue;
                }
                let idx = v.push_concept(row.concept.clone(), kind);
                for b in row.broader.split_whitespace() {
                    broader.push((idx, b.to_owned()));
                }
            }
        }
        for (idx, b) in broader {
            if let Some(&parent) = v.ids.get(&b)
                && parent != idx
            {
                v.concepts[idx as usize].broader.push(parent);
                v.concepts[parent as usize].narrower.push(idx);
            }
        }
        for text in label_files {
            let mut reader = csv::Reader::from_reader(text.as_bytes());
            for row in reader.deserialize::<LabelRow>() {
                let row = row?;
                let (Some(&idx), Some(lang)) = (v.ids.get(&row.concept), Lang::parse(&row.lang)) else { continue };
                v.push_label(idx, lang, &row.label, row.kind == "pref");
            }
        }
        v.reindex();
        Ok(v)
    }

    fn push_concept(&mut self, id: String, kind: ConceptKind) -> ConceptIdx {
        let idx = ConceptIdx::try_from(self.concepts.len()).unwrap_or(ConceptIdx::MAX);
        self.ids.insert(id.clone(), idx);
        self.concepts.push(Concept {
            id,
            kind,
            preferred: [None, None, None, None],
            broader: Vec::new(),
            narrower: Vec::new(),
            merged_into: None,
        });
        idx
    }

    fn push_label(&mut self, concept: ConceptIdx, lang: Lang, text: &str, preferred: bool) {
        let text = text.trim();
        let folded = fold(text);
        if folded.is_empty() {
            return;
        }
        let c = &mut self.concepts[concept as usize];
        // The label shown in a language is its preferred label, or for German and Luxembourgish (which ESCO lacks)
        // the first one listed. How a term matched still follows the row: `pref` is exact, anything else a synonym.
        let shown = preferred || (matches!(lang, Lang::De | Lang::Lb) && c.preferred[lang.index()].is_none());
        if shown && (preferred || c.preferred[lang.index()].is_none()) {
            c.preferred[lang.index()] = Some(text.to_owned());
        }
        self.labels.push(LabelEntry { text: text.to_owned(), folded, concept, lang, preferred });
    }

    /// Rebuild the lookup indexes from the labels.
    fn reindex(&mut self) {
        self.exact.clear();
        self.keyed.clear();
        self.grams.clear();
        self.gram_counts.clear();
        self.prefixes.clear();
        for (i, label) in self.labels.iter().enumerate() {
            let i = u32::try_from(i).unwrap_or(u32::MAX);
            let concept = self.resolve(label.concept);
            for (map, k) in [(&mut self.exact, label.folded.clone()), (&mut self.keyed, key(&label.folded))] {
                let entry = map.entry(k).or_insert(Hit::One(i));
                if let Hit::One(other) = *entry
                    && resolve_in(&self.concepts, self.labels[other as usize].concept) != concept
                {
                    *entry = Hit::Ambiguous;
                }
            }
            let grams = trigrams(&label.folded);
            self.gram_counts.push(u16::try_from(grams.len()).unwrap_or(u16::MAX));
            for g in grams {
                self.grams.entry(g).or_default().push(i);
            }
            let mut start = 0;
            for word in label.folded.split(' ') {
                self.prefixes.push((label.folded[start..].to_owned(), i));
                start += word.len() + 1;
            }
        }
        self.prefixes.sort_unstable();
    }

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

    /// Candidates share trigrams with the term; only the best-sharing few are compared in full.
    fn fuzzy(&self, folded: &str) -> Option<Normalised> {
        if folded.chars().count() < FUZZY_MIN_CHARS {
            return None;
        }
        let grams = trigrams(folded);
        // Counting in a flat array (one slot a label) is an order of magnitude faster than a hash map here.
        let mut counts = vec![0_u16; self.labels.len()];
        let mut touched: Vec<u32> = Vec::with_capacity(1024);
        for g in &grams {
            if let Some(list) = self.grams.get(g) {
                for &label in list {
                    let c = &mut counts[label as usize];
                    if *c == 0 {
                        touched.push(label);
                    }
                    *c += 1;
                }
            }
        }
        // Rank by the Dice overlap of trigram sets, so that long labels sharing many trigrams by sheer length do not
        // crowd out the short label a typo came from.
        let q = grams.len() as f64;
        let mut candidates: Vec<(u32, u32)> = touched
            .into_iter()
            .filter_map(|label| {
                let n = counts[label as usize];
                let dice = 2.0 * f64::from(n) / (q + f64::from(self.gram_counts[label as usize]));
                (dice >= 0.3).then_some(((dice * 10_000.0) as u32, label))
            })
            .collect();
        let keep = FUZZY_CANDIDATES.min(candidates.len());
        if keep == 0 {
            return None;
        }
        candidates.select_nth_unstable_by(keep - 1, |a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        let mut best: Option<(f64, ConceptIdx)> = None;
        let mut runner_up: Option<(f64, ConceptIdx)> = None;
        for &(_, label) in &candidates[..keep] {
            let entry = &self.labels[label as usize];
            let sim = similarity(folded, &entry.folded);
            let concept = self.resolve(entry.concept);
            match best {
                Some((b, c)) if sim > b => {
                    if c != concept {
                        runner_up = Some((b, c));
                    }
                    best = Some((sim, concept));
                }
                Some((b, c)) if c != concept && runner_up.is_none_or(|(r, _)| sim > r) && sim <= b => {
                    runner_up = Some((sim, concept));
                }
                None => best = Some((sim, concept)),
                _ => {}
            }
        }
        let (sim, concept) = best?;
        // Two different concepts almost equally close: too uncertain to pick one.
        if sim < self.fuzzy_threshold || runner_up.is_some_and(|(r, _)| sim - r < 0.01) {
            return None;
        }
        Some(Normalised {
            concept: Some(concept),
            kind: MatchKind::Fuzzy { similarity: (sim * 1000.0).round() / 1000.0 },
        })
    }

    /// Autocomplete: concepts whose labels start (or have a word that starts) with `q`, best first: whole-label
    /// prefix before word prefix, the requested language first, preferred labels first, shorter first. Falls back to
    /// the fuzzy match for a mistyped word.
    pub fn search(&self, q: &str, lang: Option<Lang>, limit: usize) -> Vec<Suggestion> {
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
        let mut out: Vec<Suggestion> = Vec::new();
        for (_, label) in scored {
            let entry = &self.labels[label as usize];
            let idx = self.resolve(entry.concept);
            let concept = &self.concepts[idx as usize];
            if out.iter().any(|s| s.concept == concept.id) {
                continue;
            }
            let show = lang.unwrap_or(entry.lang);
            out.push(Suggestion {
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
            out.push(Suggestion {
                concept: concept.id.clone(),
                label: concept.label(show).to_owned(),
                lang: show,
                kind: concept.kind,
                matched: concept.label(show).to_owned(),
            });
        }
        out
    }

    /// Apply stored staff edits in one go (labels, then merges), reindexing once.
    pub fn apply_edits(&mut self, labels: &[(String, Lang, String)], merges: &[(String, String)]) {
        for (id, lang, text) in labels {
            if let Some(idx) = self.find(id) {
                self.push_label(idx, *lang, text, false);
            }
        }
        for (from, into) in merges {
            if let (Some(f), Some(i)) = (self.find(from), self.find(into))
                && f != i
            {
                self.merge_unindexed(f, i);
            }
        }
        self.reindex();
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

    /// Add a label (staff: "add a synonym"). Returns false if the label already names another concept.
    pub fn add_label(&mut self, concept: ConceptIdx, lang: Lang, text: &str) -> bool {
        let folded = fold(text);
        let concept = self.resolve(concept);
        if let Some(Hit::One(i)) = self.exact.get(&folded)
            && self.resolve(self.labels[*i as usize].concept) != concept
        {
            return false;
        }
        self.push_label(concept, lang, text, false);
        self.reindex();
        true
    }

    /// Merge `from` into `into` (staff): `from`'s id stays as an alias, its labels now name `into`.
    pub fn merge(&mut self, from: ConceptIdx, into: ConceptIdx) -> bool {
        let (from, into) = (self.resolve(from), self.resolve(into));
        if from == into {
            return false;
        }
        self.merge_unindexed(from, into);
        self.reindex();
        true
    }

    fn merge_unindexed(&mut self, from: ConceptIdx, into: ConceptIdx) {
        self.concepts[from as usize].merged_into = Some(into);
        let narrower = std::mem::take(&mut self.concepts[from as usize].narrower);
        let broader = std::mem::take(&mut self.concepts[from as usize].broader);
        let survivor = &mut self.concepts[into as usize];
        survivor.narrower.extend(narrower.into_iter().filter(|c| *c != into));
        survivor.broader.extend(broader.into_iter().filter(|c| *c != into));
        for i in 0..4 {
            if self.concepts[into as usize].preferred[i].is_none() {
                self.concepts[into as usize].preferred[i] = self.concepts[from as usize].preferred[i].clone();
            }
        }
    }

    /// Concepts directly above or below `idx` in the hierarchy (partial credit).
    pub fn neighbours(&self, idx: ConceptIdx) -> impl Iterator<Item = ConceptIdx> + '_ {
        let c = &self.concepts[idx as usize];
        c.broader.iter().chain(c.narrower.iter()).map(|&n| self.resolve(n)).filter(move |&n| n != idx)
    }
}

fn resolve_in(concepts: &[Concept], mut idx: ConceptIdx) -> ConceptIdx {
    for _ in 0..16 {
        match concepts.get(idx as usize).and_then(|c| c.merged_into) {
            Some(next) => idx = next,
            None => break,
        }
    }
    idx
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

    fn vocab() -> Vocabulary {
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

    #[test]
    fn synonyms_and_merges() {
        let mut v = vocab();
        let gd = v.find("esco:gd").unwrap();
        assert_eq!(v.normalise("infographie").concept, None);
        assert!(v.add_label(gd, Lang::Fr, "infographie"));
        assert_eq!(v.normalise("infographie").concept, Some(gd));
        assert!(!v.add_label(gd, Lang::En, "3D modeling"), "a label names one concept");
        let design = v.find("esco:design").unwrap();
        assert!(v.merge(gd, design));
        assert_eq!(v.find("esco:gd"), Some(design), "the old id stays as an alias");
        assert_eq!(v.normalise("conception graphique").concept, Some(design));
        assert!(v.neighbours(design).all(|n| n != design));
    }
}
