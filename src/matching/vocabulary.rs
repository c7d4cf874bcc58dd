//! The vocabulary: concepts with a stable id (the ESCO URI where one exists, else `mm:…`), labels in English,
//! French, German and Luxembourgish, and the indexes that map what a member typed to a concept.
//!
//! Lookup order: the folded label itself; then a light-stemmed, word-order-free key; then a fuzzy match with
//! `strsim` over candidates that share character trigrams with the term (never a scan of every label). Anything
//! else stays a free term, text intact.

use std::cell::RefCell;
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
/// Two concepts whose similarities are closer than this are too close to call.
const FUZZY_MARGIN: f64 = 0.01;

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

/// A text's length in characters (saturating at `u16::MAX`).
fn chars_u16(text: &str) -> u16 {
    u16::try_from(text.chars().count()).unwrap_or(u16::MAX)
}

/// The label lengths (in characters, inclusive) that can come within `cut` of a term of `len` characters: the
/// similarity is at most the mean of 1 (Jaro-Winkler) and `1 - |len - l| / max(len, l)` (an edit distance is at least
/// the difference in length), so `l` must be within a factor `2·cut - 1` of `len`.
fn length_reach(len: usize, cut: f64) -> (u16, u16) {
    let r = 2.0 * cut - 1.0;
    if r <= 0.0 || len == 0 {
        return (0, u16::MAX);
    }
    let len = len as f64;
    // Rounded outwards, with a margin for rounding in the bound itself.
    let lo = (r * len - 1e-6).ceil().max(0.0);
    let hi = (len / r + 1e-6).floor().min(f64::from(u16::MAX));
    (lo as u16, hi as u16)
}

fn trigrams(folded: &str) -> Vec<u32> {
    let mut out = Vec::new();
    trigrams_into(folded, &mut Vec::new(), &mut out);
    out
}

/// The distinct trigram hashes of ` folded ` (sorted), into `out`; `chars` is a buffer.
fn trigrams_into(folded: &str, chars: &mut Vec<char>, out: &mut Vec<u32>) {
    chars.clear();
    chars.push(' ');
    chars.extend(folded.chars());
    chars.push(' ');
    out.clear();
    out.extend(chars.windows(3).map(|w| {
        let mut h: u32 = 2_166_136_261;
        for c in w {
            h = (h ^ (*c as u32)).wrapping_mul(16_777_619);
        }
        h
    }));
    out.sort_unstable();
    out.dedup();
}

/// The similarity used for fuzzy matching: the mean of Jaro-Winkler (kind to typos late in a word) and normalised
/// Damerau-Levenshtein (kind to transpositions, strict on length), on folded text.
pub fn similarity(a: &str, b: &str) -> f64 {
    (strsim::jaro_winkler(a, b) + strsim::normalized_damerau_levenshtein(a, b)) / 2.0
}

/// Reused buffers of a fuzzy lookup.
#[derive(Debug, Default)]
struct FuzzyScratch {
    chars: Vec<char>,
    grams: Vec<u32>,
    counts: Vec<u16>,
    candidates: Vec<(u32, u32)>,
    compare: Compare,
}

thread_local! {
    static FUZZY_SCRATCH: RefCell<FuzzyScratch> = RefCell::new(FuzzyScratch::default());
}

/// A character of a compared string: bytes when both strings are ASCII (most folded labels are), else `char`s.
trait Sym: Copy + Eq {
    fn code(self) -> u32;
    /// The character as a byte, if it is one (always, for bytes).
    fn small(self) -> Option<u8>;
}

impl Sym for u8 {
    fn code(self) -> u32 {
        u32::from(self)
    }

    fn small(self) -> Option<u8> {
        Some(self)
    }
}

impl Sym for char {
    fn code(self) -> u32 {
        self as u32
    }

    fn small(self) -> Option<u8> {
        u8::try_from(self as u32).ok()
    }
}

/// [`similarity`] without allocating: strsim's Jaro-Winkler and Damerau-Levenshtein (the same algorithms, step for
/// step, so the same figures) over reused buffers.
#[derive(Debug)]
struct Compare {
    a: Vec<char>,
    b: Vec<char>,
    flags: Vec<bool>,
    fr: Vec<isize>,
    r1: Vec<isize>,
    r: Vec<isize>,
    /// Last row in which each character (below 256) was seen; -1 for none.
    last_row: Box<[isize; 256]>,
    /// The same for the other characters.
    last_row_wide: Vec<(u32, isize)>,
    /// Jaro on strings of at most 64 characters: the positions of each character (below 256) in the second string,
    /// as bits (zero between comparisons).
    positions: Box<[u64; 256]>,
    /// Character counts of one string less the other's, by character below 256 (zero between comparisons).
    bag: Vec<isize>,
}

