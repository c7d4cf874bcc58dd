//! Where a query's time goes, seen from the public API: the query; scoring its results again one by one with the
//! library's `score_project` / `score_partner` (explanations included); the same scores computed numerically only,
//! by replicas of the formulas written here (no explanations): one that follows the library's loops, one that first
//! builds tables for the querying member (dense by concept) so that each candidate costs a few lookups; and sorting
//! the results. The replicas are diagnostic only: they are checked against the library's scores and the agreement is
//! reported. Also counted: the posting entries a query's candidate sets are built from, and the fuzzy path's work.

use std::collections::{HashMap, HashSet};
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
    pub tables_ms: f64,
    pub sort_ms: f64,
    /// Share of results whose replica scores (both) equal the library's (to the 0.1 it rounds to).
    pub agreement: f64,
    /// Posting entries the candidate sets are built from (an entry per concept a candidate shares).
    pub postings: f64,
    pub candidates: f64,
    pub gather_hashset_ms: f64,
    pub gather_dense_ms: f64,
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
    /// idf by concept index (dense).
    idf_dense: Vec<f64>,
    /// Postings by concept index (slots: positions in the id lists): offers, needs, interests (members), required,
    /// themes (projects). A slot appears once per concept, as in the library.
    post: [Vec<Vec<u32>>; 5],
    members: usize,
    projects: usize,
}

/// A querying member's tables: best credit its offers give each concept, its needs by the concepts that cover them.
struct Side {
    credit: Vec<f64>,
    topics: Vec<bool>,
    /// For a concept: (index of the need it covers, base credit).
    covers: Vec<Vec<(usize, f64)>>,
    need_weights: Vec<f64>,
    need_want: f64,
    interests: Vec<ConceptIdx>,
}

fn level(strength: u8) -> f64 {
    0.5 + 0.1 * f64::from(strength.clamp(1, 5))
}

fn distinct(terms: &[Term]) -> Vec<ConceptIdx> {
    let mut v: Vec<ConceptIdx> = concepts(terms).collect();
    v.sort_unstable();
    v.dedup();
    v
}

fn concepts(terms: &[Term]) -> impl Iterator<Item = ConceptIdx> + '_ {
    terms.iter().filter_map(|t| t.concept)
}

impl<'a> Replica<'a> {
    fn new(index: &MatchIndex, vocab: &'a Vocabulary, members: &[Uuid], projects: &[Uuid]) -> Self {
        let mut post: [Vec<Vec<u32>>; 5] = std::array::from_fn(|_| vec![Vec::new(); vocab.len()]);
        let mut n = 0usize;
        for (slot, m) in members.iter().enumerate() {
            let Some(m) = index.member(*m) else { continue };
            n += 1;
            for (k, terms) in [&m.offers, &m.needs, &m.interests].into_iter().enumerate() {
                for c in distinct(terms) {
                    post[k][c as usize].push(slot as u32);
                }
            }
        }
        for (slot, p) in projects.iter().enumerate() {
            let Some(p) = index.project(*p) else { continue };
            for (k, terms) in [&p.required, &p.themes].into_iter().enumerate() {
                for c in distinct(terms) {
                    post[3 + k][c as usize].push(slot as u32);
                }
            }
        }
        let idf = |d: usize| (1.0 + (n as f64 + 1.0) / (d as f64 + 1.0)).ln();
        Self {
            vocab,
            idf: post[0]
                .iter()
                .enumerate()
                .filter(|(_, d)| !d.is_empty())
                .map(|(c, d)| (c as ConceptIdx, idf(d.len())))
                .collect(),
            idf_none: idf(0),
            related_credit: index.weights.related_credit,
            w: index.weights,
            idf_dense: post[0].iter().map(|d| idf(d.len())).collect(),
            post,
            members: members.len(),
            projects: projects.len(),
        }
    }

    /// The posting lists `projects_for_member` gathers its candidates from.
    fn project_lists(&self, m: &MemberProfile) -> Vec<&[u32]> {
        let mut out: Vec<&[u32]> = self.reach(&m.offers).iter().map(|c| self.post[3][*c as usize].as_slice()).collect();
        out.extend(concepts(&m.interests).chain(concepts(&m.offers)).map(|c| self.post[4][c as usize].as_slice()));
        out
    }

    /// …and `partners_for_member`.
    fn partner_lists(&self, a: &MemberProfile) -> Vec<&[u32]> {
        let mut out: Vec<&[u32]> = self.reach(&a.needs).iter().map(|c| self.post[0][*c as usize].as_slice()).collect();
        out.extend(self.reach(&a.offers).iter().map(|c| self.post[1][*c as usize].as_slice()));
        out.extend(concepts(&a.interests).map(|c| self.post[2][c as usize].as_slice()));
        out
    }

