//! The in-memory index: concept → members and projects, so a query touches only candidates that share something
//! with it. Updated one profile or project at a time.
//!
//! This room holds the index itself (its storage, upserts and removals) and the public result types. The rest has
//! rooms of its own, next to the postings they read: `postings` (concept → slots), `score` (one pair scored and
//! explained), `rank` (term-at-a-time rankings, their pages and scratch tables) and `bulk` (every member's best
//! projects and partners at once).

mod bulk;
mod postings;
mod rank;
mod score;

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use self::postings::{Postings, best_strengths, concepts, distinct};
use self::rank::Derived;
use super::model::{MemberProfile, ProjectProfile, Term, Weights};
use super::vocabulary::{ConceptIdx, MatchKind};

type Slot = u32;

fn bit<T: Copy>(x: T, index: impl Fn(T) -> u32) -> u32 {
    1_u32.checked_shl(index(x)).unwrap_or(0)
}

/// What a ranking needs of a member besides its postings, by slot.
#[derive(Debug, Clone, Default)]
struct MemberRow {
    active: bool,
    /// Active and discoverable: may be proposed as a partner.
    visible: bool,
    country: u32,
    /// The size's bit, 0 where not stated.
    size: u32,
    sectors: u32,
    scopes: u32,
    /// Distinct interest concepts.
    interests: u16,
}

/// What a ranking needs of a project besides its postings, by slot.
#[derive(Debug, Clone, Default)]
struct ProjectRow {
    id: Uuid,
    closed: bool,
    deadline: Option<DateTime<Utc>>,
    /// Anyone, or only the countries listed: interned codes below 128 as bits, the others listed.
    anyone: bool,
    countries: u128,
    other_countries: Box<[u32]>,
    /// The sizes admitted as bits; 0: any.
    sizes: u32,
    lead: Option<Uuid>,
    sectors: u32,
    scope: u32,
    /// Themes that have a concept.
    themes: u32,
}

impl ProjectRow {
    fn admits(&self, m: &MemberRow, id: Uuid, now: DateTime<Utc>) -> bool {
        m.active
            && !self.closed
            && self.deadline.is_none_or(|d| d > now)
            && (self.anyone
                || match 1_u128.checked_shl(m.country) {
                    Some(bit) => self.countries & bit != 0,
                    None => self.other_countries.contains(&m.country),
                })
            && (self.sizes == 0 || m.size == 0 || self.sizes & m.size != 0)
            && self.lead != Some(id)
    }
}

/// One component of a score.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Component {
    pub name: &'static str,
    /// 0..100
    pub score: f64,
    pub weight: f64,
}

/// A concept both sides share (or the same words that map to none), with each side's own words.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct MatchedTerm {
    /// The concept; `None` for a shared free term (both sides wrote the same words, which no concept names).
    pub concept: Option<String>,
    /// The concept's label, or the words of a shared free term.
    pub label: String,
    /// The member's words and how they matched the concept (`shared` for a shared free term).
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

/// Which part of a ranking to return: ranks `offset..offset + limit` among the results scoring at least `min_score`
/// (every result scores more than 0).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Window {
    pub offset: usize,
    pub limit: usize,
    pub min_score: f64,
}

impl Window {
    /// The best `k`.
    pub fn top(k: usize) -> Self {
        Self { offset: 0, limit: k, min_score: 0.0 }
    }
}

impl Default for Window {
    fn default() -> Self {
        Self::top(20)
    }
}

/// One page of a ranking: its results, best first and explained, and how many results the whole ranking has.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Page {
    pub items: Vec<Scored>,
    pub total: usize,
}

/// A ranked id and its score, without explanation (for bulk recomputes).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Ranked {
    pub id: Uuid,
    pub score: f64,
}

/// One member's best projects and best partners, best first (a recompute's output).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MemberTops {
    pub member: Uuid,
    pub projects: Vec<Ranked>,
    pub partners: Vec<Ranked>,
}

