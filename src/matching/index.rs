//! The in-memory index: concept → members and projects, so a query touches only candidates that share something
//! with it. Updated one profile or project at a time. Scoring lives here too, next to the postings it reads.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use super::model::{MemberProfile, ProjectProfile, Term, Weights};
use super::vocabulary::{ConceptIdx, Lang, MatchKind, Vocabulary};

type Slot = u32;

#[derive(Debug, Default, Clone)]
struct Postings(HashMap<ConceptIdx, Vec<Slot>>);

impl Postings {
    fn add(&mut self, concepts: impl Iterator<Item = ConceptIdx>, slot: Slot) {
        let mut seen = HashSet::new();
        for c in concepts {
            if seen.insert(c) {
                self.0.entry(c).or_default().push(slot);
            }
        }
    }

    fn remove(&mut self, concepts: impl Iterator<Item = ConceptIdx>, slot: Slot) {
        for c in concepts {
            if let Some(list) = self.0.get_mut(&c) {
                list.retain(|s| *s != slot);
                if list.is_empty() {
                    self.0.remove(&c);
                }
            }
        }
    }

    fn get(&self, c: ConceptIdx) -> &[Slot] {
        self.0.get(&c).map_or(&[], Vec::as_slice)
    }

    fn df(&self, c: ConceptIdx) -> usize {
        self.get(c).len()
    }
}

fn concepts(terms: &[Term]) -> impl Iterator<Item = ConceptIdx> + '_ {
    terms.iter().filter_map(|t| t.concept)
}

/// One component of a score.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Component {
    pub name: &'static str,
    /// 0..100
    pub score: f64,
    pub weight: f64,
}

/// A concept both sides share, with each side's own words.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct MatchedTerm {
    pub concept: String,
    pub label: String,
    /// The member's words and how they matched the concept.
    pub member_term: String,
    pub member_match: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub member_similarity: Option<f64>,
    /// The other side's words (the project's, or the partner's).
    pub other_term: String,
    /// 1 for the same concept, less for a related one (broader or narrower).
    pub credit: f64,
    /// Which way it goes, for partners: `offers_for_their_need`, `needs_from_their_offer`, `shared_interest`;
    /// for projects: `skill` or `theme`.
    pub relation: &'static str,
}

