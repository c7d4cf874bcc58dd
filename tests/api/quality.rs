//! What reaches members, failure by failure: typed words land on what they mean (or on nothing), the same free
//! words meet, staff repairs reach every stored term and can be taken back, scores clear the threshold only for
//! good matches, explanations name each side's own words, consortia are not padded, calls are read right, and a
//! skill search goes by meaning.

use std::collections::HashMap;

use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{TestApp, studio};
use crate::on_both_backends;
use matchmaker::matching::Vocabulary;

on_both_backends!(
    typed_words_land_on_what_they_mean,
    the_same_free_words_meet,
    repairs_reach_every_stored_term_and_are_undone,
    scores_clear_the_threshold_for_good_matches_only,
    explanation_rows_name_each_sides_own_words,
    consortia_take_only_members_who_bring_something,
    calls_are_read_right,
    skill_search_goes_by_meaning,
    a_need_that_names_a_country_is_met_there,
    a_project_that_names_only_sectors_reaches_them,
);

/// A member offering, needing and interested in the given terms (offers at level 4, needs at priority 4).
fn profile(name: &str, country: &str, offers: &[&str], needs: &[&str], interests: &[&str]) -> Value {
    let mut body = studio(name);
    let slug: String = name.to_lowercase().chars().filter(char::is_ascii_alphanumeric).collect();
    body["contact_email"] = json!(format!("hello@{slug}.example.lu"));
    body["country"] = json!(country);
    body["offers"] = json!(offers.iter().map(|t| json!({"term": t, "level": 4})).collect::<Vec<_>>());
    body["needs"] = json!(needs.iter().map(|t| json!({"term": t, "priority": 4})).collect::<Vec<_>>());
    body["interests"] = json!(interests.iter().map(|t| json!({"term": t})).collect::<Vec<_>>());
    body["scopes"] = json!([]);
    body
}

async fn create(app: &TestApp, body: &Value) -> (Uuid, String) {
    let (created, location, _) = app.create_member(body).await;
    (created["id"].as_str().unwrap().parse().unwrap(), location)
}

async fn create_project(app: &TestApp, body: &Value) -> (Uuid, String) {
    let r = app.post("/v1/projects", body).await;
    assert_eq!(r.status, 201, "{}", r.text());
    (r.json()["id"].as_str().unwrap().parse().unwrap(), r.header("location").unwrap())
}

/// The concept a label names in the shipped vocabulary.
fn concept_of(label: &str) -> String {
    let v = Vocabulary::shipped().unwrap();
    let c = v.normalise(label).concept.unwrap_or_else(|| panic!("the vocabulary names “{label}”"));
    v.concept(c).id.clone()
}

/// Each offer's term → (concept, match).
fn mapped(member: &Value) -> HashMap<String, (Option<String>, String)> {
    member["offers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            let concept = o["concept"].as_str().map(str::to_owned);
            (o["term"].as_str().unwrap().to_owned(), (concept, o["match"].as_str().unwrap().to_owned()))
        })
        .collect()
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// The partner ranking of `member` (as staff see it).
async fn partners(app: &TestApp, member: Uuid) -> Vec<Value> {
    let r = app.get(&format!("/v1/members/{member}/matches/partners?limit=50")).await;
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()["items"].as_array().unwrap().clone()
}

fn entry_for(items: &[Value], id: Uuid) -> Option<&Value> {
    items.iter().find(|i| i["member"]["id"] == id.to_string())
}

