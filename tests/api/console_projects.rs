//! The console's projects pages over HTTP, on both backends: the search and its filters, a project's page (its terms
//! and how they mapped, the members to invite, the teams it could form), creating a project (errors next to their
//! fields, nothing stored until it is right; times typed in Luxembourg time), editing one on the version read (a
//! colleague's change shown, never overwritten), and the labels the term fields' autocomplete offers.

use serde_json::{Value, json};
use uuid::Uuid;

use crate::console::{Console, attrs, texts};
use crate::helpers::TestApp;
use crate::on_both_backends;
use crate::review::{create, member_body, run_matching};

on_both_backends!(
    console_projects_search_finds_and_filters,
    console_projects_are_created_from_the_form,
    console_projects_edit_on_the_version_read,
    console_projects_page_shows_terms_matches_and_consortia,
    console_projects_terms_answer_the_vocabularys_labels,
    console_projects_imported_call_follows_its_imports_again,
);

/// Post a project through the API as staff; its id.
async fn post_project(app: &TestApp, body: &Value) -> Uuid {
    let r = app.post("/v1/projects", body).await;
    assert_eq!(r.status, 201, "{}", r.text());
    r.json()["id"].as_str().unwrap().parse().unwrap()
}

fn listed(html: &str) -> Vec<String> {
    texts(html, "table.list tbody th a")
}

async fn console_projects_search_finds_and_filters(app: TestApp) {
    post_project(&app, &json!({"title": "Heritage in VR", "scope": "european", "sectors": ["games"]})).await;
    post_project(&app, &json!({"title": "Esch film week", "scope": "national", "programme": "FilmFund"})).await;
    let closed = json!({"title": "Old call", "scope": "international", "deadline": "2026-01-31T17:00:00+01:00"});
    post_project(&app, &closed).await;
    let (mut browser, _) = Console::staff(&app).await;

    let all = browser.get("/console/projects").await;
    assert_eq!(all.status, 200, "{}", all.text());
    let mut names = listed(&all.text());
    names.sort();
    assert_eq!(names, ["Esch film week", "Heritage in VR", "Old call"]);
    let rows = texts(&all.text(), "table.list tbody tr");
    let old = rows.iter().find(|r| r.contains("Old call")).unwrap();
    assert!(
        old.contains("closed") && old.contains("2026-01-31 17:00"),
        "status and deadline in Luxembourg time: {old}"
    );

    assert_eq!(listed(&browser.get("/console/projects?q=heritage&scope=&status=").await.text()), ["Heritage in VR"]);
    assert_eq!(listed(&browser.get("/console/projects?scope=national").await.text()), ["Esch film week"]);
    assert_eq!(listed(&browser.get("/console/projects?sector=games").await.text()), ["Heritage in VR"]);
    let open = listed(&browser.get("/console/projects?status=open").await.text());
    assert_eq!(open.len(), 2, "{open:?}");
    assert!(!open.contains(&"Old call".to_owned()));
    let left_out = browser.get("/console/projects?left_out=true").await;
    assert_eq!(left_out.status, 200);
    assert!(listed(&left_out.text()).is_empty(), "no import left a call out");
    assert_eq!(attrs(&left_out.text(), "#f-left-out", "checked").len(), 1);

    let wrong = browser.get("/console/projects?status=someday").await;
    assert_eq!(wrong.status, 422, "{}", wrong.text());
    assert!(texts(&wrong.text(), "div.error li")[0].starts_with("Status: must be one of"), "{}", wrong.text());
    assert!(listed(&wrong.text()).is_empty());
}

