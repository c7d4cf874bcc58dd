//! Plain profiles and projects for the matching tests: everything empty or neutral unless a test says otherwise.

use uuid::Uuid;

use super::model::{MemberProfile, ProjectProfile, Term};
use super::vocabulary::{Lang, MatchKind, Vocabulary};
use crate::domain::member::Scope;

/// A term naming the concept `id` of `vocab` (it must be there), in its English words, at `strength`.
pub fn term(vocab: &Vocabulary, id: &str, strength: u8) -> Term {
    let c = vocab.find(id).unwrap_or_else(|| panic!("{id} is not in the test vocabulary"));
    Term { text: vocab.concept(c).label(Lang::En).to_owned(), concept: Some(c), kind: MatchKind::Exact, strength }
}

/// An active, discoverable member of `country` with no sectors, scopes, offers, needs or interests.
pub fn member(id: u128, country: &str) -> MemberProfile {
    MemberProfile {
        id: Uuid::from_u128(id),
        name: format!("member {id}"),
        country: country.to_owned(),
        city: None,
        website: None,
        sectors: Vec::new(),
        scopes: Vec::new(),
        offers: Vec::new(),
        needs: Vec::new(),
        interests: Vec::new(),
        discoverable: true,
        active: true,
    }
}

/// An open project for anyone, national, without deadline, lead, sectors, skills or themes; 1 to 3 partners from at
/// least one country.
pub fn project(id: u128) -> ProjectProfile {
    ProjectProfile {
        id: Uuid::from_u128(id),
        title: format!("project {id}"),
        scope: Scope::National,
        sectors: Vec::new(),
        required: Vec::new(),
        themes: Vec::new(),
        eligible_countries: Vec::new(),
        deadline: None,
        closed: false,
        min_partners: 1,
        max_partners: 3,
        min_countries: 1,
        lead: None,
    }
}
