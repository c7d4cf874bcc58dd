//! The calls sync from the Funding & Tenders portal's search API, against a fake of that API on loopback
//! (`fake_portal.rs`), on both backends.

use std::time::Duration;

use chrono::{DateTime, TimeDelta};
use matchmaker::scheduler::{Job, Outcome};
use serde_json::{Value, json};

use crate::fake_portal::{FakePortal, record};
use crate::helpers::{Backend, TestApp, studio};
use matchmaker::clock::Clock as _;

/// The search's records, as the test epoch (2026-11-27) sees them: a topic answered as two records (two cut-offs,
/// HTML in its text), a forthcoming call, a call the API still says is open though its deadline passed, a record
/// missing most fields, one without a reference, and three more so the search takes several pages.
fn records() -> Vec<Value> {
    vec![
        record(
            "43251977CREA",
            &json!({
                "identifier": ["CREA-MEDIA-2026-DEVVGIM"],
                "title": ["Video games and immersive content"],
                "status": ["31094502"],
                "startDate": ["2026-10-01T00:00:00.000+0200"],
                "deadlineDate": ["2026-12-10T17:00:00.000+0100"],
                "typesOfAction": ["CREA-LS CREA Lump Sum Grants"],
                "frameworkProgramme": ["43251814"],
                "descriptionByte": ["<p>Support for <strong>video game development</strong> &amp; immersive content.</p><script>alert('x')</script>"],
            }),
        ),
        record(
            "43251977CREA",
            &json!({
                "identifier": ["CREA-MEDIA-2026-DEVVGIM"],
                "title": ["Video games and immersive content"],
                "status": ["31094502"],
                "deadlineDate": ["2027-03-04T17:00:00.000+0100"],
                "budgetOverviewJSONItem": ["{\"budgetTopicActionMap\":{\"1\":[{\"minContribution\":200000,\"maxContribution\":\"500000\"}]}}"],
            }),
        ),
        record(
            "FORTH1",
            &json!({
                "identifier": ["HORIZON-CL2-2027-HERITAGE-01"],
                "title": ["Heritage for tomorrow"],
                "status": ["31094501"],
                "startDate": ["2027-01-12T00:00:00.000+0100"],
                "deadlineDate": ["2027-05-06T17:00:00.000+0200"],
            }),
        ),
        record(
            "STALE1",
            &json!({
                "identifier": ["CREA-CULT-2026-COOP"],
                "title": ["Cooperation projects that closed"],
                "status": ["31094502"],
                "deadlineDate": ["2026-11-01T17:00:00.000+0100"],
            }),
        ),
        record("BARE1", &json!({"title": "A call with little said", "deadlineDate": "2027-02-01T17:00:00.000+0100"})),
        json!({"url": "https://example.org/no-reference", "metadata": {"title": ["No reference"]}}),
        record(
            "ERASMUS1",
            &json!({"identifier": ["ERASMUS-EDU-2027-PI-ALL-INNO"], "title": ["Alliances for innovation"], "deadlineDate": ["2027-02-20T17:00:00.000+0100"]}),
        ),
        record(
            "ERASMUS2",
            &json!({"identifier": ["ERASMUS-YOUTH-2027-CB"], "title": ["Capacity building in youth"], "deadlineDate": ["2027-02-27T17:00:00.000+0100"]}),
        ),
    ]
}

/// An app whose sync reads the fake, three records a page, quick retries.
async fn with_fake(backend: Backend) -> Option<(TestApp, FakePortal)> {
    let fake = FakePortal::start(records()).await;
    let url = fake.url.clone();
    let app = TestApp::spawn_with(backend, move |s| {
        s.portal.source_url = url::Url::parse(&url).unwrap();
        s.portal.page_size = 3;
        s.portal.retry_delay = Duration::from_millis(5);
    })
    .await?;
    Some((app, fake))
}

macro_rules! with_fake_portal {
    ($($name:ident),+ $(,)?) => {
        $(
            mod $name {
                use crate::helpers::Backend;

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    let (app, fake) = super::with_fake(Backend::Sqlite).await.expect("SQLite always runs");
                    super::$name(app, fake).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    if let Some((app, fake)) = super::with_fake(Backend::Postgres).await {
                        super::$name(app, fake).await;
                    }
                }
            }
        )+
    };
}

with_fake_portal!(
    a_first_sync_creates_the_open_and_forthcoming_calls_and_a_second_changes_nothing,
    a_page_failing_once_is_tried_again_and_a_page_failing_always_loses_nothing,
    a_withdrawn_call_closes_after_two_syncs_without_it,
    two_instances_sync_a_day_once,
    the_next_weekly_run_suggests_a_synced_call,
    the_command_line_dry_run_stores_nothing,
);

