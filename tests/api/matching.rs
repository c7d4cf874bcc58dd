//! The matching engine through the API: normalisation of what members type, projects, explained matches,
//! consortia, vocabulary edits, the calls import, and a second instance that sees the first one's changes.

use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta};
use matchmaker::auth::Role;
use matchmaker::clock::Clock;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, studio};
use crate::on_both_backends;

on_both_backends!(
    terms_land_on_their_concepts,
    projects_match_within_the_rules,
    consortia_meet_the_country_rule,
    staff_extend_the_vocabulary,
    real_calls_import_once,
    another_instance_sees_changes,
    forthcoming_calls_are_matched_before_they_open,
    a_new_vocabulary_reaches_profiles_saved_before_it,
);

pub const GRAPHIC_DESIGN: &str = "http://data.europa.eu/esco/skill/7fb699d9-182a-430e-b7a0-6d8ed05c284b";
pub const MODELING_3D: &str = "http://data.europa.eu/esco/skill/97965983-0da4-4902-9daf-d5cd2693ef73";

fn member(name: &str, country: &str, offers: Value, needs: Value, interests: Value) -> Value {
    let mut body = studio(name);
    body["contact_email"] = json!(format!("{}@example.org", name.to_lowercase().replace(' ', ".")));
    body["country"] = json!(country);
    body["offers"] = offers;
    body["needs"] = needs;
    body["interests"] = interests;
    body["scopes"] = json!([]);
    body
}

fn concept_and_match(item: &Value) -> (Option<&str>, &str) {
    (item["concept"].as_str(), item["match"].as_str().unwrap())
}

async fn terms_land_on_their_concepts(app: TestApp) {
    let body = member(
        "Vocabulary Test",
        "LU",
        json!([
            {"term": "conception graphique", "level": 4},
            {"term": "3D-Modellierung", "level": 3},
            {"term": "Quantum flux harmonisation", "level": 2}
        ]),
        json!([{"term": "Grafikdesign", "priority": 3}, {"term": "modélisation 3D", "priority": 2}]),
        json!([{"term": "graphic desgin"}, {"term": "3D modeilng"}]),
    );
    let (m, location, _) = app.create_member(&body).await;
    let offers = m["offers"].as_array().unwrap();
    assert_eq!(concept_and_match(&offers[0]).0, Some(GRAPHIC_DESIGN), "conception graphique");
    assert_eq!(concept_and_match(&offers[1]).0, Some(MODELING_3D), "3D-Modellierung");
    assert_eq!(concept_and_match(&offers[2]), (None, "free"), "an unknown term stays free");
    assert_eq!(offers[2]["term"], "Quantum flux harmonisation", "text intact");
    let needs = m["needs"].as_array().unwrap();
    assert_eq!(concept_and_match(&needs[0]).0, Some(GRAPHIC_DESIGN), "Grafikdesign");
    assert_eq!(concept_and_match(&needs[1]).0, Some(MODELING_3D), "modélisation 3D");
    for (i, expected) in [GRAPHIC_DESIGN, MODELING_3D].iter().enumerate() {
        let item = &m["interests"][i];
        assert_eq!(concept_and_match(item), (Some(*expected), "fuzzy"), "{item}");
        let similarity = item["similarity"].as_f64().unwrap();
        assert!((0.8..1.0).contains(&similarity), "{similarity}");
    }
    // Stored as shown.
    assert_eq!(app.get(&location).await.json(), m);

    // A concept chosen from the autocomplete is kept; an unknown one is refused.
    let found = app.get("/v1/vocabulary/search?q=conception%20gra&lang=fr").await.json();
    assert_eq!(found["items"][0]["concept"], GRAPHIC_DESIGN, "{found}");
    let chosen =
        app.patch(&location, &json!({"interests": [{"term": "visuals", "concept": GRAPHIC_DESIGN}]}), "*").await;
    assert_eq!(chosen.status, 200, "{}", chosen.text());
    assert_eq!(concept_and_match(&chosen.json()["interests"][0]), (Some(GRAPHIC_DESIGN), "chosen"));
    let bad = app.patch(&location, &json!({"interests": [{"term": "visuals", "concept": "mm:nope"}]}), "*").await;
    assert_eq!(bad.status, 422);
    assert_eq!(bad.error_pointers(), ["/interests/0/concept"]);
    // A GET body can be sent back as it is.
    let back = app.patch(&location, &json!({"offers": m["offers"]}), "*").await;
    assert_eq!(back.status, 200, "{}", back.text());
}

