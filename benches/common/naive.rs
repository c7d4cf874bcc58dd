//! The naive baselines: no vocabulary, no index. Raw `strsim` on the strings members wrote, over every candidate.

use matchmaker::domain::fold::fold;
use matchmaker::matching::MatchIndex;
use matchmaker::matching::vocabulary::{self, ConceptIdx, Vocabulary};
use uuid::Uuid;

/// Two strings "match" when their normalised Damerau-Levenshtein similarity is at least this.
pub const THRESHOLD: f64 = 0.85;

#[derive(Debug)]
pub struct NaiveMember {
    pub id: Uuid,
    pub country: String,
    pub offers: Vec<String>,
    pub needs: Vec<String>,
    pub visible: bool,
}

#[derive(Debug)]
pub struct NaiveProject {
    pub id: Uuid,
    pub required: Vec<String>,
    pub eligible_countries: Vec<String>,
    pub lead: Option<Uuid>,
}

/// What a string-only service would store: each profile's terms, lower-cased once.
#[derive(Debug)]
pub struct NaiveCorpus {
    pub members: Vec<NaiveMember>,
    pub projects: Vec<NaiveProject>,
}

fn lower(terms: &[matchmaker::matching::model::Term]) -> Vec<String> {
    terms.iter().map(|t| t.text.to_lowercase()).collect()
}

impl NaiveCorpus {
    pub fn from_index(index: &MatchIndex, members: &[Uuid], projects: &[Uuid]) -> Self {
        let members = members
            .iter()
            .filter_map(|id| index.member(*id))
            .map(|m| NaiveMember {
                id: m.id,
                country: m.country.clone(),
                offers: lower(&m.offers),
                needs: lower(&m.needs),
                visible: m.active && m.discoverable,
            })
            .collect();
        let projects = projects
            .iter()
            .filter_map(|id| index.project(*id))
            .map(|p| NaiveProject {
                id: p.id,
                required: lower(&p.required),
                eligible_countries: p.eligible_countries.clone(),
                lead: p.lead,
            })
            .collect();
        Self { members, projects }
    }
}

fn pairs(a: &[String], b: &[String]) -> u32 {
    let mut n = 0;
    for x in a {
        for y in b {
            if strsim::normalized_damerau_levenshtein(x, y) >= THRESHOLD {
                n += 1;
            }
        }
    }
    n
}

fn top(mut scored: Vec<(u32, Uuid)>, k: usize) -> Vec<(u32, Uuid)> {
    scored.sort_unstable_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    scored.truncate(k);
    scored
}

/// A member's top-20 projects: every project, every (offer, required skill) pair compared; score = matching pairs.
pub fn top20_projects(corpus: &NaiveCorpus, member: usize) -> Vec<(u32, Uuid)> {
    let m = &corpus.members[member];
    let scored = corpus
        .projects
        .iter()
        .filter(|p| {
            p.lead != Some(m.id) && (p.eligible_countries.is_empty() || p.eligible_countries.contains(&m.country))
        })
        .filter_map(|p| {
            let n = pairs(&m.offers, &p.required);
            (n > 0).then_some((n, p.id))
        })
        .collect();
    top(scored, 20)
}

/// A member's top-20 partners: every other member, its offers against my needs and my offers against its needs.
pub fn top20_partners(corpus: &NaiveCorpus, member: usize) -> Vec<(u32, Uuid)> {
    let a = &corpus.members[member];
    let scored = corpus
        .members
        .iter()
        .filter(|b| b.id != a.id && b.visible)
        .filter_map(|b| {
            let n = pairs(&a.needs, &b.offers) + pairs(&a.offers, &b.needs);
            (n > 0).then_some((n, b.id))
        })
        .collect();
    top(scored, 20)
}

/// Every label of the vocabulary, folded once.
#[derive(Debug)]
pub struct NaiveLabels(Vec<(String, ConceptIdx)>);

impl NaiveLabels {
    pub fn new(vocab: &Vocabulary) -> Self {
        let mut all = Vec::with_capacity(vocab.label_count());
        for (idx, _) in vocab.concept_ids() {
            all.extend(vocab.labels_of(idx).map(|(text, _)| (fold(text), idx)));
        }
        Self(all)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// The term compared with every label (the service's similarity, no trigram pruning).
    pub fn normalise(&self, text: &str, threshold: f64) -> Option<ConceptIdx> {
        let folded = fold(text);
        let mut best: Option<(f64, ConceptIdx)> = None;
        for (label, c) in &self.0 {
            let sim = vocabulary::similarity(&folded, label);
            if best.is_none_or(|(b, _)| sim > b) {
                best = Some((sim, *c));
            }
        }
        best.filter(|(s, _)| *s >= threshold).map(|(_, c)| c)
    }
}
