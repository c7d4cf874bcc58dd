//! A bench-side prototype (not the library) of term-at-a-time ranking: postings that carry each term's strength, scores
//! accumulated into dense per-slot arrays while walking the postings of the querying member's concepts, the top 20
//! selected without sorting everything, and only those 20 explained (with the library's `score_*`). Built from the
//! profiles the index holds, with the library's formulas; its top 20 are compared with the library's.

use std::hint::black_box;
use std::time::Instant;

use matchmaker::domain::member::{Scope, Sector};
use matchmaker::domain::parse::Vocabulary as ApiEnum;
use matchmaker::matching::MatchIndex;
use matchmaker::matching::index::Scored;
use matchmaker::matching::model::{MemberProfile, Term, Weights};
use matchmaker::matching::vocabulary::{ConceptIdx, Lang, Vocabulary};
use uuid::Uuid;

use super::generator::now;
use super::measure::{self, Latencies};

type Posting = Vec<Vec<(u32, u8)>>;

fn concepts(terms: &[Term]) -> impl Iterator<Item = ConceptIdx> + '_ {
    terms.iter().filter_map(|t| t.concept)
}

fn level(strength: u8) -> f64 {
    0.5 + 0.1 * f64::from(strength.clamp(1, 5))
}

fn bit<T: PartialEq + Copy + 'static>(all: &[T], v: T) -> u8 {
    all.iter().position(|x| *x == v).map_or(0, |i| 1 << i)
}

fn mask<T: PartialEq + Copy + 'static>(all: &[T], vs: &[T]) -> u8 {
    vs.iter().fold(0, |m, v| m | bit(all, *v))
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

fn combine(parts: &[(Option<f64>, f64)]) -> f64 {
    let (mut total, mut weights) = (0.0, 0.0);
    for (v, w) in parts {
        if let Some(v) = v {
            total += v * w;
            weights += w;
        }
    }
    round1(if weights > 0.0 { total / weights * 100.0 } else { 0.0 })
}

/// Flat, numeric copies of what the index holds, by slot (a member's or project's position in the id lists).
pub struct Flat<'v> {
    vocab: &'v Vocabulary,
    w: Weights,
    idf: Vec<f64>,
    idf_none: f64,
    member_ids: Vec<Uuid>,
    visible: Vec<bool>,
    need_want: Vec<f64>,
    interest_count: Vec<u32>,
    /// By concept: (member slot, best level among its offers of the concept).
    offers: Posting,
    /// By concept: (member slot, priority), one entry per need term.
    needs: Posting,
    interests: Vec<Vec<u32>>,
    project_ids: Vec<Uuid>,
    /// By concept: (project slot, weight), one entry per required term.
    required: Posting,
    /// By concept: project slots, one entry per theme term.
    themes: Vec<Vec<u32>>,
    required_want: Vec<f64>,
    theme_count: Vec<u32>,
    sectors: Vec<u8>,
    scope: Vec<u8>,
    open: Vec<bool>,
    eligible_countries: Vec<Vec<String>>,
    lead: Vec<Option<Uuid>>,
}

/// The querying member's side: best credit its offers give each concept, and the concepts that have one.
struct Side {
    reach: Vec<ConceptIdx>,
}

/// Per-thread working arrays, by slot (and by concept for `credit`), reused across queries: only the entries a query
/// touched are reset after it, so no query allocates or clears arrays the size of the index.
pub struct Scratch {
    x: Vec<f64>,
    y: Vec<f64>,
    z: Vec<u32>,
    seen: Vec<bool>,
    stamp: Vec<u32>,
    best: Vec<f64>,
    credit: Vec<f64>,
    touched: Vec<u32>,
}

impl Scratch {
    pub fn new(flat: &Flat<'_>) -> Self {
        let n = flat.member_ids.len().max(flat.project_ids.len());
        Self {
            x: vec![0.0; n],
            y: vec![0.0; n],
            z: vec![0; n],
            seen: vec![false; n],
            stamp: vec![u32::MAX; n],
            best: vec![0.0; n],
            credit: vec![0.0; flat.vocab.len()],
            touched: Vec::new(),
        }
    }

    fn touch(&mut self, slot: u32) {
        if !self.seen[slot as usize] {
            self.seen[slot as usize] = true;
            self.touched.push(slot);
        }
    }

    fn reset(&mut self, side: &Side) {
        for &s in &self.touched {
            let i = s as usize;
            (self.x[i], self.y[i], self.z[i], self.seen[i], self.stamp[i], self.best[i]) =
                (0.0, 0.0, 0, false, u32::MAX, 0.0);
        }
        self.touched.clear();
        for &c in &side.reach {
            self.credit[c as usize] = 0.0;
        }
    }
}