async fn typed_words_land_on_what_they_mean(app: TestApp) {
    // Real words that a fuzzy match once turned into other real words, or a phrase mapped on one shared word.
    let false_friends = [
        ("web development", "video game development"),
        ("culture", "create sculptures"),
        ("industrial heritage", "industrial design"),
        ("font engineering", "audio technology"),
        ("service design", "sound design"),
        // English "editions" of a print run, not French "éditions" (publishing) without its accents.
        ("small editions", "édition"),
    ];
    // Words members use for their core trade, in the four languages.
    let trades = [
        "documentary",
        "Foley",
        "3D scanning",
        "pixel art",
        "e-commerce",
        "Glasuren",
        "projection mapping",
        "colour grading",
        "Keramik",
        "tapisserie d'ameublement",
        "Typografie",
        "Grafikdesign",
        "photographie d'architecture",
        "Media Guides",
    ];
    let partial = [
        ("Storyboards erstellen", "storyboard"),
        ("Fotografie vun Industriebauten", "photography"),
        ("petites éditions", "édition"),
    ];
    let mut offers: Vec<&str> = false_friends.iter().map(|(typed, _)| *typed).collect();
    offers.extend(trades);
    offers.extend(partial.iter().map(|(typed, _)| *typed));
    offers.push("tunnel engineering");
    let (_, location) = create(&app, &profile("Wierder Atelier", "LU", &offers, &[], &[])).await;
    let member = app.get(&location).await.json();
    let got = mapped(&member);
    for (typed, wrong) in false_friends {
        assert_ne!(got[typed].0.as_deref(), Some(concept_of(wrong).as_str()), "“{typed}” is not “{wrong}”");
    }
    for typed in trades {
        let (concept, kind) = &got[typed];
        assert!(concept.is_some() && kind != "free", "“{typed}” maps to a concept: {kind}");
        assert_ne!(kind, "partial", "“{typed}” is a label, not a phrase around one");
    }
    for (typed, label) in partial {
        let (concept, kind) = &got[typed];
        assert_eq!(kind, "partial", "“{typed}”");
        assert_eq!(concept.as_deref(), Some(concept_of(label).as_str()), "“{typed}” is about {label}");
    }
    // A phrase that only shares a common word with a label maps to nothing.
    assert_eq!(got["tunnel engineering"], (None, "free".to_owned()));
}