impl Default for Compare {
    fn default() -> Self {
        Self {
            a: Vec::new(),
            b: Vec::new(),
            flags: Vec::new(),
            fr: Vec::new(),
            r1: Vec::new(),
            r: Vec::new(),
            last_row: Box::new([-1; 256]),
            positions: Box::new([0; 256]),
            last_row_wide: Vec::new(),
            bag: vec![0; 256],
        }
    }
}

impl Compare {
    /// `similarity(a, b)`, or `None` when it is certainly below `cut` (the edit distance is then not computed).
    fn similarity_above(&mut self, a: &str, b: &str, cut: f64) -> Option<f64> {
        if a.is_ascii() && b.is_ascii() {
            return self.similarity_of(a.as_bytes(), b.as_bytes(), cut);
        }
        let (mut ca, mut cb) = (std::mem::take(&mut self.a), std::mem::take(&mut self.b));
        ca.clear();
        ca.extend(a.chars());
        cb.clear();
        cb.extend(b.chars());
        let sim = self.similarity_of(&ca, &cb, cut);
        (self.a, self.b) = (ca, cb);
        sim
    }

    fn similarity_of<T: Sym>(&mut self, a: &[T], b: &[T], cut: f64) -> Option<f64> {
        if a.is_empty() && b.is_empty() {
            return Some(1.0);
        }
        let long = a.len().max(b.len());
        let (common, surplus) = self.bags(a, b).unwrap_or((a.len().min(b.len()), long - a.len().min(b.len())));
        // An edit changes at most one character's surplus on either side: the distance is at least the larger surplus.
        let levenshtein_bound = 1.0 - surplus as f64 / long as f64;
        // Jaro matches pairs of equal characters: at best all the common ones, in order. Winkler adds at most 0.4 of
        // the rest.
        let common = common as f64;
        let jaro_bound = (common / a.len() as f64 + common / b.len() as f64 + 1.0) / 3.0;
        if (jaro_bound + 0.4 * (1.0 - jaro_bound) + levenshtein_bound) / 2.0 < cut {
            return None;
        }
        let jw = self.jaro_winkler(a, b);
        if (jw + levenshtein_bound) / 2.0 < cut {
            return None;
        }
        let distance = self.damerau_levenshtein(a, b);
        let ndl = 1.0 - (distance as f64) / (a.len().max(b.len()) as f64);
        Some((jw + ndl) / 2.0)
    }

    /// The characters `a` and `b` have in common (as multisets), and the larger of what either has over the other;
    /// `None` if a character is beyond the table.
    fn bags<T: Sym>(&mut self, a: &[T], b: &[T]) -> Option<(usize, usize)> {
        if !a.iter().chain(b).all(|x| (x.code() as usize) < self.bag.len()) {
            return None;
        }
        for x in a {
            self.bag[x.code() as usize] += 1;
        }
        for x in b {
            self.bag[x.code() as usize] -= 1;
        }
        let (mut over_a, mut over_b) = (0_usize, 0_usize);
        for x in a.iter().chain(b) {
            let d = std::mem::take(&mut self.bag[x.code() as usize]);
            over_a += usize::try_from(d).unwrap_or(0);
            over_b += usize::try_from(-d).unwrap_or(0);
        }
        Some((a.len() - over_a, over_a.max(over_b)))
    }

