//! One pair scored and explained: a member against a project, or two members as partners. Each score is the
//! weighted mean of the components that apply; the rankings return exactly what these functions give.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::postings::concepts;
use super::{Component, Explanation, MatchIndex, MatchedTerm, Missing, Scored};
use crate::matching::model::{MemberProfile, ProjectProfile, Term};
use crate::matching::vocabulary::{ConceptIdx, Lang, Vocabulary};

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

pub(super) fn level_factor(strength: u8) -> f64 {
    0.5 + 0.1 * f64::from(strength.clamp(1, 5))
}

pub(super) type Part = (Option<f64>, &'static str, f64);

/// The weighted mean of the components that apply, 0..100, unrounded.
pub(super) fn raw_score(parts: &[Part]) -> f64 {
    let mut total = 0.0;
    let mut weights = 0.0;
    for (value, _, weight) in parts {
        if let Some(v) = value {
            total += v * weight;
            weights += weight;
        }
    }
    if weights > 0.0 { total / weights * 100.0 } else { 0.0 }
}

/// Weighted mean of the components that apply.
pub(super) fn combine(parts: &[Part]) -> (f64, Vec<Component>) {
    let components = parts
        .iter()
        .filter_map(|(value, name, weight)| {
            value.map(|v| Component { name, score: round1(v * 100.0), weight: *weight })
        })
        .collect();
    (round1(raw_score(parts)), components)
}

impl MatchIndex {
    /// Rarer concepts weigh more: the inverse frequency among members' offers.
    pub(super) fn idf(&self, c: Option<ConceptIdx>) -> f64 {
        let n = self.member_count as f64;
        let df = c.map_or(0, |c| self.offers.get(c).len()) as f64;
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
    pub(super) fn project_score(
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

    pub(super) fn partner_score(
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

    /// The explanation of one ranked pair, for the page shown (rankings carry scores only).
    pub fn explain_project(&self, vocab: &Vocabulary, lang: Lang, member: Uuid, project: Uuid) -> Option<Scored> {
        Some(self.score_project(vocab, lang, self.member(member)?, self.project(project)?))
    }

    pub fn explain_partner(&self, vocab: &Vocabulary, lang: Lang, member: Uuid, partner: Uuid) -> Option<Scored> {
        Some(self.score_partner(vocab, lang, self.member(member)?, self.member(partner)?))
    }
}
