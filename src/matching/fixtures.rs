//! Plain profiles and projects for the matching tests: everything empty or neutral unless a test says otherwise.

use uuid::Uuid;

use super::model::{MemberProfile, ProjectProfile, Term};
use super::vocabulary::{Lang, MatchKind, Vocabulary};
use crate::domain::member::Scope;

/// A small vocabulary for the matching tests: graphic design sits under design; the other skills and two themes
/// stand alone.
pub fn vocabulary() -> Vocabulary {
    const CONCEPTS: &str = "concept,kind,broader\n\
        esco:design,skill,\n\
        esco:gd,skill,esco:design\n\
        esco:3d,skill,\n\
        esco:photo,skill,\n\
        esco:sound,skill,\n\
        mm:theme:heritage,theme,\n\
        mm:theme:film,theme,\n";
    const LABELS: &str = "concept,lang,kind,label\n\
        esco:design,en,pref,design\n\
        esco:gd,en,pref,graphic design\n\
        esco:3d,en,pref,3D modelling\n\
        esco:photo,en,pref,photography\n\
        esco:sound,en,pref,sound design\n\
        mm:theme:heritage,en,pref,cultural heritage\n\
        mm:theme:film,en,pref,film\n";
    Vocabulary::from_csv(&[CONCEPTS], &[LABELS]).unwrap_or_else(|e| panic!("the test vocabulary: {e}"))
}

/// A term naming the concept `id` of `vocab` (it must be there), in its English words, at `strength`.
pub fn term(vocab: &Vocabulary, id: &str, strength: u8) -> Term {
    let c = vocab.find(id).unwrap_or_else(|| panic!("{id} is not in the test vocabulary"));
    Term {
        text: vocab.concept(c).label(Lang::En).to_owned(),
        concept: Some(c),
        kind: MatchKind::Exact,
        strength,
        place: None,
    }
}

/// An active, discoverable member of `country` with no sectors, scopes, offers, needs or interests.
pub fn member(id: u128, country: &str) -> MemberProfile {
    MemberProfile {
        id: Uuid::from_u128(id),
        name: format!("member {id}"),
        country: country.to_owned(),
        size: None,
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
        eligible_sizes: Vec::new(),
        deadline: None,
        closed: false,
        min_partners: 1,
        max_partners: 3,
        min_countries: 1,
        lead: None,
    }
}