/// The index of every member and project.
#[derive(Debug, Default, Clone)]
pub struct MatchIndex {
    members: Vec<Option<Arc<MemberProfile>>>,
    member_rows: Vec<MemberRow>,
    /// By slot (nil for a free slot).
    member_ids: Vec<Uuid>,
    member_slots: HashMap<Uuid, Slot>,
    free_members: Vec<Slot>,
    projects: Vec<Option<Arc<ProjectProfile>>>,
    project_rows: Vec<ProjectRow>,
    project_slots: HashMap<Uuid, Slot>,
    free_projects: Vec<Slot>,
    /// Each offering member once, with its best level.
    offers: Postings,
    /// One entry per need that says nothing of where.
    needs: Postings,
    /// Needs that name a country ("… in Luxemburg"), by the country's code: only a member of that country meets them.
    placed_needs: HashMap<u32, Postings>,
    /// Each interested member once.
    interests: Postings,
    /// One entry per required skill, with its weight.
    required: Postings,
    /// One entry per theme.
    themes: Postings,
    /// Projects that name no required skill but some sectors: a member of one of those sectors may be matched to them
    /// without sharing a concept, so rankings reach them by sector.
    sector_only: Vec<Slot>,
    countries: HashMap<String, u32>,
    /// Free terms (those no concept names) by their key, as ids after the vocabulary's concepts: two sides that
    /// wrote the same words match on them as on a concept, with less credit.
    free_base: ConceptIdx,
    free_ids: HashMap<String, ConceptIdx>,
    member_count: usize,
    derived: OnceLock<Derived>,
    pub weights: Weights,
}

fn sector_bit(s: crate::domain::member::Sector) -> u32 {
    bit(s, |s| s as u32)
}

fn scope_bit(s: crate::domain::member::Scope) -> u32 {
    bit(s, |s| s as u32)
}

fn size_bit(s: crate::domain::member::Size) -> u32 {
    bit(s, |s| s as u32)
}

fn mask<T: Copy>(items: &[T], bit: impl Fn(T) -> u32) -> u32 {
    items.iter().fold(0, |m, x| m | bit(*x))
}

impl MatchIndex {
    /// An empty index for a vocabulary of `concepts` concepts (ids from there on stand for free terms).
    pub fn new(weights: Weights, concepts: usize) -> Self {
        Self { weights, free_base: ConceptIdx::try_from(concepts).unwrap_or(ConceptIdx::MAX), ..Self::default() }
    }

    /// Whether an id of this index stands for a free term rather than a concept.
    pub fn is_free(&self, c: ConceptIdx) -> bool {
        c >= self.free_base
    }

