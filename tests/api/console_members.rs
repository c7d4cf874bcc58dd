//! The console's members pages over HTTP, on both backends: the search and its filters, a member's page (each term
//! with its concept and how it mapped, its matches, its suggestions with what came of them, its portals), the digest
//! preview, the export download, and erasing (the member's name typed to confirm, on the version shown).

use matchmaker::auth::{ClientScope, Role};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::console::{Console, attrs, texts};
use crate::helpers::{TestApp, studio};
use crate::on_both_backends;
use crate::review::{create, member_body, run_matching};

on_both_backends!(
    console_members_search_finds_filters_and_pages,
    console_members_page_shows_terms_matches_suggestions_and_portals,
    console_members_digest_preview_and_export,
    console_members_erase_needs_the_name_and_the_version_shown,
);

/// A profile named `name` in `country`, working in `sectors`.
fn profile(name: &str, country: &str, sectors: &[&str]) -> Value {
    let mut body = studio(name);
    let slug: String = name.to_lowercase().chars().filter(char::is_ascii_alphanumeric).collect();
    body["contact_email"] = json!(format!("hello@{slug}.example.lu"));
    body["country"] = json!(country);
    body["sectors"] = json!(sectors);
    body["description"] = json!(format!("{name} works for the cluster."));
    body
}

/// The names a search page lists.
fn listed(html: &str) -> Vec<String> {
    texts(html, "table.list tbody th a")
}

async fn console_members_search_finds_filters_and_pages(app: TestApp) {
    create(&app, &profile("Atelier Lumen", "LU", &["design"])).await;
    create(&app, &profile("Pixel Forge", "FR", &["games"])).await;
    create(&app, &profile("Brandwerk", "DE", &["marketing_and_communication"])).await;
    let (mut browser, _) = Console::staff(&app).await;

    let all = browser.get("/console/members").await;
    assert_eq!(all.status, 200, "{}", all.text());
    let names = listed(&all.text());
    for name in ["Atelier Lumen", "Pixel Forge", "Brandwerk"] {
        assert!(names.contains(&name.to_owned()), "{name} in {names:?}");
    }
    let lumen_link = attrs(&all.text(), "table.list tbody th a", "href")
        .into_iter()
        .zip(&names)
        .find(|(_, n)| *n == "Atelier Lumen")
        .map(|(href, _)| href)
        .unwrap();
    let lumen = app.all_members().await.into_iter().find(|m| m["name"] == "Atelier Lumen").unwrap();
    assert_eq!(lumen_link, format!("/console/members/{}", lumen["id"].as_str().unwrap()));

    // Words, a sector, a country: each narrows the list; the form's empty fields are no filter.
    let q = browser.get("/console/members?q=lumen&sector=&country=&scope=").await;
    assert_eq!(q.status, 200, "{}", q.text());
    assert_eq!(listed(&q.text()), ["Atelier Lumen"]);
    assert_eq!(attrs(&q.text(), "#f-q", "value"), ["lumen"], "the search is shown as typed");
    let games = browser.get("/console/members?sector=games").await;
    assert_eq!(listed(&games.text()), ["Pixel Forge"]);
    assert_eq!(attrs(&games.text(), "#f-sector option[selected]", "value"), ["games"]);
    let german = browser.get("/console/members?country=de").await;
    assert_eq!(listed(&german.text()), ["Brandwerk"]);
    let nobody = browser.get("/console/members?q=nonexistentword").await;
    assert_eq!(nobody.status, 200);
    assert!(listed(&nobody.text()).is_empty());
    assert!(nobody.text().contains("No member matches this search."));

    // A filter the API refuses: said plainly, next to the form, and no list.
    let wrong = browser.get("/console/members?country=XX&sector=cooking").await;
    assert_eq!(wrong.status, 422, "{}", wrong.text());
    let said = texts(&wrong.text(), "div.error li").join("\n");
    assert!(said.contains("Country:") && said.contains("ISO 3166-1"), "{said}");
    assert!(said.contains("Sector:"), "{said}");
    assert!(listed(&wrong.text()).is_empty());

    // Pages of 25: the next page goes on where the first stopped, with the filters kept.
    for i in 0..25 {
        create(&app, &profile(&format!("Studio Serie {i:02}"), "LU", &["design"])).await;
    }
    let first = browser.get("/console/members?sector=design").await;
    let first_names = listed(&first.text());
    assert_eq!(first_names.len(), 25, "{first_names:?}");
    let next = attrs(&first.text(), "nav.pager a[rel=next]", "href");
    assert_eq!(next.len(), 1, "a link to the next page");
    assert!(next[0].contains("sector=design") && next[0].contains("cursor="), "{}", next[0]);
    let second = browser.get(&next[0]).await;
    assert_eq!(second.status, 200);
    let second_names = listed(&second.text());
    assert_eq!(second_names.len(), 1, "26 designers: {second_names:?}");
    assert!(!first_names.contains(&second_names[0]), "no member twice");
    assert!(attrs(&second.text(), "nav.pager a[rel=next]", "href").is_empty(), "the last page");
    assert_eq!(attrs(&second.text(), "nav.pager a", "href"), ["/console/members?sector=design"], "back to the first");
}