    /// strsim's `generic_jaro`.
    fn jaro<T: Sym>(&mut self, a: &[T], b: &[T]) -> f64 {
        let (a_len, b_len) = (a.len(), b.len());
        if a_len == 0 && b_len == 0 {
            return 1.0;
        } else if a_len == 0 || b_len == 0 {
            return 0.0;
        }
        let search_range = (a_len.max(b_len) / 2).saturating_sub(1);
        if a_len <= 64 && b_len <= 64 && a.iter().chain(b).all(|x| x.small().is_some()) {
            return self.jaro_bits(a, b, search_range);
        }
        let mut flags = std::mem::take(&mut self.flags);
        flags.clear();
        flags.resize(a_len + b_len, false);
        let (a_flags, b_flags) = flags.split_at_mut(a_len);
        let mut matches = 0_usize;
        for (i, x) in a.iter().enumerate() {
            let lo = i.saturating_sub(search_range);
            let hi = b_len.min(i + search_range + 1);
            for j in lo..hi {
                if *x == b[j] && !b_flags[j] {
                    a_flags[i] = true;
                    b_flags[j] = true;
                    matches += 1;
                    break;
                }
            }
        }
        if matches == 0 {
            self.flags = flags;
            return 0.0;
        }
        let mut transpositions = 0_usize;
        let mut k = 0;
        for (i, x) in a.iter().enumerate() {
            if a_flags[i] {
                while !b_flags[k] {
                    k += 1;
                }
                if *x != b[k] {
                    transpositions += 1;
                }
                k += 1;
            }
        }
        transpositions /= 2;
        self.flags = flags;
        ((matches as f64 / a_len as f64)
            + (matches as f64 / b_len as f64)
            + ((matches - transpositions) as f64 / matches as f64))
            / 3.0
    }

    /// [`Self::jaro`] on short strings of bytes, with the same matches: each character of `a` in turn takes the
    /// first unmatched equal character of `b` within the window (the lowest set bit of a mask, not a scan).
    fn jaro_bits<T: Sym>(&mut self, a: &[T], b: &[T], search_range: usize) -> f64 {
        let (a_len, b_len) = (a.len(), b.len());
        let byte = |x: &T| usize::from(x.small().unwrap_or(0));
        for (j, y) in b.iter().enumerate() {
            self.positions[byte(y)] |= 1 << j;
        }
        let below = |n: usize| if n >= 64 { u64::MAX } else { (1_u64 << n) - 1 };
        let (mut a_matched, mut b_matched, mut matches) = (0_u64, 0_u64, 0_usize);
        for (i, x) in a.iter().enumerate() {
            let lo = i.saturating_sub(search_range);
            let hi = b_len.min(i + search_range + 1);
            if lo >= hi {
                continue;
            }
            let free = self.positions[byte(x)] & below(hi) & !below(lo) & !b_matched;
            if free != 0 {
                b_matched |= free & free.wrapping_neg();
                a_matched |= 1 << i;
                matches += 1;
            }
        }
        for y in b {
            self.positions[byte(y)] = 0;
        }
        if matches == 0 {
            return 0.0;
        }
        let mut transpositions = 0_usize;
        let (mut am, mut bm) = (a_matched, b_matched);
        while am != 0 {
            let (i, j) = (am.trailing_zeros() as usize, bm.trailing_zeros() as usize);
            if a[i] != b[j] {
                transpositions += 1;
            }
            am &= am - 1;
            bm &= bm - 1;
        }
        transpositions /= 2;
        ((matches as f64 / a_len as f64)
            + (matches as f64 / b_len as f64)
            + ((matches - transpositions) as f64 / matches as f64))
            / 3.0
    }

    /// strsim's `generic_jaro_winkler`.
    fn jaro_winkler<T: Sym>(&mut self, a: &[T], b: &[T]) -> f64 {
        let sim = self.jaro(a, b);
        if sim > 0.7 {
            let prefix_length = a.iter().take(4).zip(b).take_while(|(x, y)| x == y).count();
            sim + 0.1 * prefix_length as f64 * (1.0 - sim)
        } else {
            sim
        }
    }

    fn last_row<T: Sym>(&self, c: T) -> isize {
        match c.small() {
            Some(b) => self.last_row[usize::from(b)],
            None => self.last_row_wide.iter().find(|(x, _)| *x == c.code()).map_or(-1, |(_, row)| *row),
        }
    }

    fn set_last_row<T: Sym>(&mut self, c: T, row: isize) {
        match c.small() {
            Some(b) => self.last_row[usize::from(b)] = row,
            None => match self.last_row_wide.iter_mut().find(|(x, _)| *x == c.code()) {
                Some(entry) => entry.1 = row,
                None => self.last_row_wide.push((c.code(), row)),
            },
        }
    }