/// The fields of a valid new project (required skills and themes as the form's rows).
fn new_project<'a>() -> Vec<(&'a str, &'a str)> {
    vec![
        ("title", "Heritage in VR"),
        ("scope", "international"),
        ("programme", "Creative Europe"),
        ("call_id", "CREA-CULT-2027-COOP"),
        ("source_url", ""),
        ("opens_at", ""),
        ("deadline", "2027-03-31T17:00"),
        ("status", "open"),
        ("description", "Museums and studios\r\nbring heritage sites to VR."),
        ("sector", "games"),
        ("sector", "design"),
        ("size", "one_person"),
        ("size", "micro"),
        ("skill", "3D modelling"),
        ("skill_weight", "5"),
        ("skill", ""),
        ("skill_weight", "3"),
        ("skill", "game design"),
        ("skill_weight", "2"),
        ("theme", "cultural heritage"),
        ("theme", ""),
    ]
}

/// `fields` with the one-valued field `name` set to `value`.
fn with(
    fields: &[(&'static str, &'static str)],
    name: &'static str,
    value: &'static str,
) -> Vec<(&'static str, &'static str)> {
    let mut out: Vec<_> = fields.iter().filter(|(k, _)| *k != name).copied().collect();
    out.push((name, value));
    out
}

/// A form's fields as `post` takes them.
fn borrowed<'a>(fields: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    fields.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

async fn project_count(app: &TestApp) -> usize {
    app.all_pages("/v1/projects").await.len()
}