/// The members of a small cluster after a matching run: Pixel Forge (3D, game design; needs marketing), Brandwerk
/// (marketing; needs 3D), and a project asking for 3D modelling.
async fn cluster(app: &TestApp) -> (Uuid, Uuid, Uuid) {
    let mut forge =
        member_body("Pixel Forge", &["3D modelling", "Quantum flux harmonisation"], &["marketing strategy"]);
    forge["interests"] = json!([{"term": "graphic desgin"}, {"term": "cultural heritage"}]);
    let forge = create(app, &forge).await;
    let brandwerk = create(app, &member_body("Brandwerk", &["marketing strategy"], &["3D modelling"])).await;
    let project = app
        .post(
            "/v1/projects",
            &json!({
                "title": "Heritage in 3D", "scope": "european", "deadline": "2027-03-31T17:00:00+02:00",
                "required_skills": [{"term": "3D modelling", "weight": 5}], "themes": [{"term": "cultural heritage"}]
            }),
        )
        .await;
    assert_eq!(project.status, 201, "{}", project.text());
    let project: Uuid = project.json()["id"].as_str().unwrap().parse().unwrap();
    run_matching(app).await;
    (forge, brandwerk, project)
}

/// The pending suggestions for `member`.
async fn pending_for(app: &TestApp, member: Uuid) -> Vec<Value> {
    let all = app.get(&format!("/v1/members/{member}/suggestions?limit=100")).await.json();
    all["items"].as_array().unwrap().clone()
}

/// Decide `suggestion` through the API as staff, on the version listed.
async fn decide(app: &TestApp, suggestion: &Value, mut decision: Value) {
    decision["id"] = suggestion["id"].clone();
    decision["etag"] = json!(format!("\"v{}\"", suggestion["version"]));
    let r = app.post("/v1/suggestions/decisions", &json!({"decisions": [decision]})).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["results"][0]["status"], 200, "{}", r.text());
}