    /// strsim's `damerau_levenshtein` (Zhao and Sahni's linear-space algorithm), step for step.
    fn damerau_levenshtein<T: Sym>(&mut self, s1: &[T], s2: &[T]) -> usize {
        let (len1, len2) = (s1.len(), s2.len());
        let max_val = len1.max(len2) as isize + 1;
        let size = len2 + 2;
        // Out of `self` while in use: the loop then keeps its pointers in registers.
        let (mut fr, mut r1, mut r) =
            (std::mem::take(&mut self.fr), std::mem::take(&mut self.r1), std::mem::take(&mut self.r));
        fr.clear();
        fr.resize(size, max_val);
        r1.clear();
        r1.resize(size, max_val);
        r.clear();
        r.push(max_val);
        r.extend(0..(size - 1) as isize);
        for (i, &ch1) in s1.iter().enumerate() {
            let i = i as isize + 1;
            std::mem::swap(&mut r, &mut r1);
            let (r, r1, fr) = (&mut r[..size], &r1[..size], &mut fr[..size]);
            let mut last_col_id: isize = -1;
            let mut last_i2l1 = r[1];
            r[1] = i;
            let mut t = max_val;
            for (j, &ch2) in s2.iter().enumerate() {
                let j = j + 1;
                let diag = r1[j] + isize::from(ch1 != ch2);
                let left = r[j] + 1;
                let up = r1[j + 1] + 1;
                let mut temp = diag.min(left.min(up));
                if ch1 == ch2 {
                    last_col_id = j as isize;
                    fr[j + 1] = r1[j - 1];
                    t = last_i2l1;
                } else {
                    let k = self.last_row(ch2);
                    let l = last_col_id;
                    if j as isize - l == 1 {
                        temp = temp.min(fr[j + 1] + (i - k));
                    } else if i - k == 1 {
                        temp = temp.min(t + (j as isize - l));
                    }
                }
                last_i2l1 = r[j + 1];
                r[j + 1] = temp;
            }
            self.set_last_row(ch1, i);
        }
        for &ch in s1 {
            self.set_last_row(ch, -1);
        }
        self.last_row_wide.clear();
        let distance = r[len2 + 1] as usize;
        (self.fr, self.r1, self.r) = (fr, r1, r);
        distance
    }
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
        let mut by_len: Vec<(u16, u32)> = (0..self.labels.len())
            .filter_map(|i| Some((chars_u16(&self.labels[i].folded), u32::try_from(i).ok()?)))
            .collect();
        by_len.sort_unstable();
        (self.rank_chars, self.by_len) = by_len.into_iter().unzip();
        for (rank, &i) in self.by_len.iter().enumerate() {
            let rank = u32::try_from(rank).unwrap_or(u32::MAX);
            let grams = trigrams(&self.labels[i as usize].folded);
            self.gram_counts.push(u16::try_from(grams.len()).unwrap_or(u16::MAX));
            for g in grams {
                self.grams.entry(g).or_default().push(rank);
            }
        }
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
            let mut start = 0;
            for word in label.folded.split(' ') {
                self.prefixes.push((label.folded[start..].to_owned(), i));
                start += word.len() + 1;
            }
        }
        self.prefixes.sort_unstable();
        self.neighbour_of = vec![Vec::new(); self.concepts.len()];
        for i in 0..self.concepts.len() {
            let Ok(c) = ConceptIdx::try_from(i) else { break };
            let around: Vec<ConceptIdx> = self.neighbours(c).collect();
            for n in around {
                if let Some(list) = self.neighbour_of.get_mut(n as usize) {
                    list.push(c);
                }
            }
        }
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

    /// Candidates share trigrams with the term and have a length that can reach the threshold; only the best-sharing
    /// few are compared in full.
    fn fuzzy(&self, folded: &str) -> Option<Normalised> {
        let len = folded.chars().count();
        if len < FUZZY_MIN_CHARS {
            return None;
        }
        // Buffers reused from term to term (taken out while in use).
        let mut sc = FUZZY_SCRATCH.with(RefCell::take);
        let found = self.fuzzy_in(folded, len, &mut sc);
        FUZZY_SCRATCH.with(|s| s.replace(sc));
        found
    }

    /// The similarity a candidate must reach to change the outcome: within the runner-up margin of the threshold
    /// (neither the best, which must reach the threshold, nor a runner-up that could make it ambiguous, is below).
    fn fuzzy_cut(&self) -> f64 {
        self.fuzzy_threshold - FUZZY_MARGIN - 1e-9
    }

    /// The label lengths (in characters, inclusive) a fuzzy lookup of a term of `len` characters considers.
    pub fn fuzzy_length_reach(&self, len: usize) -> (u16, u16) {
        length_reach(len, self.fuzzy_cut())
    }

    /// The ranks of the labels whose length can reach the cut for a term of `len` characters.
    fn ranks_within_reach(&self, len: usize) -> std::ops::Range<usize> {
        let (lo, hi) = self.fuzzy_length_reach(len);
        self.rank_chars.partition_point(|&n| n < lo)..self.rank_chars.partition_point(|&n| n <= hi)
    }

    fn fuzzy_in(&self, folded: &str, len: usize, sc: &mut FuzzyScratch) -> Option<Normalised> {
        trigrams_into(folded, &mut sc.chars, &mut sc.grams);
        let reach = self.ranks_within_reach(len);
        let (lo, hi) = (u32::try_from(reach.start).unwrap_or(u32::MAX), u32::try_from(reach.end).unwrap_or(u32::MAX));
        // Counting in a flat array (one slot a label within reach) is an order of magnitude faster than a hash map.
        if sc.counts.len() < reach.len() {
            sc.counts.resize(reach.len(), 0);
        }
        // A local slice keeps its bounds in registers through the loop (each increment could alias `sc`'s fields).
        let counts = &mut sc.counts[..reach.len()];
        for g in &sc.grams {
            if let Some(list) = self.grams.get(g) {
                let from = list.partition_point(|&r| r < lo);
                let to = from + list[from..].partition_point(|&r| r < hi);
                for &rank in &list[from..to] {
                    if let Some(c) = counts.get_mut((rank - lo) as usize) {
                        *c += 1;
                    }
                }
            }
        }
        // Rank by the Dice overlap of trigram sets, so that long labels sharing many trigrams by sheer length do not
        // crowd out the short label a typo came from. Dice ≥ 0.3 is 20·n ≥ 3·(q + g) in integers (a ratio of small
        // integers is never within rounding of 0.3 unless equal to it), which spares a division for most labels.
        let q = sc.grams.len();
        sc.candidates.clear();
        // Every label within reach, a block at a time (a branch on "touched" would be mispredicted half the time; a
        // block with no candidate, the common case, is one branch).
        const BLOCK: usize = 16;
        let q3 = u32::try_from(3 * q).unwrap_or(u32::MAX);
        let gram_counts = &self.gram_counts[reach.clone()];
        for (b, (ns, gs)) in counts.chunks(BLOCK).zip(gram_counts.chunks(BLOCK)).enumerate() {
            let hit = ns.iter().zip(gs).fold(false, |hit, (n, g)| hit | (20 * u32::from(*n) >= q3 + 3 * u32::from(*g)));
            if !hit {
                continue;
            }
            for (i, (&shared, &g)) in ns.iter().zip(gs).enumerate() {
                if 20 * u32::from(shared) >= q3 + 3 * u32::from(g) {
                    let dice = 2.0 * f64::from(shared) / (q as f64 + f64::from(g));
                    let label = self.by_len[reach.start + b * BLOCK + i];
                    sc.candidates.push(((dice * 10_000.0) as u32, label));
                }
            }
        }
        counts.fill(0);
        let keep = FUZZY_CANDIDATES.min(sc.candidates.len());
        if keep == 0 {
            return None;
        }
        let by_overlap = |a: &(u32, u32), b: &(u32, u32)| b.0.cmp(&a.0).then(a.1.cmp(&b.1));
        sc.candidates.select_nth_unstable_by(keep - 1, by_overlap);
        // The best-sharing first: the best match usually comes early and raises the cut for the rest.
        sc.candidates[..keep].sort_unstable_by(by_overlap);
        let mut best: Option<(f64, ConceptIdx)> = None;
        let mut runner_up: Option<(f64, ConceptIdx)> = None;
        for &(_, label) in &sc.candidates[..keep] {
            let entry = &self.labels[label as usize];
            // Below the best by more than the margin, a candidate can neither win nor make the best ambiguous.
            let cut = best.map_or(self.fuzzy_cut(), |(b, _)| self.fuzzy_cut().max(b - FUZZY_MARGIN - 1e-9));
            let Some(sim) = sc.compare.similarity_above(folded, &entry.folded, cut) else { continue };
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
        if sim < self.fuzzy_threshold || runner_up.is_some_and(|(r, _)| sim - r < FUZZY_MARGIN) {
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

    /// The concepts that have `idx` among their neighbours: the inverse of [`Self::neighbours`] (the same set when
    /// the hierarchy is symmetric, as it is unless merges left it otherwise).
    pub fn neighbour_of(&self, idx: ConceptIdx) -> &[ConceptIdx] {
        self.neighbour_of.get(idx as usize).map_or(&[], Vec::as_slice)
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

    /// The fuzzy lookup, written plainly: every label sharing a trigram is counted, those within reach by length
    /// and with a Dice overlap of at least 0.3 are candidates, the 24 best by overlap are compared with strsim's
    /// `similarity`, in the order the counting met them; the best wins unless below the threshold or a different
    /// concept is within the margin.
    fn fuzzy_reference(v: &Vocabulary, folded: &str) -> Option<Normalised> {
        let len = folded.chars().count();
        if len < FUZZY_MIN_CHARS {
            return None;
        }
        let (lo, hi) = length_reach(len, v.fuzzy_threshold - FUZZY_MARGIN - 1e-9);
        let grams = trigrams(folded);
        let mut counts = vec![0_u16; v.labels.len()];
        let mut touched: Vec<u32> = Vec::new();
        for g in &grams {
            for &rank in v.grams.get(g).map_or(&[][..], Vec::as_slice) {
                if counts[rank as usize] == 0 {
                    touched.push(rank);
                }
                counts[rank as usize] += 1;
            }
        }
        let q = grams.len() as f64;
        let mut candidates: Vec<(u32, u32)> = touched
            .into_iter()
            .filter_map(|rank| {
                let label = v.by_len[rank as usize];
                let chars = chars_u16(&v.labels[label as usize].folded);
                let dice = 2.0 * f64::from(counts[rank as usize]) / (q + f64::from(v.gram_counts[rank as usize]));
                (dice >= 0.3 && (lo..=hi).contains(&chars)).then_some(((dice * 10_000.0) as u32, label))
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
            let entry = &v.labels[label as usize];
            let sim = similarity(folded, &entry.folded);
            let concept = v.resolve(entry.concept);
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
        if sim < v.fuzzy_threshold || runner_up.is_some_and(|(r, _)| sim - r < 0.01) {
            return None;
        }
        Some(Normalised {
            concept: Some(concept),
            kind: MatchKind::Fuzzy { similarity: (sim * 1000.0).round() / 1000.0 },
        })
    }

    /// Slips of the keyboard on every label: each letter dropped, doubled, swapped with the next.
    fn slips(v: &Vocabulary, every: usize) -> Vec<String> {
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

    #[test]
    fn fast_similarity_is_strsims() {
        let v = Vocabulary::shipped().unwrap();
        let mut compare = Compare::default();
        let terms = slips(&v, 97);
        let labels: Vec<&str> = v.labels.iter().step_by(13).map(|l| l.folded.as_str()).collect();
        let (mut pairs, mut reached) = (0, 0);
        for (i, t) in terms.iter().enumerate() {
            for label in labels.iter().skip(i % 7).step_by(40) {
                let exact = similarity(t, label);
                assert_eq!(compare.similarity_above(t, label, f64::NEG_INFINITY), Some(exact), "{t} / {label}");
                // A pair turned down for a cut is below it.
                if compare.similarity_above(t, label, 0.8).is_none() {
                    assert!(exact < 0.8, "{t} / {label}: {exact}");
                }
                // Nor can a label whose length is out of reach.
                let (lo, hi) = length_reach(t.chars().count(), 0.8);
                if !(lo..=hi).contains(&chars_u16(label)) {
                    assert!(exact < 0.8, "{t} / {label}: {exact} out of reach");
                    reached += 1;
                }
                pairs += 1;
            }
        }
        for (a, b) in [("évènement", "evenement"), ("straße", "strasse"), ("ab", "bca"), ("", "x"), ("été", "ete")]
        {
            assert_eq!(compare.similarity_above(a, b, f64::NEG_INFINITY), Some(similarity(a, b)), "{a} / {b}");
        }
        assert!(pairs > 10_000, "{pairs}");
        assert!(reached > 1_000, "{reached} pairs out of reach by length");
    }

    #[test]
    fn fuzzy_lookups_are_unchanged() {
        let v = Vocabulary::shipped().unwrap();
        let terms = slips(&v, 61);
        let mut resolved = 0;
        for t in &terms {
            let folded = fold(t);
            let got = v.fuzzy(&folded);
            assert_eq!(got, fuzzy_reference(&v, &folded), "{t}");
            resolved += usize::from(got.is_some());
        }
        assert!(resolved > terms.len() / 2, "{resolved} of {}", terms.len());
    }
}
