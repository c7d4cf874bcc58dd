//! Figures behind the report: how concentrated the synthetic cluster's concepts are, and the fuzzy path's work (its
//! candidate counting, and the cost of the string comparisons it makes, strsim's and the library's).

use std::collections::HashMap;
use std::hint::black_box;
use std::time::Instant;

use matchmaker::matching::MatchIndex;
use matchmaker::matching::model::Term;
use matchmaker::matching::vocabulary::{ConceptIdx, Vocabulary};
use uuid::Uuid;

/// The most common concept's share of members, among offers and among needs.
pub fn head_shares(index: &MatchIndex, members: &[Uuid]) -> (f64, f64) {
    let mut offers: HashMap<ConceptIdx, usize> = HashMap::new();
    let mut needs: HashMap<ConceptIdx, usize> = HashMap::new();
    let mut n = 0;
    let distinct = |terms: &[Term]| {
        let mut v: Vec<ConceptIdx> = terms.iter().filter_map(|t| t.concept).collect();
        v.sort_unstable();
        v.dedup();
        v
    };
    for m in members.iter().filter_map(|id| index.member(*id)) {
        n += 1;
        for c in distinct(&m.offers) {
            *offers.entry(c).or_default() += 1;
        }
        for c in distinct(&m.needs) {
            *needs.entry(c).or_default() += 1;
        }
    }
    let share = |h: &HashMap<ConceptIdx, usize>| h.values().copied().max().unwrap_or(0) as f64 / f64::from(n.max(1));
    (share(&offers), share(&needs))
}

/// The fuzzy path's work for a batch of terms.
#[derive(Debug, Clone, Copy, Default)]
pub struct FuzzyWork {
    /// Mean distinct trigrams of a term.
    pub grams: f64,
    /// Mean label-trigram postings of a term's trigrams…
    pub postings: f64,
    /// …and those of labels whose length can reach the threshold: what the candidate count walks (one increment each).
    pub increments: f64,
    /// µs per call over typo/label pairs: the library's `similarity`, and its two halves alone; then the restricted
    /// (optimal string alignment) edit distance, normalised, which needs no map.
    pub similarity_us: f64,
    pub jaro_winkler_us: f64,
    pub damerau_us: f64,
    pub osa_us: f64,
}

fn grams(folded: &str) -> Vec<[char; 3]> {
    let chars: Vec<char> = format!(" {folded} ").chars().collect();
    let mut out: Vec<[char; 3]> = chars.windows(3).map(|w| [w[0], w[1], w[2]]).collect();
    out.sort_unstable();
    out.dedup();
    out
}

fn per_call_us(pairs: &[(String, String)], f: impl Fn(&str, &str) -> f64) -> f64 {
    let t = Instant::now();
    for (a, b) in pairs {
        black_box(f(black_box(a), black_box(b)));
    }
    t.elapsed().as_secs_f64() * 1e6 / pairs.len().max(1) as f64
}

pub fn fuzzy_work(vocab: &Vocabulary, typos: &[(String, ConceptIdx)]) -> FuzzyWork {
    use matchmaker::domain::fold::fold;
    // Trigram → the lengths (in characters) of the labels that have it.
    let mut df: HashMap<[char; 3], Vec<u16>> = HashMap::new();
    for (idx, _) in vocab.concept_ids() {
        for (label, _) in vocab.labels_of(idx) {
            let folded = fold(label);
            let chars = u16::try_from(folded.chars().count()).unwrap_or(u16::MAX);
            for g in grams(&folded) {
                df.entry(g).or_default().push(chars);
            }
        }
    }
    let (mut n_grams, mut postings, mut increments) = (0usize, 0usize, 0usize);
    for (t, _) in typos {
        let folded = fold(t);
        let (lo, hi) = vocab.fuzzy_length_reach(folded.chars().count());
        let gs = grams(&folded);
        n_grams += gs.len();
        for lengths in gs.iter().filter_map(|g| df.get(g)) {
            postings += lengths.len();
            increments += lengths.iter().filter(|l| (lo..=hi).contains(l)).count();
        }
    }
    let pairs: Vec<(String, String)> = typos
        .iter()
        .flat_map(|(t, c)| {
            let folded = fold(t);
            vocab.labels_of(*c).map(move |(l, _)| (folded.clone(), fold(l))).take(3)
        })
        .collect();
    let n = typos.len().max(1) as f64;
    FuzzyWork {
        grams: n_grams as f64 / n,
        postings: postings as f64 / n,
        increments: increments as f64 / n,
        similarity_us: per_call_us(&pairs, matchmaker::matching::vocabulary::similarity),
        jaro_winkler_us: per_call_us(&pairs, strsim::jaro_winkler),
        damerau_us: per_call_us(&pairs, strsim::normalized_damerau_levenshtein),
        osa_us: per_call_us(&pairs, |a, b| {
            let len = a.chars().count().max(b.chars().count()).max(1);
            1.0 - strsim::osa_distance(a, b) as f64 / len as f64
        }),
    }
}
