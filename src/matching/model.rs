//! What the matcher knows of members and projects: plain values, built from stored profiles.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use uuid::Uuid;

use super::vocabulary::{ConceptIdx, MatchKind};
use crate::domain::member::{Scope, Sector, Size};

/// One profile or project term as the matcher sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Term {
    /// What the member or project wrote.
    pub text: String,
    pub concept: Option<ConceptIdx>,
    pub kind: MatchKind,
    /// Level of an offer, priority of a need, weight of a required skill (1..=5); 1 for interests and themes.
    pub strength: u8,
    /// For a need that says where ("Produktionsfirmen in Luxemburg"): the country (ISO code) the member offering
    /// it must be in.
    pub place: Option<&'static str>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MemberProfile {
    pub id: Uuid,
    pub name: String,
    pub country: String,
    /// As the member stated it, if it did.
    pub size: Option<Size>,
    pub city: Option<String>,
    pub website: Option<String>,
    pub sectors: Vec<Sector>,
    pub scopes: Vec<Scope>,
    pub offers: Vec<Term>,
    pub needs: Vec<Term>,
    pub interests: Vec<Term>,
    pub discoverable: bool,
    pub active: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ProjectProfile {
    pub id: Uuid,
    pub title: String,
    pub scope: Scope,
    pub sectors: Vec<Sector>,
    pub required: Vec<Term>,
    pub themes: Vec<Term>,
    /// Empty: anyone.
    pub eligible_countries: Vec<String>,
    /// Empty: any size.
    pub eligible_sizes: Vec<Size>,
    pub deadline: Option<DateTime<Utc>>,
    pub closed: bool,
    pub min_partners: u32,
    pub max_partners: u32,
    pub min_countries: u32,
    pub lead: Option<Uuid>,
}

impl ProjectProfile {
    /// Open: not closed by staff, and its deadline (if any) not passed on the given clock.
    pub fn is_open(&self, now: DateTime<Utc>) -> bool {
        !self.closed && self.deadline.is_none_or(|d| d > now)
    }

    /// A member of an eligible country, and of an eligible size or one it has not stated (not known to be
    /// ineligible).
    pub fn admits(&self, m: &MemberProfile) -> bool {
        crate::domain::project::admits(&self.eligible_countries, &self.eligible_sizes, &m.country, m.size)
    }
}

/// Weights of the score components; each score is their weighted mean in 0..100. Components that do not apply
/// (a project with no themes, a member with no needs) are left out of the mean rather than counted as zero.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Weights {
    /// member → project: coverage of the required skills by the member's offers.
    pub skills: f64,
    /// member → project: the project's themes among the member's interests and offers.
    pub themes: f64,
    /// member → project: a shared sector.
    pub sectors: f64,
    /// member → project: the project's scope among the member's preferred scopes.
    pub scope: f64,
    /// member ↔ member: what one side offers of what the other needs, for the direction where it is more…
    pub complement_stronger: f64,
    /// …and for the other direction.
    pub complement_weaker: f64,
    /// member ↔ member: shared interests.
    pub shared_interests: f64,
    /// Credit for a concept next to the wanted one in the hierarchy (broader, or narrower where `narrower_credit`
    /// does not apply), 0..1.
    pub related_credit: f64,
    /// Credit for an offer of a concept directly below the wanted one: a specialist for a general want ("product
    /// photography" for "photographers"), who is what was asked for, if not in every way. 0..1.
    pub narrower_credit: f64,
    /// Credit for the same words on both sides where they map to no concept (a shared free term), 0..1.
    pub shared_term_credit: f64,
}

impl Default for Weights {
    fn default() -> Self {
        Self {
            skills: 0.6,
            themes: 0.2,
            sectors: 0.1,
            scope: 0.1,
            complement_stronger: 0.6,
            complement_weaker: 0.25,
            shared_interests: 0.15,
            related_credit: 0.5,
            narrower_credit: 0.9,
            shared_term_credit: 0.6,
        }
    }
}

/// The matcher's view of a stored member.
pub fn member_profile(vocab: &super::Vocabulary, m: &crate::domain::member::Member) -> MemberProfile {
    let p = &m.profile;
    MemberProfile {
        id: m.id,
        name: p.name.clone(),
        country: p.country.clone(),
        size: p.size,
        city: p.city.clone(),
        website: p.website.clone(),
        sectors: p.sectors.clone(),
        scopes: p.scopes.clone(),
        offers: offers(vocab, &p.offers),
        needs: needs(vocab, &p.needs),
        interests: terms(vocab, &p.interests),
        discoverable: p.discoverable,
        active: p.status == crate::domain::member::MemberStatus::Active,
    }
}

/// The matcher's view of a stored project.
pub fn project_profile(vocab: &super::Vocabulary, p: &crate::domain::project::Project) -> ProjectProfile {
    let d = &p.draft;
    ProjectProfile {
        id: p.id,
        title: d.title.clone(),
        scope: d.scope,
        sectors: d.sectors.clone(),
        required: terms(vocab, &d.required_skills),
        themes: terms(vocab, &d.themes),
        eligible_countries: d.eligible_countries.clone(),
        eligible_sizes: d.eligible_sizes.clone(),
        deadline: d.deadline,
        // A call left out of the cluster's is matched to no one.
        closed: d.closed || p.left_out.is_some(),
        min_partners: d.min_partners,
        max_partners: d.max_partners.unwrap_or(d.min_partners.max(5)),
        min_countries: d.min_countries,
        lead: d.lead_member_id,
    }
}

fn terms(vocab: &super::Vocabulary, items: &[crate::domain::term::TermItem]) -> Vec<Term> {
    items
        .iter()
        .map(|t| {
            let kind = MatchKind::from_stored(t.resolution.kind, t.resolution.similarity);
            Term {
                text: t.term.as_str().to_owned(),
                concept: t.resolution.concept.as_deref().and_then(|c| vocab.find(c)),
                kind,
                strength: t.strength.unwrap_or(1),
                place: None,
            }
        })
        .collect()
}

/// Needs as the matcher reads them: one that names a country ("… in Luxemburg", "… au Luxembourg") is met only by
/// a member of that country.
fn needs(vocab: &super::Vocabulary, items: &[crate::domain::term::TermItem]) -> Vec<Term> {
    let mut out = terms(vocab, items);
    for t in &mut out {
        t.place = super::vocabulary::place_of(&crate::domain::fold::fold(&t.text)).map(|(_, code)| code);
    }
    out
}

/// Offers as the matcher credits them: one matched only as part of a phrase ([`MatchKind::Partial`]) counts two
/// levels lower (at least 1), being less certainly that skill.
fn offers(vocab: &super::Vocabulary, items: &[crate::domain::term::TermItem]) -> Vec<Term> {
    let mut out = terms(vocab, items);
    for t in out.iter_mut().filter(|t| t.kind == MatchKind::Partial) {
        t.strength = t.strength.saturating_sub(PARTIAL_LEVELS).max(1);
    }
    out
}

/// How many levels lower a partially matched offer counts.
const PARTIAL_LEVELS: u8 = 2;