impl<'v> Flat<'v> {
    pub fn new(index: &MatchIndex, vocab: &'v Vocabulary, members: &[Uuid], projects: &[Uuid]) -> Self {
        let nc = vocab.len();
        let mut offers: Posting = vec![Vec::new(); nc];
        let mut needs: Posting = vec![Vec::new(); nc];
        let mut interests: Vec<Vec<u32>> = vec![Vec::new(); nc];
        let ms: Vec<_> = members.iter().map(|id| index.member(*id).cloned()).collect();
        let live = ms.iter().flatten().count() as f64;
        for (slot, m) in ms.iter().enumerate() {
            let Some(m) = m else { continue };
            let slot = slot as u32;
            let mut best: Vec<(ConceptIdx, u8)> = Vec::new();
            for o in &m.offers {
                let Some(c) = o.concept else { continue };
                match best.iter_mut().find(|(x, _)| *x == c) {
                    Some(b) => b.1 = b.1.max(o.strength.clamp(1, 5)),
                    None => best.push((c, o.strength.clamp(1, 5))),
                }
            }
            for (c, s) in best {
                offers[c as usize].push((slot, s));
            }
            for t in &m.needs {
                if let Some(c) = t.concept {
                    needs[c as usize].push((slot, t.strength.clamp(1, 5)));
                }
            }
            let mut seen: Vec<ConceptIdx> = concepts(&m.interests).collect();
            seen.sort_unstable();
            seen.dedup();
            for c in seen {
                interests[c as usize].push(slot);
            }
        }
        let idf_of = |df: usize| (1.0 + (live + 1.0) / (df as f64 + 1.0)).ln();
        let idf: Vec<f64> = offers.iter().map(|p| idf_of(p.len())).collect();
        let idf_none = idf_of(0);
        let weight = |t: &Term| f64::from(t.strength.clamp(1, 5)) * t.concept.map_or(idf_none, |c| idf[c as usize]);
        let distinct_interests = |m: &MemberProfile| {
            let mut v: Vec<ConceptIdx> = concepts(&m.interests).collect();
            v.sort_unstable();
            v.dedup();
            v.len() as u32
        };
        let mut required: Posting = vec![Vec::new(); nc];
        let mut themes: Vec<Vec<u32>> = vec![Vec::new(); nc];
        let ps: Vec<_> = projects.iter().map(|id| index.project(*id).cloned()).collect();
        for (slot, p) in ps.iter().enumerate() {
            let Some(p) = p else { continue };
            for t in &p.required {
                if let Some(c) = t.concept {
                    required[c as usize].push((slot as u32, t.strength.clamp(1, 5)));
                }
            }
            for c in concepts(&p.themes) {
                themes[c as usize].push(slot as u32);
            }
        }
        let now = now();
        Self {
            vocab,
            w: index.weights,
            member_ids: members.to_vec(),
            visible: ms.iter().map(|m| m.as_ref().is_some_and(|m| m.active && m.discoverable)).collect(),
            need_want: ms.iter().map(|m| m.as_ref().map_or(0.0, |m| m.needs.iter().map(weight).sum())).collect(),
            interest_count: ms.iter().map(|m| m.as_ref().map_or(0, |m| distinct_interests(m))).collect(),
            offers,
            needs,
            interests,
            project_ids: projects.to_vec(),
            required,
            themes,
            required_want: ps.iter().map(|p| p.as_ref().map_or(0.0, |p| p.required.iter().map(weight).sum())).collect(),
            theme_count: ps.iter().map(|p| p.as_ref().map_or(0, |p| concepts(&p.themes).count() as u32)).collect(),
            sectors: ps.iter().map(|p| p.as_ref().map_or(0, |p| mask(<Sector as ApiEnum>::ALL, &p.sectors))).collect(),
            scope: ps.iter().map(|p| p.as_ref().map_or(0, |p| bit(<Scope as ApiEnum>::ALL, p.scope))).collect(),
            open: ps.iter().map(|p| p.as_ref().is_some_and(|p| p.is_open(now))).collect(),
            eligible_countries: ps
                .iter()
                .map(|p| p.as_ref().map_or(Vec::new(), |p| p.eligible_countries.clone()))
                .collect(),
            lead: ps.iter().map(|p| p.as_ref().and_then(|p| p.lead)).collect(),
            idf,
            idf_none,
        }
    }

