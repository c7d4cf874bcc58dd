//! Postings: concept → the slots of the members or projects that have it, and what a profile posts.

use super::Slot;
use crate::matching::model::{MemberProfile, Term};
use crate::matching::vocabulary::{ConceptIdx, Vocabulary};

/// Concept → (slot, strength 1..=5), one list per concept index.
#[derive(Debug, Default, Clone)]
pub(super) struct Postings(pub(super) Vec<Vec<(Slot, u8)>>);

impl Postings {
    pub(super) fn push(&mut self, c: ConceptIdx, slot: Slot, strength: u8) {
        let i = c as usize;
        if self.0.len() <= i {
            self.0.resize_with(i + 1, Vec::new);
        }
        // Kept in slot order, so that walking a list sweeps the rankings' per-slot tables in memory order.
        let list = &mut self.0[i];
        let at = list.partition_point(|(s, _)| *s < slot);
        list.insert(at, (slot, strength));
    }

    pub(super) fn remove(&mut self, c: ConceptIdx, slot: Slot) {
        if let Some(list) = self.0.get_mut(c as usize) {
            list.retain(|(s, _)| *s != slot);
        }
    }

    pub(super) fn get(&self, c: ConceptIdx) -> &[(Slot, u8)] {
        self.0.get(c as usize).map_or(&[], Vec::as_slice)
    }

    /// The entries of slots after `after` (all of them for `None`).
    pub(super) fn after(&self, c: ConceptIdx, after: Option<Slot>) -> &[(Slot, u8)] {
        let list = self.get(c);
        match after {
            Some(a) => &list[list.partition_point(|(s, _)| *s <= a)..],
            None => list,
        }
    }
}

pub(super) fn concepts(terms: &[Term]) -> impl Iterator<Item = ConceptIdx> + '_ {
    terms.iter().filter_map(|t| t.concept)
}

/// The themes a member shares: the concepts of its interests and offers, and those directly above them (possibly
/// repeated).
pub(super) fn topics_of<'a>(vocab: &'a Vocabulary, m: &'a MemberProfile) -> impl Iterator<Item = ConceptIdx> + 'a {
    concepts(&m.interests).chain(concepts(&m.offers)).flat_map(move |c| std::iter::once(c).chain(vocab.broader(c)))
}

/// Each concept once, with the highest strength any of the terms gives it.
pub(super) fn best_strengths(terms: &[Term]) -> Vec<(ConceptIdx, u8)> {
    let mut out: Vec<(ConceptIdx, u8)> = Vec::new();
    for t in terms {
        let Some(c) = t.concept else { continue };
        let s = t.strength.clamp(1, 5);
        match out.iter_mut().find(|(x, _)| *x == c) {
            Some(best) => best.1 = best.1.max(s),
            None => out.push((c, s)),
        }
    }
    out
}

pub(super) fn distinct(terms: &[Term]) -> Vec<ConceptIdx> {
    let mut v: Vec<ConceptIdx> = concepts(terms).collect();
    v.sort_unstable();
    v.dedup();
    v
}