async fn the_same_free_words_meet(app: TestApp) {
    // Words no concept names, written differently (case, plural, hyphen) on both sides.
    let (carver, _) = create(&app, &profile("Fieder Atelier", "LU", &["Orgelpfeifen-Intonation"], &[], &[])).await;
    let (school, _) = create(&app, &profile("Schreifschoul", "FR", &[], &["orgelpfeifen intonation"], &[])).await;
    let items = partners(&app, school).await;
    let entry = entry_for(&items, carver).expect("members who wrote the same words meet");
    let row = entry["explanation"]["matched"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["relation"] == "needs_from_their_offer")
        .unwrap_or_else(|| panic!("{entry}"));
    assert_eq!(row["concept"], Value::Null);
    assert_eq!(row["member_match"], "shared");
    assert_eq!(row["member_term"], "orgelpfeifen intonation");
    assert_eq!(row["other_term"], "Orgelpfeifen-Intonation");
    assert!(row["credit"].as_f64().unwrap() < 1.0, "a shared free term counts less than a concept: {row}");

    // A consortium counts them too: the lead offers exactly what the project asks.
    let mut body = json!({
        "title": "Plumes de la Moselle",
        "scope": "international",
        "required_skills": [{"term": "Orgelpfeifen-Intonation", "weight": 4}],
        "lead_member_id": carver,
    });
    body["min_partners"] = json!(1);
    let (project, _) = create_project(&app, &body).await;
    let c = app.get(&format!("/v1/projects/{project}/consortia")).await.json();
    assert_eq!(c["possible"], true, "{c}");
    assert!(c["reasons"].as_array().unwrap().is_empty(), "{c}");
    assert_eq!(c["teams"][0]["uncovered"], json!([]), "{c}");

    // So does a project's theme: the same free words on both sides are shared, at a shared term's credit.
    let (organ, _) = create_project(
        &app,
        &json!({"title": "Uergelsummer", "scope": "national", "required_skills": [],
                "themes": [{"term": "Orgelpfeifen-Intonation"}, {"term": "cultural heritage"}]}),
    )
    .await;
    let (fan, _) = create(&app, &profile("Uergelfrënn", "LU", &[], &[], &["orgelpfeifen intonation"])).await;
    let matches = app.get(&format!("/v1/members/{fan}/matches/projects")).await.json();
    let item = matches["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["project"]["id"] == organ.to_string())
        .unwrap_or_else(|| panic!("a shared free theme reaches the project: {matches}"));
    let row = &item["explanation"]["matched"][0];
    assert_eq!((&row["relation"], &row["member_match"]), (&json!("theme"), &json!("shared")), "{item}");
    let credit = row["credit"].as_f64().unwrap();
    assert!(credit < 1.0, "a shared free theme counts less than a concept: {row}");
    let themes = item["explanation"]["components"].as_array().unwrap().iter().find(|c| c["name"] == "themes");
    assert_eq!(themes.unwrap()["score"], json!(credit * 100.0 / 2.0), "one of two themes, at that credit: {item}");
    // Staff ranking members for the project see the same score.
    let members = app.get(&format!("/v1/projects/{organ}/matches/members")).await.json();
    let entry = members["items"].as_array().unwrap().iter().find(|i| i["member"]["id"] == fan.to_string());
    assert_eq!(entry.unwrap_or_else(|| panic!("{members}"))["score"], item["score"], "{members}");
}

async fn repairs_reach_every_stored_term_and_are_undone(app: TestApp) {
    let graphic = concept_of("graphic design");
    let (member, location) =
        create(&app, &profile("Affiche Atelier", "LU", &["Affichëkonscht", "graphic desgin"], &[], &[])).await;
    let (project, project_location) = create_project(
        &app,
        &json!({"title": "Affichen fir d'Stad", "scope": "national",
                "required_skills": [{"term": "Affichëkonscht", "weight": 3}]}),
    )
    .await;
    let before = app.get(&location).await.json();
    assert_eq!(mapped(&before)["Affichëkonscht"], (None, "free".to_owned()));
    assert_eq!(mapped(&before)["graphic desgin"].1, "fuzzy");

    // The worklist shows the word, used by a member and a project, with candidates.
    let list = app.get("/v1/vocabulary/unmapped?limit=100").await;
    assert_eq!(list.status, 200, "{}", list.text());
    let item = list.json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["examples"].as_array().unwrap().iter().any(|e| e == "Affichëkonscht"))
        .cloned()
        .expect("the free term is on the worklist");
    assert_eq!(
        (item["members"].as_u64(), item["projects"].as_u64(), item["match"].as_str()),
        (Some(1), Some(1), Some("free"))
    );

    // A dry run says what the synonym would re-map, the project's term included, and changes nothing.
    let synonym = json!({"concept": graphic, "lang": "lb", "label": "Affichëkonscht", "dry_run": true});
    let dry = app.post("/v1/vocabulary/synonyms", &synonym).await;
    assert_eq!(dry.status, 200, "{}", dry.text());
    let dry = dry.json();
    assert_eq!(dry["dry_run"], true);
    assert_eq!(dry["id"], Value::Null);
    let holders: Vec<(&str, &str)> = dry["remapped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["holder"].as_str().unwrap(), r["list"].as_str().unwrap()))
        .collect();
    assert!(holders.contains(&("member", "offers")) && holders.contains(&("project", "required_skills")), "{dry}");
    assert_eq!(app.get(&location).await.json(), before, "a dry run changes nothing");
    assert!(app.get("/v1/vocabulary/synonyms").await.json()["items"].as_array().unwrap().is_empty());

    // Committed: members' and projects' terms follow.
    let mut real = synonym.clone();
    real["dry_run"] = json!(false);
    let added = app.post("/v1/vocabulary/synonyms", &real).await;
    assert_eq!(added.status, 201, "{}", added.text());
    let synonym_id = added.json()["id"].as_str().unwrap().to_owned();
    assert_eq!(added.json()["remapped"], dry["remapped"], "the dry run said exactly what the edit does");
    let after = app.get(&location).await.json();
    assert_eq!(mapped(&after)["Affichëkonscht"], (Some(graphic.clone()), "synonym".to_owned()));
    let p = app.get(&project_location).await.json();
    assert_eq!(p["required_skills"][0]["concept"], graphic);
    assert!(
        !app.get("/v1/vocabulary/unmapped?limit=100").await.text().contains("Affichëkonscht"),
        "a repaired term leaves the worklist"
    );
    let listed = app.get("/v1/vocabulary/synonyms").await.json();
    assert_eq!(listed["items"][0]["id"], synonym_id.as_str());

    // A misspelling made a synonym: the fuzzy term maps as a synonym now.
    let fix = json!({"concept": graphic, "lang": "en", "label": "graphic desgin"});
    let fixed = app.post("/v1/vocabulary/synonyms", &fix).await;
    assert_eq!(fixed.status, 201, "{}", fixed.text());
    assert_eq!(
        mapped(&app.get(&location).await.json())["graphic desgin"],
        (Some(graphic.clone()), "synonym".to_owned())
    );

    // Taken back: the terms are mapped anew without it (a dry run first).
    let path = format!("/v1/vocabulary/synonyms/{synonym_id}");
    let dry = app.send(app.request(Method::DELETE, &format!("{path}?dry_run=true"))).await;
    assert_eq!(dry.status, 200, "{}", dry.text());
    assert_eq!(dry.json()["terms_renormalised"], 2, "{}", dry.text());
    assert_eq!(mapped(&app.get(&location).await.json())["Affichëkonscht"].1, "synonym");
    let removed = app.send(app.request(Method::DELETE, &path)).await;
    assert_eq!(removed.status, 200, "{}", removed.text());
    assert_eq!(mapped(&app.get(&location).await.json())["Affichëkonscht"], (None, "free".to_owned()));
    assert_eq!(app.get(&project_location).await.json()["required_skills"][0]["concept"], Value::Null);
    assert_eq!(app.send(app.request(Method::DELETE, &path)).await.status, 404, "taken back once");

    // A merge moves the terms, and undoing it moves them back; the old id answers with the survivor meanwhile.
    let visual = concept_of("visual identity");
    let (_, other_location) =
        create(&app, &profile("Identity Atelier", "BE", &["visual identity", "graphic design"], &[], &[])).await;
    let merge = json!({"from": visual, "into": graphic, "dry_run": true});
    let dry = app.post("/v1/vocabulary/merges", &merge).await;
    assert_eq!(dry.status, 200, "{}", dry.text());
    assert_eq!(dry.json()["dry_run"], true);
    assert_eq!(mapped(&app.get(&other_location).await.json())["visual identity"].0, Some(visual.clone()));
    let merged = app.post("/v1/vocabulary/merges", &json!({"from": visual, "into": graphic})).await;
    assert_eq!(merged.status, 200, "{}", merged.text());
    assert_eq!(mapped(&app.get(&other_location).await.json())["visual identity"].0, Some(graphic.clone()));
    assert_eq!(app.get(&format!("/v1/vocabulary/concept?id={}", urlencode(&visual))).await.json()["id"], graphic);
    assert_eq!(app.get("/v1/vocabulary/merges").await.json()["items"][0]["from"], visual.as_str());
    let undo =
        app.send(app.request(Method::DELETE, &format!("/v1/vocabulary/merges?from={}", urlencode(&visual)))).await;
    assert_eq!(undo.status, 200, "{}", undo.text());
    let back = mapped(&app.get(&other_location).await.json());
    assert_eq!(back["visual identity"].0, Some(visual.clone()));
    assert_eq!(back["graphic design"].0, Some(graphic.clone()));
    assert_eq!(app.get(&format!("/v1/vocabulary/concept?id={}", urlencode(&visual))).await.json()["id"], visual);

    // Every edit is in the audit trail.
    let audit = app.get("/v1/audit?limit=100").await.text();
    for action in ["vocabulary.synonym_added", "vocabulary.synonym_removed", "vocabulary.merged", "vocabulary.unmerged"]
    {
        assert!(audit.contains(action), "{action} is audited");
    }
    let _ = (member, project);
}

async fn scores_clear_the_threshold_for_good_matches_only(app: TestApp) {
    // A clear pair: each offers what the other needs.
    let (games, _) = create(
        &app,
        &profile(
            "Pixel Forge",
            "LU",
            &["video game development", "game design"],
            &["sound design", "music composition"],
            &["cultural heritage"],
        ),
    )
    .await;
    let (sound, _) = create(
        &app,
        &profile("Klangwerk", "DE", &["sound design", "music composition"], &["video game development"], &[]),
    )
    .await;
    // One-sided: offers what the studio needs, needs nothing it offers.
    let (one_sided, _) =
        create(&app, &profile("Audio Only", "FR", &["sound design", "music composition"], &["bookkeeping"], &[])).await;
    // States no needs at all: must not tie with, or outrank, the mutual pair.
    let (no_needs, _) =
        create(&app, &profile("Quiet Studio", "BE", &["sound design", "music composition"], &[], &[])).await;
    // Shares nothing but an interest.
    let (weak, _) =
        create(&app, &profile("Far Away", "BE", &["bookkeeping"], &["legal advice"], &["cultural heritage"])).await;

    let items = partners(&app, games).await;
    let score = |id: Uuid| entry_for(&items, id).map_or(0.0, |e| e["score"].as_f64().unwrap());
    assert!(score(sound) >= 60.0, "a clear mutual pair is a good match: {}", score(sound));
    assert!(score(sound) > score(one_sided), "mutual above one-sided: {} vs {}", score(sound), score(one_sided));
    assert!(score(sound) > score(no_needs), "mutual above no needs: {} vs {}", score(sound), score(no_needs));
    assert!(score(one_sided) >= 40.0, "one good direction still clears the threshold: {}", score(one_sided));
    assert!(score(weak) < 40.0, "a weak pair does not: {}", score(weak));

    // A project that names skills goes only to members who cover one: a shared theme or sector never carries it.
    let (ceramics, _) = create(&app, &profile("Terra Keramik", "LU", &["ceramics"], &[], &["cultural heritage"])).await;
    let (_, _) = create_project(
        &app,
        &json!({"title": "Restauratioun vum Schlass", "scope": "national", "sectors": ["design"],
                "required_skills": [{"term": "architectural conservation", "weight": 5}],
                "themes": [{"term": "cultural heritage"}]}),
    )
    .await;
    let matches = app.get(&format!("/v1/members/{ceramics}/matches/projects")).await.json();
    assert_eq!(matches["items"], json!([]), "a theme alone is no match: {matches}");

    // A project that names none is matched on its themes and sectors, and says so.
    let (open_call, _) = create_project(
        &app,
        &json!({"title": "Heritage open call", "scope": "national", "themes": [{"term": "cultural heritage"}]}),
    )
    .await;
    let matches = app.get(&format!("/v1/members/{ceramics}/matches/projects")).await.json();
    let item = matches["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["project"]["id"] == open_call.to_string())
        .unwrap_or_else(|| panic!("{matches}"));
    let names: Vec<&str> =
        item["explanation"]["components"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert!(names.contains(&"themes") && !names.contains(&"skills"), "{names:?}");
}

async fn explanation_rows_name_each_sides_own_words(app: TestApp) {
    let (studio_a, _) = create(&app, &profile("Sound Studio", "LU", &["sound design"], &["photography"], &[])).await;
    let (photo, _) = create(&app, &profile("Photo Studio", "FR", &["photograpy"], &["sound desgin"], &[])).await;
    let items = partners(&app, studio_a).await;
    let entry = entry_for(&items, photo).unwrap_or_else(|| panic!("{items:?}"));
    let rows = entry["explanation"]["matched"].as_array().unwrap();
    let mine = rows.iter().find(|r| r["relation"] == "offers_for_their_need").unwrap_or_else(|| panic!("{rows:?}"));
    assert_eq!(mine["member_term"], "sound design", "my own offer");
    assert_eq!(mine["member_match"], "exact", "as my offer matched");
    assert!(mine.get("member_similarity").is_none_or(Value::is_null), "{mine}");
    assert_eq!(mine["other_term"], "sound desgin", "their need, as they wrote it");
    let theirs = rows.iter().find(|r| r["relation"] == "needs_from_their_offer").unwrap();
    assert_eq!((theirs["member_term"].as_str(), theirs["member_match"].as_str()), (Some("photography"), Some("exact")));
    assert_eq!(theirs["other_term"], "photograpy");
}

async fn consortia_take_only_members_who_bring_something(app: TestApp) {
    let (lead, _) = create(&app, &profile("Lead Studio", "LU", &["graphic design"], &[], &[])).await;
    let (modeller, _) = create(&app, &profile("Modell Atelier", "FR", &["3D modelling"], &[], &[])).await;
    let (_, _) = create(&app, &profile("Idle Belgians", "BE", &["bookkeeping"], &[], &[])).await;
    let (sound_de, _) = create(&app, &profile("Ton Atelier", "DE", &["sound design"], &[], &[])).await;
    let (project, _) = create_project(
        &app,
        &json!({"title": "Trilateral showcase", "scope": "european", "lead_member_id": lead,
                "required_skills": [{"term": "graphic design", "weight": 3}, {"term": "3D modelling", "weight": 3},
                                     {"term": "sound design", "weight": 2}],
                "min_partners": 3, "max_partners": 4, "min_countries": 3}),
    )
    .await;
    let c = app.get(&format!("/v1/projects/{project}/consortia")).await.json();
    assert_eq!(c["possible"], true, "{c}");
    for team in c["teams"].as_array().unwrap() {
        for m in team["members"].as_array().unwrap() {
            assert!(m["lead"] == true || !m["covers"].as_array().unwrap().is_empty(), "padded: {team}");
        }
        let ids: Vec<&str> =
            team["members"].as_array().unwrap().iter().map(|m| m["member"].as_str().unwrap()).collect();
        assert!(ids.contains(&modeller.to_string().as_str()) && ids.contains(&sound_de.to_string().as_str()), "{team}");
    }
}

async fn calls_are_read_right(app: TestApp) {
    app.clock.set(chrono::DateTime::parse_from_rfc3339("2024-10-15T09:00:00Z").unwrap().to_utc());
    let header = "identifier,title,action_type,type_of_mga_description,submission_procedure,start_date,deadline,\
                  deadline2,budget_min,budget_max,project_number,path_id,reference,description,mission_details,\
                  destination_details,beneficiary_administration,further_information,duration";
    let csv = format!(
        "{header}\n\
         DIGITAL-2024-SOA-01,Service platforms,,,,,2024-12-15T17:00:00,,0,50000,,,ref-soa,\
         \"<p>A service-oriented architecture for public data, conducting pilots with SMEs using the Acme Toolkit.</p>\",,,,,\n\
         CREA-MEDIA-2025-DOCS,Documentary co-production and colour grading,,,,,2024-12-15T17:00:00,,0,50000,,,ref-docs,\
         \"<p>Support for documentary film co-production and colour grading across borders.</p>\",,,,,\n"
    );
    let r =
        app.send(app.request(Method::POST, "/v1/projects/import").header("content-type", "text/csv").body(csv)).await;
    assert_eq!(r.status, 200, "{}", r.text());
    // The service-platform call reads nothing of the cluster's: it is stored, left out of the default list.
    let mut all = app.get("/v1/projects?limit=10").await.json()["items"].as_array().unwrap().clone();
    all.extend(
        app.get("/v1/projects?limit=10&left_out=true").await.json()["items"].as_array().unwrap().iter().cloned(),
    );
    let by_call = |id: &str| all.iter().find(|p| p["call_id"] == id).cloned().unwrap_or_else(|| panic!("{all:?}"));
    let soa = by_call("DIGITAL-2024-SOA-01");
    let read: Vec<&str> =
        soa["required_skills"].as_array().unwrap().iter().map(|s| s["term"].as_str().unwrap()).collect();
    for wrong in ["architecture", "conducting", "Acme Toolkit"] {
        assert!(!read.iter().any(|t| t.eq_ignore_ascii_case(wrong)), "“{wrong}” is no skill: {read:?}");
    }
    assert_eq!(soa["sectors"], json!([]), "{soa}");
    assert!(soa["left_out"].as_str().is_some_and(|why| why.contains("nothing of the cluster")), "{soa}");
    let docs = by_call("CREA-MEDIA-2025-DOCS");
    assert!(docs["sectors"].as_array().unwrap().contains(&json!("cinematography")), "{docs}");
    let grading = concept_of("colour grading");
    assert!(docs["required_skills"].as_array().unwrap().iter().any(|s| s["concept"] == grading.as_str()), "{docs}");

    // Eligible countries: any number of codes, and `EU` for the member states.
    let mut body =
        json!({"title": "EU and beyond", "scope": "european", "eligible_countries": ["EU", "NO", "IS", "UA", "fr"]});
    let r = app.post("/v1/projects", &body).await;
    assert_eq!(r.status, 201, "{}", r.text());
    let countries = r.json()["eligible_countries"].as_array().unwrap().clone();
    assert_eq!(countries.len(), 30, "{countries:?}");
    assert!(countries.contains(&json!("LU")) && countries.contains(&json!("UA")));
    body["eligible_countries"] = json!(["EU", "XX"]);
    let r = app.post("/v1/projects", &body).await;
    assert_eq!(r.status, 422);
    assert_eq!(r.error_pointers(), ["/eligible_countries/1"]);
}

async fn skill_search_goes_by_meaning(app: TestApp) {
    let (sound, _) = create(&app, &profile("Lautsprecher Studio", "LU", &["sound design"], &[], &[])).await;
    let (free, _) = create(&app, &profile("Fieder Atelier", "LU", &["Orgelpfeifen-Intonation"], &[], &[])).await;
    let ids = async |q: &str| -> Vec<String> {
        let r = app.get(&format!("/v1/members?skill={}", urlencode(q))).await;
        assert_eq!(r.status, 200, "{}", r.text());
        r.json()["items"].as_array().unwrap().iter().map(|m| m["id"].as_str().unwrap().to_owned()).collect()
    };
    assert_eq!(ids("Sounddesign").await, [sound.to_string()]);
    assert_eq!(ids("conception sonore").await, [sound.to_string()]);
    assert_eq!(ids("orgelpfeifen").await, [free.to_string()], "words the vocabulary does not know, as typed");
}

async fn a_need_that_names_a_country_is_met_there(app: TestApp) {
    // A sound studio across the border wants production companies in Luxembourg, as members write it.
    let (studio, _) =
        create(&app, &profile("Geräusche Trier", "DE", &["Foley"], &["Filmproduzent in Luxemburg"], &[])).await;
    let doc = app.get(&format!("/v1/members/{studio}")).await.json();
    let need = &doc["needs"][0];
    assert_eq!(need["term"], "Filmproduzent in Luxemburg", "the words are kept as typed");
    assert_eq!(need["concept"], concept_of("film producer").as_str(), "the place does not hide the trade: {need}");
    let (here, _) = create(&app, &profile("Nordliicht Films", "LU", &["film producing"], &[], &[])).await;
    let (there, _) = create(&app, &profile("Arlon Films", "BE", &["film producing"], &[], &[])).await;
    let items = partners(&app, studio).await;
    assert!(entry_for(&items, here).is_some(), "a producer in Luxembourg meets the need: {items:?}");
    assert!(entry_for(&items, there).is_none(), "one in Belgium does not, and nothing else links them: {items:?}");
    // Seen from the producers' side, the same.
    let items = partners(&app, here).await;
    assert!(entry_for(&items, studio).is_some(), "{items:?}");
    let items = partners(&app, there).await;
    assert!(entry_for(&items, studio).is_none(), "{items:?}");
    // A need with no place is met anywhere.
    let (school, _) = create(&app, &profile("Filmschoul", "FR", &[], &["film producer"], &[])).await;
    let items = partners(&app, school).await;
    assert!(entry_for(&items, here).is_some() && entry_for(&items, there).is_some(), "{items:?}");
}

async fn a_project_that_names_only_sectors_reaches_them(app: TestApp) {
    // A national grant for artists of every discipline: sectors, no skills, no themes a member shares.
    let (grant, _) = create_project(
        &app,
        &json!({"title": "Bourses d'aide à la création", "scope": "national",
                "sectors": ["crafts_and_art", "design"], "themes": [{"term": "création artistique"}]}),
    )
    .await;
    let mut artist = profile("Comics Atelier", "LU", &["comics"], &[], &[]);
    artist["sectors"] = json!(["crafts_and_art"]);
    let (artist, _) = create(&app, &artist).await;
    let mut coder = profile("Backend Studio", "LU", &["web development"], &[], &[]);
    coder["sectors"] = json!(["new_media"]);
    let (coder, _) = create(&app, &coder).await;
    let matches = app.get(&format!("/v1/members/{artist}/matches/projects")).await.json();
    let item = matches["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["project"]["id"] == grant.to_string())
        .unwrap_or_else(|| panic!("a member of its sectors is reached without sharing a concept: {matches}"));
    // Topic unmet (0 × 0.5), sector shared (1 × 0.4), scope accepted (1 × 0.1): 50, not 100.
    assert_eq!(item["score"], 50.0, "{item}");
    // A media artist shares the grant's artistic creation: media art is an art form of the fine arts.
    let mut media_artist = profile("Pixel Konscht", "LU", &["creative coding"], &[], &["media art"]);
    media_artist["sectors"] = json!(["new_media", "crafts_and_art"]);
    let (media_artist, _) = create(&app, &media_artist).await;
    let matches = app.get(&format!("/v1/members/{media_artist}/matches/projects")).await.json();
    let item = matches["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["project"]["id"] == grant.to_string())
        .unwrap_or_else(|| panic!("the media artist is reached: {matches}"));
    assert!(item["score"].as_f64().unwrap() > 50.0, "{item}");
    let rows = item["explanation"]["matched"].as_array().unwrap();
    assert!(
        rows.iter().any(|r| r["relation"] == "theme" && r["member_term"] == "media art"),
        "the theme is explained by the member's own words: {item}"
    );
    let matches = app.get(&format!("/v1/members/{coder}/matches/projects")).await.json();
    assert!(
        !matches["items"].as_array().unwrap().iter().any(|i| i["project"]["id"] == grant.to_string()),
        "a member of no sector of it is not: {matches}"
    );
    // Staff ranking members for the grant see the same.
    let members = app.get(&format!("/v1/projects/{grant}/matches/members")).await.json();
    let ids: Vec<&str> =
        members["items"].as_array().unwrap().iter().filter_map(|i| i["member"]["id"].as_str()).collect();
    assert!(ids.contains(&artist.to_string().as_str()) && !ids.contains(&coder.to_string().as_str()), "{members}");
}