async fn console_projects_are_created_from_the_form(app: TestApp) {
    let (mut browser, _) = Console::staff(&app).await;
    let form = browser.get("/console/projects/new").await;
    assert_eq!(form.status, 200, "{}", form.text());
    let html = form.text();
    // Every field has its label; the term fields offer the vocabulary's labels; one h1.
    let ids = attrs(
        &html,
        "form.project-form input:not([type=hidden]), form.project-form select, form.project-form textarea",
        "id",
    );
    let labelled = attrs(&html, "form.project-form label", "for");
    assert!(ids.len() > 15, "{ids:?}");
    for id in &ids {
        assert!(labelled.contains(id), "no label for {id}");
    }
    assert_eq!(texts(&html, "h1").len(), 1);
    assert!(attrs(&html, "input[name=skill]", "list").iter().all(|l| l == "concepts"));
    assert_eq!(attrs(&html, "datalist", "id"), ["concepts"]);
    assert_eq!(attrs(&html, "#scope option", "value"), ["national", "european", "international"]);

    // Wrong: a blank title, a time that cannot be read, a weight out of range. The form again as typed, each error
    // next to its field, and nothing stored.
    let before = project_count(&app).await;
    let mut wrong = with(&with(&new_project(), "title", ""), "deadline", "31/03/2027");
    for field in &mut wrong {
        if *field == ("skill_weight", "2") {
            field.1 = "9";
        }
    }
    let refused = browser.post("/console/projects", &wrong).await;
    assert_eq!(refused.status, 422, "{}", refused.text());
    let html = refused.text();
    assert_eq!(texts(&html, "#title-error"), ["must not be empty"]);
    assert_eq!(texts(&html, "#deadline-error"), ["must be a date and time such as 2026-03-31 17:00"]);
    assert_eq!(attrs(&html, "#title", "aria-invalid"), ["true"]);
    // The blank row is dropped: "game design" is the second skill now, and its weight is what is wrong.
    assert!(texts(&html, "#skill-weight-1-error")[0].contains("from 1 to 5"), "{html}");
    assert_eq!(attrs(&html, "#skill-weight-1", "aria-invalid"), ["true"]);
    assert!(attrs(&html, "#skill-1", "aria-invalid").is_empty());
    // All of them at the top too, in the form's order.
    let summary = texts(&html, "#form-errors li");
    assert_eq!(
        summary,
        [
            "Title: must not be empty",
            "Deadline: must be a date and time such as 2026-03-31 17:00",
            "Weight of skill 2: must be a whole number from 1 to 5",
        ]
    );
    assert_eq!(attrs(&html, "#deadline", "value"), ["31/03/2027"], "kept as typed");
    assert_eq!(attrs(&html, "#call_id", "value"), ["CREA-CULT-2027-COOP"]);
    assert_eq!(attrs(&html, "input[name=skill]", "value")[..2], ["3D modelling", "game design"]);
    assert_eq!(attrs(&html, "input[name=sector][checked]", "value"), ["design", "games"]);
    assert_eq!(attrs(&html, "input[name=size][checked]", "value"), ["one_person", "micro"]);
    assert_eq!(project_count(&app).await, before, "nothing stored");

    // The hour the clocks skip does not exist in Luxembourg.
    let skipped = browser.post("/console/projects", &with(&new_project(), "deadline", "2027-03-28T02:30")).await;
    assert_eq!(skipped.status, 422);
    assert!(texts(&skipped.text(), "#deadline-error")[0].contains("clocks skip this hour"));
    assert_eq!(project_count(&app).await, before);

    // Right: created, and the API has it with its scope, its terms and the deadline in UTC.
    let created = browser.post("/console/projects", &new_project()).await;
    assert_eq!(created.status, 303, "{}", created.text());
    let location = created.header("location").unwrap();
    let id = location.trim_start_matches("/console/projects/").trim_end_matches("?done=created");
    let p = app.get(&format!("/v1/projects/{id}")).await.json();
    assert_eq!(p["title"], "Heritage in VR");
    assert_eq!(p["scope"], "international");
    assert_eq!(p["programme"], "Creative Europe");
    assert_eq!(p["deadline"], "2027-03-31T15:00:00.000000Z", "17:00 in Luxembourg summer time");
    assert_eq!(p["opens_at"], Value::Null);
    assert_eq!(p["source_url"], Value::Null);
    assert_eq!(p["description"], "Museums and studios\nbring heritage sites to VR.");
    assert_eq!(p["sectors"], json!(["design", "games"]));
    assert_eq!(p["eligible_sizes"], json!(["one_person", "micro"]));
    let skills: Vec<(String, i64)> = p["required_skills"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["term"].as_str().unwrap().to_owned(), s["weight"].as_i64().unwrap()))
        .collect();
    assert_eq!(skills, [("3D modelling".to_owned(), 5), ("game design".to_owned(), 2)]);
    assert_eq!(p["themes"][0]["term"], "cultural heritage");
    assert_eq!(p["required_skills"][0]["match"], "synonym");
    let page = browser.get(&location).await;
    assert_eq!(page.status, 200);
    assert_eq!(texts(&page.text(), "p.notice"), ["The project was created."]);
    assert_eq!(texts(&page.text(), "#deadline"), ["2027-03-31 17:00"]);
    assert_eq!(texts(&page.text(), "#sizes"), ["one person, micro (under 10)"]);

    // A national one, in winter time.
    let national = with(&with(&new_project(), "scope", "national"), "deadline", "2027-01-15T17:00");
    let national = with(&national, "title", "Esch film week");
    let made = browser.post("/console/projects", &national).await;
    assert_eq!(made.status, 303, "{}", made.text());
    let id = made
        .header("location")
        .unwrap()
        .trim_start_matches("/console/projects/")
        .trim_end_matches("?done=created")
        .to_owned();
    let p = app.get(&format!("/v1/projects/{id}")).await.json();
    assert_eq!((p["scope"].as_str(), p["deadline"].as_str()), (Some("national"), Some("2027-01-15T16:00:00.000000Z")));
}

