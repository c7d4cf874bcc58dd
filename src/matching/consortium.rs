//! Teams for a project: small consortia that cover its required skills and satisfy its rules (partners, countries),
//! each saying who covers what and what is left.

use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use super::index::{MatchIndex, Missing};
use super::model::{MemberProfile, ProjectProfile};
use super::vocabulary::{ConceptIdx, Lang, Vocabulary};

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct TeamMember {
    pub member: Uuid,
    pub name: String,
    pub country: String,
    pub lead: bool,
    /// Required skills this member covers (the project's words).
    pub covers: Vec<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Team {
    pub members: Vec<TeamMember>,
    pub countries: Vec<String>,
    /// Share of the required skills (weighted, rare skills weigh more) the team covers, 0..100.
    pub coverage: f64,
    pub uncovered: Vec<Missing>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Consortia {
    /// False only when no team can meet the project's rules, for a reason that can be proved (listed in `reasons`).
    pub possible: bool,
    pub reasons: Vec<String>,
    pub teams: Vec<Team>,
}

const MAX_TEAMS: usize = 5;

struct Ctx<'a> {
    index: &'a MatchIndex,
    vocab: &'a Vocabulary,
    project: &'a ProjectProfile,
}

impl Ctx<'_> {
    /// Indices of the required skills a member covers.
    fn covers(&self, m: &MemberProfile) -> Vec<usize> {
        self.project
            .required
            .iter()
            .enumerate()
            .filter(|(_, r)| {
                r.concept.is_some_and(|c| {
                    m.offers
                        .iter()
                        .any(|o| o.concept.is_some_and(|oc| oc == c || self.vocab.neighbours(c).any(|n| n == oc)))
                })
            })
            .map(|(i, _)| i)
            .collect()
    }

    /// Whether a member brings something to the project: a required skill; or, for a project that names no skill
    /// with a concept, one of its themes or sectors.
    fn contributes(&self, m: &MemberProfile) -> bool {
        let p = self.project;
        if p.required.iter().any(|r| r.concept.is_some()) {
            return !self.covers(m).is_empty();
        }
        let topics: HashSet<ConceptIdx> = m.interests.iter().chain(&m.offers).filter_map(|t| t.concept).collect();
        p.themes.iter().any(|t| t.concept.is_some_and(|c| topics.contains(&c)))
            || p.sectors.iter().any(|s| m.sectors.contains(s))
    }

    fn weight(&self, i: usize) -> f64 {
        self.index.weight_of(&self.project.required[i])
    }
}