    fn side(&self, m: &MemberProfile, credit: &mut [f64]) -> Side {
        let mut reach = Vec::new();
        for o in &m.offers {
            let Some(c) = o.concept else { continue };
            let l = level(o.strength);
            for (x, base) in
                std::iter::once((c, 1.0)).chain(self.vocab.neighbours(c).map(|n| (n, self.w.related_credit)))
            {
                if credit[x as usize] == 0.0 {
                    reach.push(x);
                }
                credit[x as usize] = f64::max(credit[x as usize], base * l);
            }
        }
        Side { reach }
    }

    fn top(&self, mut v: Vec<(f64, u32)>, ids: &[Uuid], k: usize) -> Vec<(f64, u32)> {
        let cmp = |a: &(f64, u32), b: &(f64, u32)| b.0.total_cmp(&a.0).then(ids[a.1 as usize].cmp(&ids[b.1 as usize]));
        if v.len() > k {
            v.select_nth_unstable_by(k - 1, cmp);
            v.truncate(k);
        }
        v.sort_unstable_by(cmp);
        v
    }

    /// A member's best `k` open projects: (score, project slot).
    pub fn top_projects(&self, m: &MemberProfile, k: usize, sc: &mut Scratch) -> Vec<(f64, u32)> {
        if !m.active {
            return Vec::new();
        }
        let side = self.side(m, &mut sc.credit);
        for &c in &side.reach {
            let (idf, credit) = (self.idf[c as usize], sc.credit[c as usize]);
            for &(slot, s) in &self.required[c as usize] {
                sc.touch(slot);
                sc.x[slot as usize] += f64::from(s) * idf * credit;
            }
        }
        let mut topics: Vec<ConceptIdx> = concepts(&m.interests).chain(concepts(&m.offers)).collect();
        topics.sort_unstable();
        topics.dedup();
        for c in topics {
            for &slot in &self.themes[c as usize] {
                sc.touch(slot);
                sc.z[slot as usize] += 1;
            }
        }
        let m_sectors = mask(<Sector as ApiEnum>::ALL, &m.sectors);
        let m_scopes = mask(<Scope as ApiEnum>::ALL, &m.scopes);
        let mut scored = Vec::with_capacity(sc.touched.len());
        for &slot in &sc.touched {
            let i = slot as usize;
            let eligible = self.open[i]
                && self.lead[i] != Some(m.id)
                && (self.eligible_countries[i].is_empty() || self.eligible_countries[i].contains(&m.country));
            if !eligible {
                continue;
            }
            let want = self.required_want[i];
            let skills = (want > 0.0).then(|| sc.x[i] / want);
            let themes = (self.theme_count[i] > 0).then(|| f64::from(sc.z[i]) / f64::from(self.theme_count[i]));
            let sectors = (self.sectors[i] != 0).then(|| f64::from(u8::from(self.sectors[i] & m_sectors != 0)));
            let scope = Some(f64::from(u8::from(m_scopes == 0 || m_scopes & self.scope[i] != 0)));
            let score = combine(&[
                (skills, self.w.skills),
                (themes, self.w.themes),
                (sectors, self.w.sectors),
                (scope, self.w.scope),
            ]);
            if score > 0.0 {
                scored.push((score, slot));
            }
        }
        sc.reset(&side);
        self.top(scored, &self.project_ids, k)
    }

    /// A member's best `k` partners: (score, member slot).
    pub fn top_partners(&self, a: &MemberProfile, k: usize, sc: &mut Scratch) -> Vec<(f64, u32)> {
        let side = self.side(a, &mut sc.credit);
        // Their offers for my needs: per need, the best credit a candidate's offers give it.
        let idf = |c: Option<ConceptIdx>| c.map_or(self.idf_none, |c| self.idf[c as usize]);
        let mut want_a = 0.0;
        for (n, need) in a.needs.iter().enumerate() {
            let w = f64::from(need.strength.clamp(1, 5)) * idf(need.concept);
            want_a += w;
            let Some(c) = need.concept else { continue };
            let n = n as u32;
            for (x, base) in
                std::iter::once((c, 1.0)).chain(self.vocab.neighbours(c).map(|x| (x, self.w.related_credit)))
            {
                for &(slot, s) in &self.offers[x as usize] {
                    sc.touch(slot);
                    let v = base * level(s);
                    let i = slot as usize;
                    if sc.stamp[i] != n {
                        sc.stamp[i] = n;
                        sc.best[i] = v;
                        sc.x[i] += w * v;
                    } else if v > sc.best[i] {
                        sc.x[i] += w * (v - sc.best[i]);
                        sc.best[i] = v;
                    }
                }
            }
        }
        // My offers for their needs.
        for &c in &side.reach {
            let (idf, credit) = (self.idf[c as usize], sc.credit[c as usize]);
            for &(slot, s) in &self.needs[c as usize] {
                sc.touch(slot);
                sc.y[slot as usize] += f64::from(s) * idf * credit;
            }
        }
        let mut ia: Vec<ConceptIdx> = concepts(&a.interests).collect();
        ia.sort_unstable();
        ia.dedup();
        for &c in &ia {
            for &slot in &self.interests[c as usize] {
                sc.touch(slot);
                sc.z[slot as usize] += 1;
            }
        }
        let mut scored = Vec::with_capacity(sc.touched.len());
        for &slot in &sc.touched {
            let i = slot as usize;
            if !self.visible[i] || self.member_ids[i] == a.id {
                continue;
            }
            let t = (want_a > 0.0).then(|| sc.x[i] / want_a);
            let m = (self.need_want[i] > 0.0).then(|| sc.y[i] / self.need_want[i]);
            let union = ia.len() as u32 + self.interest_count[i] - sc.z[i];
            let shared = (union > 0).then(|| f64::from(sc.z[i]) / f64::from(union));
            let score = combine(&[(t, self.w.complement), (m, self.w.complement), (shared, self.w.shared_interests)]);
            if score > 0.0 {
                scored.push((score, slot));
            }
        }
        sc.reset(&side);
        self.top(scored, &self.member_ids, k)
    }
}