async fn console_members_page_shows_terms_matches_suggestions_and_portals(app: TestApp) {
    let (forge, brandwerk, project) = cluster(&app).await;
    let suggestions = pending_for(&app, forge).await;
    let to_project = suggestions.iter().find(|s| s["kind"] == "project").expect("a project suggestion");
    let to_partner = suggestions.iter().find(|s| s["kind"] == "partner").expect("a partner suggestion");
    // Staff approve the project suggestion; the member says it is interested; staff record that they met.
    let id = to_project["id"].as_str().unwrap();
    decide(&app, to_project, json!({"decision": "approve"})).await;
    let person = app.user(Role::Member, Some(forge));
    let reacted = app
        .as_(&person.token)
        .post(
            &format!("/v1/suggestions/{id}/reaction"),
            &json!({"reaction": "interested", "comment": "Fits our pipeline"}),
        )
        .await;
    assert_eq!(reacted.status, 200, "{}", reacted.text());
    let met = app.post(&format!("/v1/suggestions/{id}/outcomes"), &json!({"outcome": "met"})).await;
    assert!(matches!(met.status, 200 | 201), "{}", met.text());
    // The partner suggestion is rejected with a reason.
    decide(&app, to_partner, json!({"decision": "reject", "reason": "Competitors"})).await;
    let portal = app.portal(&[ClientScope::MembersRead], &[forge]);

    let (mut browser, _) = Console::staff(&app).await;
    let page = browser.get(&format!("/console/members/{forge}")).await;
    assert_eq!(page.status, 200, "{}", page.text());
    let html = page.text();
    assert_eq!(texts(&html, "h1"), ["Pixel Forge"]);
    assert!(texts(&html, "dl.facts dd").iter().any(|d| d == "hello@pixelforge.example.lu"), "the contact shows");

    // Each term: the member's words, the concept, how it mapped (with the likeness of a near spelling).
    let row = |words: &str| {
        let rows = texts(&html, "table.terms tbody tr");
        rows.into_iter().find(|r| r.contains(words)).unwrap_or_else(|| panic!("a row for {words}"))
    };
    let synonym = row("3D modelling");
    assert!(synonym.starts_with("offer 3D modelling level 4 of 5 3D modeling"), "the concept's label: {synonym}");
    assert!(synonym.ends_with("synonym"), "{synonym}");
    let concept =
        app.get(&format!("/v1/members/{forge}")).await.json()["offers"][0]["concept"].as_str().unwrap().to_owned();
    assert!(synonym.contains(&format!("({concept})")), "the concept's id: {synonym}");
    assert!(row("marketing strategy").starts_with("need marketing strategy priority 4 of 5"));
    assert!(row("Quantum flux harmonisation").contains("none (matched by its words only) free words"));
    let fuzzy = row("graphic desgin");
    assert!(fuzzy.starts_with("interest graphic desgin"), "{fuzzy}");
    assert!(
        fuzzy.contains("graphic design") && fuzzy.contains("near spelling") && fuzzy.contains("% alike"),
        "{fuzzy}"
    );
    assert_eq!(attrs(&html, "table.terms tr.term", "data-match"), ["synonym", "free", "synonym", "fuzzy", "exact"]);

    // Its best project and partner, with what they share.
    let projects = texts(&html, "#project-matches tbody tr");
    assert!(
        projects.iter().any(|p| p.contains("Heritage in 3D") && p.contains("3D modeling, cultural heritage")),
        "{projects:?}"
    );
    assert_eq!(attrs(&html, "#project-matches tbody th a", "href")[0], format!("/console/projects/{project}"));
    let partners = texts(&html, "#partner-matches tbody tr");
    assert!(partners.iter().any(|p| p.contains("Brandwerk")), "{partners:?}");
    assert!(attrs(&html, "#partner-matches tbody th a", "href").contains(&format!("/console/members/{brandwerk}")));

    // Every suggestion, whatever its status, with its review, reaction and outcome, linking to its page.
    let rows = texts(&html, "table.suggestions tbody tr");
    assert_eq!(rows.len(), suggestions.len(), "{rows:?}");
    let project_row = rows.iter().find(|r| r.contains("Heritage in 3D")).unwrap();
    assert!(project_row.contains("approved"), "{project_row}");
    assert!(project_row.contains("interested: “Fits our pipeline”"), "{project_row}");
    assert!(project_row.contains("met ("), "{project_row}");
    let partner_row = rows.iter().find(|r| r.contains("Brandwerk")).unwrap();
    assert!(partner_row.contains("rejected: Competitors"), "{partner_row}");
    let links = attrs(&html, "table.suggestions tbody th a", "href");
    assert!(links.contains(&format!("/console/suggestions/{id}")), "{links:?}");
    assert_eq!(browser.get(&links[0]).await.status, 200, "the suggestion's page opens");

    // Its portals, and the ways to its digest preview and its export.
    let portals = texts(&html, "table.portals tbody tr");
    assert_eq!(portals.len(), 1);
    assert!(portals[0].contains("Test portal") && portals[0].contains(&portal.client_id), "{portals:?}");
    assert!(portals[0].contains("members:read"));
    let actions = attrs(&html, "ul.actions a", "href");
    assert!(actions.contains(&format!("/console/members/{forge}/digest-preview")));
    assert!(actions.contains(&format!("/console/members/{forge}/export")));

    // A member without any: said so. An unknown id, or not an id: 404.
    let quiet = create(&app, &profile("Quiet Studio", "LU", &["fashion"])).await;
    let alone = browser.get(&format!("/console/members/{quiet}")).await;
    assert!(alone.text().contains("No suggestion has been made to this member yet."));
    assert!(alone.text().contains("No portal acts for this member."));
    let unknown = browser.get(&format!("/console/members/{}", Uuid::new_v4())).await;
    assert_eq!(unknown.status, 404);
    assert!(unknown.text().contains("There is no member with this id"));
    assert_eq!(browser.get("/console/members/not-an-id").await.status, 404);

    // In French: the same page in the reader's language.
    browser.post("/console/language", &[("lang", "fr"), ("back", "/console/members")]).await;
    let request = reqwest::Client::new()
        .get(app.url(&format!("/console/members/{forge}")))
        .header("cookie", format!("mm_console={}; mm_lang=fr", browser.cookie.clone().unwrap()));
    let french = request.send().await.unwrap().text().await.unwrap();
    assert!(french.contains("Ses suggestions") && french.contains("niveau 4 sur 5"), "{french}");
}

