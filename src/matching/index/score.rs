//! One pair scored and explained: a member against a project, or two members as partners. Each score is the
//! weighted mean of the components that apply; the rankings return exactly what these functions give.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::postings::{concepts, topics_of};
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

/// How well a list of wants is met, 0..1: `got` (the weight met, each want's weight times its credit) counted
/// partly against the heaviest want (one important want met well is worth something however many others there are)
/// and partly against the whole (meeting more of them is worth more). 0 without wants.
pub(super) fn met(got: f64, want: f64, heaviest: f64) -> f64 {
    if want <= 0.0 || heaviest <= 0.0 {
        return 0.0;
    }
    FOCUS * (got / heaviest).min(1.0) + (1.0 - FOCUS) * got / want
}

/// [`met`] with the reciprocals of `want` and `heaviest` (0 for none), for the rankings' last pass.
pub(super) fn met_inv(got: f64, inv_want: f64, inv_heaviest: f64) -> f64 {
    FOCUS * (got * inv_heaviest).min(1.0) + (1.0 - FOCUS) * got * inv_want
}

/// `1 / x`, or 0 for none (`x` ≤ 0).
pub(super) fn reciprocal(x: f64) -> f64 {
    if x > 0.0 { 1.0 / x } else { 0.0 }
}

/// The share of [`met`] that the heaviest want sets.
const FOCUS: f64 = 0.6;

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

    /// How well `offers` cover the concept `want`: 1 for the same concept, `narrower_credit` for one directly below
    /// it, `related_credit` for another neighbour, scaled by the offer's level; with the offer that gives it.
    fn credit<'a>(&self, vocab: &Vocabulary, offers: &'a [Term], want: ConceptIdx) -> Option<(f64, &'a Term)> {
        let mut best: Option<(f64, &Term)> = None;
        for o in offers {
            let Some(c) = o.concept else { continue };
            let base = if c == want {
                self.same_credit(want)
            } else if vocab.is_below(c, want) {
                self.weights.narrower_credit
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
        m.active && p.is_open(now) && p.admits(m) && p.lead != Some(m.id)
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
        let (mut got, mut want, mut heaviest) = (0.0, 0.0, 0.0_f64);
        for r in &p.required {
            let w = f64::from(r.strength.clamp(1, 5)) * self.idf(r.concept);
            want += w;
            heaviest = heaviest.max(w);
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
        let skills = (want > 0.0).then(|| met(got, want, heaviest));
        // A theme is the member's when one of its interests or offers is the theme's concept or directly below it
        // (an interest in the New European Bauhaus shares a call's built-environment theme).
        let member_topics: HashSet<ConceptIdx> = topics_of(vocab, m).collect();
        let theme_concepts: Vec<&Term> = p.themes.iter().filter(|t| t.concept.is_some()).collect();
        let themes = (!theme_concepts.is_empty()).then(|| {
            let mut hit = 0.0;
            for t in &theme_concepts {
                if let Some(c) = t.concept
                    && member_topics.contains(&c)
                {
                    // The same free words on both sides count as a shared term does for skills: less than a concept.
                    let credit = self.same_credit(c);
                    hit += credit;
                    let shares = |x: &&Term| x.concept.is_some_and(|k| k == c || vocab.is_below(k, c));
                    if explain && let Some(term) = m.interests.iter().chain(&m.offers).find(shares) {
                        matched.push(self.matched(vocab, lang, c, term, &t.text, credit, "theme"));
                    }
                }
            }
            hit / theme_concepts.len() as f64
        });
        let sectors =
            (!p.sectors.is_empty()).then(|| f64::from(u8::from(p.sectors.iter().any(|s| m.sectors.contains(s)))));
        let scope = Some(f64::from(u8::from(m.scopes.is_empty() || m.scopes.contains(&p.scope))));
        let (parts, is_match) = self.project_parts_of(skills, themes, sectors, scope);
        let (score, components) = combine(&parts);
        let score = if is_match { score } else { 0.0 };
        Scored { id: p.id, score, explanation: Explanation { components, matched, missing } }
    }

    /// The parts of a project score from its components (each `None` where it does not apply), and whether it is a
    /// match at all. A project that names required skills is a match only for a member who covers one (themes and
    /// sectors refine, never carry); one that names none is matched on its themes and sectors (which then share what
    /// skills would weigh), and is no match for a member who shares neither. A pair that is no match scores 0.
    pub(super) fn project_parts_of(
        &self,
        skills: Option<f64>,
        themes: Option<f64>,
        sectors: Option<f64>,
        scope: Option<f64>,
    ) -> ([Part; 4], bool) {
        let w = self.weights;
        let is_match = match skills {
            Some(s) => s > 0.0,
            None => themes.is_some_and(|t| t > 0.0) || sectors.is_some_and(|s| s > 0.0),
        };
        // Without required skills, what skills would weigh is shared by themes and sectors: they are then all that
        // says what the project is about (a national grant "for artists of all disciplines" names sectors only).
        let (themes_weight, sectors_weight) = if skills.is_some() {
            (w.themes, w.sectors)
        } else {
            (w.themes + w.skills / 2.0, w.sectors + w.skills / 2.0)
        };
        // A project that names neither skills nor themes says nothing of what it is about beyond its sectors: that
        // is little evidence, so the topic counts as unmet rather than left out (else a shared sector alone would
        // score 100).
        let themes = if skills.is_none() && themes.is_none() { Some(0.0) } else { themes };
        let parts = [
            (skills, "skills", w.skills),
            (themes, "themes", themes_weight),
            (sectors, "sectors", sectors_weight),
            (scope, "scope", w.scope),
        ];
        (parts, is_match)
    }

    /// How much of `a`'s needs `b` offers (see [`met`]; 0 when `a` states none). With `matched` (and `missing`)
    /// given, also what matched (and what is left); rankings pass neither, so scoring a candidate allocates nothing.
    /// Rows are written from the asking member's side: `offers_for_their_need` rows show its offer (and how that
    /// offer matched) against the partner's need.
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
    ) -> f64 {
        let (mut got, mut want, mut heaviest) = (0.0, 0.0, 0.0_f64);
        for need in &a.needs {
            let w = f64::from(need.strength.clamp(1, 5)) * self.idf(need.concept);
            want += w;
            heaviest = heaviest.max(w);
            // A need that names a country is met only by a member there.
            let here = need.place.is_none_or(|place| place == b.country);
            match need.concept.filter(|_| here).and_then(|c| self.credit(vocab, &b.offers, c).map(|x| (c, x))) {
                Some((c, (credit, offer))) => {
                    got += w * credit;
                    if let Some(matched) = matched.as_deref_mut() {
                        matched.push(if relation == "offers_for_their_need" {
                            self.matched(vocab, lang, c, offer, &need.text, credit, relation)
                        } else {
                            self.matched(vocab, lang, c, need, &offer.text, credit, relation)
                        });
                    }
                }
                None => {
                    if let Some(missing) = missing.as_deref_mut() {
                        missing.push(self.missing(vocab, lang, need));
                    }
                }
            }
        }
        met(got, want, heaviest)
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
        let (score, components) = combine(&self.partner_parts_of(theirs_for_mine, mine_for_theirs, shared));
        Scored { id: b.id, score, explanation: Explanation { components, matched, missing } }
    }

    /// The parts of a partner score: what each side's offers do for the other's needs (the stronger direction weighs
    /// more than the weaker, so that mutual complementarity ranks above one-sided, and a partner who states no needs
    /// gets nothing for that direction), and shared interests where either side has any. The same both ways round.
    /// Shared interests refine, never carry: a pair where neither side offers anything the other needs is no match,
    /// and scores 0.
    pub(super) fn partner_parts_of(
        &self,
        theirs_for_mine: f64,
        mine_for_theirs: f64,
        shared: Option<f64>,
    ) -> [Part; 3] {
        let w = self.weights;
        let shared = if theirs_for_mine > 0.0 || mine_for_theirs > 0.0 { shared } else { shared.map(|_| 0.0) };
        let (theirs, mine) = if theirs_for_mine >= mine_for_theirs {
            (w.complement_stronger, w.complement_weaker)
        } else {
            (w.complement_weaker, w.complement_stronger)
        };
        [
            (Some(theirs_for_mine), "their_offers_for_your_needs", theirs),
            (Some(mine_for_theirs), "your_offers_for_their_needs", mine),
            (shared, "shared_interests", w.shared_interests),
        ]
    }

    /// The credit of an offer of the very concept wanted: full for a vocabulary concept, less for the same words
    /// that map to no concept (a shared free term).
    pub(super) fn same_credit(&self, want: ConceptIdx) -> f64 {
        if self.is_free(want) { self.weights.shared_term_credit } else { 1.0 }
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
        // A shared free term has no concept: it is shown by the words both sides wrote.
        let c = vocab.get(concept).filter(|_| !self.is_free(concept));
        MatchedTerm {
            concept: c.map(|c| c.id.clone()),
            label: c.map_or_else(|| member_term.text.clone(), |c| c.label(lang).to_owned()),
            member_term: member_term.text.clone(),
            member_match: if c.is_some() { member_term.kind.name() } else { "shared" },
            member_similarity: member_term.kind.similarity(),
            other_term: other.to_owned(),
            credit: (credit * 100.0).round() / 100.0,
            relation,
        }
    }

    fn missing(&self, vocab: &Vocabulary, lang: Lang, t: &Term) -> Missing {
        let c = t.concept.and_then(|c| vocab.get(c)).filter(|_| t.concept.is_some_and(|c| !self.is_free(c)));
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

/// Scores worked out by hand. They pin the formulas and the default weights: a calibration that changes either must
/// change these figures on purpose.
///
/// With the default weights (skills 0.6, themes 0.2, sectors 0.1, scope 0.1; complement 0.6 for the stronger
/// direction and 0.25 for the weaker, shared interests 0.15; related credit 0.5) and three members in the index:
///
/// - A offers graphic design at level 5 and 3D modelling at level 3, needs photography (priority 4), is interested
///   in cultural heritage and film, works in design and games, names no scope;
/// - B offers design (the broader concept of graphic design) at level 2 and photography at level 5, needs graphic
///   design (priority 3) and 3D modelling (priority 1), is interested in cultural heritage, works in fashion, only
///   nationally;
/// - C offers graphic design at level 2, and nothing else.
///
/// Rarity: idf = ln(1 + (n + 1) / (df + 1)) with n = 3 members and df the members offering the concept. Graphic
/// design (A and C): ln(1 + 4/3) = ln(7/3) ≈ 0.847298. 3D modelling, photography, design (one member each):
/// ln(1 + 4/2) = ln 3 ≈ 1.098612.
///
/// Level factor: 0.5 + 0.1 × level (level 5 → 1.0, 3 → 0.8, 2 → 0.7); a neighbour in the hierarchy earns the related
/// credit times it. A list of wants is met by met(got, want, heaviest) = 0.6 × min(1, got / heaviest) + 0.4 × got /
/// want. Components are shown ×100 and rounded to a tenth; the total is the weighted mean of the components that
/// apply, ×100, rounded to a tenth.
#[cfg(test)]
mod pinned {
    use super::*;
    use crate::domain::member::{Scope, Sector};
    use crate::matching::fixtures::{member, project, term};
    use crate::matching::model::Weights;

    struct World {
        vocab: Vocabulary,
        index: MatchIndex,
        a: MemberProfile,
        b: MemberProfile,
        c: MemberProfile,
        /// Requires graphic design (weight 4), 3D modelling (2) and photography (3); themes cultural heritage and film;
        /// sector design; European.
        p: ProjectProfile,
    }

    fn world() -> World {
        let vocab = crate::matching::fixtures::vocabulary();
        let t = |id: &str, strength: u8| term(&vocab, id, strength);
        let a = MemberProfile {
            sectors: vec![Sector::Design, Sector::Games],
            offers: vec![t("esco:gd", 5), t("esco:3d", 3)],
            needs: vec![t("esco:photo", 4)],
            interests: vec![t("mm:theme:heritage", 1), t("mm:theme:film", 1)],
            ..member(1, "LU")
        };
        let b = MemberProfile {
            sectors: vec![Sector::Fashion],
            scopes: vec![Scope::National],
            offers: vec![t("esco:design", 2), t("esco:photo", 5)],
            needs: vec![t("esco:gd", 3), t("esco:3d", 1)],
            interests: vec![t("mm:theme:heritage", 1)],
            ..member(2, "FR")
        };
        let c = MemberProfile { offers: vec![t("esco:gd", 2)], ..member(3, "DE") };
        let p = ProjectProfile {
            scope: Scope::European,
            sectors: vec![Sector::Design],
            required: vec![t("esco:gd", 4), t("esco:3d", 2), t("esco:photo", 3)],
            themes: vec![t("mm:theme:heritage", 1), t("mm:theme:film", 1)],
            ..project(10)
        };
        let mut index = MatchIndex::new(Weights::default(), vocab.len());
        for m in [&a, &b, &c] {
            index.upsert_member(m.clone());
        }
        index.upsert_project(p.clone());
        World { vocab, index, a, b, c, p }
    }

    fn component(name: &'static str, score: f64, weight: f64) -> Component {
        Component { name, score, weight }
    }

    /// A for P.
    ///
    /// Required weights (strength × idf): graphic design 4 × 0.847298 = 3.389191, 3D modelling 2 × 1.098612 =
    /// 2.197225, photography 3 × 1.098612 = 3.295837; in all 8.882253.
    /// got = 3.389191 × 1.0 [graphic design, level 5] + 2.197225 × 0.8 [3D, level 3] + 0 [no photography]
    ///     = 5.146971; the heaviest want is graphic design's 3.389191.
    /// skills = 0.6 × min(1, 5.146971 / 3.389191) + 0.4 × 5.146971 / 8.882253 = 0.6 + 0.231787 = 0.831787 → 83.2
    /// themes = 2 of 2 (both among A's interests) → 100; sectors: design shared → 100; scope: A names none → 100.
    /// total = (0.6 × 0.831787 + 0.2 × 1 + 0.1 × 1 + 0.1 × 1) / 1.0 × 100 = 89.907 → 89.9
    #[test]
    fn member_for_project_with_exact_skills() {
        let w = world();
        let s = w.index.score_project(&w.vocab, Lang::En, &w.a, &w.p);
        assert_eq!(s.id, w.p.id);
        assert_eq!(s.score, 89.9);
        assert_eq!(
            s.explanation.components,
            [
                component("skills", 83.2, 0.6),
                component("themes", 100.0, 0.2),
                component("sectors", 100.0, 0.1),
                component("scope", 100.0, 0.1),
            ]
        );
        let missing: Vec<&str> = s.explanation.missing.iter().map(|m| m.term.as_str()).collect();
        assert_eq!(missing, ["photography"]);
    }

    /// A theme is shared by a member whose interest or offer sits directly below it (an interest in the New European
    /// Bauhaus shares a call's built-environment theme; here, an offer of graphic design a theme of design), not by
    /// one whose topic sits above it. Rankings reach such members alike (the ranking-agreement tests).
    #[test]
    fn a_theme_is_shared_from_below() {
        let w = world();
        let t = |id: &str| term(&w.vocab, id, 1);
        let general = ProjectProfile { themes: vec![t("esco:design")], ..project(11) };
        let s = w.index.score_project(&w.vocab, Lang::En, &w.c, &general);
        assert_eq!(s.explanation.components.iter().find(|c| c.name == "themes").map(|c| c.score), Some(100.0));
        let row = s.explanation.matched.iter().find(|m| m.relation == "theme").expect("the theme is explained");
        assert_eq!((row.member_term.as_str(), row.label.as_str()), ("graphic design", "design"));
        let specific = ProjectProfile { themes: vec![t("esco:gd")], ..project(12) };
        let broad = MemberProfile { offers: vec![t("esco:design")], ..member(4, "LU") };
        let s = w.index.score_project(&w.vocab, Lang::En, &broad, &specific);
        assert_eq!(s.explanation.components.iter().find(|c| c.name == "themes").map(|c| c.score), Some(0.0));
    }

    /// B for P.
    ///
    /// got = 3.389191 × 0.35 [design is broader than graphic design: related credit 0.5 × level 2's 0.7]
    ///     + 0 [no 3D modelling] + 3.295837 × 1.0 [photography, level 5] = 1.186217 + 3.295837 = 4.482054
    /// skills = 0.6 × min(1, 4.482054 / 3.389191) + 0.4 × 4.482054 / 8.882253 = 0.6 + 0.201843 = 0.801843 → 80.2
    /// themes = 1 of 2 (cultural heritage) → 50; sectors: fashion is not design → 0; scope: national only, the project
    /// is European → 0.
    /// total = (0.6 × 0.801843 + 0.2 × 0.5 + 0.1 × 0 + 0.1 × 0) / 1.0 × 100 = 58.1106 → 58.1
    #[test]
    fn member_for_project_with_related_skill() {
        let w = world();
        let s = w.index.score_project(&w.vocab, Lang::En, &w.b, &w.p);
        assert_eq!(s.score, 58.1);
        assert_eq!(
            s.explanation.components,
            [
                component("skills", 80.2, 0.6),
                component("themes", 50.0, 0.2),
                component("sectors", 0.0, 0.1),
                component("scope", 0.0, 0.1),
            ]
        );
        let related = s
            .explanation
            .matched
            .iter()
            .find(|m| m.relation == "skill" && m.concept.as_deref() == Some("esco:gd"))
            .unwrap();
        assert_eq!((related.member_term.as_str(), related.credit), ("design", 0.35));
    }

    /// B as a partner for A.
    ///
    /// Their offers for your needs: A needs photography, 4 × 1.098612 = 4.394449; B offers it at level 5 (1.0):
    /// 0.6 × 1 + 0.4 × 1 = 1.0 → 100.
    /// Your offers for their needs: B needs graphic design, 3 × 0.847298 = 2.541894 (the heaviest), which A offers at
    /// level 5 (1.0), and 3D modelling, 1 × 1.098612, which A offers at level 3 (0.8): got = 2.541894 + 0.878890 =
    /// 3.420783 of 3.640506; 0.6 × min(1, 3.420783 / 2.541894) + 0.4 × 3.420783 / 3.640506 = 0.6 + 0.375858 =
    /// 0.975858 → 97.6.
    /// Shared interests: {heritage, film} ∩ {heritage} / ∪ = 1 / 2 → 50.
    /// total = (0.6 × 1.0 [the stronger direction] + 0.25 × 0.975858 + 0.15 × 0.5) / 1.0 × 100 = 91.8965 → 91.9; the
    /// same seen from B.
    #[test]
    fn partners_both_ways() {
        let w = world();
        let s = w.index.score_partner(&w.vocab, Lang::En, &w.a, &w.b);
        assert_eq!(s.id, w.b.id);
        assert_eq!(s.score, 91.9);
        assert_eq!(
            s.explanation.components,
            [
                component("their_offers_for_your_needs", 100.0, 0.6),
                component("your_offers_for_their_needs", 97.6, 0.25),
                component("shared_interests", 50.0, 0.15),
            ]
        );
        let back = w.index.score_partner(&w.vocab, Lang::En, &w.b, &w.a);
        assert_eq!(back.score, 91.9);
        assert_eq!(
            back.explanation.components,
            [
                component("their_offers_for_your_needs", 97.6, 0.25),
                component("your_offers_for_their_needs", 100.0, 0.6),
                component("shared_interests", 50.0, 0.15),
            ]
        );
    }

    /// C as a partner for B.
    ///
    /// Their offers for your needs: C offers graphic design at level 2 (0.7), none of 3D modelling: got = 2.541894 ×
    /// 0.7 = 1.779326; 0.6 × min(1, 1.779326 / 2.541894) + 0.4 × 1.779326 / 3.640506 = 0.42 + 0.195503 = 0.615503
    /// → 61.6.
    /// Your offers for their needs: C needs nothing: 0, with the weaker direction's weight (a partner who states no
    /// needs gets nothing for that direction, so that mutual complementarity ranks above it).
    /// Shared interests: B has one, C none: 0 / 1 → 0.
    /// total = (0.6 × 0.615503 + 0.25 × 0 + 0.15 × 0) / 1.0 × 100 = 36.9302 → 36.9
    #[test]
    fn partner_with_one_side_applying() {
        let w = world();
        let s = w.index.score_partner(&w.vocab, Lang::En, &w.b, &w.c);
        assert_eq!(s.score, 36.9);
        assert_eq!(
            s.explanation.components,
            [
                component("their_offers_for_your_needs", 61.6, 0.6),
                component("your_offers_for_their_needs", 0.0, 0.25),
                component("shared_interests", 0.0, 0.15),
            ]
        );
    }

    /// A specialist for a general want: D needs design (priority 2); C offers graphic design (level 2), the concept
    /// directly below it, and earns the narrower credit, 0.9 × level 2's 0.7 = 0.63, where B's design offered for
    /// A's want of graphic design (the other way up) earns the related credit's 0.35.
    ///
    /// Their offers for your needs: got = 2 × idf(design) × 0.63 of want = heaviest = 2 × idf(design):
    /// 0.6 × 0.63 + 0.4 × 0.63 = 0.63 → 63.0. Your offers for their needs: C needs nothing → 0. No interests.
    /// total = (0.6 × 0.63 + 0.25 × 0) / 0.85 × 100 = 44.47 → 44.5 (shared interests left out: neither side has any).
    #[test]
    fn a_specialist_meets_a_general_want() {
        let w = world();
        let t = |id: &str, strength: u8| term(&w.vocab, id, strength);
        let d = MemberProfile { needs: vec![t("esco:design", 2)], ..member(4, "LU") };
        let s = w.index.score_partner(&w.vocab, Lang::En, &d, &w.c);
        let row = s.explanation.matched.iter().find(|m| m.relation == "needs_from_their_offer").unwrap();
        assert_eq!((row.member_term.as_str(), row.other_term.as_str(), row.credit), ("design", "graphic design", 0.63));
        assert_eq!(s.score, 44.5);
        assert_eq!(
            s.explanation.components,
            [component("their_offers_for_your_needs", 63.0, 0.6), component("your_offers_for_their_needs", 0.0, 0.25)]
        );
    }

    /// The rankings give the figures the pairs do.
    #[test]
    fn rankings_agree_with_the_pinned_pairs() {
        let w = world();
        let now = DateTime::from_timestamp(1_780_000_000, 0).unwrap();
        let projects = w.index.projects_for_member(&w.vocab, Lang::En, w.a.id, now, |_| true);
        assert_eq!(projects.iter().map(|s| (s.id, s.score)).collect::<Vec<_>>(), [(w.p.id, 89.9)]);
        let members = w.index.members_for_project(&w.vocab, Lang::En, w.p.id, now);
        let scores: Vec<(Uuid, f64)> = members.iter().map(|s| (s.id, s.score)).collect();
        assert_eq!(&scores[..2], [(w.a.id, 89.9), (w.b.id, 58.1)]);
        let partners = w.index.partners_for_member(&w.vocab, Lang::En, w.b.id);
        let scores: Vec<(Uuid, f64)> = partners.iter().map(|s| (s.id, s.score)).collect();
        assert_eq!(scores, [(w.a.id, 91.9), (w.c.id, 36.9)]);
    }
}