/// Start a sync as staff and follow it to its end; its log entry.
async fn sync(app: &TestApp) -> Value {
    let started = app.post("/v1/imports/sync", &json!({})).await;
    assert_eq!(started.status, 202, "{}", started.text());
    let location = started.header("location").unwrap();
    assert_eq!(location, format!("/v1/imports/{}", started.json()["id"].as_str().unwrap()));
    for _ in 0..300 {
        let entry = app.get(&location).await;
        assert_eq!(entry.status, 200, "{}", entry.text());
        let entry = entry.json();
        if entry["outcome"] != "running" {
            return entry;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the sync did not finish in 15 s");
}

async fn calls(app: &TestApp) -> Vec<Value> {
    let mut all = app.all_pages("/v1/projects?scope=european").await;
    all.extend(app.all_pages("/v1/projects?scope=european&left_out=true").await);
    all
}

fn by_reference<'a>(all: &'a [Value], reference: &str) -> &'a Value {
    all.iter().find(|p| p["reference"] == reference).unwrap_or_else(|| panic!("no call {reference} in {all:?}"))
}

async fn a_first_sync_creates_the_open_and_forthcoming_calls_and_a_second_changes_nothing(
    app: TestApp,
    fake: FakePortal,
) {
    let first = sync(&app).await;
    assert_eq!((&first["outcome"], &first["source"]), (&json!("done"), &json!("portal")), "{first}");
    let s = &first["summary"];
    assert_eq!(s["rows"], 8, "{s}");
    assert_eq!(s["created"], 6, "eight records: two are one call, one has no reference: {s}");
    assert_eq!((&s["open"], &s["forthcoming"], &s["closed"]), (&json!(4), &json!(1), &json!(1)), "{s}");
    assert_eq!(s["skipped"].as_array().unwrap().len(), 1, "{s}");
    assert_eq!(s["skipped"][0]["reason"], "the record has no reference", "{s}");
    assert_eq!(fake.asked(), [1, 2, 3], "three records a page: pages until one comes back short");
    assert_eq!(fake.state.lock().unwrap().malformed, 0, "every request is the multipart form the API takes");

    let all = calls(&app).await;
    assert_eq!(all.len(), 6);
    let games = by_reference(&all, "43251977CREA");
    assert_eq!(games["status"], "open");
    assert_eq!(games["deadline"], "2026-12-10T16:00:00.000000Z", "the next of the merged cut-offs");
    assert_eq!(games["call_id"], "CREA-MEDIA-2026-DEVVGIM");
    assert_eq!(games["programme"], "CREA", "the programme is read from the identifier");
    let description = games["description"].as_str().unwrap();
    assert!(description.contains("video game development & immersive") && !description.contains('<'), "{games}");
    assert!(!description.contains("alert"), "scripts are not text: {description}");
    assert_eq!((&games["budget_min"], &games["budget_max"]), (&json!(200_000), &json!(500_000)), "{games}");
    assert_eq!(
        games["source_url"],
        "https://ec.europa.eu/info/funding-tenders/opportunities/portal/screen/opportunities/topic-details/crea-media-2026-devvgim"
    );
    assert!(games["required_skills"].as_array().unwrap().iter().any(|t| t["concept"] == "mm:video-game-development"));
    assert_eq!(by_reference(&all, "FORTH1")["status"], "forthcoming");
    let stale = by_reference(&all, "STALE1");
    assert_eq!(stale["status"], "closed", "the API's stale `open` is not believed: the deadline passed");
    let bare = by_reference(&all, "BARE1");
    assert_eq!((&bare["status"], &bare["call_id"]), (&json!("open"), &Value::Null), "{bare}");

    // The same search again changes nothing.
    let second = sync(&app).await;
    let s = &second["summary"];
    assert_eq!((&s["created"], &s["updated"], &s["unchanged"]), (&json!(0), &json!(0), &json!(6)), "{s}");
    assert_eq!((&s["missing"], &s["withdrawn"]), (&json!(0), &json!(0)), "{s}");
    assert_eq!(calls(&app).await, all, "a second sync changes no call");
    // Staff complete a call the text said little about, and close another: what they changed survives the syncs.
    let id = games["id"].as_str().unwrap();
    let mut skills: Vec<Value> = games["required_skills"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| json!({"term": t["term"], "weight": t["weight"]}))
        .collect();
    skills.push(json!({"term": "sound design", "weight": 3}));
    let patch =
        json!({"required_skills": skills, "title": "Video games and immersive content (CREA)", "budget_min": 400_000});
    assert_eq!(app.patch(&format!("/v1/projects/{id}"), &patch, "*").await.status, 200);
    let forthcoming = by_reference(&all, "FORTH1")["id"].as_str().unwrap().to_owned();
    let closed = app.patch(&format!("/v1/projects/{forthcoming}"), &json!({"status": "closed"}), "*").await;
    assert_eq!(closed.status, 200, "{}", closed.text());
    let again = sync(&app).await;
    assert_eq!(again["summary"]["unchanged"], 6, "the portal's values where staff changed nothing: {again}");
    // Past the first cut-off, the next one is kept. The portal now caps the contribution under the floor staff set:
    // that edit gives way to the portal's floor (the call stays valid), and staff are told; their others stay.
    app.clock.set(DateTime::parse_from_rfc3339("2026-12-11T08:00:00Z").unwrap().to_utc());
    let mut lowered = records();
    lowered[1]["metadata"]["budgetOverviewJSONItem"] =
        json!([r#"{"budgetTopicActionMap":{"1":[{"minContribution":200000,"maxContribution":"300000"}]}}"#]);
    fake.set_records(lowered);
    let third = sync(&app).await;
    assert_eq!(third["summary"]["updated"], 1, "{third}");
    let warnings = third["summary"]["warnings"].as_array().unwrap();
    assert!(
        warnings.iter().any(|w| w.as_str().unwrap().starts_with("call 43251977CREA: the staff edit of budget_min no")),
        "{third}"
    );
    let after = calls(&app).await;
    let games = by_reference(&after, "43251977CREA").clone();
    assert_eq!((&games["deadline"], &games["status"]), (&json!("2027-03-04T16:00:00.000000Z"), &json!("open")));
    assert_eq!((&games["budget_min"], &games["budget_max"]), (&json!(200_000), &json!(300_000)), "{games}");
    assert_eq!(games["title"], "Video games and immersive content (CREA)", "{games}");
    assert!(games["required_skills"].as_array().unwrap().iter().any(|t| t["term"] == "sound design"), "{games}");
    assert_eq!(
        by_reference(&after, "FORTH1")["status"],
        "closed",
        "staff closed it; the portal's open does not reopen it"
    );
    assert_eq!(games["edited_fields"], json!(["title", "required_skills"]), "the floor is no longer kept: {games}");
    // The floor follows the portal from now on: the next sync has nothing to change or say.
    let fourth = sync(&app).await;
    assert_eq!(fourth["summary"]["unchanged"], 6, "{fourth}");
    assert_eq!(fourth["summary"]["warnings"], json!([]), "{fourth}");

    // Staff let the call follow the portal again: it keeps what they wrote until the next sync brings the portal's.
    let followed = app.post(&format!("/v1/projects/{id}/follow-import"), &json!({})).await;
    assert_eq!(followed.status, 200, "{}", followed.text());
    let followed = followed.json();
    assert_eq!(followed["edited_fields"], json!([]), "{followed}");
    assert_eq!(followed["title"], "Video games and immersive content (CREA)", "{followed}");
    let entry = &app.get("/v1/audit?action=project.follow_import").await.json()["items"][0];
    assert_eq!((&entry["target"], &entry["details"]["fields"]), (&json!(id), &json!(["title", "required_skills"])));
    let fifth = sync(&app).await;
    assert_eq!(fifth["summary"]["updated"], 1, "{fifth}");
    let games = by_reference(&calls(&app).await, "43251977CREA").clone();
    assert_eq!(games["title"], "Video games and immersive content", "{games}");
    assert!(!games["required_skills"].as_array().unwrap().iter().any(|t| t["term"] == "sound design"), "{games}");
    // A project written here has no import to follow.
    let written = app.post("/v1/projects", &json!({"title": "Written here", "scope": "national"})).await;
    let refused =
        app.post(&format!("/v1/projects/{}/follow-import", written.json()["id"].as_str().unwrap()), &json!({})).await;
    assert_eq!(refused.status, 409, "{}", refused.text());
    assert_eq!(refused.header("content-type").as_deref(), Some("application/problem+json"));
    assert!(refused.json()["detail"].as_str().unwrap().contains("not imported"), "{}", refused.text());
    // Listed with the other imports.
    let log = app.get("/v1/imports").await.json();
    assert_eq!(log["items"].as_array().unwrap().len(), 6, "{log}");
    assert!(log["items"].as_array().unwrap().iter().all(|i| i["source"] == "portal"), "{log}");
}

async fn a_page_failing_once_is_tried_again_and_a_page_failing_always_loses_nothing(app: TestApp, fake: FakePortal) {
    fake.state.lock().unwrap().fail_once.insert(2);
    let first = sync(&app).await;
    assert_eq!(first["outcome"], "done", "{first}");
    assert_eq!(first["summary"]["created"], 6, "{first}");
    assert_eq!(fake.asked(), [1, 2, 2, 3], "page 2 failed once and was asked again");
    let before = calls(&app).await;

    // The portal then drops the forthcoming call, and page 2 fails every time: nothing is stored, nothing is closed
    // or counted missing, and the log says why.
    fake.set_records(records().into_iter().filter(|r| r["reference"] != "FORTH1").collect());
    fake.state.lock().unwrap().fail_always.insert(2);
    let failed = sync(&app).await;
    assert_eq!((&failed["outcome"], &failed["summary"]), (&json!("failed"), &Value::Null), "{failed}");
    let error = failed["error"].as_str().unwrap();
    assert!(error.contains("page 2 failed 4 times") && error.contains("500"), "{error}");
    assert!(failed["finished_at"].is_string(), "{failed}");
    assert_eq!(calls(&app).await, before, "a failed sync leaves every stored call as it was");
    // Two failed syncs are not two syncs without the call: it stays open, with no miss counted.
    let again = sync(&app).await;
    assert_eq!(again["outcome"], "failed");
    fake.state.lock().unwrap().fail_always.clear();
    let ok = sync(&app).await;
    assert_eq!((&ok["summary"]["missing"], &ok["summary"]["withdrawn"]), (&json!(1), &json!(0)), "{ok}");
    assert_eq!(by_reference(&calls(&app).await, "FORTH1")["status"], "forthcoming");
}

async fn a_withdrawn_call_closes_after_two_syncs_without_it(app: TestApp, fake: FakePortal) {
    assert_eq!(sync(&app).await["summary"]["created"], 6);
    let id_of = |all: &[Value], r: &str| by_reference(all, r)["id"].clone();
    let all = calls(&app).await;
    let (forthcoming, games) = (id_of(&all, "FORTH1"), id_of(&all, "43251977CREA"));
    // Both disappear from the search, their deadlines still to come.
    fake.set_records(
        records().into_iter().filter(|r| r["reference"] != "FORTH1" && r["reference"] != "43251977CREA").collect(),
    );
    let one = sync(&app).await;
    assert_eq!((&one["summary"]["missing"], &one["summary"]["withdrawn"]), (&json!(2), &json!(0)), "{one}");
    let all = calls(&app).await;
    assert_eq!(by_reference(&all, "FORTH1")["status"], "forthcoming", "still there after one sync without it");
    assert_eq!(by_reference(&all, "43251977CREA")["status"], "open");
    let two = sync(&app).await;
    assert_eq!((&two["summary"]["missing"], &two["summary"]["withdrawn"]), (&json!(0), &json!(2)), "{two}");
    let all = calls(&app).await;
    assert_eq!(by_reference(&all, "FORTH1")["status"], "closed", "closed after the second successful sync");
    assert_eq!(by_reference(&all, "43251977CREA")["status"], "closed");
    assert_eq!((id_of(&all, "FORTH1"), id_of(&all, "43251977CREA")), (forthcoming, games), "the same calls");

    // Returned again, a withdrawn call opens again, and its misses start over.
    fake.set_records(records());
    let back = sync(&app).await;
    assert_eq!(back["summary"]["updated"], 2, "{back}");
    assert_eq!(by_reference(&calls(&app).await, "FORTH1")["status"], "forthcoming");
    // One whose deadline passed is closed at once, by the clock, not as withdrawn.
    fake.set_records(records().into_iter().filter(|r| r["reference"] != "BARE1").collect());
    app.clock.set(DateTime::parse_from_rfc3339("2027-02-02T08:00:00Z").unwrap().to_utc());
    let late = sync(&app).await;
    assert_eq!((&late["summary"]["missing"], &late["summary"]["withdrawn"]), (&json!(0), &json!(0)), "{late}");
    assert_eq!(by_reference(&calls(&app).await, "BARE1")["status"], "closed");
}

async fn two_instances_sync_a_day_once(app: TestApp, fake: FakePortal) {
    let url = fake.url.clone();
    let other = app
        .reopen_with(move |s| {
            s.portal.source_url = url::Url::parse(&url).unwrap();
            s.portal.page_size = 3;
        })
        .await;
    other.clock.set(app.clock.now());
    let tz = chrono_tz::Europe::Luxembourg;
    let day = Job::Calls.period_of(app.clock.now(), tz);
    assert_eq!(day, "2026-11-27");
    let (a, b) = tokio::join!(
        app.jobs.run_period(Job::Calls, day.clone(), false),
        other.jobs.run_period(Job::Calls, day.clone(), false)
    );
    let outcomes = [a.unwrap(), b.unwrap()];
    let finished = outcomes.iter().filter(|o| matches!(o, Outcome::Finished(_))).count();
    assert_eq!(finished, 1, "{outcomes:?}");
    assert_eq!(fake.asked(), [1, 2, 3], "the portal was read once: {outcomes:?}");
    // Later the same day, from either: the day is done.
    assert!(matches!(other.jobs.run_period(Job::Calls, day.clone(), false).await.unwrap(), Outcome::Skipped(_)));
    assert_eq!(fake.requests(), 3);
    let log = app.get("/v1/imports").await.json();
    assert_eq!(log["items"].as_array().unwrap().len(), 1, "{log}");
    assert_eq!(log["items"][0]["requested_by"], "schedule:2026-11-27");
    // A sync started while one runs (the portal is slow) answers the running one.
    fake.state.lock().unwrap().delay = Duration::from_millis(1500);
    let first = app.post("/v1/imports/sync", &json!({})).await.json();
    let second = other.post("/v1/imports/sync", &json!({})).await.json();
    assert_eq!(first["id"], second["id"], "one sync at a time, across instances");
    // The next day is a new period.
    fake.state.lock().unwrap().delay = Duration::ZERO;
    for _ in 0..200 {
        if app.get(&format!("/v1/imports/{}", first["id"].as_str().unwrap())).await.json()["outcome"] != "running" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let tomorrow = app.clock.now() + TimeDelta::days(1);
    app.clock.set(tomorrow);
    let next = Job::Calls.period_of(tomorrow, tz);
    assert!(matches!(app.jobs.run_period(Job::Calls, next, false).await.unwrap(), Outcome::Finished(_)));
}

async fn the_next_weekly_run_suggests_a_synced_call(app: TestApp, _fake: FakePortal) {
    let mut body = studio("Pixel Forge");
    body["offers"] = json!([{"term": "video game development", "level": 5}]);
    body["sectors"] = json!(["games"]);
    let (member, _, _) = app.create_member(&body).await;
    let id = member["id"].as_str().unwrap().to_owned();
    assert_eq!(sync(&app).await["outcome"], "done");
    let week = Job::Matching.period_of(app.clock.now(), chrono_tz::Europe::Luxembourg);
    let ran = app.jobs.run_period(Job::Matching, week, false).await.unwrap();
    assert!(matches!(ran, Outcome::Finished(_)), "{ran:?}");
    let theirs = app.get(&format!("/v1/members/{id}/suggestions?kind=project")).await.json();
    let titles: Vec<&str> =
        theirs["items"].as_array().unwrap().iter().filter_map(|s| s["project"]["title"].as_str()).collect();
    assert!(titles.contains(&"Video games and immersive content"), "{theirs}");
}

async fn the_command_line_dry_run_stores_nothing(app: TestApp, fake: FakePortal) {
    let url = match &app.db.url {
        matchmaker::config::DatabaseUrl::Postgres(u) => u.clone(),
        matchmaker::config::DatabaseUrl::Sqlite(p) => p.display().to_string(),
    };
    let run = |args: &'static [&'static str]| {
        let (url, source) = (url.clone(), fake.url.clone());
        tokio::task::spawn_blocking(move || {
            crate::cli::matchmaker()
                .args(args)
                .env("DATABASE_URL", &url)
                .env("MATCHMAKER_CALLS_SOURCE_URL", &source)
                .output()
                .unwrap()
        })
    };
    let out = run(&["import", "calls", "--from-portal", "--dry-run"]).await.unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("dry run: nothing was stored") && stdout.contains("created: 6"), "{stdout}");
    assert!(calls(&app).await.is_empty(), "a dry run stores nothing");
    assert!(app.get("/v1/imports").await.json()["items"].as_array().unwrap().is_empty());
    let out = run(&["import", "calls", "--from-portal"]).await.unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("created: 6"), "{stdout}");
    assert_eq!(calls(&app).await.len(), 6);
    let log = app.get("/v1/imports").await.json();
    assert_eq!((&log["items"][0]["source"], &log["items"][0]["requested_by"]), (&json!("portal"), &json!("cli")));
}