    fn idf_fast(&self, c: Option<ConceptIdx>) -> f64 {
        c.map_or(self.idf_none, |c| self.idf_dense[c as usize])
    }

    /// The most common concept's share of members, among offers and among needs.
    fn head(&self) -> (f64, f64) {
        let max = |v: &[Vec<u32>]| v.iter().map(Vec::len).max().unwrap_or(0) as f64 / self.members.max(1) as f64;
        (max(&self.post[0]), max(&self.post[1]))
    }

    fn reach(&self, terms: &[Term]) -> Vec<ConceptIdx> {
        let mut out = Vec::new();
        for c in concepts(terms) {
            out.push(c);
            out.extend(self.vocab.neighbours(c));
        }
        out.sort_unstable();
        out.dedup();
        out
    }

    fn side(&self, m: &MemberProfile) -> Side {
        let n = self.vocab.len();
        let mut credit = vec![0.0; n];
        let mut topics = vec![false; n];
        for o in &m.offers {
            let Some(c) = o.concept else { continue };
            let l = level(o.strength);
            credit[c as usize] = f64::max(credit[c as usize], l);
            for nb in self.vocab.neighbours(c) {
                credit[nb as usize] = f64::max(credit[nb as usize], self.related_credit * l);
            }
            topics[c as usize] = true;
        }
        for c in concepts(&m.interests) {
            topics[c as usize] = true;
        }
        let mut covers = vec![Vec::new(); n];
        let mut need_weights = Vec::with_capacity(m.needs.len());
        for (k, t) in m.needs.iter().enumerate() {
            need_weights.push(f64::from(t.strength.clamp(1, 5)) * self.idf_fast(t.concept));
            if let Some(c) = t.concept {
                covers[c as usize].push((k, 1.0));
                for nb in self.vocab.neighbours(c) {
                    covers[nb as usize].push((k, self.related_credit));
                }
            }
        }
        let need_want = need_weights.iter().sum();
        Side { credit, topics, covers, need_weights, need_want, interests: distinct(&m.interests) }
    }

    fn project_fast(&self, m: &MemberProfile, side: &Side, p: &ProjectProfile) -> f64 {
        let (mut got, mut want) = (0.0, 0.0);
        for r in &p.required {
            let w = f64::from(r.strength.clamp(1, 5)) * self.idf_fast(r.concept);
            want += w;
            if let Some(c) = r.concept {
                got += w * side.credit[c as usize];
            }
        }
        let skills = (want > 0.0).then(|| got / want);
        let (mut hit, mut themed) = (0usize, 0usize);
        for c in concepts(&p.themes) {
            themed += 1;
            hit += usize::from(side.topics[c as usize]);
        }
        let themes = (themed > 0).then(|| hit as f64 / themed as f64);
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

    fn partner_fast(&self, side: &Side, b: &MemberProfile) -> f64 {
        let mut best = [0.0f64; 16];
        for o in &b.offers {
            let Some(c) = o.concept else { continue };
            for &(k, base) in &side.covers[c as usize] {
                if k < best.len() {
                    best[k] = f64::max(best[k], base * level(o.strength));
                }
            }
        }
        let got: f64 = side.need_weights.iter().zip(best).map(|(w, b)| w * b).sum();
        let theirs = (side.need_want > 0.0).then(|| got / side.need_want);
        let (mut got, mut want) = (0.0, 0.0);
        for t in &b.needs {
            let w = f64::from(t.strength.clamp(1, 5)) * self.idf_fast(t.concept);
            want += w;
            if let Some(c) = t.concept {
                got += w * side.credit[c as usize];
            }
        }
        let mine = (want > 0.0).then(|| got / want);
        let mut ib: [ConceptIdx; 16] = [0; 16];
        let mut nb = 0;
        for c in concepts(&b.interests) {
            if nb < ib.len() && !ib[..nb].contains(&c) {
                ib[nb] = c;
                nb += 1;
            }
        }
        let both = ib[..nb].iter().filter(|c| side.interests.binary_search(c).is_ok()).count();
        let union = side.interests.len() + nb - both;
        let shared = (union > 0).then(|| both as f64 / union as f64);
        Self::combine(&[(theirs, self.w.complement), (mine, self.w.complement), (shared, self.w.shared_interests)])
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

/// The candidate set as the library builds it (a `HashSet` of slots), in ms; and its size.
fn gather_hashset(lists: &[&[u32]]) -> (f64, usize) {
    let t = Instant::now();
    let mut set: HashSet<u32> = HashSet::new();
    for l in lists {
        set.extend(l.iter().copied());
    }
    let n = set.len();
    black_box(set);
    (ms_since(t), n)
}

/// The same with a dense array of marks and a list of the slots touched.
fn gather_dense(lists: &[&[u32]], slots: usize) -> f64 {
    let t = Instant::now();
    let mut seen = vec![false; slots];
    let mut touched: Vec<u32> = Vec::new();
    for l in lists {
        for &s in *l {
            if !seen[s as usize] {
                seen[s as usize] = true;
                touched.push(s);
            }
        }
    }
    black_box(touched);
    ms_since(t)
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
    tables: f64,
    sort: f64,
    agree: usize,
    compared: usize,
    postings: f64,
    candidates: f64,
    hashset: f64,
    dense: f64,
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
            tables_ms: self.tables / n,
            sort_ms: self.sort / n,
            agreement: self.agree as f64 / self.compared.max(1) as f64,
            postings: self.postings / n,
            candidates: self.candidates / n,
            gather_hashset_ms: self.hashset / n,
            gather_dense_ms: self.dense / n,
        }
    }
}

fn ms_since(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1e3
}

/// For each member of `sample`: its projects query, dissected.
pub fn projects(
    index: &MatchIndex,
    vocab: &Vocabulary,
    members: &[Uuid],
    projects: &[Uuid],
    sample: &[usize],
) -> Anatomy {
    let replica = Replica::new(index, vocab, members, projects);
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
        let t = Instant::now();
        let side = replica.side(&m);
        let tables: Vec<f64> = ps.iter().map(|p| replica.project_fast(&m, &side, p)).collect();
        s.tables += ms_since(t);
        let lists = replica.project_lists(&m);
        s.postings += lists.iter().map(|l| l.len()).sum::<usize>() as f64;
        let (ms, n) = gather_hashset(&lists);
        s.hashset += ms;
        s.candidates += n as f64;
        s.dense += gather_dense(&lists, replica.projects);
        s.agree += all
            .iter()
            .zip(numeric.iter().zip(&tables))
            .filter(|(a, (x, y))| (a.score - **x).abs() < 0.051 && (a.score - **y).abs() < 0.051)
            .count();
        s.compared += all.len();
        s.results += all.len() as f64;
        s.sort += sort_time(again, &mut rng);
        s.n += 1;
    }
    s.done()
}

