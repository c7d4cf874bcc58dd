//! The realistic evaluation: members written the way cluster members write (four languages, jargon, typos), national
//! and international projects, and the real calls of the fixture, judged by agency staff before any tuning
//! (`tests/data/realistic/README.md`). It loads the whole set through the API on the frozen clock of 2024-10-15 and
//! measures what members get, for the development part and the held-out part apart:
//!
//! - judged-wrong mappings: typed terms stored with a concept the judges called wrong for them;
//! - trade words mapped: the share of each member's core trade words stored with a vocabulary concept;
//! - expected partner pairs found in either member's top 5 partners;
//! - expected projects found in the member's top 3 projects;
//! - rejected matches (partners or projects) found in a member's top 3;
//! - members reached: members for whom a matching run with default settings creates a pending suggestion.
//!
//! `REALISTIC_DETAILS=1` prints what the development part's members got beside what was expected, and the
//! development figures only (never the held-out part's: nothing in it may be looked at while tuning).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::DateTime;
use reqwest::Method;
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::TestApp;
use crate::on_both_backends;

on_both_backends!(realistic_members_get);

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/realistic");

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Part {
    Dev,
    HeldOut,
}

impl Part {
    fn file(self) -> &'static str {
        match self {
            Self::Dev => "dev",
            Self::HeldOut => "heldout",
        }
    }
}

#[derive(Debug, Deserialize)]
struct MemberEntry {
    key: String,
    body: Value,
}