async fn console_projects_edit_on_the_version_read(app: TestApp) {
    let body = json!({
        "title": "Heritage in VR", "scope": "european", "deadline": "2027-03-31T17:00:00+02:00",
        "budget_min": 10000, "budget_max": 50000,
        "required_skills": [{"term": "3D modelling", "weight": 5}], "themes": [{"term": "cultural heritage"}]
    });
    let id = post_project(&app, &body).await;
    let (mut browser, _) = Console::staff(&app).await;
    let form = browser.get(&format!("/console/projects/{id}/edit")).await;
    assert_eq!(form.status, 200, "{}", form.text());
    let html = form.text();
    assert_eq!(attrs(&html, "#title", "value"), ["Heritage in VR"]);
    assert_eq!(attrs(&html, "#deadline", "value"), ["2027-03-31T17:00"], "Luxembourg time");
    assert_eq!(attrs(&html, "#skill-0", "value"), ["3D modelling"]);
    assert_eq!(attrs(&html, "#skill-weight-0 option[selected]", "value"), ["5"]);
    assert_eq!(attrs(&html, "form.project-form", "action"), [format!("/console/projects/{id}")]);
    let version = attrs(&html, "input[name=version]", "value").pop().unwrap();
    let fields = |title: &'static str, version: &str| -> Vec<(&'static str, String)> {
        vec![
            ("version", version.to_owned()),
            ("title", title.to_owned()),
            ("scope", "european".to_owned()),
            ("programme", "Horizon Europe".to_owned()),
            ("deadline", "2027-04-30T12:00".to_owned()),
            ("status", "open".to_owned()),
            ("description", String::new()),
            ("skill", "3D modelling".to_owned()),
            ("skill_weight", "4".to_owned()),
            ("skill", "sound design".to_owned()),
            ("skill_weight", "3".to_owned()),
            ("theme", String::new()),
        ]
    };

    // Invalid: the form again (422) and the project unchanged.
    let bad = fields("", &version);
    let refused = browser.post(&format!("/console/projects/{id}"), &borrowed(&bad)).await;
    assert_eq!(refused.status, 422, "{}", refused.text());
    assert_eq!(texts(&refused.text(), "#title-error"), ["must not be empty"]);
    assert_eq!(app.get(&format!("/v1/projects/{id}")).await.json()["title"], "Heritage in VR");

    // A colleague saves first; the form made on the older version is refused and shows the project as it is now.
    let colleague = app.patch(&format!("/v1/projects/{id}"), &json!({"title": "Heritage in VR and AR"}), "*").await;
    assert_eq!(colleague.status, 200, "{}", colleague.text());
    let late = browser.post(&format!("/console/projects/{id}"), &borrowed(&fields("Virtual heritage", &version))).await;
    assert_eq!(late.status, 409, "{}", late.text());
    assert!(texts(&late.text(), "#conflict")[0].starts_with("A colleague changed this project"));
    assert_eq!(attrs(&late.text(), "#title", "value"), ["Heritage in VR and AR"]);
    let now = app.get(&format!("/v1/projects/{id}")).await.json();
    assert_eq!((now["title"].as_str(), now["programme"].as_str()), (Some("Heritage in VR and AR"), None), "unchanged");
    let current = attrs(&late.text(), "input[name=version]", "value").pop().unwrap();
    assert_ne!(current, version);

    // On the version shown: saved; what the form does not hold (the budget) is kept; a blank theme list empties it.
    let saved =
        browser.post(&format!("/console/projects/{id}"), &borrowed(&fields("Virtual heritage", &current))).await;
    assert_eq!(saved.status, 303, "{}", saved.text());
    assert_eq!(saved.header("location").unwrap(), format!("/console/projects/{id}?done=saved"));
    let now = app.get(&format!("/v1/projects/{id}")).await.json();
    assert_eq!(now["title"], "Virtual heritage");
    assert_eq!(now["programme"], "Horizon Europe");
    assert_eq!(now["deadline"], "2027-04-30T10:00:00.000000Z");
    assert_eq!((now["budget_min"].as_i64(), now["budget_max"].as_i64()), (Some(10000), Some(50000)));
    let terms: Vec<&str> =
        now["required_skills"].as_array().unwrap().iter().map(|t| t["term"].as_str().unwrap()).collect();
    assert_eq!(terms, ["3D modelling", "sound design"]);
    assert_eq!(now["required_skills"][0]["weight"], 4);
    assert!(now["themes"].as_array().unwrap().is_empty());
    let page = browser.get(&format!("/console/projects/{id}?done=saved")).await;
    assert_eq!(texts(&page.text(), "p.notice"), ["Your changes were saved."]);

    // No version, or an unknown project: refused.
    let mut unversioned = fields("X", &current);
    unversioned.retain(|(k, _)| *k != "version");
    assert_eq!(browser.post(&format!("/console/projects/{id}"), &borrowed(&unversioned)).await.status, 400);
    let elsewhere = Uuid::new_v4();
    assert_eq!(browser.post(&format!("/console/projects/{elsewhere}"), &borrowed(&fields("X", "1"))).await.status, 404);
    assert_eq!(browser.get(&format!("/console/projects/{elsewhere}/edit")).await.status, 404);
    assert_eq!(app.get(&format!("/v1/projects/{id}")).await.json()["title"], "Virtual heritage");
}