fn project(title: &str, scope: &str, skills: Value, extra: &Value) -> Value {
    let mut p = json!({"title": title, "scope": scope, "sectors": ["design"]});
    p["required_skills"] = skills;
    for (k, v) in extra.as_object().unwrap() {
        p[k] = v.clone();
    }
    p
}

async fn create_project(app: &TestApp, body: &Value) -> Value {
    let r = app.post("/v1/projects", body).await;
    assert_eq!(r.status, 201, "{}", r.text());
    r.json()
}

async fn projects_match_within_the_rules(app: TestApp) {
    let designer = |name: &str, country: &str| {
        member(
            name,
            country,
            json!([{"term": "graphic design", "level": 5}, {"term": "3D modeling", "level": 3}]),
            json!([]),
            json!([]),
        )
    };
    let (lu, _, _) = app.create_member(&designer("Luxembourg Studio", "LU")).await;
    let (fr, _, _) = app.create_member(&designer("French Studio", "FR")).await;
    let skills = json!([{"term": "graphic design", "weight": 5}, {"term": "3D modelling", "weight": 3}, {"term": "beekeeping", "weight": 1}]);
    let national = create_project(
        &app,
        &project("National identity", "national", skills.clone(), &json!({"eligible_countries": ["LU"]})),
    )
    .await;
    let future = (app.clock.now() + TimeDelta::days(30)).to_rfc3339();
    let past = (app.clock.now() - TimeDelta::days(1)).to_rfc3339();
    let open =
        create_project(&app, &project("Open call", "european", skills.clone(), &json!({"deadline": future}))).await;
    let closed =
        create_project(&app, &project("Past call", "european", skills.clone(), &json!({"deadline": past}))).await;
    assert_eq!(closed["status"], "closed");

    let matches =
        async |id: &Value| app.get(&format!("/v1/members/{}/matches/projects", id.as_str().unwrap())).await.json();
    let for_lu = matches(&lu["id"]).await;
    let ids: Vec<&Value> = for_lu["items"].as_array().unwrap().iter().map(|i| &i["project"]["id"]).collect();
    assert!(ids.contains(&&national["id"]) && ids.contains(&&open["id"]));
    assert!(!ids.contains(&&closed["id"]), "a project past its deadline is never matched");
    let for_fr = matches(&fr["id"]).await;
    let ids: Vec<&Value> = for_fr["items"].as_array().unwrap().iter().map(|i| &i["project"]["id"]).collect();
    assert!(!ids.contains(&&national["id"]), "never outside the eligible countries");
    assert!(ids.contains(&&open["id"]));

    // Scores are absolute and explained.
    let item = &for_lu["items"][0];
    let score = item["score"].as_f64().unwrap();
    assert!(score > 50.0 && score <= 100.0, "{score}");
    let explanation = &item["explanation"];
    let matched: Vec<&str> =
        explanation["matched"].as_array().unwrap().iter().map(|m| m["other_term"].as_str().unwrap()).collect();
    assert!(matched.contains(&"graphic design") && matched.contains(&"3D modelling"), "{explanation}");
    assert_eq!(explanation["missing"][0]["term"], "beekeeping");
    let names: Vec<&str> =
        explanation["components"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert!(names.contains(&"skills"));
    let filtered = app
        .get(&format!("/v1/members/{}/matches/projects?scope=national&min_score=1", lu["id"].as_str().unwrap()))
        .await
        .json();
    assert_eq!(filtered["items"].as_array().unwrap().len(), 1);

    // Who may apply by size: a grant for one-person firms reaches the one-person studio, and a member that has not
    // stated its size (nothing says it may not apply), never a micro firm; nor does the micro firm join its teams.
    let grant = create_project(
        &app,
        &project("Grant for individuals", "national", skills.clone(), &json!({"eligible_sizes": ["one_person"]})),
    )
    .await;
    let mut micro = designer("Micro Studio", "LU");
    micro["size"] = json!("micro");
    let (micro, _, _) = app.create_member(&micro).await;
    let mut unstated = designer("Quiet Studio", "LU");
    unstated.as_object_mut().unwrap().remove("size");
    let (unstated, _, _) = app.create_member(&unstated).await;
    assert_eq!(unstated["size"], Value::Null);
    let listed = async |m: &Value| {
        let items = matches(&m["id"]).await["items"].as_array().unwrap().clone();
        items.iter().any(|i| i["project"]["id"] == grant["id"])
    };
    assert!(listed(&lu).await, "one-person: eligible");
    assert!(listed(&unstated).await, "size not stated: not held out");
    assert!(!listed(&micro).await, "micro: not eligible");
    let grant_id = grant["id"].as_str().unwrap();
    let team = app.get(&format!("/v1/projects/{grant_id}/matches/members?limit=50")).await.json();
    let ids: Vec<&Value> = team["items"].as_array().unwrap().iter().map(|i| &i["member"]["id"]).collect();
    assert!(ids.contains(&&lu["id"]) && !ids.contains(&&micro["id"]), "{team}");

    // Partners: complementarity, never oneself, never the undiscoverable.
    let (seeker, _, _) = app
        .create_member(&member(
            "Game Seeker",
            "BE",
            json!([]),
            json!([{"term": "graphic design", "priority": 5}]),
            json!([]),
        ))
        .await;
    let (hidden, hidden_path, _) = app.create_member(&designer("Hidden Studio", "DE")).await;
    app.patch(&hidden_path, &json!({"discoverable": false}), "*").await;
    let partners = app.get(&format!("/v1/members/{}/matches/partners", seeker["id"].as_str().unwrap())).await.json();
    let ids: Vec<&Value> = partners["items"].as_array().unwrap().iter().map(|i| &i["member"]["id"]).collect();
    assert!(ids.contains(&&lu["id"]) && !ids.contains(&&seeker["id"]) && !ids.contains(&&hidden["id"]), "{partners}");
    assert!(partners["items"][0]["member"].get("contact_email").is_none());

    // Members for a project, ranked.
    let ranked = app.get(&format!("/v1/projects/{}/matches/members", open["id"].as_str().unwrap())).await.json();
    assert!(ranked["total"].as_u64().unwrap() >= 2);

    // A member sees its own project matches; another member is refused; staff-only routes stay staff-only.
    let owner = app.user(Role::Member, Some(lu["id"].as_str().unwrap().parse().unwrap()));
    assert_eq!(
        app.as_(&owner.token).get(&format!("/v1/members/{}/matches/projects", lu["id"].as_str().unwrap())).await.status,
        200
    );
    assert_eq!(
        app.as_(&owner.token).get(&format!("/v1/members/{}/matches/projects", fr["id"].as_str().unwrap())).await.status,
        404
    );
    assert_eq!(
        app.as_(&owner.token).get(&format!("/v1/members/{}/matches/partners", lu["id"].as_str().unwrap())).await.status,
        403
    );
}

async fn consortia_meet_the_country_rule(app: TestApp) {
    let mut ids = Vec::new();
    for (name, country, skill) in [
        ("Alpha Design", "LU", "graphic design"),
        ("Beta Design", "LU", "graphic design"),
        ("Gamma 3D", "FR", "3D modeling"),
        ("Delta 3D", "FR", "3D modeling"),
        ("Epsilon Photo", "DE", "photography"),
        ("Zeta Photo", "BE", "photography"),
    ] {
        let (m, _, _) =
            app.create_member(&member(name, country, json!([{"term": skill, "level": 4}]), json!([]), json!([]))).await;
        ids.push(m["id"].as_str().unwrap().to_owned());
    }
    let skills = json!([{"term": "graphic design", "weight": 3}, {"term": "3D modeling", "weight": 3}, {"term": "photography", "weight": 2}]);
    let p = create_project(
        &app,
        &project(
            "Three countries",
            "european",
            skills.clone(),
            &json!({"min_partners": 3, "max_partners": 4, "min_countries": 3, "lead_member_id": ids[0]}),
        ),
    )
    .await;
    let consortia = app.get(&format!("/v1/projects/{}/consortia", p["id"].as_str().unwrap())).await.json();
    assert_eq!(consortia["possible"], true, "{consortia}");
    let teams = consortia["teams"].as_array().unwrap();
    assert!(!teams.is_empty() && teams.len() <= 5);
    for team in teams {
        assert!(team["countries"].as_array().unwrap().len() >= 3, "{team}");
        let members = team["members"].as_array().unwrap();
        assert!((3..=4).contains(&members.len()), "{team}");
        assert!(
            members.iter().any(|m| m["member"] == ids[0].as_str() && m["lead"] == true),
            "the lead is in every team"
        );
    }
    assert_eq!(teams[0]["coverage"], 100.0, "{consortia}");

    // Provably impossible: fewer eligible countries than the rule asks.
    let narrow = create_project(
        &app,
        &project(
            "Too few countries",
            "european",
            skills.clone(),
            &json!({"min_partners": 2, "min_countries": 2, "eligible_countries": ["LU", "NL"]}),
        ),
    )
    .await;
    let none = app.get(&format!("/v1/projects/{}/consortia", narrow["id"].as_str().unwrap())).await.json();
    assert_eq!(none["possible"], false);
    assert!(none["teams"].as_array().unwrap().is_empty());
    // A skill no member offers: the best partial team, with its gap.
    let gap = create_project(
        &app,
        &project(
            "A gap",
            "european",
            json!([{"term": "graphic design", "weight": 3}, {"term": "beekeeping", "weight": 3}]),
            &json!({}),
        ),
    )
    .await;
    let partial = app.get(&format!("/v1/projects/{}/consortia", gap["id"].as_str().unwrap())).await.json();
    assert_eq!(partial["possible"], true);
    assert_eq!(partial["teams"][0]["uncovered"][0]["term"], "beekeeping");
}

async fn staff_extend_the_vocabulary(app: TestApp) {
    let (m, location, _) = app
        .create_member(&member(
            "Jargon Studio",
            "LU",
            json!([{"term": "Zeichentrickfilmerei", "level": 3}]),
            json!([]),
            json!([]),
        ))
        .await;
    assert_eq!(m["offers"][0]["match"], "free");
    let added = app
        .post(
            "/v1/vocabulary/synonyms",
            &json!({"concept": GRAPHIC_DESIGN, "lang": "de", "label": "Zeichentrickfilmerei"}),
        )
        .await;
    assert_eq!(added.status, 201, "{}", added.text());
    assert_eq!(added.json()["terms_renormalised"], 1);
    let now = app.get(&location).await.json();
    assert_eq!(now["offers"][0]["concept"], GRAPHIC_DESIGN, "free terms the synonym explains are re-normalised");
    assert_eq!(
        app.post(
            "/v1/vocabulary/synonyms",
            &json!({"concept": MODELING_3D, "lang": "de", "label": "Zeichentrickfilmerei"})
        )
        .await
        .status,
        409
    );

    // Merge: the old id still resolves, stored terms move to the survivor.
    let merged = app.post("/v1/vocabulary/merges", &json!({"from": GRAPHIC_DESIGN, "into": MODELING_3D})).await;
    assert_eq!(merged.status, 200, "{}", merged.text());
    let concept = app.get(&format!("/v1/vocabulary/concept?id={}", urlencode(GRAPHIC_DESIGN))).await;
    assert_eq!(concept.status, 200);
    assert_eq!(concept.json()["id"], MODELING_3D);
    assert_eq!(app.get(&location).await.json()["offers"][0]["concept"], MODELING_3D);
    let fresh = app
        .create_member(&member(
            "After Merge",
            "LU",
            json!([{"term": "graphic design", "level": 2}]),
            json!([]),
            json!([]),
        ))
        .await
        .0;
    assert_eq!(fresh["offers"][0]["concept"], MODELING_3D);
    let member_user = app.user(Role::Member, Some(m["id"].as_str().unwrap().parse().unwrap()));
    let refused = app
        .as_(&member_user.token)
        .post("/v1/vocabulary/synonyms", &json!({"concept": MODELING_3D, "lang": "en", "label": "x"}))
        .await;
    assert_eq!(refused.status, 403);
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

async fn real_calls_import_once(app: TestApp) {
    app.clock.set(DateTime::parse_from_rfc3339("2024-10-15T09:00:00Z").unwrap().to_utc());
    let data = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/eu_open_calls_2024-10.csv")).unwrap();
    let import = async || {
        let r = app
            .send(
                app.request(Method::POST, "/v1/projects/import").header("content-type", "text/csv").body(data.clone()),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text());
        r.json()
    };
    let first = import().await;
    assert_eq!(first["created"], 304, "{}", first);
    assert_eq!(first["skipped"], json!([]));
    // On the export's day most calls are open; the answer counts them, with no warning.
    let counted = ["open", "forthcoming", "closed"].map(|k| first[k].as_u64().unwrap());
    assert_eq!(counted.iter().sum::<u64>(), 304, "{first}");
    assert!(counted[0] >= 250, "{first}");
    assert!(counted[1] >= 10, "calls whose start_date is still to come are forthcoming: {first}");
    assert_eq!(first["warnings"], json!([]));
    let again = import().await;
    assert_eq!(
        (again["created"].as_u64(), again["updated"].as_u64(), again["unchanged"].as_u64()),
        (Some(0), Some(0), Some(304))
    );

    // Calls outside the creative industries are stored but left out, with why: the default list doesn't show them.
    let (listed, left_out) = (app.all_pages("/v1/projects").await, app.all_pages("/v1/projects?left_out=true").await);
    assert_eq!(listed.len() + left_out.len(), 304);
    assert_eq!(first["left_out"].as_u64(), Some(left_out.len() as u64), "{first}");
    assert!(listed.iter().all(|p| p["left_out"].is_null() && p["let_in"] == false));
    assert!(left_out.iter().all(|p| p["left_out"].as_str().is_some_and(|why| !why.is_empty())));
    let defence: Vec<&Value> = left_out.iter().filter(|p| p["programme"] == "EDF").collect();
    assert!(defence.len() >= 30, "the export's defence calls are left out by their programme: {}", defence.len());
    assert!(defence.iter().all(|p| p["left_out"].as_str().unwrap().contains("EDF programme")));
    assert!(listed.iter().all(|p| p["programme"] != "EDF"));
    // A call of a type of action no member applies to (a cofund, for national funding bodies), by that type.
    let cofund = left_out.iter().find(|p| p["call_id"] == "HORIZON-HLTH-2024-DISEASE-12-01").expect("left out");
    assert!(cofund["left_out"].as_str().unwrap().contains("HORIZON-COFUND"), "{cofund}");
    let all: Vec<Value> = listed.iter().chain(&left_out).cloned().collect();
    let creative: Vec<&Value> = listed
        .iter()
        .filter(|p| {
            let id = p["call_id"].as_str().unwrap_or_default();
            id.starts_with("CREA-") || id.starts_with("HORIZON-CL2-2024-HERITAGE-ECCCH-")
        })
        .collect();
    assert_eq!(creative.len(), 19);
    // Each reaches the cluster by its sectors; most also by the skills or themes read from it (a call's text may
    // name no skill plainly enough to be read, as "Innovative tools and business models"; calls.rs judges what is
    // read).
    let mut read = 0;
    for p in &creative {
        assert!(!p["sectors"].as_array().unwrap().is_empty(), "{} has no sectors", p["call_id"]);
        read += usize::from(p["required_skills"].as_array().unwrap().len() + p["themes"].as_array().unwrap().len() > 0);
        assert_eq!(p["scope"], "european");
    }
    assert!(read >= 15, "{read} of 19 creative calls have skills or themes");
    let games = all.iter().find(|p| p["call_id"] == "CREA-MEDIA-2025-DEVVGIM").unwrap();
    let concepts: Vec<&str> =
        games["required_skills"].as_array().unwrap().iter().filter_map(|s| s["concept"].as_str()).collect();
    assert!(concepts.contains(&"mm:video-game-development"), "{concepts:?}");
    assert!(games["description"].as_str().unwrap().starts_with("Scope"), "HTML is stripped");
    assert!(!games["description"].as_str().unwrap().contains('<'));
    // Deadlines are read as Brussels time: 17:00 CET is 16:00 UTC.
    let erc = all.iter().find(|p| p["call_id"] == "ERC-2025-SyG").unwrap();
    assert_eq!(erc["deadline"], "2024-11-06T16:00:00.000000Z");
    assert_eq!(erc["status"], "open");
    assert_eq!(erc["budget_max"], 14_000_000);
    // The export's start_date is the opening date: a call announced for later is forthcoming.
    let human = all.iter().find(|p| p["call_id"] == "HORIZON-CL4-2021-HUMAN-01-25").unwrap();
    assert_eq!(human["status"], "forthcoming", "{human}");
    assert!(human["opens_at"].as_str().unwrap() > "2024-10-15", "{human}");

    // A left-out call is matched to no one, though a member offers what it names; listed only for staff.
    let (vr, _, _) = app
        .create_member(&member("VR Lab", "LU", json!([{"term": "virtual reality", "level": 5}]), json!([]), json!([])))
        .await;
    let vr_user = app.user(Role::Member, Some(vr["id"].as_str().unwrap().parse().unwrap()));
    assert_eq!(app.as_(&vr_user.token).get("/v1/projects?left_out=true").await.status, 403);
    let ranked = async |app: &TestApp| -> Vec<Value> {
        let path = format!("/v1/members/{}/matches/projects?limit=100", vr["id"].as_str().unwrap());
        app.get(&path).await.json()["items"].as_array().unwrap().iter().map(|i| i["project"]["id"].clone()).collect()
    };
    let naval = defence.iter().find(|p| p["call_id"] == "EDF-2024-DA-NAVAL-FNP").expect("a defence call naming VR");
    assert!(naval["required_skills"].as_array().unwrap().iter().any(|s| s["concept"] == "mm:virtual-reality"));
    assert!(!ranked(&app).await.contains(&naval["id"]), "a left-out call is matched to no one");
    // Staff let it in: listed and matched, and a later import keeps it in.
    let let_in = app.post(&format!("/v1/projects/{}/let-in", naval["id"].as_str().unwrap()), &json!({})).await;
    assert_eq!(let_in.status, 200, "{}", let_in.text());
    assert_eq!((&let_in.json()["left_out"], &let_in.json()["let_in"]), (&Value::Null, &json!(true)));
    assert!(ranked(&app).await.contains(&naval["id"]), "a call let in is matched");
    let audit = app.get("/v1/audit?action=project.let_in").await.json();
    assert_eq!(audit["items"][0]["target"], naval["id"], "{audit}");
    let third = import().await;
    assert_eq!(third["left_out"].as_u64(), Some(left_out.len() as u64 - 1), "{third}");
    assert_eq!(third["unchanged"], 304, "{third}");
    assert!(app.all_pages("/v1/projects").await.iter().any(|p| p["id"] == naval["id"]));

    // Two years on every call of that export is closed: the import says so.
    app.clock.set(DateTime::parse_from_rfc3339("2026-12-07T09:00:00Z").unwrap().to_utc());
    let late = import().await;
    assert_eq!((late["open"].as_u64(), late["closed"].as_u64()), (Some(0), Some(304)), "{late}");
    let warning = late["warnings"][0].as_str().unwrap_or_default();
    assert!(warning.contains("none of the 304 calls imported is open") && warning.contains("2026-12-07"), "{late}");
    // A file that is not an export is refused, stores nothing, and is logged with why.
    let refused = app
        .send(app.request(Method::POST, "/v1/projects/import").header("content-type", "text/csv").body("a,b\n1,2\n"))
        .await;
    assert_eq!(refused.status, 422, "{}", refused.text());
    let log = app.get("/v1/imports?limit=10").await;
    assert_eq!(log.status, 200, "{}", log.text());
    let entries = log.json()["items"].as_array().unwrap().clone();
    assert_eq!(entries.len(), 5, "four imports and a refused one: {entries:?}");
    let failed = &entries[0];
    assert_eq!(
        (&failed["outcome"], &failed["summary"], &failed["source"]),
        (&json!("failed"), &Value::Null, &json!("upload"))
    );
    assert!(failed["error"].as_str().unwrap().contains("identifier"), "{failed}");
    assert_eq!(entries[1]["summary"]["closed"], 304);
    assert_eq!(entries[4]["summary"]["created"], 304, "the first import, last");
    assert!(entries.iter().all(|e| e["requested_by"].as_str().is_some_and(|r| !r.is_empty())));
    assert!(entries.iter().all(|e| e["started_at"].as_str() <= e["finished_at"].as_str()));
}

async fn another_instance_sees_changes(app: TestApp) {
    let other = app.reopen().await;
    let (m, location, _) = app
        .create_member(&member("Sync Studio", "LU", json!([{"term": "photography", "level": 4}]), json!([]), json!([])))
        .await;
    let p = create_project(
        &app,
        &project("Sync call", "european", json!([{"term": "graphic design", "weight": 5}]), &json!({})),
    )
    .await;
    let path = format!("/v1/members/{}/matches/projects", m["id"].as_str().unwrap());
    let sees_match = async |expected: bool| {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let items = other.get(&path).await;
            if items.status == 200 {
                let found = items.json()["items"].as_array().unwrap().iter().any(|i| i["project"]["id"] == p["id"]);
                if found == expected {
                    return true;
                }
            }
            if Instant::now() > deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    assert!(sees_match(false).await);
    // A PATCH through the first instance shows in the second's matches within 5 s.
    let r = app.patch(&location, &json!({"offers": [{"term": "graphic design", "level": 4}]}), "*").await;
    assert_eq!(r.status, 200);
    assert!(sees_match(true).await, "the other instance did not see the PATCH within 5 s");
    // So does a new synonym.
    app.patch(&location, &json!({"offers": [{"term": "Affichëkonscht", "level": 4}]}), "*").await;
    assert!(sees_match(false).await);
    let added = app
        .post("/v1/vocabulary/synonyms", &json!({"concept": GRAPHIC_DESIGN, "lang": "lb", "label": "Affichëkonscht"}))
        .await;
    assert_eq!(added.status, 201, "{}", added.text());
    assert!(sees_match(true).await, "the other instance did not see the synonym within 5 s");
}

/// A call announced before it opens is forthcoming until its opening date, listed as such, and matched already, so
/// members can prepare; the opening date comes before the deadline, and forthcoming can't be written.
async fn forthcoming_calls_are_matched_before_they_open(app: TestApp) {
    app.clock.set(DateTime::parse_from_rfc3339("2026-12-01T09:00:00Z").unwrap().to_utc());
    let (m, _, _) = app
        .create_member(&member(
            "Early Studio",
            "LU",
            json!([{"term": "graphic design", "level": 5}]),
            json!([]),
            json!([]),
        ))
        .await;
    let dates = json!({"opens_at": "2027-01-15T09:00:00+01:00", "deadline": "2027-03-31T17:00:00+02:00"});
    let p = create_project(
        &app,
        &project("Early call", "national", json!([{"term": "graphic design", "weight": 5}]), &dates),
    )
    .await;
    assert_eq!((&p["status"], &p["opens_at"]), (&json!("forthcoming"), &json!("2027-01-15T08:00:00.000000Z")));
    let listed = async |status: &str| -> bool {
        let page = app.get(&format!("/v1/projects?status={status}&q=early")).await.json();
        page["items"].as_array().unwrap().iter().any(|i| i["id"] == p["id"])
    };
    assert!(listed("forthcoming").await && !listed("open").await && !listed("closed").await);
    let path = format!("/v1/members/{}/matches/projects", m["id"].as_str().unwrap());
    let ranked = app.get(&path).await.json();
    let item = ranked["items"].as_array().unwrap().iter().find(|i| i["project"]["id"] == p["id"]).cloned();
    assert!(item.is_some(), "a forthcoming call is matched: {ranked}");

    // From its opening date on, it is open.
    app.clock.set(DateTime::parse_from_rfc3339("2027-01-15T08:00:00Z").unwrap().to_utc());
    assert_eq!(app.get(&format!("/v1/projects/{}", p["id"].as_str().unwrap())).await.json()["status"], "open");
    assert!(listed("open").await && !listed("forthcoming").await);

    // Opening after the deadline, or writing forthcoming, is refused and changes nothing.
    let location = format!("/v1/projects/{}", p["id"].as_str().unwrap());
    let late = app.patch(&location, &json!({"opens_at": "2027-04-01T00:00:00Z"}), "*").await;
    assert_eq!(late.status, 422, "{}", late.text());
    assert_eq!(late.json()["errors"][0]["pointer"], "/opens_at");
    let written =
        app.post("/v1/projects", &project("Written", "national", json!([]), &json!({"status": "forthcoming"}))).await;
    assert_eq!(written.status, 422, "{}", written.text());
    assert_eq!(app.get(&location).await.json()["opens_at"], "2027-01-15T08:00:00.000000Z");
}

/// A release's vocabulary reaches the profiles saved before it: once per shipped vocabulary, the `vocabulary` job maps
/// the stored terms anew, as a save would read them now. The older release's reading is written here by hand: a term
/// it left free, one it guessed wrong by a fuzzy match, one stored with a concept this release no longer has; a
/// concept the member chose stays. The index follows; the same vocabulary is not done twice.
async fn a_new_vocabulary_reaches_profiles_saved_before_it(app: TestApp) {
    use matchmaker::clock::Clock as _;
    use matchmaker::db::vocabulary::{Holder, set_term, stored_terms};
    use matchmaker::scheduler::{Job, Outcome};
    const GLAZES: &str = "http://data.europa.eu/esco/skill/92f8ebaa-da5f-4159-9b33-ac8dc4b9c84e";
    const VIDEO_GAMES: &str = "mm:video-game-development";
    let body = member(
        "Release Test",
        "LU",
        json!([
            {"term": "Glasuren", "level": 4},
            {"term": "web development", "level": 3},
            {"term": "3D-Modellierung", "level": 3},
            {"term": "visuals", "concept": GRAPHIC_DESIGN, "level": 2}
        ]),
        json!([]),
        json!([]),
    );
    let (m, location, _) = app.create_member(&body).await;
    assert_eq!(concept_and_match(&m["offers"][0]), (Some(GLAZES), "exact"));
    // As an older release stored them.
    {
        let mut conn = app.pool.get().unwrap();
        let id = m["id"].as_str().unwrap();
        for t in stored_terms(&mut conn).unwrap() {
            if t.holder != Holder::Member(id.to_owned()) {
                continue;
            }
            match t.text.as_str() {
                "Glasuren" => set_term(&mut conn, &t, None, "free", None).unwrap(),
                "web development" => set_term(&mut conn, &t, Some(VIDEO_GAMES), "fuzzy", Some(0.822)).unwrap(),
                "3D-Modellierung" => set_term(&mut conn, &t, Some("mm:retired-concept"), "exact", None).unwrap(),
                _ => {}
            }
        }
        app.index.reload_all(&mut conn).unwrap();
    }
    let before = app.get(&location).await.json();
    assert_eq!(concept_and_match(&before["offers"][0]), (None, "free"), "{before}");
    assert_eq!(concept_and_match(&before["offers"][1]), (Some(VIDEO_GAMES), "fuzzy"));
    let glaziers = async |app: &TestApp| {
        app.get("/v1/members?skill=ceramics%20glazes").await.json()["items"].as_array().unwrap().len()
    };
    assert_eq!(glaziers(&app).await, 0, "a free term is not found by meaning");

    let period = Job::Vocabulary.period_of(app.clock.now(), chrono_tz::Europe::Luxembourg);
    assert_eq!(period, matchmaker::matching::Vocabulary::shipped_fingerprint());
    let Outcome::Finished(summary) = app.jobs.run_period(Job::Vocabulary, period.clone(), false).await.unwrap() else {
        panic!("the vocabulary job did not finish");
    };
    assert!(summary.contains("3 stored terms mapped anew (1 members, 0 projects)"), "{summary}");
    let after = app.get(&location).await.json();
    assert_eq!(concept_and_match(&after["offers"][0]), (Some(GLAZES), "exact"), "{after}");
    assert_eq!(concept_and_match(&after["offers"][1]), (Some("mm:web-development"), "exact"));
    assert_eq!(concept_and_match(&after["offers"][2]), (Some(MODELING_3D), "exact"));
    assert_eq!(concept_and_match(&after["offers"][3]), (Some(GRAPHIC_DESIGN), "chosen"), "a choice is kept");
    assert_eq!(glaziers(&app).await, 1, "the index follows");
    assert!(matches!(
        app.jobs.run_period(Job::Vocabulary, period, false).await.unwrap(),
        Outcome::Skipped(why) if why.contains("finished already")
    ));
}
