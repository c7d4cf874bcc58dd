//! The staff console in a real browser: signing in, approving from the review queue with the keyboard, rejecting
//! with a reason, adding a synonym from the vocabulary worklist; axe-core checks every page visited. With
//! `CONSOLE_SCREENSHOTS` set, the main pages are also written as 1280×800 screenshots into that folder.

use std::time::{Duration, Instant};

use fantoccini::{Client, Locator};
use matchmaker::auth::Role;
use serde_json::{Value, json};

use crate::driver::{self, Browser};
use crate::helpers::{ADMIN_EMAIL, Backend, FIXTURE_PASSWORD, TestApp, studio};

/// A member with these offers and needs.
fn member(name: &str, offers: &[&str], needs: &[&str]) -> Value {
    let mut body = studio(name);
    let slug: String = name.to_lowercase().chars().filter(char::is_ascii_alphanumeric).collect();
    body["contact_email"] = json!(format!("hello@{slug}.example.lu"));
    body["offers"] = json!(offers.iter().map(|t| json!({"term": t, "level": 4})).collect::<Vec<_>>());
    body["needs"] = json!(needs.iter().map(|t| json!({"term": t, "priority": 4})).collect::<Vec<_>>());
    body
}

/// Run matching as staff would and wait for it to finish.
async fn run_matching(app: &TestApp) {
    let started = app.post("/v1/matching/runs", &json!({})).await;
    assert_eq!(started.status, 202, "{}", started.text());
    let location = started.header("location").unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let run = app.get(&location).await.json();
        if run["status"] == "done" {
            return;
        }
        assert!(Instant::now() < deadline, "the run did not finish: {run}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Wait until the browser's address contains `part` (a form sent, its answer followed).
async fn wait_for_url(browser: &Client, part: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let url = browser.current_url().await.unwrap().to_string();
        if url.contains(part) {
            return url;
        }
        assert!(Instant::now() < deadline, "the browser stayed at {url}, waiting for {part}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn press(browser: &Client, keys: &str) {
    browser.active_element().await.unwrap().send_keys(keys).await.unwrap();
}

async fn status_of(app: &TestApp, id: &str) -> Value {
    app.get(&format!("/v1/suggestions/{id}")).await.json()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_review_in_the_browser() {
    let Some(browser) = Browser::start().await else { return };
    let app = TestApp::spawn(Backend::Sqlite).await.expect("SQLite always runs");
    for (name, offers, needs) in [
        ("Pixel Forge", &["3D modelling", "game design"][..], &["marketing strategy"][..]),
        ("Brandwerk", &["marketing strategy", "branding"][..], &["3D modelling"][..]),
        ("Lumen Studio", &["3D modelling", "animation"][..], &["branding"][..]),
        // A poster print shop writing its trade in Luxembourgish: a word the vocabulary does not know.
        ("Affiche Atelier", &["Plakatdréckerei"][..], &["branding"][..]),
    ] {
        app.create_member(&member(name, offers, needs)).await;
    }
    run_matching(&app).await;
    let queue: Vec<Value> = app.get("/v1/review/queue?limit=100").await.json()["items"].as_array().unwrap().clone();
    assert!(queue.len() >= 2, "{queue:?}");
    let staff = app.user(Role::Staff, None);

    // Sign in.
    browser.goto(&app.url("/console/queue")).await.unwrap();
    wait_for_url(&browser, "/console/sign-in").await;
    driver::assert_accessible(&browser, "the sign-in form").await;
    browser.find(Locator::Css("#email")).await.unwrap().send_keys(&staff.email).await.unwrap();
    browser.find(Locator::Css("#password")).await.unwrap().send_keys(FIXTURE_PASSWORD).await.unwrap();
    browser.find(Locator::Css("form.stack button[type=submit]")).await.unwrap().click().await.unwrap();
    wait_for_url(&browser, "/console/queue").await;
    driver::assert_accessible(&browser, "the review queue").await;

    // The first suggestion is the current one: `a` approves it, and the next one takes the focus.
    let first =
        browser.find(Locator::Css("ol.queue > li.item.current")).await.unwrap().attr("data-id").await.unwrap().unwrap();
    assert_eq!(first, queue[0]["id"].as_str().unwrap(), "oldest first");
    press(&browser, "a").await;
    wait_for_url(&browser, "decided=").await;
    assert_eq!(status_of(&app, &first).await["status"], "approved");
    let focused = browser.active_element().await.unwrap().attr("data-id").await.unwrap();
    let second = queue[1]["id"].as_str().unwrap();
    assert_eq!(focused.as_deref(), Some(second), "the next suggestion has the focus");
    driver::assert_accessible(&browser, "the queue after a decision").await;

    // `j` and `k` move between suggestions; `r` goes to the reason, Enter rejects.
    if queue.len() > 2 {
        press(&browser, "j").await;
        let moved = browser.active_element().await.unwrap().attr("data-id").await.unwrap();
        assert_eq!(moved.as_deref(), queue[2]["id"].as_str());
        press(&browser, "k").await;
    }
    press(&browser, "r").await;
    let reason = browser.active_element().await.unwrap();
    assert_eq!(reason.attr("name").await.unwrap().as_deref(), Some("reason"), "r moves to the reason field");
    reason.send_keys("Competitors in the same market").await.unwrap();
    reason.send_keys("\u{E007}").await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while status_of(&app, second).await["status"] != "rejected" {
        assert!(Instant::now() < deadline, "the suggestion was not rejected");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(status_of(&app, second).await["decision_reason"], "Competitors in the same market");
    wait_for_url(&browser, "done=rejected").await;

    worklist_adds_a_synonym(&browser, &app).await;

    screenshots(&browser, &app, &first).await;
    browser.close().await;
}

/// The vocabulary worklist: the print shop's word, added as a synonym of graphic design after its preview.
async fn worklist_adds_a_synonym(browser: &Client, app: &TestApp) {
    const WORD: &str = "Plakatdréckerei";
    let row = format!("ol.terms > li[data-term=\"{WORD}\"]");
    browser.goto(&app.url("/console/vocabulary")).await.unwrap();
    driver::assert_accessible(browser, "the vocabulary worklist").await;
    let term = browser.find(Locator::Css(&row)).await.unwrap();
    let concept = term.find(Locator::Css("input[name=concept]")).await.unwrap();
    concept.clear().await.unwrap();
    concept.send_keys("graphic design").await.unwrap();
    term.find(Locator::Css("form.synonym button[type=submit]")).await.unwrap().click().await.unwrap();
    wait_for_url(browser, "/console/vocabulary/preview").await;
    let preview = browser.find(Locator::Css("main")).await.unwrap().text().await.unwrap();
    assert!(
        preview.contains("Affiche Atelier") && preview.contains(WORD),
        "the preview names whose word changes: {preview}"
    );
    driver::assert_accessible(browser, "the synonym's preview").await;
    browser.find(Locator::Css("form.confirm button[type=submit]")).await.unwrap().click().await.unwrap();
    wait_for_url(browser, "done=synonym_added").await;
    assert!(browser.find_all(Locator::Css(&row)).await.unwrap().is_empty(), "the word left the worklist");
    let synonyms = app.get("/v1/vocabulary/synonyms").await.json();
    assert!(synonyms["items"].as_array().unwrap().iter().any(|s| s["label"] == WORD), "{synonyms}");
    let shop = app.get("/v1/members?q=Affiche").await.json()["items"][0].clone();
    assert!(shop["offers"][0]["concept"].is_string(), "the word is mapped now: {shop}");
}

/// The main pages, when `CONSOLE_SCREENSHOTS` names a folder: staff's, then the sign-in form and the
/// administrators' accounts page.
async fn screenshots(browser: &Client, app: &TestApp, suggestion: &str) {
    let Some(dir) = driver::screenshot_dir() else { return };
    let member = app.get("/v1/members?q=Pixel").await.json()["items"][0]["id"].as_str().unwrap().to_owned();
    let project = app
        .post(
            "/v1/projects",
            &json!({"title": "Heritage sites in 3D", "scope": "european", "sectors": ["design"],
               "required_skills": [{"term": "3D modelling", "weight": 3}], "deadline": "2027-03-01T16:00:00Z"}),
        )
        .await
        .json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    run_matching(app).await;
    let pages = [
        ("queue.png", "/console/queue".to_owned()),
        ("suggestion.png", format!("/console/suggestions/{suggestion}")),
        ("members.png", "/console/members".to_owned()),
        ("member.png", format!("/console/members/{member}")),
        ("projects.png", "/console/projects".to_owned()),
        ("project.png", format!("/console/projects/{project}")),
        ("vocabulary.png", "/console/vocabulary".to_owned()),
        ("cluster.png", "/console/cluster".to_owned()),
    ];
    let pages: Vec<(&str, &str)> = pages.iter().map(|(f, p)| (*f, p.as_str())).collect();
    let mut written = driver::capture(browser, &app.base, &pages, &dir).await;
    browser.find(Locator::Css("form[action=\"/console/sign-out\"] button")).await.unwrap().click().await.unwrap();
    wait_for_url(browser, "/console/sign-in").await;
    written.extend(driver::capture(browser, &app.base, &[("sign_in.png", "/console/sign-in")], &dir).await);
    browser.find(Locator::Css("#email")).await.unwrap().send_keys(ADMIN_EMAIL).await.unwrap();
    browser.find(Locator::Css("#password")).await.unwrap().send_keys(FIXTURE_PASSWORD).await.unwrap();
    browser.find(Locator::Css("form.stack button[type=submit]")).await.unwrap().click().await.unwrap();
    wait_for_url(browser, "/console/queue").await;
    written.extend(driver::capture(browser, &app.base, &[("accounts.png", "/console/admin")], &dir).await);
    assert_eq!(written.len(), pages.len() + 2);
}