/// What the other side asks for that is not covered.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Missing {
    pub term: String,
    pub concept: Option<String>,
    pub label: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Explanation {
    pub components: Vec<Component>,
    pub matched: Vec<MatchedTerm>,
    pub missing: Vec<Missing>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Scored {
    pub id: Uuid,
    /// 0..100, absolute: the same pair scores the same whatever else is in the index.
    pub score: f64,
    pub explanation: Explanation,
}

/// The index of every member and project.
#[derive(Debug, Default, Clone)]
pub struct MatchIndex {
    members: Vec<Option<Arc<MemberProfile>>>,
    member_slots: HashMap<Uuid, Slot>,
    projects: Vec<Option<Arc<ProjectProfile>>>,
    project_slots: HashMap<Uuid, Slot>,
    offers: Postings,
    needs: Postings,
    interests: Postings,
    required: Postings,
    themes: Postings,
    member_count: usize,
    pub weights: Weights,
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

fn level_factor(strength: u8) -> f64 {
    0.5 + 0.1 * f64::from(strength.clamp(1, 5))
}

/// Weighted mean of the components that apply.
fn combine(parts: &[(Option<f64>, &'static str, f64)]) -> (f64, Vec<Component>) {
    let mut total = 0.0;
    let mut weights = 0.0;
    let mut components = Vec::new();
    for (value, name, weight) in parts {
        if let Some(v) = value {
            total += v * weight;
            weights += weight;
            components.push(Component { name, score: round1(v * 100.0), weight: *weight });
        }
    }
    let score = if weights > 0.0 { total / weights * 100.0 } else { 0.0 };
    (round1(score), components)
}

impl MatchIndex {
    pub fn new(weights: Weights) -> Self {
        Self { weights, ..Self::default() }
    }

    pub fn member_count(&self) -> usize {
        self.member_count
    }

    pub fn project_count(&self) -> usize {
        self.project_slots.len()
    }

    pub fn member(&self, id: Uuid) -> Option<&Arc<MemberProfile>> {
        self.member_slots.get(&id).and_then(|s| self.members[*s as usize].as_ref())
    }

    pub fn project(&self, id: Uuid) -> Option<&Arc<ProjectProfile>> {
        self.project_slots.get(&id).and_then(|s| self.projects[*s as usize].as_ref())
    }

    /// Add or replace a member.
    pub fn upsert_member(&mut self, m: MemberProfile) {
        self.remove_member(m.id);
        let slot = Slot::try_from(self.members.len()).unwrap_or(Slot::MAX);
        self.offers.add(concepts(&m.offers), slot);
        self.needs.add(concepts(&m.needs), slot);
        self.interests.add(concepts(&m.interests), slot);
        self.member_slots.insert(m.id, slot);
        self.members.push(Some(Arc::new(m)));
        self.member_count += 1;
    }

    pub fn remove_member(&mut self, id: Uuid) {
        if let Some(slot) = self.member_slots.remove(&id)
            && let Some(m) = self.members[slot as usize].take()
        {
            self.offers.remove(concepts(&m.offers), slot);
            self.needs.remove(concepts(&m.needs), slot);
            self.interests.remove(concepts(&m.interests), slot);
            self.member_count -= 1;
        }
    }

    pub fn upsert_project(&mut self, p: ProjectProfile) {
        self.remove_project(p.id);
        let slot = Slot::try_from(self.projects.len()).unwrap_or(Slot::MAX);
        self.required.add(concepts(&p.required), slot);
        self.themes.add(concepts(&p.themes), slot);
        self.project_slots.insert(p.id, slot);
        self.projects.push(Some(Arc::new(p)));
    }

    pub fn remove_project(&mut self, id: Uuid) {
        if let Some(slot) = self.project_slots.remove(&id)
            && let Some(p) = self.projects[slot as usize].take()
        {
            self.required.remove(concepts(&p.required), slot);
            self.themes.remove(concepts(&p.themes), slot);
        }
    }

    /// Rarer concepts weigh more: the inverse frequency among members' offers.
    fn idf(&self, c: Option<ConceptIdx>) -> f64 {
        let n = self.member_count as f64;
        let df = c.map_or(0, |c| self.offers.df(c)) as f64;
        (1.0 + (n + 1.0) / (df + 1.0)).ln()
    }

    /// How well `offers` cover the concept `want`: 1 for the same concept, `related_credit` for a neighbour,
    /// scaled by the offer's level; with the offer that gives it.
    fn credit<'a>(&self, vocab: &Vocabulary, offers: &'a [Term], want: ConceptIdx) -> Option<(f64, &'a Term)> {
        let mut best: Option<(f64, &Term)> = None;
        for o in offers {
            let Some(c) = o.concept else { continue };
            let base = if c == want {
                1.0
            } else if vocab.neighbours(want).any(|n| n == c) {
                self.weights.related_credit
            } else {
                continue;
            };
            let credit = base * level_factor(o.strength);
            if best.is_none_or(|(b, _)| credit > b) {
                best = Some((credit, o));
            }
        }
        best
    }

    /// Whether a member may be matched to a project at all (the hard filter).
    pub fn eligible(m: &MemberProfile, p: &ProjectProfile, now: DateTime<Utc>) -> bool {
        m.active && p.is_open(now) && p.admits_country(&m.country) && p.lead != Some(m.id)
    }

    /// Score one member against one project, with its explanation.
    pub fn score_project(&self, vocab: &Vocabulary, lang: Lang, m: &MemberProfile, p: &ProjectProfile) -> Scored {
        self.project_score(vocab, lang, m, p, true)
    }

    /// The score alone when `explain` is false: rankings score every candidate and explain only the page shown.
    fn project_score(
        &self,
        vocab: &Vocabulary,
        lang: Lang,
        m: &MemberProfile,
        p: &ProjectProfile,
        explain: bool,
    ) -> Scored {
        let mut matched = Vec::new();
        let mut missing = Vec::new();
        let (mut got, mut want) = (0.0, 0.0);
        for r in &p.required {
            let w = f64::from(r.strength.clamp(1, 5)) * self.idf(r.concept);
            want += w;
            match r.concept.and_then(|c| self.credit(vocab, &m.offers, c).map(|x| (c, x))) {
                Some((c, (credit, offer))) => {
                    got += w * credit;
                    if explain {
                        matched.push(self.matched(vocab, lang, c, offer, &r.text, credit, "skill"));
                    }
                }
                None if explain => missing.push(self.missing(vocab, lang, r)),
                None => {}
            }
        }
        let skills = (want > 0.0).then(|| got / want);
        let member_topics: HashSet<ConceptIdx> = concepts(&m.interests).chain(concepts(&m.offers)).collect();
        let theme_concepts: Vec<&Term> = p.themes.iter().filter(|t| t.concept.is_some()).collect();
        let themes = (!theme_concepts.is_empty()).then(|| {
            let mut hit = 0.0;
            for t in &theme_concepts {
                if let Some(c) = t.concept
                    && member_topics.contains(&c)
                {
                    hit += 1.0;
                    if explain && let Some(term) = m.interests.iter().chain(&m.offers).find(|x| x.concept == Some(c)) {
                        matched.push(self.matched(vocab, lang, c, term, &t.text, 1.0, "theme"));
                    }
                }
            }
            hit / theme_concepts.len() as f64
        });
        let sectors =
            (!p.sectors.is_empty()).then(|| f64::from(u8::from(p.sectors.iter().any(|s| m.sectors.contains(s)))));
        let scope = Some(f64::from(u8::from(m.scopes.is_empty() || m.scopes.contains(&p.scope))));
        let w = self.weights;
        let (score, components) = combine(&[
            (skills, "skills", w.skills),
            (themes, "themes", w.themes),
            (sectors, "sectors", w.sectors),
            (scope, "scope", w.scope),
        ]);
        Scored { id: p.id, score, explanation: Explanation { components, matched, missing } }
    }

    /// How much of `a`'s needs `b` offers (0..1, or `None` without needs). With `matched` (and `missing`) given,
    /// also what matched (and what is left); rankings pass neither, so scoring a candidate allocates nothing.
    #[expect(clippy::too_many_arguments, reason = "both directions share this; the lists are the outputs")]
    fn needs_covered(
        &self,
        vocab: &Vocabulary,
        lang: Lang,
        a: &MemberProfile,
        b: &MemberProfile,
        relation: &'static str,
        mut matched: Option<&mut Vec<MatchedTerm>>,
        mut missing: Option<&mut Vec<Missing>>,
    ) -> Option<f64> {
        let (mut got, mut want) = (0.0, 0.0);
        for need in &a.needs {
            let w = f64::from(need.strength.clamp(1, 5)) * self.idf(need.concept);
            want += w;
            match need.concept.and_then(|c| self.credit(vocab, &b.offers, c).map(|x| (c, x))) {
                Some((c, (credit, offer))) => {
                    got += w * credit;
                    if let Some(matched) = matched.as_deref_mut() {
                        let mut t = self.matched(vocab, lang, c, need, &offer.text, credit, relation);
                        if relation == "offers_for_their_need" {
                            // Seen from the member asking: their offer answers the partner's need.
                            t.member_term.clone_from(&offer.text);
                            t.other_term.clone_from(&need.text);
                        }
                        matched.push(t);
                    }
                }
                None => {
                    if let Some(missing) = missing.as_deref_mut() {
                        missing.push(self.missing(vocab, lang, need));
                    }
                }
            }
        }
        (want > 0.0).then(|| got / want)
    }

    /// Score a possible partner `b` for member `a`: complementarity both ways, shared interests.
    pub fn score_partner(&self, vocab: &Vocabulary, lang: Lang, a: &MemberProfile, b: &MemberProfile) -> Scored {
        self.partner_score(vocab, lang, a, b, true)
    }

    fn partner_score(
        &self,
        vocab: &Vocabulary,
        lang: Lang,
        a: &MemberProfile,
        b: &MemberProfile,
        explain: bool,
    ) -> Scored {
        let mut matched = Vec::new();
        let mut missing = Vec::new();
        let (m, g) = if explain { (Some(&mut matched), Some(&mut missing)) } else { (None, None) };
        let theirs_for_mine = self.needs_covered(vocab, lang, a, b, "needs_from_their_offer", m, g);
        let m = if explain { Some(&mut matched) } else { None };
        let mine_for_theirs = self.needs_covered(vocab, lang, b, a, "offers_for_their_need", m, None);
        let ia: HashSet<ConceptIdx> = concepts(&a.interests).collect();
        let ib: HashSet<ConceptIdx> = concepts(&b.interests).collect();
        let union = ia.union(&ib).count();
        let shared = (union > 0).then(|| {
            for c in ia.intersection(&ib).filter(|_| explain) {
                let (Some(ta), Some(tb)) = (
                    a.interests.iter().find(|t| t.concept == Some(*c)),
                    b.interests.iter().find(|t| t.concept == Some(*c)),
                ) else {
                    continue;
                };
                matched.push(self.matched(vocab, lang, *c, ta, &tb.text, 1.0, "shared_interest"));
            }
            ia.intersection(&ib).count() as f64 / union as f64
        });
        let w = self.weights;
        let (score, components) = combine(&[
            (theirs_for_mine, "their_offers_for_your_needs", w.complement),
            (mine_for_theirs, "your_offers_for_their_needs", w.complement),
            (shared, "shared_interests", w.shared_interests),
        ]);
        Scored { id: b.id, score, explanation: Explanation { components, matched, missing } }
    }

    #[expect(clippy::too_many_arguments, reason = "one row of an explanation")]
    fn matched(
        &self,
        vocab: &Vocabulary,
        lang: Lang,
        concept: ConceptIdx,
        member_term: &Term,
        other: &str,
        credit: f64,
        relation: &'static str,
    ) -> MatchedTerm {
        let c = vocab.concept(concept);
        MatchedTerm {
            concept: c.id.clone(),
            label: c.label(lang).to_owned(),
            member_term: member_term.text.clone(),
            member_match: member_term.kind.name(),
            member_similarity: member_term.kind.similarity(),
            other_term: other.to_owned(),
            credit: (credit * 100.0).round() / 100.0,
            relation,
        }
    }

    fn missing(&self, vocab: &Vocabulary, lang: Lang, t: &Term) -> Missing {
        let c = t.concept.map(|c| vocab.concept(c));
        Missing { term: t.text.clone(), concept: c.map(|c| c.id.clone()), label: c.map(|c| c.label(lang).to_owned()) }
    }

    /// Concepts a member's offers reach, with their neighbours.
    fn reach(&self, vocab: &Vocabulary, terms: &[Term]) -> HashSet<ConceptIdx> {
        let mut out = HashSet::new();
        for c in concepts(terms) {
            out.insert(c);
            out.extend(vocab.neighbours(c));
        }
        out
    }

    /// The explanation of one ranked pair, for the page shown (rankings carry scores only).
    pub fn explain_project(&self, vocab: &Vocabulary, lang: Lang, member: Uuid, project: Uuid) -> Option<Scored> {
        Some(self.score_project(vocab, lang, self.member(member)?, self.project(project)?))
    }

    pub fn explain_partner(&self, vocab: &Vocabulary, lang: Lang, member: Uuid, partner: Uuid) -> Option<Scored> {
        Some(self.score_partner(vocab, lang, self.member(member)?, self.member(partner)?))
    }

    /// The best open projects for a member, best first (scores only: see [`Self::explain_project`]).
    pub fn projects_for_member(
        &self,
        vocab: &Vocabulary,
        lang: Lang,
        member: Uuid,
        now: DateTime<Utc>,
        keep: impl Fn(&ProjectProfile) -> bool,
    ) -> Vec<Scored> {
        let Some(m) = self.member(member) else { return Vec::new() };
        let mut candidates: HashSet<Slot> = HashSet::new();
        for c in self.reach(vocab, &m.offers) {
            candidates.extend(self.required.get(c));
        }
        for c in concepts(&m.interests).chain(concepts(&m.offers)) {
            candidates.extend(self.themes.get(c));
        }
        let mut out: Vec<Scored> = candidates
            .into_iter()
            .filter_map(|s| self.projects[s as usize].as_ref())
            .filter(|p| Self::eligible(m, p, now) && keep(p))
            .map(|p| self.project_score(vocab, lang, m, p, false))
            .filter(|s| s.score > 0.0)
            .collect();
        sort(&mut out);
        out
    }

    /// The best partners for a member, best first: never itself, nor anyone not discoverable or not active.
    pub fn partners_for_member(&self, vocab: &Vocabulary, lang: Lang, member: Uuid) -> Vec<Scored> {
        let Some(a) = self.member(member) else { return Vec::new() };
        let mut candidates: HashSet<Slot> = HashSet::new();
        for c in self.reach(vocab, &a.needs) {
            candidates.extend(self.offers.get(c));
        }
        for c in self.reach(vocab, &a.offers) {
            candidates.extend(self.needs.get(c));
        }
        for c in concepts(&a.interests) {
            candidates.extend(self.interests.get(c));
        }
        let mut out: Vec<Scored> = candidates
            .into_iter()
            .filter_map(|s| self.members[s as usize].as_ref())
            .filter(|b| b.id != a.id && b.discoverable && b.active)
            .map(|b| self.partner_score(vocab, lang, a, b, false))
            .filter(|s| s.score > 0.0)
            .collect();
        sort(&mut out);
        out
    }

    /// The best members for a project, best first.
    pub fn members_for_project(
        &self,
        vocab: &Vocabulary,
        lang: Lang,
        project: Uuid,
        now: DateTime<Utc>,
    ) -> Vec<Scored> {
        let Some(p) = self.project(project) else { return Vec::new() };
        let mut candidates: HashSet<Slot> = HashSet::new();
        for c in concepts(&p.required) {
            candidates.extend(self.offers.get(c));
            for n in vocab.neighbours(c) {
                candidates.extend(self.offers.get(n));
            }
        }
        for c in concepts(&p.themes) {
            candidates.extend(self.interests.get(c));
            candidates.extend(self.offers.get(c));
        }
        let mut out: Vec<Scored> = candidates
            .into_iter()
            .filter_map(|s| self.members[s as usize].as_ref())
            .filter(|m| Self::eligible(m, p, now))
            .map(|m| {
                let mut s = self.project_score(vocab, lang, m, p, false);
                s.id = m.id;
                s
            })
            .filter(|s| s.score > 0.0)
            .collect();
        sort(&mut out);
        out
    }

    /// Members offering `c` (for consortia).
    pub(crate) fn offering(&self, c: ConceptIdx) -> impl Iterator<Item = &Arc<MemberProfile>> {
        self.offers.get(c).iter().filter_map(|s| self.members[*s as usize].as_ref())
    }

    /// All live members (for consortia when a project has no concept-bearing skills).
    pub(crate) fn all_members(&self) -> impl Iterator<Item = &Arc<MemberProfile>> {
        self.members.iter().flatten()
    }

    /// The idf weight of a required skill (for consortia).
    pub(crate) fn weight_of(&self, t: &Term) -> f64 {
        f64::from(t.strength.clamp(1, 5)) * self.idf(t.concept)
    }

    /// Every live member id (for full recomputes).
    pub fn member_ids(&self) -> Vec<Uuid> {
        self.member_slots.keys().copied().collect()
    }

    pub fn project_ids(&self) -> Vec<Uuid> {
        self.project_slots.keys().copied().collect()
    }
}

/// Best first; ties by id so that pages are stable.
fn sort(v: &mut [Scored]) {
    v.sort_unstable_by(|a, b| b.score.total_cmp(&a.score).then(a.id.cmp(&b.id)));
}

/// A term's match as stored, for building profiles.
pub fn term(text: String, concept: Option<ConceptIdx>, kind: MatchKind, strength: u8) -> Term {
    Term { text, concept, kind, strength }
}