async fn console_members_digest_preview_and_export(app: TestApp) {
    let (forge, _, _) = cluster(&app).await;
    let quiet = create(&app, &profile("Quiet Studio", "LU", &["fashion"])).await;
    crate::review::approve_all(&app).await;
    let (mut browser, _) = Console::staff(&app).await;

    // This week's digest: its subject, the suggestions it carries, its text; nothing stored.
    let preview = browser.get(&format!("/console/members/{forge}/digest-preview")).await;
    assert_eq!(preview.status, 200, "{}", preview.text());
    let html = preview.text();
    let api = app.get(&format!("/v1/members/{forge}/digest-preview")).await.json();
    assert_eq!(api["would_send"], true, "{api}");
    assert_eq!(texts(&html, "#digest-subject"), [api["subject"].as_str().unwrap()]);
    let carried = texts(&html, "ul.digest-items li");
    assert!(carried.iter().any(|c| c.contains("Heritage in 3D")), "{carried:?}");
    let text = texts(&html, "pre.mail").concat();
    assert!(text.contains("Heritage in 3D"), "{text}");
    assert!(!html.contains("<iframe") && !html.contains("style="), "no mail HTML in the page");
    assert!(app.get("/v1/digests?limit=100").await.json()["items"].as_array().unwrap().is_empty(), "nothing stored");
    let none = browser.get(&format!("/console/members/{quiet}/digest-preview")).await;
    assert_eq!(none.status, 200);
    assert!(none.text().contains("would get no digest this week"), "{}", none.text());
    assert_eq!(browser.get(&format!("/console/members/{}/digest-preview", Uuid::new_v4())).await.status, 404);

    // The export: a JSON download of what the API's export holds.
    let export = browser.get(&format!("/console/members/{forge}/export")).await;
    assert_eq!(export.status, 200, "{}", export.text());
    assert!(export.header("content-type").unwrap().starts_with("application/json"));
    assert_eq!(export.header("content-disposition").unwrap(), format!("attachment; filename=\"member-{forge}.json\""));
    assert_eq!(export.header("cache-control").unwrap(), "no-store");
    let document = export.json();
    assert_eq!(document["format"], "cluster-matchmaker-export/1");
    assert_eq!(document["member"]["name"], "Pixel Forge");
    assert_eq!(document["member"]["contact_email"], "hello@pixelforge.example.lu");
    let from_api = app.get(&format!("/v1/members/{forge}/export")).await.json();
    assert_eq!(document["suggestions"], from_api["suggestions"], "the same use-case as the API's");
    assert!(!document["suggestions"].as_array().unwrap().is_empty());
    assert_eq!(browser.get(&format!("/console/members/{}/export", Uuid::new_v4())).await.status, 404);
}