/// Propose up to five teams for a project.
pub fn propose(
    index: &MatchIndex,
    vocab: &Vocabulary,
    lang: Lang,
    project: Uuid,
    now: DateTime<Utc>,
) -> Option<Consortia> {
    let p = index.project(project)?;
    let ctx = Ctx { index, vocab, project: p };
    let lead = p.lead.and_then(|l| index.member(l)).cloned();
    let min_partners = p.min_partners.max(1) as usize;
    let max_partners = (p.max_partners as usize).max(min_partners);
    let min_countries = p.min_countries as usize;

    // Candidates: every member who may join (active, discoverable, of an admitted country and size) and contributes (see
    // `contributes`); the lead is in every team, and every other member of a team brings something.
    let mut pool: Vec<Arc<MemberProfile>> = index
        .all_members()
        .filter(|m| m.active && m.discoverable && p.admits(m) && Some(m.id) != p.lead && ctx.contributes(m))
        .cloned()
        .collect();
    pool.sort_by_key(|m| m.id);

    let mut reasons = Vec::new();
    if !p.is_open(now) {
        reasons.push("the project is closed".to_owned());
    }
    if let Some(l) = &lead
        && !(l.active && p.admits(l))
    {
        reasons.push("the project's lead is not active, or not of a country and size the project admits".to_owned());
    }
    let countries: BTreeSet<&str> =
        pool.iter().map(|m| m.country.as_str()).chain(lead.iter().map(|l| l.country.as_str())).collect();
    if countries.len() < min_countries {
        reasons.push(format!(
            "the project needs partners from {min_countries} countries, and the eligible members who bring something \
             to it come from only {}",
            countries.len()
        ));
    }
    let team_size_possible = pool.len() + usize::from(lead.is_some());
    if team_size_possible < min_partners {
        reasons.push(format!(
            "the project needs {min_partners} partners, and only {team_size_possible} eligible members bring something \
             to it"
        ));
    }
    if !reasons.is_empty() {
        return Some(Consortia { possible: false, reasons, teams: Vec::new() });
    }
    let uncoverable: Vec<usize> = (0..p.required.len())
        .filter(|&i| !pool.iter().chain(lead.iter()).any(|m| ctx.covers(m).contains(&i)))
        .collect();
    for i in &uncoverable {
        reasons.push(format!("no eligible member offers “{}”", p.required[*i].text));
    }

    // Seeds: the best single contributors; one team grown greedily from each.
    let mut ranked: Vec<(f64, &Arc<MemberProfile>)> =
        pool.iter().map(|m| (ctx.covers(m).iter().map(|&i| ctx.weight(i)).sum::<f64>(), m)).collect();
    ranked.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.id.cmp(&b.1.id)));
    let mut teams: Vec<Team> = Vec::new();
    let mut seen_teams: HashSet<Vec<Uuid>> = HashSet::new();
    let seeds: Vec<Option<&Arc<MemberProfile>>> =
        if ranked.is_empty() { vec![None] } else { ranked.iter().take(MAX_TEAMS * 2).map(|(_, m)| Some(*m)).collect() };
    for seed in seeds {
        let mut team: Vec<Arc<MemberProfile>> = lead.iter().cloned().collect();
        if let Some(s) = seed
            && team.len() < max_partners
        {
            team.push(s.clone());
        }
        grow(&ctx, &pool, &mut team, min_partners, max_partners, min_countries);
        let team_countries: BTreeSet<&str> = team.iter().map(|m| m.country.as_str()).collect();
        if team.len() < min_partners || team_countries.len() < min_countries {
            continue;
        }
        let mut key: Vec<Uuid> = team.iter().map(|m| m.id).collect();
        key.sort();
        if !seen_teams.insert(key) {
            continue;
        }
        teams.push(describe(&ctx, lang, &team));
        if teams.len() == MAX_TEAMS {
            break;
        }
    }
    teams.sort_by(|a, b| b.coverage.total_cmp(&a.coverage).then(a.members.len().cmp(&b.members.len())));
    let possible = !teams.is_empty();
    if !possible && reasons.is_empty() {
        reasons.push("no combination of eligible members meets the partner and country rules".to_owned());
    }
    Some(Consortia { possible, reasons, teams })
}

/// Add members one at a time: the one that covers the most uncovered weight, while making sure the remaining places
/// can still bring the missing countries.
fn grow(
    ctx: &Ctx<'_>,
    pool: &[Arc<MemberProfile>],
    team: &mut Vec<Arc<MemberProfile>>,
    min_partners: usize,
    max_partners: usize,
    min_countries: usize,
) {
    loop {
        let covered: HashSet<usize> = team.iter().flat_map(|m| ctx.covers(m)).collect();
        let countries: HashSet<&str> = team.iter().map(|m| m.country.as_str()).collect();
        let all_covered =
            (0..ctx.project.required.len()).all(|i| covered.contains(&i) || ctx.project.required[i].concept.is_none());
        let countries_missing = min_countries.saturating_sub(countries.len());
        if team.len() >= max_partners || (all_covered && team.len() >= min_partners && countries_missing == 0) {
            return;
        }
        let places_left = max_partners - team.len();
        let must_add_country = countries_missing > 0 && countries_missing >= places_left;
        let best = pool
            .iter()
            .filter(|m| !team.iter().any(|t| t.id == m.id))
            .filter(|m| !must_add_country || !countries.contains(m.country.as_str()))
            .map(|m| {
                let gain: f64 = ctx.covers(m).into_iter().filter(|i| !covered.contains(i)).map(|i| ctx.weight(i)).sum();
                let new_country = u8::from(countries_missing > 0 && !countries.contains(m.country.as_str()));
                (gain, new_country, m)
            })
            .filter(|(gain, new_country, _)| *gain > 0.0 || *new_country > 0 || team.len() < min_partners)
            .max_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)).then(b.2.id.cmp(&a.2.id)));
        match best {
            Some((_, _, m)) => team.push(m.clone()),
            None => return,
        }
    }
}

