//! The fuzzy lookup: labels that share character trigrams with a term and whose length can reach the threshold,
//! the best-sharing few compared in full.

use std::cell::RefCell;

use super::compare::Compare;
use super::{ConceptIdx, MatchKind, Normalised, Vocabulary};

/// Terms shorter than this (folded, in characters) are never matched fuzzily: "UX" is not "UI".
const FUZZY_MIN_CHARS: usize = 5;
/// How many trigram-sharing candidates get a full string comparison.
const FUZZY_CANDIDATES: usize = 24;
/// Two concepts whose similarities are closer than this are too close to call.
const FUZZY_MARGIN: f64 = 0.01;

/// A text's length in characters (saturating at `u16::MAX`).
pub(super) fn chars_u16(text: &str) -> u16 {
    u16::try_from(text.chars().count()).unwrap_or(u16::MAX)
}

/// The label lengths (in characters, inclusive) that can come within `cut` of a term of `len` characters: the
/// similarity is at most the mean of 1 (Jaro-Winkler) and `1 - |len - l| / max(len, l)` (an edit distance is at least
/// the difference in length), so `l` must be within a factor `2·cut - 1` of `len`.
pub(super) fn length_reach(len: usize, cut: f64) -> (u16, u16) {
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

pub(super) fn trigrams(folded: &str) -> Vec<u32> {
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

impl Vocabulary {
    /// Candidates share trigrams with the term and have a length that can reach the threshold; only the best-sharing
    /// few are compared in full.
    pub(super) fn fuzzy(&self, folded: &str) -> Option<Normalised> {
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
            // Similar letters are not enough: the term must read as a slip of the keyboard for the label.
            if !self.plausible_typo(folded, &entry.folded) {
                continue;
            }
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::fold::fold;
    use crate::matching::vocabulary::tests::slips;

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
            if !v.plausible_typo(folded, &entry.folded) {
                continue;
            }
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