async fn console_members_erase_needs_the_name_and_the_version_shown(app: TestApp) {
    let lumen = create(&app, &profile("Atelier Lumen", "LU", &["design"])).await;
    let (mut browser, _) = Console::staff(&app).await;
    let page = browser.get(&format!("/console/members/{lumen}")).await;
    let version = attrs(&page.text(), "form[action$='/erase'] input[name=version]", "value").pop().unwrap();
    assert!(texts(&page.text(), "form[action$='/erase'] label[for=confirm]")[0].contains("Atelier Lumen"));
    let path = format!("/console/members/{lumen}/erase");

    // A wrong name: the page again, said plainly next to the form, and nothing erased.
    let wrong = browser.post(&path, &[("version", &version), ("confirm", "Atelier Lume")]).await;
    assert_eq!(wrong.status, 422, "{}", wrong.text());
    assert_eq!(texts(&wrong.text(), "#erase-error"), ["The name typed is not the member's name. Nothing was erased."]);
    assert_eq!(attrs(&wrong.text(), "#confirm", "aria-invalid"), ["true"]);
    assert_eq!(app.get(&format!("/v1/members/{lumen}")).await.status, 200);
    let blank = browser.post(&path, &[("version", &version)]).await;
    assert_eq!(blank.status, 422);
    let no_version = browser.post(&path, &[("confirm", "Atelier Lumen")]).await;
    assert_eq!(no_version.status, 400);
    assert_eq!(app.get(&format!("/v1/members/{lumen}")).await.status, 200);

    // Changed since the page was read: refused, the member shown as it is now.
    let changed = app.patch(&format!("/v1/members/{lumen}"), &json!({"city": "Differdange"}), "*").await;
    assert_eq!(changed.status, 200, "{}", changed.text());
    let stale = browser.post(&path, &[("version", &version), ("confirm", "Atelier Lumen")]).await;
    assert_eq!(stale.status, 409, "{}", stale.text());
    assert!(stale.text().contains("changed since you opened the page"));
    assert!(texts(&stale.text(), "dl.facts dd").iter().any(|d| d == "Differdange"), "as it is now");
    assert_eq!(app.get(&format!("/v1/members/{lumen}")).await.status, 200);

    // The name, on the version shown: erased, and back to the search with a notice.
    let current = attrs(&stale.text(), "form[action$='/erase'] input[name=version]", "value").pop().unwrap();
    assert_ne!(current, version);
    let erased = browser.post(&path, &[("version", &current), ("confirm", " Atelier Lumen ")]).await;
    assert_eq!(erased.status, 303, "{}", erased.text());
    assert_eq!(erased.header("location").unwrap(), "/console/members?done=erased");
    assert_eq!(app.get(&format!("/v1/members/{lumen}")).await.status, 404, "gone from the API");
    let list = browser.get("/console/members?done=erased").await;
    assert!(texts(&list.text(), "p.notice")[0].starts_with("The member was erased"));
    assert!(!listed(&list.text()).contains(&"Atelier Lumen".to_owned()));
    assert_eq!(browser.get(&format!("/console/members/{lumen}")).await.status, 404);
    let again = browser.post(&path, &[("version", &current), ("confirm", "Atelier Lumen")]).await;
    assert_eq!(again.status, 404);
}

/// The keys a template names literally (`t("area.name")`), of `area`.
fn keys_named(template: &str, area: &str) -> Vec<String> {
    let mut out = Vec::new();
    for quote in ['"', '\''] {
        let opening = format!("t({quote}{area}.");
        let mut rest = template;
        while let Some(at) = rest.find(&opening) {
            let key_start = at + 2;
            let tail = &rest[key_start + 1..];
            let Some(end) = tail.find(quote) else { break };
            let after = tail[end + 1..].trim_start();
            // A key built in the template (`t("members.status_" ~ s)`) is checked by the pages' tests.
            if !after.starts_with('~') {
                out.push(tail[..end].to_owned());
            }
            rest = &tail[end..];
        }
    }
    out
}

#[test]
fn console_members_and_projects_strings_are_in_both_languages() {
    let strings = |text: &str| -> std::collections::BTreeSet<String> {
        serde_json::from_str::<serde_json::Map<String, Value>>(text).unwrap().keys().cloned().collect()
    };
    for (area, en, fr) in [
        (
            "members",
            include_str!("../../assets/console/i18n/en/members.json"),
            include_str!("../../assets/console/i18n/fr/members.json"),
        ),
        (
            "projects",
            include_str!("../../assets/console/i18n/en/projects.json"),
            include_str!("../../assets/console/i18n/fr/projects.json"),
        ),
    ] {
        let (en, fr) = (strings(en), strings(fr));
        assert_eq!(en, fr, "{area}: every key in both languages");
        assert!(en.iter().all(|k| k.starts_with(&format!("{area}."))), "{area}: keys of the area only");
        for template in [
            include_str!("../../assets/console/templates/members.html"),
            include_str!("../../assets/console/templates/member.html"),
            include_str!("../../assets/console/templates/member_digest.html"),
            include_str!("../../assets/console/templates/projects.html"),
            include_str!("../../assets/console/templates/project.html"),
            include_str!("../../assets/console/templates/project_form.html"),
        ] {
            for key in keys_named(template, area) {
                assert!(en.contains(&key), "{key} is named by a template but has no string");
            }
        }
    }
}
