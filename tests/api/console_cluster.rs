//! The console's "running the cluster" pages, on both backends: a matching run started and followed to its counts,
//! the suggestion funnel of a period, introductions made and closed, a failed digest sent again, a sync of calls
//! followed to its failure, and the audit log filtered; bad input changes nothing.

use std::time::Duration;

use chrono::TimeDelta;
use matchmaker::auth::Role;
use matchmaker::clock::Clock;
use matchmaker::digest::IsoWeek;
use matchmaker::scheduler::Job;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::console::{Console, attrs, texts};
use crate::helpers::{Backend, TestApp};
use crate::on_both_backends;
use crate::review::{approve_all, create, member_body, run_matching};

on_both_backends!(
    a_run_started_from_the_console_is_followed_to_its_counts,
    the_funnel_counts_the_suggestions_of_the_period,
    introductions_are_made_and_closed_from_the_console,
    a_sync_started_from_the_console_shows_its_failure,
    the_audit_log_is_filtered_by_action_and_day,
);

/// Two members each offering what the other needs.
async fn a_pair(app: &TestApp) -> [Uuid; 2] {
    [
        create(app, &member_body("Atelier Aurore", &["graphic design", "3D modelling"], &["game development"])).await,
        create(app, &member_body("Bureau Boréal", &["game development"], &["graphic design"])).await,
    ]
}

/// Today in Luxembourg, on the app's clock.
fn today(app: &TestApp) -> chrono::NaiveDate {
    app.clock.now().with_timezone(&chrono_tz::Europe::Luxembourg).date_naive()
}