async fn console_projects_page_shows_terms_matches_and_consortia(app: TestApp) {
    let forge =
        create(&app, &member_body("Pixel Forge", &["3D modelling", "game design"], &["marketing strategy"])).await;
    let mut lumen_body = member_body("Lumen Studio", &["sound design", "animation"], &["branding"]);
    lumen_body["country"] = json!("FR");
    let lumen = create(&app, &lumen_body).await;
    let id = post_project(
        &app,
        &json!({
            "title": "Heritage in 3D", "scope": "european", "deadline": "2027-03-31T17:00:00+02:00",
            "min_partners": 2, "min_countries": 2,
            "required_skills": [{"term": "3D modelling", "weight": 5}, {"term": "sound design", "weight": 3},
                                {"term": "graphic desgin", "weight": 2}],
            "themes": [{"term": "cultural heritage"}, {"term": "Quantum flux harmonisation"}]
        }),
    )
    .await;
    run_matching(&app).await;
    let (mut browser, _) = Console::staff(&app).await;
    let page = browser.get(&format!("/console/projects/{id}")).await;
    assert_eq!(page.status, 200, "{}", page.text());
    let html = page.text();
    assert_eq!(texts(&html, "h1"), ["Heritage in 3D"]);
    assert_eq!(texts(&html, "#deadline"), ["2027-03-31 17:00"]);
    assert_eq!(attrs(&html, "table.terms tr.term", "data-match"), ["synonym", "exact", "fuzzy", "exact", "free"]);
    let fuzzy = texts(&html, "table.terms tbody tr").into_iter().find(|r| r.contains("graphic desgin")).unwrap();
    assert!(
        fuzzy.contains("graphic design") && fuzzy.contains("near spelling") && fuzzy.contains("% alike"),
        "{fuzzy}"
    );

    // The members to invite, best first, with what they share.
    let invited = texts(&html, "#member-matches tbody tr");
    assert!(invited.iter().any(|r| r.contains("Pixel Forge") && r.contains("3D modeling")), "{invited:?}");
    assert!(invited.iter().any(|r| r.contains("Lumen Studio")), "{invited:?}");
    let links = attrs(&html, "#member-matches tbody th a", "href");
    assert!(
        links.contains(&format!("/console/members/{forge}")) && links.contains(&format!("/console/members/{lumen}"))
    );

    // The teams it could form, as the API proposes them.
    let consortia = app.get(&format!("/v1/projects/{id}/consortia")).await.json();
    let teams = consortia["teams"].as_array().unwrap();
    assert!(!teams.is_empty(), "{consortia}");
    let shown = texts(&html, "section.team h3");
    assert_eq!(shown.len(), teams.len());
    let coverage = teams[0]["coverage"].as_f64().unwrap().round() as i64;
    assert_eq!(shown[0], format!("Team 1: covers {coverage} % of the required skills"));
    let first_team = texts(&html, "section.team")[0].clone();
    for m in teams[0]["members"].as_array().unwrap() {
        assert!(first_team.contains(m["name"].as_str().unwrap()), "{first_team}");
    }

    // A closed project matches no one, and says so.
    let closed = post_project(&app, &json!({"title": "Old call", "scope": "national", "status": "closed"})).await;
    let quiet = browser.get(&format!("/console/projects/{closed}")).await;
    assert_eq!(quiet.status, 200, "{}", quiet.text());
    assert!(quiet.text().contains("No member matches this project"), "{}", quiet.text());
    assert!(quiet.text().contains("names no skill or theme yet"));
    assert_eq!(browser.get(&format!("/console/projects/{}", Uuid::new_v4())).await.status, 404);
    assert_eq!(browser.get("/console/projects/not-an-id").await.status, 404);
}