    /// Give each free term the id of its words (see [`crate::matching::vocabulary::term_key`]).
    fn intern_free(&mut self, terms: &mut [Term]) {
        for t in terms.iter_mut().filter(|t| t.concept.is_none()) {
            let key = crate::matching::vocabulary::term_key(&t.text);
            if key.is_empty() {
                continue;
            }
            let next =
                self.free_base.saturating_add(ConceptIdx::try_from(self.free_ids.len()).unwrap_or(ConceptIdx::MAX));
            t.concept = Some(*self.free_ids.entry(key).or_insert(next));
        }
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

    fn country(&mut self, code: &str) -> u32 {
        if let Some(&c) = self.countries.get(code) {
            return c;
        }
        let c = u32::try_from(self.countries.len()).unwrap_or(u32::MAX);
        self.countries.insert(code.to_owned(), c);
        c
    }

    /// Add or replace a member.
    pub fn upsert_member(&mut self, mut m: MemberProfile) {
        self.remove_member(m.id);
        self.intern_free(&mut m.offers);
        self.intern_free(&mut m.needs);
        self.intern_free(&mut m.interests);
        self.derived = OnceLock::new();
        let slot = match self.free_members.pop() {
            Some(s) => s,
            None => {
                self.members.push(None);
                self.member_rows.push(MemberRow::default());
                self.member_ids.push(Uuid::nil());
                Slot::try_from(self.members.len() - 1).unwrap_or(Slot::MAX)
            }
        };
        for (c, s) in best_strengths(&m.offers) {
            self.offers.push(c, slot, s);
        }
        for t in &m.needs {
            if let Some(c) = t.concept {
                match t.place {
                    Some(place) => {
                        let code = self.country(place);
                        self.placed_needs.entry(code).or_default().push(c, slot, t.strength.clamp(1, 5));
                    }
                    None => self.needs.push(c, slot, t.strength.clamp(1, 5)),
                }
            }
        }
        let interests = distinct(&m.interests);
        for &c in &interests {
            self.interests.push(c, slot, 1);
        }
        self.member_ids[slot as usize] = m.id;
        self.member_rows[slot as usize] = MemberRow {
            active: m.active,
            visible: m.active && m.discoverable,
            country: self.country(&m.country),
            size: m.size.map_or(0, size_bit),
            sectors: mask(&m.sectors, sector_bit),
            scopes: mask(&m.scopes, scope_bit),
            interests: u16::try_from(interests.len()).unwrap_or(u16::MAX),
        };
        self.member_slots.insert(m.id, slot);
        self.members[slot as usize] = Some(Arc::new(m));
        self.member_count += 1;
    }

    pub fn remove_member(&mut self, id: Uuid) {
        if let Some(slot) = self.member_slots.remove(&id)
            && let Some(m) = self.members[slot as usize].take()
        {
            self.derived = OnceLock::new();
            for (c, _) in best_strengths(&m.offers) {
                self.offers.remove(c, slot);
            }
            for t in &m.needs {
                let Some(c) = t.concept else { continue };
                match t.place.and_then(|place| self.countries.get(place)) {
                    Some(code) => {
                        if let Some(p) = self.placed_needs.get_mut(code) {
                            p.remove(c, slot);
                        }
                    }
                    None => self.needs.remove(c, slot),
                }
            }
            for c in distinct(&m.interests) {
                self.interests.remove(c, slot);
            }
            self.member_rows[slot as usize] = MemberRow::default();
            self.member_ids[slot as usize] = Uuid::nil();
            self.free_members.push(slot);
            self.member_count -= 1;
        }
    }

    pub fn upsert_project(&mut self, mut p: ProjectProfile) {
        self.remove_project(p.id);
        self.intern_free(&mut p.required);
        self.intern_free(&mut p.themes);
        self.derived = OnceLock::new();
        let slot = match self.free_projects.pop() {
            Some(s) => s,
            None => {
                self.projects.push(None);
                self.project_rows.push(ProjectRow::default());
                Slot::try_from(self.projects.len() - 1).unwrap_or(Slot::MAX)
            }
        };
        for t in &p.required {
            if let Some(c) = t.concept {
                self.required.push(c, slot, t.strength.clamp(1, 5));
            }
        }
        for c in concepts(&p.themes) {
            self.themes.push(c, slot, 1);
        }
        if p.required.is_empty() && !p.sectors.is_empty() {
            self.sector_only.push(slot);
        }
        let codes: Vec<u32> = p.eligible_countries.iter().map(|c| self.country(c)).collect();
        let countries = codes.iter().filter_map(|&c| 1_u128.checked_shl(c)).fold(0, |m, b| m | b);
        let other_countries = codes.into_iter().filter(|&c| c >= 128).collect();
        self.project_rows[slot as usize] = ProjectRow {
            id: p.id,
            closed: p.closed,
            deadline: p.deadline,
            anyone: p.eligible_countries.is_empty(),
            countries,
            other_countries,
            sizes: mask(&p.eligible_sizes, size_bit),
            lead: p.lead,
            sectors: mask(&p.sectors, sector_bit),
            scope: scope_bit(p.scope),
            themes: u32::try_from(concepts(&p.themes).count()).unwrap_or(u32::MAX),
        };
        self.project_slots.insert(p.id, slot);
        self.projects[slot as usize] = Some(Arc::new(p));
    }

    pub fn remove_project(&mut self, id: Uuid) {
        if let Some(slot) = self.project_slots.remove(&id)
            && let Some(p) = self.projects[slot as usize].take()
        {
            self.derived = OnceLock::new();
            for c in distinct(&p.required) {
                self.required.remove(c, slot);
            }
            for c in distinct(&p.themes) {
                self.themes.remove(c, slot);
            }
            self.sector_only.retain(|&s| s != slot);
            self.project_rows[slot as usize] = ProjectRow::default();
            self.free_projects.push(slot);
        }
    }

    fn member_at(&self, id: Uuid) -> Option<(Slot, &Arc<MemberProfile>)> {
        let slot = *self.member_slots.get(&id)?;
        Some((slot, self.members[slot as usize].as_ref()?))
    }

    fn project_at(&self, id: Uuid) -> Option<(Slot, &Arc<ProjectProfile>)> {
        let slot = *self.project_slots.get(&id)?;
        Some((slot, self.projects[slot as usize].as_ref()?))
    }

    fn member_id(&self, slot: Slot) -> Uuid {
        self.member_ids[slot as usize]
    }

    fn project_id(&self, slot: Slot) -> Uuid {
        self.project_rows[slot as usize].id
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

/// A term's match as stored, for building profiles.
pub fn term(text: String, concept: Option<ConceptIdx>, kind: MatchKind, strength: u8) -> Term {
    Term { text, concept, kind, strength, place: None }
}