/// The prototype's queries (the top 20 explained by the library) against the library's, over a sample of members.
#[derive(Debug, Clone, Default)]
pub struct Trial {
    /// Members timed, and compared with the library.
    pub timed: usize,
    pub members: usize,
    pub projects: Latencies,
    pub partners: Latencies,
    /// Members whose top 20 (ids and scores) equal the library's; and whose top-20 scores do (ties may order apart).
    pub same_projects: usize,
    pub same_partners: usize,
    pub same_project_scores: usize,
    pub same_partner_scores: usize,
    pub build_secs: f64,
}

fn same(a: &[Scored], ids: &[Uuid], b: &[(f64, u32)]) -> (bool, bool) {
    let scores = a.len() == b.len() && a.iter().zip(b).all(|(x, (s, _))| (x.score - s).abs() < 1e-9);
    let all = scores && a.iter().zip(b).all(|(x, (_, slot))| x.id == ids[*slot as usize]);
    (all, scores)
}

fn ns_since(t: Instant) -> u64 {
    u64::try_from(t.elapsed().as_nanos()).unwrap_or(u64::MAX)
}

/// Times the prototype over `sample`; compares with the library for its first `compare` members.
pub fn trial(
    index: &MatchIndex,
    vocab: &Vocabulary,
    members: &[Uuid],
    projects: &[Uuid],
    sample: &[usize],
    compare: usize,
) -> Trial {
    let t = Instant::now();
    let flat = Flat::new(index, vocab, members, projects);
    let mut out = Trial { build_secs: t.elapsed().as_secs_f64(), ..Trial::default() };
    let mut sc = Scratch::new(&flat);
    let (mut p_ns, mut q_ns) = (Vec::new(), Vec::new());
    for (n, &i) in sample.iter().enumerate() {
        let Some(m) = index.member(members[i]).cloned() else { continue };
        let t = Instant::now();
        let top: Vec<Scored> = flat
            .top_projects(&m, 20, &mut sc)
            .iter()
            .filter_map(|(_, slot)| index.project(projects[*slot as usize]))
            .map(|p| index.score_project(vocab, Lang::En, &m, p))
            .collect();
        p_ns.push(ns_since(t));
        black_box(top);
        let t = Instant::now();
        let top: Vec<Scored> = flat
            .top_partners(&m, 20, &mut sc)
            .iter()
            .filter_map(|(_, slot)| index.member(members[*slot as usize]))
            .map(|b| index.score_partner(vocab, Lang::En, &m, b))
            .collect();
        q_ns.push(ns_since(t));
        black_box(top);
        if n >= compare {
            continue;
        }
        let (lib, _) = measure::top20_projects(index, vocab, m.id, now());
        let (all, scores) = same(&lib, projects, &flat.top_projects(&m, 20, &mut sc));
        out.same_projects += usize::from(all);
        out.same_project_scores += usize::from(scores);
        let (lib, _) = measure::top20_partners(index, vocab, m.id);
        let (all, scores) = same(&lib, members, &flat.top_partners(&m, 20, &mut sc));
        out.same_partners += usize::from(all);
        out.same_partner_scores += usize::from(scores);
        out.members += 1;
    }
    out.timed = p_ns.len();
    out.projects = Latencies::new(p_ns);
    out.partners = Latencies::new(q_ns);
    out
}
