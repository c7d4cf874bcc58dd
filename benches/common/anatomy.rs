//! Where a query's time goes, seen from the public API: the query; scoring its results again one by one with the
//! library's `score_project` / `score_partner` (explanations included); the same scores computed numerically only,
//! by a replica of the formulas written here (no explanations, no allocation); and sorting the results.
//! The replica is diagnostic only: it is checked against the library's scores and the agreement is reported.

use std::collections::HashMap;
use std::hint::black_box;
use std::sync::Arc;
use std::time::Instant;

use matchmaker::matching::MatchIndex;
use matchmaker::matching::index::Scored;
use matchmaker::matching::model::{MemberProfile, ProjectProfile, Term};
use matchmaker::matching::vocabulary::{ConceptIdx, Lang, Vocabulary};
use uuid::Uuid;

use super::generator::{Rng, now};

#[derive(Debug, Clone, Copy, Default)]
pub struct Anatomy {
    pub members: usize,
    /// Mean per query.
    pub query_ms: f64,
    pub results: f64,
    pub rescore_ms: f64,
    pub numeric_ms: f64,
    pub sort_ms: f64,
    /// Share of results whose replica score equals the library's (to the 0.1 it rounds to).
    pub agreement: f64,
}

impl Anatomy {
    pub fn per_result_us(&self, ms: f64) -> f64 {
        if self.results > 0.0 { ms * 1e3 / self.results } else { f64::NAN }
    }
}

/// The score formulas of `MatchIndex`, numerically.
struct Replica<'a> {
    vocab: &'a Vocabulary,
    idf: HashMap<ConceptIdx, f64>,
    idf_none: f64,
    related_credit: f64,
    w: matchmaker::matching::model::Weights,
}

fn concepts(terms: &[Term]) -> impl Iterator<Item = ConceptIdx> + '_ {
    terms.iter().filter_map(|t| t.concept)
}

impl<'a> Replica<'a> {
    fn new(index: &MatchIndex, vocab: &'a Vocabulary, members: &[Uuid]) -> Self {
        let mut df: HashMap<ConceptIdx, usize> = HashMap::new();
        let mut n = 0usize;
        for m in members.iter().filter_map(|id| index.member(*id)) {
            n += 1;
            let mut seen: Vec<ConceptIdx> = concepts(&m.offers).collect();
            seen.sort_unstable();
            seen.dedup();
            for c in seen {
                *df.entry(c).or_default() += 1;
            }
        }
        let idf = |d: usize| (1.0 + (n as f64 + 1.0) / (d as f64 + 1.0)).ln();
        Self {
            vocab,
            idf: df.iter().map(|(c, d)| (*c, idf(*d))).collect(),
            idf_none: idf(0),
            related_credit: index.weights.related_credit,
            w: index.weights,
        }
    }

    fn idf(&self, c: Option<ConceptIdx>) -> f64 {
        c.and_then(|c| self.idf.get(&c).copied()).unwrap_or(self.idf_none)
    }

    fn credit(&self, offers: &[Term], want: ConceptIdx) -> Option<f64> {
        let mut best: Option<f64> = None;
        for o in offers {
            let Some(c) = o.concept else { continue };
            let base = if c == want {
                1.0
            } else if self.vocab.neighbours(want).any(|n| n == c) {
                self.related_credit
            } else {
                continue;
            };
            let credit = base * (0.5 + 0.1 * f64::from(o.strength.clamp(1, 5)));
            if best.is_none_or(|b| credit > b) {
                best = Some(credit);
            }
        }
        best
    }

    fn covered(&self, wants: &[Term], offers: &[Term]) -> Option<f64> {
        let (mut got, mut want) = (0.0, 0.0);
        for t in wants {
            let w = f64::from(t.strength.clamp(1, 5)) * self.idf(t.concept);
            want += w;
            if let Some(credit) = t.concept.and_then(|c| self.credit(offers, c)) {
                got += w * credit;
            }
        }
        (want > 0.0).then(|| got / want)
    }

    fn combine(parts: &[(Option<f64>, f64)]) -> f64 {
        let (mut total, mut weights) = (0.0, 0.0);
        for (v, w) in parts {
            if let Some(v) = v {
                total += v * w;
                weights += w;
            }
        }
        let score = if weights > 0.0 { total / weights * 100.0 } else { 0.0 };
        (score * 10.0).round() / 10.0
    }

    fn project(&self, m: &MemberProfile, p: &ProjectProfile) -> f64 {
        let skills = self.covered(&p.required, &m.offers);
        let themed: Vec<ConceptIdx> = concepts(&p.themes).collect();
        let themes = (!themed.is_empty()).then(|| {
            let hit =
                themed.iter().filter(|c| m.interests.iter().chain(&m.offers).any(|t| t.concept == Some(**c))).count();
            hit as f64 / themed.len() as f64
        });
        let sectors =
            (!p.sectors.is_empty()).then(|| f64::from(u8::from(p.sectors.iter().any(|s| m.sectors.contains(s)))));
        let scope = Some(f64::from(u8::from(m.scopes.is_empty() || m.scopes.contains(&p.scope))));
        Self::combine(&[
            (skills, self.w.skills),
            (themes, self.w.themes),
            (sectors, self.w.sectors),
            (scope, self.w.scope),
        ])
    }