#[derive(Debug, Deserialize)]
struct ProjectEntry {
    key: String,
    #[serde(default)]
    lead: Option<String>,
    #[serde(default)]
    body: Option<Value>,
    #[serde(default)]
    fixture_reference: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Wrong {
    term: String,
    concept: String,
}

#[derive(Debug, Default, Deserialize)]
struct MemberJudgement {
    #[serde(default)]
    trade_words: Vec<String>,
    #[serde(default)]
    expected_partners: Vec<String>,
    #[serde(default)]
    rejected_partners: Vec<String>,
    #[serde(default)]
    expected_projects: Vec<String>,
    #[serde(default)]
    rejected_projects: Vec<String>,
    #[serde(default)]
    must_not_map: Vec<Wrong>,
}

#[derive(Debug, Default, Deserialize)]
struct ProjectJudgement {
    #[serde(default)]
    must_not_map: Vec<Wrong>,
}

#[derive(Debug, Deserialize)]
struct Judgements {
    members: BTreeMap<String, MemberJudgement>,
    #[serde(default)]
    projects: BTreeMap<String, ProjectJudgement>,
}

fn read<T: serde::de::DeserializeOwned>(name: &str) -> T {
    let text = std::fs::read_to_string(format!("{DIR}/{name}")).unwrap_or_else(|e| panic!("{name}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The whole set, as written.
struct Set {
    members: Vec<(Part, MemberEntry)>,
    projects: Vec<(Part, ProjectEntry)>,
    judgements: BTreeMap<Part, Judgements>,
}

fn set() -> Set {
    let mut s = Set { members: Vec::new(), projects: Vec::new(), judgements: BTreeMap::new() };
    for part in [Part::Dev, Part::HeldOut] {
        let members: Vec<MemberEntry> = read(&format!("members_{}.json", part.file()));
        s.members.extend(members.into_iter().map(|m| (part, m)));
        let projects: Vec<ProjectEntry> = read(&format!("projects_{}.json", part.file()));
        s.projects.extend(projects.into_iter().map(|p| (part, p)));
        s.judgements.insert(part, read(&format!("judgements_{}.json", part.file())));
    }
    s
}

/// The set has the shape the evaluation promises: enough members of every sector, language and size, from inside
/// and outside Luxembourg; projects of every scope, some led by members; about a third held out.
fn assert_shape(set: &Set) {
    let bodies: Vec<&Value> = set.members.iter().map(|(_, m)| &m.body).collect();
    assert!(bodies.len() >= 40, "{} members", bodies.len());
    let strings = |field: &str| -> BTreeSet<String> {
        bodies
            .iter()
            .flat_map(|b| match &b[field] {
                Value::Array(items) => items.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect(),
                Value::String(s) => vec![s.clone()],
                _ => Vec::new(),
            })
            .collect()
    };
    let sectors = strings("sectors");
    for s in [
        "architecture",
        "crafts_and_art",
        "cinematography",
        "design",
        "games",
        "marketing_and_communication",
        "fashion",
        "new_media",
    ] {
        assert!(sectors.contains(s), "no member of {s}");
    }
    assert_eq!(strings("preferred_language"), ["de", "en", "fr", "lb"].iter().map(|s| (*s).to_owned()).collect());
    assert!(bodies.iter().filter(|b| b["country"] != "LU").count() >= 5, "members from the border regions");
    assert!(bodies.iter().any(|b| b["size"] == "one_person") && bodies.iter().any(|b| b["size"] != "one_person"));
    assert!(set.projects.len() >= 15, "{} projects", set.projects.len());
    let scopes: BTreeSet<&str> = set
        .projects
        .iter()
        .map(|(_, p)| p.body.as_ref().map_or("european", |b| b["scope"].as_str().unwrap()))
        .collect();
    assert_eq!(scopes, ["european", "international", "national"].into_iter().collect());
    assert!(set.projects.iter().any(|(_, p)| p.lead.is_some()), "some projects are led by members");
    let held = set.members.iter().filter(|(p, _)| *p == Part::HeldOut).count() as f64 / set.members.len() as f64;
    assert!((0.25..=0.40).contains(&held), "held out: {held:.2} of the members");
}

/// The set as loaded: ids by key.
struct Loaded {
    members: HashMap<String, Uuid>,
    /// Written projects by key; fixture calls by `ref:<reference>` and by their key in the set.
    projects: HashMap<String, Uuid>,
    part_of: HashMap<String, Part>,
}

/// Every project, the imported calls left out of the cluster's included.
async fn all_projects(app: &TestApp) -> Vec<Value> {
    let mut out = app.all_pages("/v1/projects").await;
    out.extend(app.all_pages("/v1/projects?left_out=true").await);
    out
}

async fn load(app: &TestApp, set: &Set) -> Loaded {
    let data = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/eu_open_calls_2024-10.csv")).unwrap();
    let request = app.request(Method::POST, "/v1/projects/import").header("content-type", "text/csv").body(data);
    let imported = app.send(request).await;
    assert_eq!(imported.status, 200, "{}", imported.text());
    let mut loaded = Loaded { members: HashMap::new(), projects: HashMap::new(), part_of: HashMap::new() };
    for (part, m) in &set.members {
        let (created, _, _) = app.create_member(&m.body).await;
        loaded.members.insert(m.key.clone(), created["id"].as_str().unwrap().parse().unwrap());
        loaded.part_of.insert(m.key.clone(), *part);
    }
    for (_, p) in set.projects.iter().filter(|(_, p)| p.body.is_some()) {
        let mut body = p.body.clone().unwrap();
        if let Some(lead) = &p.lead {
            body["lead_member_id"] = json!(loaded.members[lead]);
        }
        let created = app.post("/v1/projects", &body).await;
        assert_eq!(created.status, 201, "{}: {}", p.key, created.text());
        loaded.projects.insert(p.key.clone(), created.json()["id"].as_str().unwrap().parse().unwrap());
    }
    let by_reference: HashMap<String, Uuid> = all_projects(app)
        .await
        .iter()
        .filter_map(|p| Some((p["reference"].as_str()?.to_owned(), p["id"].as_str()?.parse().ok()?)))
        .collect();
    for (reference, id) in &by_reference {
        loaded.projects.insert(format!("ref:{reference}"), *id);
    }
    for (_, p) in &set.projects {
        if let Some(reference) = &p.fixture_reference {
            let id = by_reference.get(reference).unwrap_or_else(|| panic!("{} is not in the fixture", p.key));
            loaded.projects.insert(p.key.clone(), *id);
        }
    }
    loaded
}

/// What a part of the set got.
#[derive(Debug, Default)]
struct Figures {
    wrong_mappings: usize,
    trade_words: usize,
    trade_words_mapped: usize,
    partner_pairs: usize,
    partner_pairs_found: usize,
    projects: usize,
    projects_found: usize,
    rejected_in_top3: usize,
    members: usize,
    members_reached: usize,
}

fn share(found: usize, of: usize) -> String {
    if of == 0 { "n/a".to_owned() } else { format!("{found}/{of} = {:.0} %", 100.0 * found as f64 / of as f64) }
}

impl std::fmt::Display for Figures {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "judged-wrong mappings {}; trade words mapped {}; expected partner pairs in a top 5 {}; expected projects \
             in the top 3 {}; rejected matches in a top 3 {}; members reached {}",
            self.wrong_mappings,
            share(self.trade_words_mapped, self.trade_words),
            share(self.partner_pairs_found, self.partner_pairs),
            share(self.projects_found, self.projects),
            self.rejected_in_top3,
            share(self.members_reached, self.members),
        )
    }
}

/// Every term of a member or project (offers, needs, interests; required skills, themes) with its concept.
fn stored_terms(doc: &Value) -> Vec<(String, Option<String>, String)> {
    ["offers", "needs", "interests", "required_skills", "themes"]
        .iter()
        .flat_map(|list| doc[*list].as_array().cloned().unwrap_or_default())
        .map(|t| {
            (
                t["term"].as_str().unwrap_or_default().to_owned(),
                t["concept"].as_str().map(str::to_owned),
                t["match"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

fn wrong_mappings(doc: &Value, wrong: &[Wrong], label: &str, details: &mut Vec<String>) -> usize {
    let terms = stored_terms(doc);
    let mut n = 0;
    for w in wrong {
        if terms.iter().any(|(t, c, _)| *t == w.term && c.as_deref() == Some(w.concept.as_str())) {
            n += 1;
            details.push(format!("{label}: `{}` is mapped to {}, judged wrong", w.term, w.concept));
        }
    }
    n
}

/// The ids in a ranking's first `n` items (`member` or `project` entries).
async fn top(app: &TestApp, path: &str, entry: &str, n: usize) -> Vec<Uuid> {
    let reply = app.get(&format!("{path}?limit={n}")).await;
    assert_eq!(reply.status, 200, "{path}: {}", reply.text());
    reply.json()["items"].as_array().unwrap().iter().filter_map(|i| i[entry]["id"].as_str()?.parse().ok()).collect()
}

/// Where `id` stands in a ranking (its first 50 items), with its score and what matched: for the details.
async fn standing(app: &TestApp, path: &str, entry: &str, id: Uuid) -> String {
    if std::env::var("REALISTIC_DETAILS").is_err() {
        return String::new(); // the details are printed only then: no requests for them otherwise
    }
    let items = app.get(&format!("{path}?limit=50")).await.json()["items"].as_array().cloned().unwrap_or_default();
    let Some((rank, item)) = items.iter().enumerate().find(|(_, i)| i[entry]["id"] == id.to_string()) else {
        return "not in the first 50".to_owned();
    };
    let rows: Vec<String> = item["explanation"]["matched"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| format!("{} {}↔{} ({})", r["relation"], r["member_term"], r["other_term"], r["member_match"]))
        .collect();
    let parts = |i: &Value| -> String {
        let list = i["explanation"]["components"].as_array().cloned().unwrap_or_default();
        list.iter()
            .map(|c| format!("{} {}", c["name"].as_str().unwrap_or_default(), c["score"]))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let first = items.first().map(|i| format!("{} [{}]", i["score"], parts(i))).unwrap_or_default();
    format!("rank {} score {} [{}] (first {first}): {}", rank + 1, item["score"], parts(item), rows.join("; "))
}

struct Measure<'a> {
    app: &'a TestApp,
    loaded: &'a Loaded,
    names: HashMap<Uuid, String>,
    pending: HashMap<Uuid, usize>,
}

impl Measure<'_> {
    fn name(&self, id: &Uuid) -> String {
        self.names.get(id).cloned().unwrap_or_else(|| id.to_string())
    }

    async fn member(&self, key: &str, j: &MemberJudgement, f: &mut Figures, details: &mut Vec<String>) {
        let id = self.loaded.members[key];
        let doc = self.app.get(&format!("/v1/members/{id}")).await.json();
        f.wrong_mappings += wrong_mappings(&doc, &j.must_not_map, key, details);
        let terms = stored_terms(&doc);
        if std::env::var("REALISTIC_DETAILS").is_ok_and(|v| v == "terms") {
            for (t, c, kind) in &terms {
                details.push(format!("{key}: term `{t}` → {} ({kind})", c.as_deref().unwrap_or("-")));
            }
        }
        for word in &j.trade_words {
            let mapped = terms.iter().any(|(t, c, _)| t == word && c.is_some());
            f.trade_words += 1;
            f.trade_words_mapped += usize::from(mapped);
            if !mapped {
                details.push(format!("{key}: trade word `{word}` is not mapped"));
            }
        }
        let partners5 = top(self.app, &format!("/v1/members/{id}/matches/partners"), "member", 5).await;
        for other in &j.expected_partners {
            let other_id = self.loaded.members[other];
            let theirs = top(self.app, &format!("/v1/members/{other_id}/matches/partners"), "member", 5).await;
            let found = partners5.contains(&other_id) || theirs.contains(&id);
            f.partner_pairs += 1;
            f.partner_pairs_found += usize::from(found);
            if !found {
                let path = format!("/v1/members/{id}/matches/partners");
                let why = standing(self.app, &path, "member", other_id).await;
                details.push(format!("{key}: expected partner {other} is in neither top 5; {why}"));
            }
        }
        let projects3 = top(self.app, &format!("/v1/members/{id}/matches/projects"), "project", 3).await;
        for p in &j.expected_projects {
            let found = projects3.contains(&self.loaded.projects[p]);
            f.projects += 1;
            f.projects_found += usize::from(found);
            if !found {
                let path = format!("/v1/members/{id}/matches/projects");
                let why = standing(self.app, &path, "project", self.loaded.projects[p]).await;
                details.push(format!("{key}: expected project {p} is not in the top 3; {why}"));
            }
        }
        let rejected_partners = j.rejected_partners.iter().map(|k| self.loaded.members[k]);
        let rejected_projects = j.rejected_projects.iter().map(|k| self.loaded.projects[k]);
        for r in rejected_partners.filter(|r| partners5[..partners5.len().min(3)].contains(r)) {
            f.rejected_in_top3 += 1;
            let why = standing(self.app, &format!("/v1/members/{id}/matches/partners"), "member", r).await;
            details.push(format!("{key}: rejected partner {} is in the top 3; {why}", self.name(&r)));
        }
        for r in rejected_projects.filter(|r| projects3.contains(r)) {
            f.rejected_in_top3 += 1;
            let why = standing(self.app, &format!("/v1/members/{id}/matches/projects"), "project", r).await;
            details.push(format!("{key}: rejected project {} is in the top 3; {why}", self.name(&r)));
        }
        f.members += 1;
        f.members_reached += usize::from(self.pending.get(&id).copied().unwrap_or(0) > 0);
        let tops = |ids: &[Uuid]| ids.iter().map(|i| self.name(i)).collect::<Vec<_>>().join(" | ");
        details.push(format!("{key}: top partners [{}]; top projects [{}]", tops(&partners5), tops(&projects3)));
    }

    async fn part(&self, part: Part, judgements: &Judgements) -> (Figures, Vec<String>) {
        let mut f = Figures::default();
        let mut details = Vec::new();
        for (key, j) in &judgements.members {
            assert_eq!(self.loaded.part_of.get(key), Some(&part), "{key} is judged in the {part:?} part");
            self.member(key, j, &mut f, &mut details).await;
        }
        for (key, j) in &judgements.projects {
            let doc = self.app.get(&format!("/v1/projects/{}", self.loaded.projects[key])).await.json();
            f.wrong_mappings += wrong_mappings(&doc, &j.must_not_map, key, &mut details);
        }
        (f, details)
    }
}

/// Pending suggestions by member, after a matching run with default settings.
async fn pending_after_a_run(app: &TestApp) -> HashMap<Uuid, usize> {
    crate::review::run_matching(app).await;
    let mut out = HashMap::new();
    for s in app.all_pages("/v1/review/queue").await {
        *out.entry(s["member_id"].as_str().unwrap().parse().unwrap()).or_default() += 1;
    }
    out
}

async fn realistic_members_get(app: TestApp) {
    let set = set();
    assert_shape(&set);
    app.clock.set(DateTime::parse_from_rfc3339("2024-10-15T09:00:00Z").unwrap().to_utc());
    let loaded = load(&app, &set).await;
    let mut names: HashMap<Uuid, String> = loaded.members.iter().map(|(k, id)| (*id, k.clone())).collect();
    names.extend(loaded.projects.iter().filter(|(k, _)| !k.starts_with("ref:")).map(|(k, id)| (*id, k.clone())));
    // Imported calls by their call identifier.
    for p in app.all_pages("/v1/projects").await {
        if let (Some(id), Some(call)) = (p["id"].as_str().and_then(|i| i.parse().ok()), p["call_id"].as_str()) {
            names.entry(id).or_insert_with(|| call.to_owned());
        }
    }
    let pending = pending_after_a_run(&app).await;
    let measure = Measure { app: &app, loaded: &loaded, names, pending };
    let (dev, dev_details) = measure.part(Part::Dev, &set.judgements[&Part::Dev]).await;
    let (held, _) = measure.part(Part::HeldOut, &set.judgements[&Part::HeldOut]).await;
    let tuning = std::env::var("REALISTIC_DETAILS").is_ok();
    if tuning {
        // While tuning only the development part is shown, its details and its figures.
        eprintln!("{}", dev_details.join("\n"));
        eprintln!("realistic evaluation ({:?})\n  development: {dev}", app.backend);
    } else {
        eprintln!("realistic evaluation ({:?})\n  development: {dev}\n  held-out:    {held}", app.backend);
    }
    assert!(dev.trade_words > 0 && dev.partner_pairs > 0 && dev.projects > 0 && dev.members > 0, "{dev}");
    assert!(held.trade_words > 0 && held.partner_pairs > 0 && held.projects > 0 && held.members > 0, "{held}");
    // Floors at the level reached (README, "Realistic evaluation"), so that a change which loses ground shows. The
    // development part meets the targets for wrong mappings, trade words, partners, projects and members
    // reached; rejected matches fall short of them, and so do some held-out figures: the README says by how much.
    let at_least = |found: usize, of: usize, percent: usize| found * 100 >= of * percent;
    assert_eq!(dev.wrong_mappings, 0, "{dev}");
    assert!(at_least(dev.trade_words_mapped, dev.trade_words, 96), "{dev}");
    assert!(at_least(dev.partner_pairs_found, dev.partner_pairs, 90), "{dev}");
    assert!(at_least(dev.projects_found, dev.projects, 92), "{dev}");
    assert!(at_least(dev.members_reached, dev.members, 100), "{dev}");
    assert!(dev.rejected_in_top3 <= 4, "{dev}");
    assert!(held.wrong_mappings <= 1, "{held}");
    assert!(at_least(held.trade_words_mapped, held.trade_words, 70), "{held}");
    assert!(at_least(held.partner_pairs_found, held.partner_pairs, 80), "{held}");
    assert!(at_least(held.projects_found, held.projects, 60), "{held}");
    assert!(at_least(held.members_reached, held.members, 90), "{held}");
    // 3 since post-production gained its stages below it (a development change): reported, not tuned away.
    assert!(held.rejected_in_top3 <= 3, "{held}");
}