/// Read `path` until `done` says the page is final (at most 30 s); the last page read.
async fn follow(browser: &mut Console<'_>, path: &str, done: impl Fn(&str) -> bool) -> String {
    for _ in 0..300 {
        let page = browser.get(path).await;
        assert_eq!(page.status, 200, "{}", page.text());
        let html = page.text();
        if done(&html) {
            return html;
        }
        assert_eq!(attrs(&html, "#live", "data-refresh"), ["2"], "followed while under way");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{path} did not finish in 30 s");
}

async fn a_run_started_from_the_console_is_followed_to_its_counts(app: TestApp) {
    a_pair(&app).await;
    let (mut browser, staff) = Console::staff(&app).await;
    let overview = browser.get("/console/cluster").await;
    assert_eq!(overview.status, 200, "{}", overview.text());
    let html = overview.text();
    assert_eq!(texts(&html, "form[action=\"/console/cluster/runs\"] button"), ["Start a matching run"]);
    assert_eq!(texts(&html, "nav.subnav a[aria-current=page]"), ["Overview and funnel"]);
    assert_eq!(texts(&html, "header nav a[aria-current=page]"), ["Running the cluster"]);
    assert_eq!(texts(&html, "h1").len(), 1);

    let started = browser.post("/console/cluster/runs", &[]).await;
    assert_eq!(started.status, 303, "{}", started.text());
    let location = started.header("location").unwrap();
    let id = location.strip_prefix("/console/cluster/runs/").unwrap().to_owned();
    let html = follow(&mut browser, &location, |html| {
        texts(html, "dd[data-field=status]").first().is_some_and(|s| s == "done" || s == "failed")
    })
    .await;
    let run = app.get(&format!("/v1/matching/runs/{id}")).await.json();
    assert_eq!(run["status"], "done", "{run}");
    assert!(run["created"].as_i64().unwrap() >= 2, "{run}");
    assert_eq!(texts(&html, "dd[data-field=status]"), ["done"]);
    assert_eq!(texts(&html, "dd[data-field=created]"), [run["created"].to_string()]);
    assert_eq!(texts(&html, "dd[data-field=kept]"), [run["kept"].to_string()]);
    assert_eq!(texts(&html, "dd[data-field=members]"), ["2 of 2"]);
    assert!(texts(&html, "dl.run dd").contains(&format!("user:{}", staff.id)));
    assert!(attrs(&html, "#live", "data-refresh").is_empty(), "a finished run is no longer followed");
    assert_eq!(attrs(&html, "#live a", "href"), ["/console/queue"]);
    assert_eq!(
        app.get("/v1/review/queue?limit=100").await.json()["items"].as_array().unwrap().len() as i64,
        run["created"].as_i64().unwrap()
    );

    assert_eq!(browser.get(&format!("/console/cluster/runs/{}", Uuid::now_v7())).await.status, 404);
    // The script that follows it reads the region the page marks.
    let script = browser.get("/console/static/console.js").await.text();
    assert!(script.contains("[data-refresh][id]"));
}

async fn the_funnel_counts_the_suggestions_of_the_period(app: TestApp) {
    a_pair(&app).await;
    run_matching(&app).await;
    approve_all(&app).await;
    let api = app.get("/v1/stats/suggestions").await.json();
    let overall = &api["overall"];
    assert!(overall["created"].as_u64().unwrap() >= 2, "{api}");
    let (mut browser, _) = Console::staff(&app).await;

    // By default the last 90 days, said in the caption and the period's fields.
    let page = browser.get("/console/cluster").await;
    assert_eq!(page.status, 200, "{}", page.text());
    let html = page.text();
    let (first, last) = (today(&app) - TimeDelta::days(89), today(&app));
    assert_eq!(attrs(&html, "input#f-from", "value"), [first.to_string()]);
    assert_eq!(attrs(&html, "input#f-to", "value"), [last.to_string()]);
    assert!(texts(&html, "table.funnel caption")[0].contains(&format!("from {first} to {last} (Luxembourg time")));
    let cells = texts(&html, "table.funnel tr.overall td");
    assert_eq!(cells[0], overall["created"].to_string(), "made: {cells:?}");
    assert_eq!(cells[1], overall["approved"].to_string(), "approved: {cells:?}");
    assert_eq!(cells[2], overall["delivered"].to_string(), "delivered: {cells:?}");
    let groups = texts(&html, "table.funnel th.group");
    assert_eq!(groups, ["By the member's sector", "By the project's scope", "By the member's size"]);
    let rows = texts(&html, "table.funnel tbody tr th[scope=row]");
    assert!(rows.contains(&"Design".to_owned()) && rows.contains(&"One-person company".to_owned()), "{rows:?}");
    assert!(rows.contains(&"Partner suggestions (no project)".to_owned()), "{rows:?}");

    // Another period: none made then.
    let past = browser.get("/console/cluster?from=2001-01-01&to=2001-03-31").await;
    assert_eq!(past.status, 200);
    assert_eq!(texts(&past.text(), "table.funnel tr.overall td")[0], "0");
    assert!(texts(&past.text(), "table.funnel caption")[0].contains("from 2001-01-01 to 2001-03-31"));

    // Days that are not days, or a period that ends before it starts: refused.
    let bad = browser.get("/console/cluster?from=2026-13-01").await;
    assert_eq!(bad.status, 400);
    assert!(texts(&bad.text(), "p[role=alert]")[0].contains("from: must be a date such as 2026-12-06"));
    assert_eq!(browser.get("/console/cluster?from=2026-03-02&to=2026-03-01").await.status, 400);

    // In French too.
    let french = browser.post("/console/language", &[("lang", "fr"), ("back", "/console/cluster")]).await;
    assert_eq!(french.status, 303);
    let request = reqwest::Client::new()
        .get(app.url("/console/cluster"))
        .header("cookie", format!("mm_console={}; mm_lang=fr", browser.cookie.clone().unwrap()));
    let page = request.send().await.unwrap().text().await.unwrap();
    assert!(page.contains("Entonnoir des suggestions") && page.contains("Par secteur du membre"), "{page}");
}

/// A project nobody leads, which both members cover: each asks, from its suggestion, to be introduced, and the
/// requests go to staff (nobody to ask for consent). The introductions' ids, by member.
async fn two_requests(app: &TestApp) -> [(Uuid, String); 2] {
    let members = a_pair(app).await;
    let project = app
        .post(
            "/v1/projects",
            &json!({"title": "Affiches du patrimoine", "scope": "national",
                    "required_skills": [{"term": "graphic design", "weight": 3}, {"term": "game development", "weight": 3}]}),
        )
        .await;
    assert_eq!(project.status, 201, "{}", project.text());
    run_matching(app).await;
    approve_all(app).await;
    let mut out = Vec::new();
    for m in members {
        let theirs = app.get(&format!("/v1/members/{m}/suggestions?kind=project")).await.json();
        let id = theirs["items"][0]["id"].as_str().unwrap_or_else(|| panic!("{theirs}")).to_owned();
        let member = app.user(Role::Member, Some(m));
        let asked = app
            .as_(&member.token)
            .post(&format!("/v1/suggestions/{id}/introduction"), &json!({"note": "Volontiers."}))
            .await;
        assert_eq!((asked.status, asked.json()["status"].as_str()), (201, Some("requested")), "{}", asked.text());
        out.push((m, asked.json()["id"].as_str().unwrap().to_owned()));
    }
    [out[0].clone(), out[1].clone()]
}

async fn introduction(app: &TestApp, id: &str) -> Value {
    app.get(&format!("/v1/introductions/{id}")).await.json()
}

async fn introductions_are_made_and_closed_from_the_console(app: TestApp) {
    let [(_, first), (_, second)] = two_requests(&app).await;
    let (mut browser, staff) = Console::staff(&app).await;

    // Those waiting for staff, by default: both, with who asked and their words, and both forms.
    let page = browser.get("/console/cluster/introductions").await;
    assert_eq!(page.status, 200, "{}", page.text());
    let html = page.text();
    assert_eq!(attrs(&html, "ol.intros > li.item", "data-id"), [first.clone(), second.clone()]);
    assert_eq!(texts(&html, "ol.intros > li.item h2"), ["Atelier Aurore", "Bureau Boréal"]);
    assert!(texts(&html, "ol.intros > li.item dd").contains(&"Volontiers.".to_owned()));
    let item = format!("li.item[data-id=\"{first}\"]");
    let message_id = format!("message-{first}");
    assert_eq!(texts(&html, &format!("{item} label[for=\"{message_id}\"]")), ["A few words for both (optional)"]);
    assert_eq!(
        attrs(&html, &format!("{item} form"), "action"),
        [
            format!("/console/cluster/introductions/{first}/introduce"),
            format!("/console/cluster/introductions/{first}/close")
        ]
    );

    // Closing without a reason: refused, nothing changes.
    let back = "/console/cluster/introductions?status=requested";
    let refused = browser.post(&format!("/console/cluster/introductions/{second}/close"), &[("back", back)]).await;
    assert_eq!(refused.status, 400, "{}", refused.text());
    assert!(refused.text().contains("Give a reason to close the request."));
    assert_eq!(introduction(&app, &second).await["status"], "requested");
    let long = "x".repeat(1001);
    let too_long = browser
        .post(&format!("/console/cluster/introductions/{first}/introduce"), &[("message", &long), ("back", back)])
        .await;
    assert_eq!(too_long.status, 400);
    assert_eq!(introduction(&app, &first).await["status"], "requested");

    // Introduced with a message; the other closed with a reason.
    let made = browser
        .post(
            &format!("/console/cluster/introductions/{first}/introduce"),
            &[("message", "Both restore heritage."), ("back", back)],
        )
        .await;
    assert_eq!(made.status, 303, "{}", made.text());
    assert_eq!(made.header("location").unwrap(), format!("{back}&done=introduced"));
    let now = introduction(&app, &first).await;
    assert_eq!(
        (now["status"].as_str(), now["staff_note"].as_str()),
        (Some("introduced"), Some("Both restore heritage."))
    );
    assert_eq!(now["done_by"], format!("user:{}", staff.id));
    let closed = browser
        .post(
            &format!("/console/cluster/introductions/{second}/close"),
            &[("reason", "The call is full."), ("back", back)],
        )
        .await;
    assert_eq!(closed.status, 303, "{}", closed.text());
    let now = introduction(&app, &second).await;
    assert_eq!((now["status"].as_str(), now["staff_note"].as_str()), (Some("closed"), Some("The call is full.")));

    // Nothing waits now; the introduced one is listed with its e-mail.
    let page = browser.get(&format!("{back}&done=introduced")).await;
    let html = page.text();
    assert_eq!(texts(&html, "p.notice"), ["Introduced: the e-mail to both is on its way."]);
    assert!(html.contains("No introduction request matches."));
    let done = browser.get("/console/cluster/introductions?status=introduced").await.text();
    assert_eq!(attrs(&done, "ol.intros > li.item", "data-id"), [first.as_str()]);
    assert_eq!(texts(&done, "table.messages tbody th"), ["Introduction"]);
    assert!(attrs(&done, "ol.intros form", "action").is_empty(), "nothing left to do on it");
    let all = browser.get("/console/cluster/introductions?status=all").await.text();
    assert_eq!(attrs(&all, "ol.intros > li.item", "data-status"), ["introduced", "closed"]);

    // Once done, done; unknown statuses and ids are refused.
    let twice = browser.post(&format!("/console/cluster/introductions/{second}/introduce"), &[]).await;
    assert_eq!(twice.status, 409, "{}", twice.text());
    assert_eq!(introduction(&app, &second).await["status"], "closed");
    assert_eq!(browser.get("/console/cluster/introductions?status=lost").await.status, 400);
    let unknown = Uuid::now_v7();
    let none = browser.post(&format!("/console/cluster/introductions/{unknown}/introduce"), &[]).await;
    assert_eq!(none.status, 404);
    assert_eq!(browser.post(&format!("/console/cluster/messages/{unknown}/retry"), &[]).await.status, 404);
}

async fn a_sync_started_from_the_console_shows_its_failure(app: TestApp) {
    let (mut browser, staff) = Console::staff(&app).await;
    let page = browser.get("/console/cluster/imports").await;
    assert_eq!(page.status, 200);
    assert!(page.text().contains("No import yet."));

    // The calls source of the tests is a closed port: the sync fails, and its page says why.
    let started = browser.post("/console/cluster/imports/sync", &[]).await;
    assert_eq!(started.status, 303, "{}", started.text());
    let location = started.header("location").unwrap();
    let id = location.strip_prefix("/console/cluster/imports/").unwrap().to_owned();
    let html = follow(&mut browser, &location, |html| {
        texts(html, "dd[data-field=outcome]").first().is_some_and(|o| o != "running")
    })
    .await;
    let entry = app.get(&format!("/v1/imports/{id}")).await.json();
    assert_eq!(entry["outcome"], "failed", "{entry}");
    assert_eq!(texts(&html, "dd[data-field=outcome]"), ["failed"]);
    assert_eq!(
        texts(&html, "dd[data-field=error]"),
        [entry["error"].as_str().unwrap().split_whitespace().collect::<Vec<_>>().join(" ")]
    );
    assert!(texts(&html, "dl.facts dd").contains(&"sync from the portal".to_owned()));

    // Listed, newest first, with its outcome; an unknown import is not found.
    let list = browser.get("/console/cluster/imports").await.text();
    assert_eq!(attrs(&list, "table.imports tbody tr", "data-import"), [id.as_str()]);
    assert_eq!(attrs(&list, "table.imports tbody tr", "data-outcome"), ["failed"]);
    assert!(texts(&list, "table.imports tbody tr")[0].contains(&format!("user:{}", staff.id)));
    assert_eq!(browser.get(&format!("/console/cluster/imports/{}", Uuid::now_v7())).await.status, 404);
    assert_eq!(browser.get("/console/cluster/imports?offset=x").await.status, 400);
}

async fn the_audit_log_is_filtered_by_action_and_day(app: TestApp) {
    let (mut browser, staff) = Console::staff(&app).await;
    let concept = app.get("/v1/vocabulary/search?q=graphic%20design").await.json()["items"][0]["concept"].clone();
    let synonym = json!({"concept": concept, "lang": "lb", "label": "Plakatkonscht"});
    assert_eq!(app.post("/v1/vocabulary/synonyms", &synonym).await.status, 201);
    let page = browser.get("/console/cluster/audit").await;
    assert_eq!(page.status, 200, "{}", page.text());
    let everything = attrs(&page.text(), "table.audit tbody tr", "data-action");
    assert!(everything.contains(&"vocabulary.synonym_added".to_owned()), "{everything:?}");
    assert!(everything.contains(&"auth.sign_in".to_owned()), "{everything:?}");

    // By action and target: that one entry, with its details.
    let target = concept.as_str().unwrap();
    let query: String = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs([("action", "vocabulary.synonym_added"), ("target", target)])
        .finish();
    let html = browser.get(&format!("/console/cluster/audit?{query}")).await.text();
    assert_eq!(attrs(&html, "table.audit tbody tr", "data-action"), ["vocabulary.synonym_added"]);
    assert!(texts(&html, "table.audit td.details")[0].contains("Plakatkonscht"));
    assert!(texts(&html, "table.audit caption").len() == 1 && texts(&html, "table.audit th[scope=col]").len() == 7);

    // By action: only those, the staff member's sign-in among them.
    let page = browser.get("/console/cluster/audit?action=auth.sign_in&actor=&target=").await;
    assert_eq!(page.status, 200, "{}", page.text());
    let html = page.text();
    let actions = attrs(&html, "table.audit tbody tr", "data-action");
    assert!(!actions.is_empty() && actions.iter().all(|a| a == "auth.sign_in"), "{actions:?}");
    assert!(texts(&html, "table.audit tbody td").contains(&format!("user:{}", staff.id)));
    assert_eq!(attrs(&html, "input#f-action", "value"), ["auth.sign_in"]);

    // By day, in Luxembourg time: today has them, a day long past has none.
    let day = today(&app);
    let page = browser.get(&format!("/console/cluster/audit?action=auth.sign_in&since={day}&until={day}")).await;
    assert_eq!(attrs(&page.text(), "table.audit tbody tr", "data-action").len(), actions.len());
    let past = browser.get("/console/cluster/audit?until=2001-01-01").await;
    assert_eq!(past.status, 200);
    assert!(past.text().contains("No entry matches."));

    // Fifty entries a page, the older ones a link away.
    for i in 0..55 {
        let form = [("grant_type", "password"), ("username", &format!("nobody{i}@example.lu")), ("password", "wrong")];
        assert_eq!(app.token_request(&form).await.status, 400);
    }
    let first = browser.get("/console/cluster/audit?action=auth.sign_in_failed").await.text();
    let newest = attrs(&first, "table.audit tbody tr", "data-action");
    assert_eq!(newest.len(), 50);
    let next = attrs(&first, "nav.pager a[rel=next]", "href");
    assert_eq!(next.len(), 1, "{first}");
    assert!(next[0].starts_with("/console/cluster/audit?action=auth.sign_in_failed&cursor="), "{next:?}");
    let older = browser.get(&next[0]).await.text();
    assert_eq!(attrs(&older, "table.audit tbody tr", "data-action").len(), 5);
    let (seen, rest) = (texts(&first, "table.audit tbody td"), texts(&older, "table.audit tbody td"));
    let first_asked = "email:nobody0@example.lu".to_owned();
    assert!(!seen.contains(&first_asked) && rest.contains(&first_asked), "the oldest is on the second page: {rest:?}");
    assert!(attrs(&older, "nav.pager a[rel=next]", "href").is_empty());
    assert_eq!(texts(&older, "nav.pager a"), ["Newest entries"]);

    // Bad filters: refused.
    assert_eq!(browser.get("/console/cluster/audit?since=yesterday").await.status, 400);
    let long = browser.get(&format!("/console/cluster/audit?actor={}", "x".repeat(201))).await;
    assert_eq!(long.status, 400);
    assert!(long.text().contains("actor: must have at most 200 characters"), "{}", long.text());
    assert_eq!(browser.get("/console/cluster/audit?cursor=not-ours").await.status, 400);
}

/// An app whose mail server refuses every connection, giving up on a digest after one try.
async fn failing_mail(backend: Backend) -> Option<TestApp> {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    TestApp::spawn_with(backend, move |s| {
        s.mail.smtp_url = Some(format!("smtp://127.0.0.1:{closed}"));
        s.mail.max_attempts = 1;
        // Over http: an https public URL would make the session cookie `Secure`, which the test browser (plain http)
        // does not send back.
        s.mail.public_url = "http://matchmaker.example.lu".to_owned();
        s.mail.public_url_set = true;
    })
    .await
}

async fn a_failed_digest_is_sent_again(backend: Backend) {
    let Some(app) = failing_mail(backend).await else { return };
    a_pair(&app).await;
    run_matching(&app).await;
    assert!(approve_all(&app).await >= 2);
    let week = IsoWeek::of(app.clock.now(), chrono_tz::Europe::Luxembourg).to_string();
    app.jobs.run_period(Job::Digest, week.clone(), true).await.unwrap();
    let failed = app.get("/v1/digests?status=failed").await.json()["items"].as_array().unwrap().clone();
    assert_eq!(failed.len(), 2, "{failed:?}");

    // The failed ones, each with its member, week, error and a retry button.
    let (mut browser, staff) = Console::staff(&app).await;
    let back = "/console/cluster/digests?status=failed";
    let page = browser.get(back).await;
    assert_eq!(page.status, 200, "{}", page.text());
    let html = page.text();
    let rows = "table.digests tbody tr";
    assert_eq!(attrs(&html, rows, "data-status"), ["failed", "failed"]);
    let mut names = texts(&html, &format!("{rows} th"));
    names.sort();
    assert_eq!(names, ["Atelier Aurore", "Bureau Boréal"]);
    assert!(texts(&html, &format!("{rows} td")).contains(&week));
    let id = failed[0]["id"].as_str().unwrap();
    let row = format!("{rows}[data-digest=\"{id}\"]");
    assert_eq!(attrs(&html, &format!("{row} form"), "action"), [format!("/console/cluster/digests/{id}/retry")]);
    assert_eq!(texts(&html, &format!("{row} form button")), ["Send again"]);
    assert!(!texts(&html, &format!("{row} td"))[5].is_empty(), "the error is shown");

    // Sent again: queued for the next delivery, and audited.
    let retried = browser.post(&format!("/console/cluster/digests/{id}/retry"), &[("back", back)]).await;
    assert_eq!(retried.status, 303, "{}", retried.text());
    assert_eq!(retried.header("location").unwrap(), format!("{back}&done=retried"));
    assert_eq!(app.get(&format!("/v1/digests/{id}")).await.json()["status"], "queued");
    let audit = app.get(&format!("/v1/audit?action=digest.retry&target={id}")).await.json();
    assert_eq!(audit["items"][0]["actor"], format!("user:{}", staff.id), "{audit}");
    let page = browser.get(&format!("{back}&done=retried")).await.text();
    assert_eq!(texts(&page, "p.notice"), ["The digest is queued again; the next delivery sends it."]);
    assert_eq!(attrs(&page, rows, "data-status"), ["failed"]);
    let queued = browser.get("/console/cluster/digests?status=queued").await.text();
    assert_eq!(attrs(&queued, rows, "data-digest"), [id.to_owned()]);
    assert!(attrs(&queued, &format!("{rows} form"), "action").is_empty(), "only a failed digest is sent again");

    // Only a failed digest can be; filters the API refuses are refused here too.
    assert_eq!(browser.post(&format!("/console/cluster/digests/{id}/retry"), &[]).await.status, 409);
    assert_eq!(
        attrs(&browser.get(&format!("/console/cluster/digests?week={week}")).await.text(), rows, "data-digest").len(),
        2
    );
    assert!(browser.get("/console/cluster/digests?week=2001-W01").await.text().contains("No digest matches."));
    assert_eq!(browser.get("/console/cluster/digests?status=lost").await.status, 400);
    assert_eq!(browser.get("/console/cluster/digests?week=soon").await.status, 400);
}

mod a_failed_digest_is_sent_again {
    use crate::helpers::Backend;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        super::a_failed_digest_is_sent_again(Backend::Sqlite).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        super::a_failed_digest_is_sent_again(Backend::Postgres).await;
    }
}