    fn partner(&self, a: &MemberProfile, b: &MemberProfile) -> f64 {
        let theirs = self.covered(&a.needs, &b.offers);
        let mine = self.covered(&b.needs, &a.offers);
        let set = |t: &[Term]| {
            let mut v: Vec<ConceptIdx> = concepts(t).collect();
            v.sort_unstable();
            v.dedup();
            v
        };
        let (ia, ib) = (set(&a.interests), set(&b.interests));
        let both = ia.iter().filter(|c| ib.binary_search(c).is_ok()).count();
        let union = ia.len() + ib.len() - both;
        let shared = (union > 0).then(|| both as f64 / union as f64);
        Self::combine(&[(theirs, self.w.complement), (mine, self.w.complement), (shared, self.w.shared_interests)])
    }
}

fn sort_time(mut v: Vec<Scored>, rng: &mut Rng) -> f64 {
    rng.shuffle(&mut v);
    let t = Instant::now();
    v.sort_unstable_by(|a, b| b.score.total_cmp(&a.score).then(a.id.cmp(&b.id)));
    let ms = t.elapsed().as_secs_f64() * 1e3;
    black_box(v);
    ms
}

#[derive(Default)]
struct Sums {
    n: usize,
    query: f64,
    results: f64,
    rescore: f64,
    numeric: f64,
    sort: f64,
    agree: usize,
    compared: usize,
}

impl Sums {
    fn done(self) -> Anatomy {
        let n = self.n.max(1) as f64;
        Anatomy {
            members: self.n,
            query_ms: self.query / n,
            results: self.results / n,
            rescore_ms: self.rescore / n,
            numeric_ms: self.numeric / n,
            sort_ms: self.sort / n,
            agreement: self.agree as f64 / self.compared.max(1) as f64,
        }
    }
}

fn ms_since(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1e3
}

/// For each member of `sample`: its projects query, dissected.
pub fn projects(index: &MatchIndex, vocab: &Vocabulary, members: &[Uuid], sample: &[usize]) -> Anatomy {
    let replica = Replica::new(index, vocab, members);
    let mut rng = Rng::stream(super::generator::SEED, 5);
    let mut s = Sums::default();
    for &i in sample {
        let Some(m) = index.member(members[i]).cloned() else { continue };
        let t = Instant::now();
        let all = index.projects_for_member(vocab, Lang::En, m.id, now(), |_: &ProjectProfile| true);
        s.query += ms_since(t);
        let ps: Vec<Arc<ProjectProfile>> = all.iter().filter_map(|r| index.project(r.id).cloned()).collect();
        let t = Instant::now();
        let again: Vec<Scored> = ps.iter().map(|p| index.score_project(vocab, Lang::En, &m, p)).collect();
        s.rescore += ms_since(t);
        let t = Instant::now();
        let numeric: Vec<f64> = ps.iter().map(|p| replica.project(&m, p)).collect();
        s.numeric += ms_since(t);
        s.agree += all.iter().zip(&numeric).filter(|(a, b)| (a.score - **b).abs() < 0.051).count();
        s.compared += all.len();
        s.results += all.len() as f64;
        s.sort += sort_time(again, &mut rng);
        s.n += 1;
    }
    s.done()
}

/// For each member of `sample`: its partners query, dissected.
pub fn partners(index: &MatchIndex, vocab: &Vocabulary, members: &[Uuid], sample: &[usize]) -> Anatomy {
    let replica = Replica::new(index, vocab, members);
    let mut rng = Rng::stream(super::generator::SEED, 6);
    let mut s = Sums::default();
    for &i in sample {
        let Some(a) = index.member(members[i]).cloned() else { continue };
        let t = Instant::now();
        let all = index.partners_for_member(vocab, Lang::En, a.id);
        s.query += ms_since(t);
        let bs: Vec<Arc<MemberProfile>> = all.iter().filter_map(|r| index.member(r.id).cloned()).collect();
        let t = Instant::now();
        let again: Vec<Scored> = bs.iter().map(|b| index.score_partner(vocab, Lang::En, &a, b)).collect();
        s.rescore += ms_since(t);
        let t = Instant::now();
        let numeric: Vec<f64> = bs.iter().map(|b| replica.partner(&a, b)).collect();
        s.numeric += ms_since(t);
        s.agree += all.iter().zip(&numeric).filter(|(x, y)| (x.score - **y).abs() < 0.051).count();
        s.compared += all.len();
        s.results += all.len() as f64;
        s.sort += sort_time(again, &mut rng);
        s.n += 1;
    }
    s.done()
}

/// Mean time of one `similarity` call (the fuzzy path's full comparison) over typo × label pairs, in µs.
pub fn similarity_us(vocab: &Vocabulary, typos: &[(String, ConceptIdx)]) -> f64 {
    let pairs: Vec<(String, String)> = typos
        .iter()
        .flat_map(|(t, c)| {
            let folded = matchmaker::domain::fold::fold(t);
            vocab.labels_of(*c).map(move |(l, _)| (folded.clone(), matchmaker::domain::fold::fold(l))).take(3)
        })
        .collect();
    let t = Instant::now();
    for (a, b) in &pairs {
        black_box(matchmaker::matching::vocabulary::similarity(black_box(a), black_box(b)));
    }
    t.elapsed().as_secs_f64() * 1e6 / pairs.len().max(1) as f64
}