async fn console_projects_terms_answer_the_vocabularys_labels(app: TestApp) {
    let (mut browser, _) = Console::staff(&app).await;
    let found = browser.get("/console/projects/terms?q=3D%20mod").await;
    assert_eq!(found.status, 200, "{}", found.text());
    assert!(found.header("content-type").unwrap().starts_with("application/json"));
    let items = found.json()["items"].as_array().unwrap().clone();
    assert!(!items.is_empty() && items.len() <= 10, "{items:?}");
    assert_eq!(items[0]["label"], "3D modeling", "{items:?}");
    let api = app.get("/v1/vocabulary/search?q=3D%20mod&lang=en&limit=10").await.json();
    assert_eq!(items[0]["concept"], api["items"][0]["concept"], "the API's search");

    // In the reader's language.
    let request = reqwest::Client::new()
        .get(app.url("/console/projects/terms?q=3D%20mod"))
        .header("cookie", format!("mm_console={}; mm_lang=fr", browser.cookie.clone().unwrap()));
    let french: Value = request.send().await.unwrap().json().await.unwrap();
    assert_eq!(french["items"][0]["concept"], items[0]["concept"]);
    assert_eq!(french["items"][0]["lang"], "fr");
    assert_ne!(french["items"][0]["label"], items[0]["label"], "{french}");

    // Nothing typed: nothing offered. Too much: refused.
    let blank = browser.get("/console/projects/terms?q=").await;
    assert_eq!((blank.status, blank.json()["items"].as_array().unwrap().len()), (200, 0));
    let long = "x".repeat(101);
    assert_eq!(browser.get(&format!("/console/projects/terms?q={long}")).await.status, 400);
    // Signed out: no labels.
    let mut anonymous = Console::new(&app);
    assert_eq!(anonymous.get("/console/projects/terms?q=3D").await.status, 303);
}

/// An imported call staff changed names the fields its imports keep, and one button lets them go: the page then says
/// so and names none.
async fn console_projects_imported_call_follows_its_imports_again(app: TestApp) {
    let id = post_project(&app, &json!({"title": "Video games and immersive content", "scope": "european"})).await;
    app.mark_imported(id, "43251977CREA", &["title", "budget_max"]);
    let (mut browser, _) = Console::staff(&app).await;
    let html = browser.get(&format!("/console/projects/{id}")).await.text();
    let kept = texts(&html, "#edited").join(" ");
    assert!(kept.starts_with("title, highest budget"), "{kept}");
    let action = format!("/console/projects/{id}/follow-import");
    assert_eq!(attrs(&html, "form.follow-import", "action"), std::slice::from_ref(&action));
    let followed = browser.post(&action, &[]).await;
    assert_eq!(followed.status, 303, "{}", followed.text());
    let back = followed.header("location").unwrap();
    assert_eq!(back, format!("/console/projects/{id}?done=followed"));
    let html = browser.get(&back).await.text();
    assert!(texts(&html, ".notice").join(" ").contains("follows its imports again"), "{html}");
    assert!(texts(&html, "#edited").is_empty(), "nothing is kept any more");
    assert_eq!(app.get(&format!("/v1/projects/{id}")).await.json()["edited_fields"], json!([]));
    // In French too, with the fields named in French.
    app.mark_imported(id, "43251977CREA", &["required_skills"]);
    let request = reqwest::Client::new()
        .get(app.url(&back))
        .header("cookie", format!("mm_console={}; mm_lang=fr", browser.cookie.clone().unwrap()));
    let fr = request.send().await.unwrap().text().await.unwrap();
    assert!(texts(&fr, ".notice").join(" ").contains("suit à nouveau ses imports"), "{fr}");
    assert!(texts(&fr, "#edited").join(" ").starts_with("compétences requises"), "{fr}");
    assert!(fr.contains("Suivre à nouveau les imports"), "{fr}");
}