/// For each member of `sample`: its partners query, dissected.
pub fn partners(
    index: &MatchIndex,
    vocab: &Vocabulary,
    members: &[Uuid],
    projects: &[Uuid],
    sample: &[usize],
) -> Anatomy {
    let replica = Replica::new(index, vocab, members, projects);
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
        let t = Instant::now();
        let side = replica.side(&a);
        let tables: Vec<f64> = bs.iter().map(|b| replica.partner_fast(&side, b)).collect();
        s.tables += ms_since(t);
        let lists = replica.partner_lists(&a);
        s.postings += lists.iter().map(|l| l.len()).sum::<usize>() as f64;
        let (ms, n) = gather_hashset(&lists);
        s.hashset += ms;
        s.candidates += n as f64;
        s.dense += gather_dense(&lists, replica.members);
        s.agree += all
            .iter()
            .zip(numeric.iter().zip(&tables))
            .filter(|(a, (x, y))| (a.score - **x).abs() < 0.051 && (a.score - **y).abs() < 0.051)
            .count();
        s.compared += all.len();
        s.results += all.len() as f64;
        s.sort += sort_time(again, &mut rng);
        s.n += 1;
    }
    s.done()
}

/// The most common concept's share of members, among offers and among needs.
pub fn head_shares(index: &MatchIndex, vocab: &Vocabulary, members: &[Uuid]) -> (f64, f64) {
    Replica::new(index, vocab, members, &[]).head()
}

/// The fuzzy path's work for a batch of terms.
#[derive(Debug, Clone, Copy, Default)]
pub struct FuzzyWork {
    /// Mean distinct trigrams of a term.
    pub grams: f64,
    /// Mean label-trigram postings a term's candidate count walks (one map increment each).
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
    let mut df: HashMap<[char; 3], usize> = HashMap::new();
    for (idx, _) in vocab.concept_ids() {
        for (label, _) in vocab.labels_of(idx) {
            for g in grams(&fold(label)) {
                *df.entry(g).or_default() += 1;
            }
        }
    }
    let (mut n_grams, mut increments) = (0usize, 0usize);
    for (t, _) in typos {
        let gs = grams(&fold(t));
        n_grams += gs.len();
        increments += gs.iter().map(|g| df.get(g).copied().unwrap_or(0)).sum::<usize>();
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