fn describe(ctx: &Ctx<'_>, lang: Lang, team: &[Arc<MemberProfile>]) -> Team {
    let p = ctx.project;
    let mut covered = HashSet::new();
    let members = team
        .iter()
        .map(|m| {
            let covers = ctx.covers(m);
            covered.extend(covers.iter().copied());
            TeamMember {
                member: m.id,
                name: m.name.clone(),
                country: m.country.clone(),
                lead: p.lead == Some(m.id),
                covers: covers.iter().map(|&i| p.required[i].text.clone()).collect(),
            }
        })
        .collect();
    let total: f64 = (0..p.required.len()).map(|i| ctx.weight(i)).sum();
    let got: f64 = covered.iter().map(|&i| ctx.weight(i)).sum();
    let uncovered = (0..p.required.len())
        .filter(|i| !covered.contains(i))
        .map(|i| {
            let t = &p.required[i];
            let c = t.concept.filter(|&c| !ctx.index.is_free(c)).and_then(|c| ctx.vocab.get(c));
            Missing {
                term: t.text.clone(),
                concept: c.map(|c| c.id.clone()),
                label: c.map(|c| c.label(lang).to_owned()),
            }
        })
        .collect();
    let countries: BTreeSet<String> = team.iter().map(|m| m.country.clone()).collect();
    Team {
        members,
        countries: countries.into_iter().collect(),
        coverage: if total > 0.0 { (got / total * 1000.0).round() / 10.0 } else { 100.0 },
        uncovered,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::member::Size;
    use crate::matching::fixtures::{member, project, term};
    use crate::matching::model::Weights;

    fn vocab() -> Vocabulary {
        crate::matching::fixtures::vocabulary()
    }

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_780_000_000, 0).unwrap()
    }

    /// A member of `country` offering `offers` (concept ids, at level 5).
    fn offering(vocab: &Vocabulary, id: u128, country: &str, offers: &[&str]) -> MemberProfile {
        MemberProfile { offers: offers.iter().map(|c| term(vocab, c, 5)).collect(), ..member(id, country) }
    }

    /// Propose teams for `p` among `members`.
    fn propose_for(vocab: &Vocabulary, members: &[MemberProfile], p: &ProjectProfile) -> Consortia {
        let mut index = MatchIndex::new(Weights::default(), vocab.len());
        for m in members {
            index.upsert_member(m.clone());
        }
        index.upsert_project(p.clone());
        propose(&index, vocab, Lang::En, p.id, now()).unwrap()
    }

    fn ids(team: &Team) -> Vec<Uuid> {
        team.members.iter().map(|m| m.member).collect()
    }

    fn id(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    /// A lead offering graphic design, and partners offering the project's other skills.
    fn with_lead(v: &Vocabulary) -> (Vec<MemberProfile>, ProjectProfile) {
        let members = vec![
            offering(v, 1, "LU", &["esco:gd"]),
            offering(v, 2, "FR", &["esco:3d", "esco:photo"]),
            offering(v, 3, "FR", &["esco:3d"]),
            offering(v, 4, "DE", &["esco:photo"]),
            offering(v, 5, "BE", &["esco:design"]),
        ];
        let p = ProjectProfile {
            required: vec![term(v, "esco:gd", 4), term(v, "esco:3d", 2), term(v, "esco:photo", 3)],
            lead: Some(id(1)),
            ..project(100)
        };
        (members, p)
    }

    #[test]
    fn every_team_has_the_lead() {
        let v = vocab();
        let (members, p) = with_lead(&v);
        let c = propose_for(&v, &members, &p);
        assert!(c.possible);
        assert!(c.reasons.is_empty(), "{:?}", c.reasons);
        assert!(c.teams.len() > 1);
        for team in &c.teams {
            let leads: Vec<Uuid> = team.members.iter().filter(|m| m.lead).map(|m| m.member).collect();
            assert_eq!(leads, [id(1)], "{team:?}");
            assert_eq!(team.members[0].member, id(1), "the lead comes first");
        }
    }

    #[test]
    fn teams_cover_the_required_skills_greedily() {
        let v = vocab();
        let (members, p) = with_lead(&v);
        let c = propose_for(&v, &members, &p);
        // The best team covers everything with the fewest members: the lead and the one partner offering both of
        // the other skills.
        let best = &c.teams[0];
        assert_eq!(ids(best), [id(1), id(2)]);
        assert_eq!(best.coverage, 100.0);
        assert!(best.uncovered.is_empty());
        assert_eq!(best.members[1].covers, ["3D modelling", "photography"]);
        assert_eq!(best.countries, ["FR", "LU"]);
        // Best first: by coverage, then by size.
        for pair in c.teams.windows(2) {
            let (a, b) = (&pair[0], &pair[1]);
            assert!(a.coverage > b.coverage || (a.coverage == b.coverage && a.members.len() <= b.members.len()));
        }
        // Past the lead and the seed, a member joins only for a skill the team does not cover yet (no rule here
        // needs more partners or countries).
        for team in &c.teams {
            for (i, m) in team.members.iter().enumerate().skip(2) {
                let before: Vec<&String> = team.members[..i].iter().flat_map(|t| &t.covers).collect();
                assert!(m.covers.iter().any(|s| !before.contains(&s)), "{team:?}");
            }
        }
        // An offer next to a required skill in the hierarchy covers it: design (the broader concept) covers graphic
        // design.
        let seeded_by_design = c.teams.iter().find(|t| ids(t).contains(&id(5))).unwrap();
        let design = seeded_by_design.members.iter().find(|m| m.member == id(5)).unwrap();
        assert_eq!(design.covers, ["graphic design"]);
    }

    #[test]
    fn partner_counts_are_respected() {
        let v = vocab();
        let members: Vec<MemberProfile> = (1..=6).map(|i| offering(&v, i, "LU", &["esco:gd"])).collect();
        // The lead covers the one skill alone: partners that cover nothing new join only to reach the minimum.
        let p = ProjectProfile {
            required: vec![term(&v, "esco:gd", 3)],
            lead: Some(id(1)),
            min_partners: 3,
            max_partners: 5,
            ..project(100)
        };
        let c = propose_for(&v, &members, &p);
        assert!(c.possible);
        assert!(!c.teams.is_empty());
        for team in &c.teams {
            assert_eq!(team.members.len(), 3, "{team:?}");
        }
        // Three skills for three members, but room for two: every team stops at two and says what it lacks.
        let members = vec![
            offering(&v, 1, "LU", &["esco:gd"]),
            offering(&v, 2, "LU", &["esco:3d"]),
            offering(&v, 3, "LU", &["esco:photo"]),
        ];
        let p = ProjectProfile {
            required: vec![term(&v, "esco:gd", 3), term(&v, "esco:3d", 3), term(&v, "esco:photo", 3)],
            min_partners: 1,
            max_partners: 2,
            ..project(100)
        };
        let c = propose_for(&v, &members, &p);
        assert!(c.possible);
        assert!(!c.teams.is_empty());
        for team in &c.teams {
            assert_eq!(team.members.len(), 2, "{team:?}");
            assert_eq!(team.uncovered.len(), 1, "{team:?}");
            assert!(team.coverage < 100.0);
        }
    }

    #[test]
    fn teams_meet_the_country_rule() {
        let v = vocab();
        // The strongest partner shares the lead's country; the other countries come from members who cover a skill,
        // never from one who covers nothing (though that one is from a missing country too).
        let members = vec![
            offering(&v, 1, "LU", &["esco:gd"]),
            offering(&v, 2, "LU", &["esco:gd", "esco:3d"]),
            offering(&v, 3, "BE", &["esco:gd"]),
            member(4, "NL"),
            offering(&v, 5, "NL", &["esco:3d"]),
            offering(&v, 6, "DE", &["esco:photo"]),
        ];
        let p = ProjectProfile {
            required: vec![term(&v, "esco:gd", 3), term(&v, "esco:3d", 3)],
            lead: Some(id(1)),
            min_countries: 3,
            max_partners: 3,
            ..project(100)
        };
        let c = propose_for(&v, &members, &p);
        assert!(c.possible, "{:?}", c.reasons);
        assert_eq!(c.teams.len(), 1, "{:?}", c.teams);
        let team = &c.teams[0];
        assert_eq!(ids(team), [id(1), id(5), id(3)], "{team:?}");
        assert_eq!(team.countries, ["BE", "LU", "NL"]);
        assert!(team.uncovered.is_empty(), "{team:?}");

        // With no contributor from a third country, no team: members who cover nothing do not fill the quota.
        let members = vec![offering(&v, 1, "LU", &["esco:gd"]), offering(&v, 3, "BE", &["esco:gd"]), member(4, "NL")];
        let c = propose_for(&v, &members, &p);
        assert!(!c.possible);
        assert_eq!(
            c.reasons,
            ["the project needs partners from 3 countries, and the eligible members who bring something to it come \
              from only 2"]
        );
    }

    #[test]
    fn every_member_of_a_team_brings_something() {
        let v = vocab();
        let mut members = vec![offering(&v, 1, "LU", &["esco:gd"])];
        members.extend((2..=6).map(|n| offering(&v, n, "FR", &["esco:3d"])));
        members.extend((7..=9).map(|n| offering(&v, n, "DE", &["esco:photo"])));
        members.push(member(10, "BE"));
        let p = ProjectProfile {
            required: vec![term(&v, "esco:gd", 3), term(&v, "esco:3d", 3)],
            lead: Some(id(1)),
            min_partners: 3,
            max_partners: 4,
            ..project(100)
        };
        let c = propose_for(&v, &members, &p);
        assert!(c.possible, "{:?}", c.reasons);
        assert!(c.teams.len() > 1, "alternatives: {:?}", c.teams);
        for team in &c.teams {
            for m in team.members.iter().filter(|m| !m.lead) {
                assert!(!m.covers.is_empty(), "{} covers nothing in {team:?}", m.name);
            }
        }
    }

    #[test]
    fn uncovered_skills_are_reported() {
        let v = vocab();
        let members = vec![
            offering(&v, 1, "LU", &["esco:gd"]),
            offering(&v, 2, "FR", &["esco:3d"]),
            // Offers sound design, but is not active: no one eligible does.
            MemberProfile { active: false, ..offering(&v, 3, "FR", &["esco:sound"]) },
        ];
        let p = ProjectProfile {
            required: vec![term(&v, "esco:gd", 3), term(&v, "esco:sound", 3), term(&v, "esco:3d", 3)],
            ..project(100)
        };
        let c = propose_for(&v, &members, &p);
        assert!(c.possible, "a team is still possible");
        assert_eq!(c.reasons, ["no eligible member offers “sound design”"]);
        let best = &c.teams[0];
        assert_eq!(ids(best).len(), 2);
        assert_eq!(best.uncovered.len(), 1);
        assert_eq!(best.uncovered[0].term, "sound design");
        assert_eq!(best.uncovered[0].concept.as_deref(), Some("esco:sound"));
        assert!(best.coverage > 0.0 && best.coverage < 100.0);
    }

    #[test]
    fn impossible_only_for_a_reason_that_can_be_proved() {
        let v = vocab();
        let mut members = vec![
            offering(&v, 1, "LU", &["esco:gd"]),
            offering(&v, 2, "FR", &["esco:gd"]),
            offering(&v, 3, "FR", &["esco:3d"]),
        ];
        // Members who offer the skills but can never be in a team: inactive, hidden, or from a country the project
        // does not admit.
        members.push(MemberProfile { active: false, ..offering(&v, 4, "DE", &["esco:gd"]) });
        members.push(MemberProfile { discoverable: false, ..offering(&v, 5, "DE", &["esco:gd"]) });
        members.push(offering(&v, 6, "IT", &["esco:3d"]));
        let p = ProjectProfile {
            required: vec![term(&v, "esco:gd", 3), term(&v, "esco:3d", 3)],
            eligible_countries: vec!["LU".to_owned(), "FR".to_owned(), "DE".to_owned()],
            ..project(100)
        };

        // At the limits of what the eligible members allow: possible.
        let tight = ProjectProfile { min_partners: 3, max_partners: 3, min_countries: 2, ..p.clone() };
        let c = propose_for(&v, &members, &tight);
        assert!(c.possible, "{:?}", c.reasons);
        assert_eq!(c.teams.len(), 1);
        assert_eq!(ids(&c.teams[0]).len(), 3);

        // One partner more than there are eligible members.
        let c = propose_for(&v, &members, &ProjectProfile { min_partners: 4, max_partners: 5, ..p.clone() });
        assert!(!c.possible);
        assert!(c.teams.is_empty());
        assert_eq!(c.reasons, ["the project needs 4 partners, and only 3 eligible members bring something to it"]);

        // One country more than the eligible members come from.
        let c = propose_for(&v, &members, &ProjectProfile { min_countries: 3, ..p.clone() });
        assert!(!c.possible);
        assert!(c.teams.is_empty());
        assert_eq!(
            c.reasons,
            ["the project needs partners from 3 countries, and the eligible members who bring something to it come \
              from only 2"]
        );

        // A closed project.
        let c = propose_for(&v, &members, &ProjectProfile { closed: true, ..p });
        assert!(!c.possible);
        assert!(c.reasons.iter().any(|r| r == "the project is closed"), "{:?}", c.reasons);
    }

    #[test]
    fn teams_are_of_the_sizes_the_project_admits() {
        let v = vocab();
        // A call for one-person firms: a micro firm offering what it needs is no candidate, a member that has not
        // stated its size is (nothing says it may not apply).
        let members = vec![
            MemberProfile { size: Some(Size::OnePerson), ..offering(&v, 1, "LU", &["esco:gd"]) },
            MemberProfile { size: Some(Size::Micro), ..offering(&v, 2, "LU", &["esco:3d"]) },
            offering(&v, 3, "LU", &["esco:3d"]),
        ];
        let p = ProjectProfile {
            required: vec![term(&v, "esco:gd", 3), term(&v, "esco:3d", 3)],
            eligible_sizes: vec![Size::OnePerson],
            min_partners: 2,
            ..project(100)
        };
        let c = propose_for(&v, &members, &p);
        assert!(c.possible, "{:?}", c.reasons);
        assert!(c.teams.iter().all(|t| !ids(t).contains(&id(2))), "{:?}", c.teams);
        assert_eq!(ids(&c.teams[0]), [id(1), id(3)]);

        // A lead of a size the project does not admit.
        let c = propose_for(&v, &members, &ProjectProfile { lead: Some(id(2)), ..p });
        assert!(!c.possible);
        assert!(
            c.reasons.iter().any(|r| r.contains("not of a country and size the project admits")),
            "{:?}",
            c.reasons
        );
    }

    #[test]
    fn unknown_project_proposes_nothing() {
        let v = vocab();
        let index = MatchIndex::new(Weights::default(), v.len());
        assert!(propose(&index, &v, Lang::En, id(1), now()).is_none());
    }
}
