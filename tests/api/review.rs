//! Staff review and weekly digests, end to end on both backends: a run makes suggestions, staff decide, members see
//! only what was approved, and the week's digest reaches a real SMTP server on loopback exactly once.

use std::time::Duration;

use chrono::TimeDelta;
use matchmaker::auth::{ClientScope, Role};
use matchmaker::clock::Clock;
use matchmaker::digest::IsoWeek;
use matchmaker::scheduler::{Job, Outcome};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{Backend, TestApp, studio};
use crate::on_both_backends;
use crate::smtp_sink::{self, Behaviour, Sink};

on_both_backends!(
    suggestions_are_reviewed_before_members_see_them,
    objections_shape_later_runs,
    suggestions_a_member_can_no_longer_act_on_expire
);

/// A member with the given offers and needs (a designer, a game studio…).
pub fn member_body(name: &str, offers: &[&str], needs: &[&str]) -> Value {
    let mut body = studio(name);
    let slug: String = name.to_lowercase().chars().filter(char::is_ascii_alphanumeric).collect();
    body["contact_email"] = json!(format!("hello@{slug}.example.lu"));
    body["offers"] = json!(offers.iter().map(|t| json!({"term": t, "level": 4})).collect::<Vec<_>>());
    body["needs"] = json!(needs.iter().map(|t| json!({"term": t, "priority": 4})).collect::<Vec<_>>());
    body["interests"] = json!([{"term": "cultural heritage"}]);
    body
}

pub async fn create(app: &TestApp, body: &Value) -> Uuid {
    let (created, _, _) = app.create_member(body).await;
    created["id"].as_str().unwrap().parse().unwrap()
}

/// Start a matching run as staff and wait until it is done; its final report.
pub async fn run_matching(app: &TestApp) -> Value {
    let started = app.post("/v1/matching/runs", &json!({})).await;
    assert_eq!(started.status, 202, "{}", started.text());
    let location = started.header("location").unwrap();
    for _ in 0..300 {
        let run = app.get(&location).await.json();
        match run["status"].as_str().unwrap() {
            "done" => return run,
            "failed" => panic!("the run failed: {run}"),
            _ => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
    panic!("the matching run did not finish in 30 s");
}

/// Every pending suggestion in the review queue.
pub async fn queue(app: &TestApp) -> Vec<Value> {
    let r = app.get("/v1/review/queue?limit=100").await;
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()["items"].as_array().unwrap().clone()
}

/// Approve every pending suggestion at once; how many.
pub async fn approve_all(app: &TestApp) -> usize {
    let pending = queue(app).await;
    let decisions: Vec<Value> = pending
        .iter()
        .map(|s| json!({"id": s["id"], "decision": "approve", "etag": format!("\"v{}\"", s["version"])}))
        .collect();
    let r = app.post("/v1/suggestions/decisions", &json!({"decisions": decisions})).await;
    assert_eq!(r.status, 200, "{}", r.text());
    for result in r.json()["results"].as_array().unwrap() {
        assert_eq!(result["status"], 200, "{result}");
    }
    pending.len()
}

fn of_kind<'a>(items: &'a [Value], member: Uuid, kind: &str) -> Vec<&'a Value> {
    items.iter().filter(|s| s["member_id"] == member.to_string() && s["kind"] == kind).collect()
}

async fn suggestions_are_reviewed_before_members_see_them(app: TestApp) {
    let a_body = member_body("Atelier Aurore", &["graphic design", "3D modelling"], &["game development"]);
    let a = create(&app, &a_body).await;
    let b_body = member_body("Bureau Boréal", &["game development"], &["graphic design"]);
    let b = create(&app, &b_body).await;
    let mut hidden = member_body("Collectif Caché", &["game development"], &["graphic design"]);
    hidden["discoverable"] = json!(false);
    let hidden = create(&app, &hidden).await;
    let deadline = (app.clock.now() + TimeDelta::days(30)).to_rfc3339();
    let call = app
        .post(
            "/v1/projects",
            &json!({"title": "Design for heritage", "scope": "european", "deadline": deadline,
                    "required_skills": [{"term": "graphic design", "weight": 5}]}),
        )
        .await;
    assert_eq!(call.status, 201, "{}", call.text());
    let call: Uuid = call.json()["id"].as_str().unwrap().parse().unwrap();
    let led = app
        .post(
            "/v1/projects",
            &json!({"title": "A game about castles", "scope": "national", "lead_member_id": a,
                    "required_skills": [{"term": "game development", "weight": 4}]}),
        )
        .await;
    assert_eq!(led.status, 201, "{}", led.text());

    let run = run_matching(&app).await;
    assert!(run["created"].as_i64().unwrap() >= 3, "{run}");
    let pending = queue(&app).await;
    let project = of_kind(&pending, a, "project");
    assert!(project.iter().any(|s| s["project_id"] == call.to_string()), "{pending:?}");
    let partner = of_kind(&pending, a, "partner");
    assert_eq!(partner.len(), 1, "B only: the hidden member is never suggested: {pending:?}");
    assert_eq!(partner[0]["partner_id"], b.to_string());
    let candidate = of_kind(&pending, a, "candidate");
    assert!(candidate.iter().all(|s| s["partner_id"] != hidden.to_string()));
    assert!(candidate.iter().any(|s| s["partner_id"] == b.to_string()), "B could join A's game: {pending:?}");
    assert!(pending.iter().all(|s| s["partner_id"] != hidden.to_string()), "never suggested to anyone");

    // Members and their portals see nothing pending.
    let member_a = app.user(Role::Member, Some(a));
    let portal = app.portal(&[ClientScope::SuggestionsRead, ClientScope::SuggestionsReact], &[a]);
    for token in [&member_a.token, &portal.token] {
        let mine = app.as_(token).get(&format!("/v1/members/{a}/suggestions")).await;
        assert_eq!(mine.status, 200);
        assert_eq!(mine.json()["items"], json!([]), "pending suggestions are invisible");
        let one = app.as_(token).get(&format!("/v1/suggestions/{}", partner[0]["id"].as_str().unwrap())).await;
        assert_eq!(one.status, 404);
    }

    // Decisions: If-Match, a reason to reject, no silent overwrite.
    let id = partner[0]["id"].as_str().unwrap().to_owned();
    let path = format!("/v1/suggestions/{id}/decision");
    let r = app.post(&path, &json!({"decision": "approve"})).await;
    assert_eq!(r.status, 428, "If-Match is required");
    let staff = app.as_admin();
    let first_etag = app.get(&format!("/v1/suggestions/{id}")).await.header("etag").unwrap();
    let reject = staff
        .request(reqwest::Method::POST, &path)
        .header("if-match", &first_etag)
        .json(&json!({"decision": "reject"}));
    let r = app.send(reject).await;
    assert_eq!(r.status, 422, "a rejection needs a reason");
    assert_eq!(r.error_pointers(), ["/reason"]);
    let approve = staff
        .request(reqwest::Method::POST, &path)
        .header("if-match", &first_etag)
        .json(&json!({"decision": "approve", "rationale": "Bureau Boréal builds games and needs your design."}));
    let r = app.send(approve).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["status"], "approved");
    let second = staff
        .request(reqwest::Method::POST, &path)
        .header("if-match", &first_etag)
        .json(&json!({"decision": "reject", "reason": "changed my mind"}));
    assert_eq!(app.send(second).await.status, 412, "a decision on a stale ETag is refused");
    let now_etag = r.header("etag").unwrap();
    let late = staff
        .request(reqwest::Method::POST, &path)
        .header("if-match", &now_etag)
        .json(&json!({"decision": "reject", "reason": "changed my mind"}));
    assert_eq!(app.send(late).await.status, 409, "only pending suggestions are decided");

    // Bulk: per item.
    let rest: Vec<Value> = pending
        .iter()
        .filter(|s| s["id"] != id.as_str())
        .map(|s| json!({"id": s["id"], "decision": "approve"}))
        .chain([json!({"id": Uuid::now_v7(), "decision": "approve"})])
        .collect();
    let r = app.post("/v1/suggestions/decisions", &json!({"decisions": rest})).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let statuses: Vec<i64> =
        r.json()["results"].as_array().unwrap().iter().map(|x| x["status"].as_i64().unwrap()).collect();
    assert_eq!(statuses.last(), Some(&404));
    assert!(statuses[..statuses.len() - 1].iter().all(|s| *s == 200), "{statuses:?}");

    // Now A sees them, other members as public cards, never their e-mail or id.
    let mine = app.as_(&member_a.token).get(&format!("/v1/members/{a}/suggestions")).await;
    let items = mine.json()["items"].as_array().unwrap().clone();
    assert!(items.len() >= 3, "{items:?}");
    let text = mine.text();
    assert!(!text.contains("hello@bureauboral.example.lu") && !text.contains(&b.to_string()), "{text}");
    let card = items.iter().find(|s| s["kind"] == "partner").unwrap();
    assert_eq!(card["partner"]["name"], "Bureau Boréal");
    assert_eq!(card["rationale"], "Bureau Boréal builds games and needs your design.");
    assert!(card["partner"].get("contact_email").is_none());
    assert!(!card["explanation"]["matched"].as_array().unwrap().is_empty());

    // Reactions: a reason for not_relevant, taken back within 14 days.
    let react = format!("/v1/suggestions/{id}/reaction");
    let as_a = app.as_(&member_a.token);
    assert_eq!(as_a.post(&react, &json!({"reaction": "not_relevant"})).await.status, 422);
    let r = as_a
        .post(&react, &json!({"reaction": "not_relevant", "reason": "wrong_skills", "comment": "Not games."}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(app.as_admin().post(&react, &json!({"reaction": "interested"})).await.status, 403, "a member's word");
    let seen = app.get("/v1/reactions").await.json();
    assert_eq!(seen["items"][0]["reaction"], "not_relevant");
    assert_eq!(seen["items"][0]["reaction_comment"], "Not games.");
    assert_eq!(as_a.delete(&react, "*").await.status, 204);
    assert_eq!(as_a.delete(&react, "*").await.status, 409, "nothing left to take back");
    let r = app.as_(&portal.token).post(&react, &json!({"reaction": "contacted"})).await;
    assert_eq!(r.status, 200, "a portal with suggestions:react reacts for its member");
    app.clock.advance(TimeDelta::days(15));
    let later = app.user(Role::Member, Some(a));
    assert_eq!(app.as_(&later.token).delete(&react, "*").await.status, 409, "too late to take it back");
    app.clock.advance(TimeDelta::days(-15));
    let history = app.get(&format!("/v1/suggestions/{id}")).await.json()["history"].clone();
    let steps: Vec<(String, String)> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["field"].as_str().unwrap().to_owned(), e["to"].as_str().unwrap_or("-").to_owned()))
        .collect();
    assert_eq!(
        steps,
        [
            ("status", "pending"),
            ("status", "approved"),
            ("rationale", "Bureau Boréal builds games and needs your design."),
            ("reaction", "not_relevant"),
            ("reaction", "-"),
            ("reaction", "contacted")
        ]
        .map(|(a, b)| (a.to_owned(), b.to_owned()))
    );
    assert!(history[1]["actor"].as_str().unwrap().starts_with("user:"));

    // A second run re-creates nothing that is live.
    let again = run_matching(&app).await;
    assert_eq!(again["created"], 0, "{again}");
    assert!(again["kept"].as_i64().unwrap() >= 3);

    // The call's deadline passes: its suggestion expires and leaves A's list.
    app.clock.advance(TimeDelta::days(31));
    let member_a = app.user(Role::Member, Some(a));
    let mine = app.as_(&member_a.token).get(&format!("/v1/members/{a}/suggestions?kind=project")).await.json();
    assert!(mine["items"].as_array().unwrap().iter().all(|s| s["project"]["id"] != call.to_string()), "{mine}");
    let all = app.get(&format!("/v1/members/{a}/suggestions?status=expired")).await.json();
    assert!(all["items"].as_array().unwrap().iter().any(|s| s["project_id"] == call.to_string()), "{all}");
}

async fn objections_shape_later_runs(app: TestApp) {
    let a = create(&app, &member_body("Atelier Aurore", &["graphic design"], &["game development"])).await;
    let b = create(&app, &member_body("Bureau Boréal", &["game development"], &["graphic design"])).await;
    run_matching(&app).await;
    let pending = queue(&app).await;
    let ab = of_kind(&pending, a, "partner")[0].clone();
    let ba = of_kind(&pending, b, "partner")[0].clone();
    // Staff reject A→B; approve B→A, which B then marks not relevant.
    let r = app
        .post(
            "/v1/suggestions/decisions",
            &json!({"decisions": [
        {"id": ab["id"], "decision": "reject", "reason": "They know each other already."},
        {"id": ba["id"], "decision": "approve"}]}),
        )
        .await;
    assert_eq!(r.status, 200);
    let member_b = app.user(Role::Member, Some(b));
    let react = format!("/v1/suggestions/{}/reaction", ba["id"].as_str().unwrap());
    let r = app.as_(&member_b.token).post(&react, &json!({"reaction": "not_relevant", "reason": "wrong_skills"})).await;
    assert_eq!(r.status, 200, "{}", r.text());

    // Within 26 weeks and without a 15-point rise, the rejected pair does not come back; the approved one is live.
    let run = run_matching(&app).await;
    let counts = (run["created"].as_i64(), run["held_back"].as_i64(), run["kept"].as_i64());
    assert_eq!(counts, (Some(0), Some(1), Some(1)), "{run}");

    // Another game studio is suggested to A as before, but to B it shares what B objected to and scores lower.
    let c = create(&app, &member_body("Cité Créative", &["graphic design"], &["game development"])).await;
    run_matching(&app).await;
    let pending = queue(&app).await;
    let to_b = of_kind(&pending, b, "partner");
    let to_c = of_kind(&pending, c, "partner");
    assert_eq!(to_b.len(), 1, "{pending:?}");
    let feedback = &to_b[0]["explanation"]["feedback"];
    let shared = feedback["concepts"].as_array().unwrap().len();
    assert!(shared >= 1, "{feedback}");
    assert_eq!(feedback["penalty"].as_f64(), Some(10.0 * shared as f64), "10 points a shared concept: {feedback}");
    let before = feedback["score_before"].as_f64().unwrap();
    assert!((to_b[0]["score"].as_f64().unwrap() - (before - 10.0 * shared as f64)).abs() < 0.01);
    assert!(to_c[0]["explanation"].get("feedback").is_none(), "C objected to nothing");

    // After 26 weeks the rejected pair may come back.
    app.clock.advance(TimeDelta::weeks(26));
    let run = run_matching(&app).await;
    assert!(run["created"].as_i64().unwrap() >= 1, "{run}");
    assert!(of_kind(&queue(&app).await, a, "partner").iter().any(|s| s["partner_id"] == b.to_string()));
}

/// An app whose digests go to `sink`, retried after `retry` seconds, with replies going to the cluster team.
async fn mailing_app(backend: Backend, sink: &Sink, retry: i64) -> Option<TestApp> {
    let url = sink.url();
    TestApp::spawn_with(backend, move |s| {
        s.mail.smtp_url = Some(url);
        s.mail.retry_after_seconds = retry;
        s.mail.public_url = "https://matchmaker.example.lu".to_owned();
        s.mail.public_url_set = true;
        s.mail.reply_to = Some("Cluster team <cluster@example.lu>".to_owned());
    })
    .await
}

/// Members with approved suggestions: A (French), B (Luxembourgish, reads German), C (digest off).
async fn approved_cluster(app: &TestApp) -> [Uuid; 3] {
    let mut a = member_body("Atelier Aurore", &["graphic design", "3D modelling"], &["game development"]);
    a["preferred_language"] = json!("fr");
    let mut b = member_body("Bureau Boréal", &["game development"], &["graphic design"]);
    b["preferred_language"] = json!("lb");
    b["languages"] = json!(["lb", "de"]);
    let mut c = member_body("Cité Créative", &["game development", "3D modelling"], &["graphic design"]);
    c["digest"] = json!("off");
    let ids = [create(app, &a).await, create(app, &b).await, create(app, &c).await];
    run_matching(app).await;
    assert!(approve_all(app).await >= 3);
    ids
}

fn week(app: &TestApp) -> String {
    IsoWeek::of(app.clock.now(), chrono_tz::Europe::Luxembourg).to_string()
}

async fn digest(app: &TestApp) -> Outcome {
    app.jobs.run_period(Job::Digest, week(app), true).await.unwrap()
}

async fn weekly_digest_goes_out_once(backend: Backend) {
    let sink = Sink::start(Behaviour::default()).await;
    let Some(app) = mailing_app(backend, &sink, 300).await else { return };
    let [a, b, c] = approved_cluster(&app).await;

    let preview = app.get(&format!("/v1/members/{b}/digest-preview")).await;
    assert_eq!(preview.status, 200, "{}", preview.text());
    let preview = preview.json();
    assert_eq!((preview["would_send"].as_bool(), preview["language"].as_str()), (Some(true), Some("de")));
    assert!(sink.messages().is_empty(), "a preview sends nothing");
    // Staff read the preview: its links carry no token anyone could use in the member's name.
    let text = preview["text"].as_str().unwrap();
    assert!(text.contains("/v1/suggestion-page?token=sent-with-the-digest"), "{text}");
    assert!(text.contains("/v1/unsubscribe?token=sent-with-the-digest"), "{text}");
    let page = app.get("/v1/suggestion-page?token=sent-with-the-digest").await;
    assert_ne!(page.status, 200, "the placeholder is no token");

    assert!(matches!(digest(&app).await, Outcome::Finished(_)));
    let got: Vec<_> = sink.wait_for(2, Duration::from_secs(10)).await.iter().map(|m| smtp_sink::parse(m)).collect();
    assert_eq!(got.len(), 2, "A and B; C has the digest off");
    let to_a = got.iter().find(|m| m.to == "hello@atelieraurore.example.lu").unwrap();
    let to_b = got.iter().find(|m| m.to == "hello@bureauboral.example.lu").unwrap();
    assert!(to_a.subject.starts_with("Vos suggestions"), "{}", to_a.subject);
    assert!(
        to_b.subject.starts_with("Ihre Cluster-Matchmaker-Vorschläge"),
        "Luxembourgish reads German: {}",
        to_b.subject
    );
    assert!(to_a.text.contains("Bureau Boréal") && to_a.html.contains("Bureau Boréal"));
    assert!(!to_b.text.contains("sent-with-the-digest"), "the digest sent carries signed links");
    assert!(!to_a.text.contains("hello@bureauboral") && !to_a.html.contains("hello@bureauboral"));
    assert_eq!(to_a.list_unsubscribe_post, "List-Unsubscribe=One-Click");
    let link = to_a.list_unsubscribe.trim_matches(['<', '>']).to_owned();
    assert!(link.starts_with("https://matchmaker.example.lu/v1/unsubscribe?token="), "{link}");
    let html_links: Vec<String> = scraper::Html::parse_document(&to_a.html)
        .select(&scraper::Selector::parse("a").unwrap())
        .filter_map(|e| e.value().attr("href").map(str::to_owned))
        .collect();
    assert!(html_links.contains(&link), "the HTML part links the same address: {html_links:?}");
    assert!(to_a.text.contains(&link));

    // Stored and delivered; a second run sends nothing.
    let member_a = app.user(Role::Member, Some(a));
    let digests = app.as_(&member_a.token).get(&format!("/v1/members/{a}/digests")).await.json();
    assert_eq!(digests["items"].as_array().unwrap().len(), 1);
    assert_eq!(digests["items"][0]["status"], "sent");
    assert_eq!(digests["items"][0]["message_id"].as_str().unwrap(), to_a.message_id);
    let one =
        app.as_(&member_a.token).get(&format!("/v1/digests/{}", digests["items"][0]["id"].as_str().unwrap())).await;
    assert_eq!(one.status, 200);
    assert!(one.json()["suggestions"].as_array().unwrap().iter().all(|s| s["status"] == "delivered"));
    let member_b = app.user(Role::Member, Some(b));
    let theirs =
        app.as_(&member_b.token).get(&format!("/v1/digests/{}", digests["items"][0]["id"].as_str().unwrap())).await;
    assert_eq!(theirs.status, 404, "B cannot read A's digest");
    assert!(matches!(digest(&app).await, Outcome::Finished(_)));
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(sink.messages().len(), 2, "no second copy");

    // The unsubscribe link works signed out, after a restart, and only for its member.
    let again = app.reopen().await;
    let path = link.trim_start_matches("https://matchmaker.example.lu");
    let page = again.anonymous().get(path).await;
    assert_eq!(page.status, 200);
    assert!(page.text().contains("<form method=\"post\""), "{}", page.text());
    let (_, mac) = path.split_once('.').unwrap();
    let forged = format!("/v1/unsubscribe?token={}.{mac}", b.simple());
    assert_eq!(again.anonymous().get(&forged).await.status, 404, "A's token does not work for B");
    let post = again.send(again.client.post(again.url(path)).form(&[("List-Unsubscribe", "One-Click")])).await;
    assert_eq!(post.status, 200);
    assert_eq!(again.get(&format!("/v1/members/{a}")).await.json()["digest"], "off");
    assert_eq!(again.get(&format!("/v1/members/{b}")).await.json()["digest"], "weekly");
    assert_eq!(again.get(&format!("/v1/members/{c}")).await.json()["digest"], "off");
}

async fn a_dropped_connection_is_retried_without_a_second_copy(backend: Backend) {
    let sink = Sink::start(Behaviour { drop_before_accepting: Some(2), ..Behaviour::default() }).await;
    let Some(app) = mailing_app(backend, &sink, 1).await else { return };
    let mut extra = member_body("Dune Digitale", &["graphic design"], &["game development"]);
    extra["preferred_language"] = json!("en");
    create(&app, &extra).await;
    approved_cluster(&app).await;
    let first = digest(&app).await;
    assert!(matches!(first, Outcome::Unfinished(_)), "one digest waits for its retry: {first:?}");
    assert_eq!(sink.messages().len(), 2, "the others went out");
    let failed = app.get("/v1/digests?status=queued").await.json();
    assert_eq!(failed["items"].as_array().unwrap().len(), 1);
    assert!(failed["items"][0]["last_error"].as_str().is_some());
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert!(matches!(digest(&app).await, Outcome::Finished(_)));
    let got: Vec<_> = sink.messages().iter().map(|m| smtp_sink::parse(m)).collect();
    assert_eq!(got.len(), 3);
    let mut to: Vec<&str> = got.iter().map(|m| m.to.as_str()).collect();
    to.sort_unstable();
    to.dedup();
    assert_eq!(to.len(), 3, "each member once");
    assert_eq!(app.get("/v1/digests?status=sent").await.json()["items"].as_array().unwrap().len(), 3);
}

/// The address after `label: ` on a line of a digest's text part.
fn link_after(text: &str, label: &str) -> String {
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{label}: ")))
        .unwrap_or_else(|| panic!("no `{label}:` line in {text}"))
        .trim()
        .to_owned()
}

/// A suggestion as staff see it (reaction included).
async fn suggestion(app: &TestApp, id: &str) -> Value {
    let reply = app.get(&format!("/v1/suggestions/{id}")).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    reply.json()
}

async fn digest_links_let_members_answer(backend: Backend) {
    let sink = Sink::start(Behaviour::default()).await;
    let Some(app) = mailing_app(backend, &sink, 300).await else { return };
    // Besides A (French) and B (Luxembourgish, reads German): an English and a German reader.
    for (name, lang) in [("Dune Digitale", "en"), ("Echo Studio", "de")] {
        let mut body = member_body(name, &["graphic design"], &["game development"]);
        body["preferred_language"] = json!(lang);
        create(&app, &body).await;
    }
    approved_cluster(&app).await;
    assert!(matches!(digest(&app).await, Outcome::Finished(_)));
    let got: Vec<_> = sink.wait_for(4, Duration::from_secs(10)).await.iter().map(|m| smtp_sink::parse(m)).collect();
    let to_a = got.iter().find(|m| m.to == "hello@atelieraurore.example.lu").unwrap();
    let to_b = got.iter().find(|m| m.to == "hello@bureauboral.example.lu").unwrap();
    let to_en = got.iter().find(|m| m.to == "hello@dunedigitale.example.lu").unwrap();
    let to_de = got.iter().find(|m| m.to == "hello@echostudio.example.lu").unwrap();
    for (mail, lang, subject, answer) in [
        (to_en, "en", "Your Cluster Matchmaker suggestions", "Interested: https://"),
        (to_de, "de", "Ihre Cluster-Matchmaker-Vorschläge", "Interessiert: https://"),
        (to_b, "de", "Ihre Cluster-Matchmaker-Vorschläge", "Interessiert: https://"),
        (to_a, "fr", "Vos suggestions", "Intéressé: https://"),
    ] {
        assert_eq!(mail.content_language, lang, "{}", mail.to);
        assert!(mail.subject.starts_with(subject), "{}: {}", mail.to, mail.subject);
        assert!(mail.text.contains(answer), "{}: {}", mail.to, mail.text);
    }

    // Headers: replies reach the team; the mail says its language, its list, and that it is automatic.
    assert_eq!(to_a.reply_to, "cluster@example.lu");
    assert_eq!((to_a.content_language.as_str(), to_b.content_language.as_str()), ("fr", "de"));
    assert_eq!(to_a.list_id, "Cluster Matchmaker digest <digest.matchmaker.example.lu>");
    assert_eq!(to_a.auto_submitted, "auto-generated");

    // A Luxembourgish reader's German mail names concepts in German, not in Luxembourgish.
    let vocab = matchmaker::matching::Vocabulary::shipped_shared().unwrap();
    use matchmaker::matching::vocabulary::Lang;
    let games = vocab.concept(vocab.normalise("game development").concept.unwrap());
    let (de, lb) = (games.label(Lang::De), games.label(Lang::Lb));
    assert_ne!(de, lb, "a concept whose labels differ");
    let common = to_b.text.lines().find(|l| l.starts_with("Gemeinsam: ")).unwrap_or_default();
    assert!(common.contains(de), "{de} in {}", to_b.text);
    assert!(!to_b.text.contains(lb), "no Luxembourgish label in the German mail: {}", to_b.text);
    let sentence = to_b.text.lines().find(|l| l.starts_with("Sie ergänzen sich: ")).unwrap_or_default();
    assert!(sentence.contains(de), "the sentence is German, with German labels: {}", to_b.text);

    // Each item links its page; the same links are in the HTML part.
    let interested = link_after(&to_a.text, "Intéressé");
    let not_relevant = link_after(&to_a.text, "Pas pertinent");
    assert!(interested.starts_with("https://matchmaker.example.lu/v1/suggestion-page?token="), "{interested}");
    assert!(interested.ends_with("&choice=interested") && not_relevant.ends_with("&choice=not_relevant"));
    let hrefs: Vec<String> = scraper::Html::parse_document(&to_a.html)
        .select(&scraper::Selector::parse("a").unwrap())
        .filter_map(|e| e.value().attr("href").map(str::to_owned))
        .collect();
    assert!(hrefs.contains(&interested) && hrefs.contains(&not_relevant), "{hrefs:?}");
    let path = interested.trim_start_matches("https://matchmaker.example.lu").to_owned();
    let token = path.split("token=").nth(1).unwrap().split('&').next().unwrap().to_owned();
    let id = Uuid::try_parse(token.split('.').next().unwrap()).unwrap().to_string();
    let page = |p: &str| p.to_owned();
    let post = |form: Vec<(&'static str, &'static str)>| {
        let app = &app;
        let token = token.clone();
        async move { app.send(app.client.post(app.url(&format!("/v1/suggestion-page?token={token}"))).form(&form)).await }
    };

    // GET shows the page in the member's language and changes nothing (mail scanners follow links).
    let shown = app.anonymous().get(&page(&path)).await;
    assert_eq!(shown.status, 200, "{}", shown.text());
    assert!(shown.text().contains("<html lang=\"fr\">"), "{}", shown.text());
    assert!(shown.text().contains("Je suis intéressé") && shown.text().contains("Pas le temps en ce moment"));
    assert!(!shown.text().contains("hello@"), "no contact details on the page");
    assert!(suggestion(&app, &id).await["reaction"].is_null());

    // POST answers: not relevant with a reason and a comment, taken back, then interested.
    let answered =
        post(vec![("action", "not_relevant"), ("reason", "wrong_sector"), ("comment", "Pas notre métier")]).await;
    assert_eq!(answered.status, 200, "{}", answered.text());
    assert!(answered.text().contains("Merci, votre réponse est enregistrée"), "{}", answered.text());
    let s = suggestion(&app, &id).await;
    assert_eq!((s["reaction"].as_str(), s["reaction_reason"].as_str()), (Some("not_relevant"), Some("wrong_sector")));
    assert_eq!(s["reaction_comment"], "Pas notre métier");
    assert!(answered.text().contains("Retirer ma réponse"), "the answer can be taken back: {}", answered.text());
    let undone = post(vec![("action", "undo")]).await;
    assert_eq!(undone.status, 200);
    assert!(suggestion(&app, &id).await["reaction"].is_null());
    assert_eq!(post(vec![("action", "interested")]).await.status, 200);
    assert_eq!(suggestion(&app, &id).await["reaction"], "interested");
    let history = app.get(&format!("/v1/suggestions/{id}?history=true")).await.json();
    let actors: Vec<&str> =
        history["history"].as_array().map_or(vec![], |h| h.iter().filter_map(|e| e["actor"].as_str()).collect());
    assert!(actors.iter().any(|a| a.starts_with("member:")), "answers are the member's: {history}");

    // Bad input is refused and changes nothing.
    let bad = post(vec![("action", "maybe")]).await;
    assert_eq!(bad.status, 422);
    assert_eq!(bad.header("content-type").as_deref(), Some("application/problem+json"));
    let bad_reason = post(vec![("action", "not_relevant"), ("reason", "boring")]).await;
    assert_eq!(bad_reason.status, 422);
    assert_eq!(suggestion(&app, &id).await["reaction"], "interested");

    // A forged token (another member's id under A's MAC) does nothing; its page follows the browser's language.
    let parts: Vec<&str> = token.split('.').collect();
    let other = Uuid::now_v7().simple().to_string();
    let forged = format!("/v1/suggestion-page?token={}.{other}.{}.{}", parts[0], parts[2], parts[3]);
    let refused = app.send(app.client.get(app.url(&forged)).header("accept-language", "de-LU,de;q=0.9")).await;
    assert_eq!(refused.status, 404);
    assert!(refused.text().contains("<html lang=\"de\">"), "{}", refused.text());
    let refused = app.send(app.client.post(app.url(&forged)).form(&[("action", "undo")])).await;
    assert_eq!(refused.status, 404);
    assert_eq!(suggestion(&app, &id).await["reaction"], "interested");

    // A tampered unsubscribe link answers in the browser's language too.
    let tampered =
        app.send(app.client.get(app.url("/v1/unsubscribe?token=abc.def")).header("accept-language", "fr")).await;
    assert_eq!(tampered.status, 404);
    assert!(tampered.text().contains("<html lang=\"fr\">"), "{}", tampered.text());

    // After eight weeks the link has expired: a page says so, and nothing changes.
    app.clock.advance(TimeDelta::weeks(8) + TimeDelta::hours(1));
    assert_eq!(app.anonymous().get(&page(&path)).await.status, 410);
    assert_eq!(post(vec![("action", "undo")]).await.status, 410);
    assert_eq!(suggestion(&app, &id).await["reaction"], "interested");
}

async fn outcomes_are_asked_recorded_and_counted(backend: Backend) {
    let sink = Sink::start(Behaviour::default()).await;
    let Some(app) = mailing_app(backend, &sink, 300).await else { return };
    let cluster = approved_cluster(&app).await;
    let a = cluster[0];
    assert!(matches!(digest(&app).await, Outcome::Finished(_)));
    assert_eq!(sink.wait_for(2, Duration::from_secs(10)).await.len(), 2);
    let mine = app.get(&format!("/v1/members/{a}/suggestions")).await.json();
    let id = mine["items"].as_array().unwrap().iter().find(|s| s["status"] == "delivered").unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let member_a = app.user(Role::Member, Some(a));
    let as_a = app.as_(&member_a.token);
    let outcomes = format!("/v1/suggestions/{id}/outcomes");

    // What comes of a suggestion follows contact: before it, the member is told so; staff input is checked.
    assert_eq!(as_a.post(&outcomes, &json!({"outcome": "met"})).await.status, 409);
    let reacted = as_a.post(&format!("/v1/suggestions/{id}/reaction"), &json!({"reaction": "contacted"})).await;
    assert_eq!(reacted.status, 200, "{}", reacted.text());
    let bad = app.post(&outcomes, &json!({"outcome": "met", "call": "CREA-1"})).await;
    assert_eq!((bad.status, bad.json()["errors"][0]["pointer"].as_str()), (422, Some("/call")));
    let tomorrow = (app.clock.now() + TimeDelta::days(2)).date_naive().to_string();
    assert_eq!(app.post(&outcomes, &json!({"outcome": "met", "date": tomorrow})).await.status, 422);
    assert_eq!(app.post(&outcomes, &json!({"outcome": "maybe"})).await.status, 422);
    assert!(app.get(&format!("/v1/suggestions/{id}")).await.json()["outcomes"].as_array().unwrap().is_empty());

    // Four weeks after `contacted`, the next digest asks, and that question alone makes A's digest.
    app.clock.advance(TimeDelta::days(29));
    assert!(matches!(digest(&app).await, Outcome::Finished(_)));
    let got = sink.wait_for(3, Duration::from_secs(10)).await;
    assert_eq!(got.len(), 3, "only A gets a second digest");
    let asked = smtp_sink::parse(&got[2]);
    assert_eq!(asked.to, "hello@atelieraurore.example.lu");
    assert!(asked.text.contains("Qu'en est-il ressorti"), "{}", asked.text);
    assert!(!asked.text.contains("Correspondance"), "no suggestion, only the question: {}", asked.text);
    let link = asked
        .text
        .lines()
        .find_map(|l| l.split_once(": https://matchmaker.example.lu").map(|(_, rest)| rest.to_owned()))
        .filter(|rest| rest.starts_with("/v1/suggestion-page"))
        .unwrap_or_else(|| panic!("a question's link in {}", asked.text));
    let page = app.anonymous().get(&link).await;
    assert_eq!(page.status, 200, "{}", page.text());
    assert!(page.text().contains("Nous avons répondu ensemble à un appel") && page.text().contains("name=\"call\""));
    assert!(app.get(&format!("/v1/suggestions/{id}")).await.json()["outcomes"].as_array().unwrap().is_empty());
    let post = |form: Vec<(&'static str, &'static str)>| {
        let (app, link) = (&app, link.clone());
        async move { app.send(app.client.post(app.url(&link)).form(&form)).await }
    };
    assert_eq!(post(vec![("action", "interested")]).await.status, 404, "a question's link does not react");
    let told =
        post(vec![("action", "outcome"), ("outcome", "applied_together"), ("date", ""), ("call", "CREA-X")]).await;
    assert_eq!(told.status, 200, "{}", told.text());
    assert!(told.text().contains("Merci"), "{}", told.text());
    let s = app.get(&format!("/v1/suggestions/{id}")).await.json();
    assert_eq!(s["outcomes"][0]["outcome"], "applied_together");
    assert_eq!(s["outcomes"][0]["call"], "CREA-X");
    assert_eq!(s["outcomes"][0]["recorded_by"], format!("member:{a}"));
    assert!(as_a.get(&format!("/v1/suggestions/{id}")).await.json()["outcomes"][0].get("recorded_by").is_none());

    // Asked once: the next week brings no second question. Staff add what they learn.
    app.clock.advance(TimeDelta::days(7));
    assert!(matches!(digest(&app).await, Outcome::Finished(_)));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(sink.messages().len(), 3, "no second question");
    let funded = app.post(&outcomes, &json!({"outcome": "funded", "call": "CREA-X"})).await;
    assert_eq!(funded.status, 201, "{}", funded.text());
    assert_eq!(funded.json()["outcomes"].as_array().unwrap().len(), 2);

    // The funnel counts each step.
    let f = app.get("/v1/stats/suggestions").await;
    assert_eq!(f.status, 200, "{}", f.text());
    let f = f.json();
    let all = &f["overall"];
    assert!(all["created"].as_u64().unwrap() >= 3, "{f}");
    assert_eq!(all["approved"], all["created"], "{f}");
    let mut delivered = 0;
    for m in cluster {
        let theirs = app.get(&format!("/v1/members/{m}/suggestions")).await.json();
        delivered += theirs["items"].as_array().unwrap().iter().filter(|s| s["status"] == "delivered").count();
    }
    assert!(delivered >= 2, "A's and B's; C has the digest off");
    assert_eq!(all["delivered"].as_u64(), Some(delivered as u64), "{f}");
    assert_eq!(all["reacted"]["contacted"], 1);
    assert_eq!((all["outcomes"]["applied_together"].as_u64(), all["outcomes"]["funded"].as_u64()), (Some(1), Some(1)));
    assert_eq!(all["outcomes"]["met"], 0);
    assert_eq!(f["by_scope"]["none"]["created"], all["created"], "partner suggestions have no scope: {f}");
    let by_size: u64 = f["by_size"].as_object().unwrap().values().map(|c| c["created"].as_u64().unwrap()).sum();
    assert_eq!(Some(by_size), all["created"].as_u64());
    assert!(f["by_sector"].as_object().unwrap().values().any(|c| c["outcomes"]["funded"] == 1), "{f}");
    let later = (app.clock.now() + TimeDelta::days(1)).date_naive();
    let empty = app.get(&format!("/v1/stats/suggestions?from={later}")).await.json();
    assert_eq!(empty["overall"]["created"], 0);
    assert_eq!(app.get("/v1/stats/suggestions?from=2026-12-06&to=2026-12-01").await.status, 422);
    assert_eq!(app.get("/v1/stats/suggestions?from=yesterday").await.status, 422);
}

/// The one link of `text` to `path` on our public address (the path and query, without the host).
fn our_link(text: &str, path: &str) -> String {
    let prefix = format!("https://matchmaker.example.lu{path}");
    text.split_whitespace()
        .find(|w| w.starts_with(&prefix))
        .map(|w| w.trim_start_matches("https://matchmaker.example.lu").to_owned())
        .unwrap_or_else(|| panic!("no link to {path} in {text}"))
}

/// The partner suggestion of `member` about `other`, as staff see it.
async fn partner_suggestion(app: &TestApp, member: Uuid, other: Uuid) -> String {
    let theirs = app.get(&format!("/v1/members/{member}/suggestions?kind=partner")).await.json();
    theirs["items"].as_array().unwrap().iter().find(|s| s["partner_id"] == other.to_string()).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn introductions_ask_consent_first(backend: Backend) {
    let sink = Sink::start(Behaviour::default()).await;
    let Some(app) = mailing_app(backend, &sink, 300).await else { return };
    let [a, b, _] = approved_cluster(&app).await;
    assert!(matches!(digest(&app).await, Outcome::Finished(_)));
    let got: Vec<_> = sink.wait_for(2, Duration::from_secs(10)).await.iter().map(|m| smtp_sink::parse(m)).collect();
    let to_a = got.iter().find(|m| m.to == "hello@atelieraurore.example.lu").unwrap();
    let (a_mail, b_mail) = ("hello@atelieraurore.example.lu", "hello@bureauboral.example.lu");

    // A asks, from its digest's page about B, to be introduced.
    let ab = partner_suggestion(&app, a, b).await;
    let simple = Uuid::try_parse(&ab).unwrap().simple().to_string();
    let page = to_a
        .text
        .split_whitespace()
        .find(|w| w.contains(&format!("token={simple}.")))
        .map(|w| w.trim_start_matches("https://matchmaker.example.lu").split("&choice").next().unwrap().to_owned())
        .unwrap_or_else(|| panic!("a link to the page about B in {}", to_a.text));
    let shown = app.anonymous().get(&page).await;
    assert!(shown.text().contains("Nous présenter"), "{}", shown.text());
    let asked = app
        .send(app.client.post(app.url(&page)).form(&[("action", "introduce"), ("note", "Restaurons ensemble.")]))
        .await;
    assert_eq!(asked.status, 200, "{}", asked.text());
    assert!(asked.text().contains("Votre demande est envoyée"), "{}", asked.text());
    assert!(asked.text().contains("Nous demandons d&#x27;abord"), "{}", asked.text());
    let staff_view = suggestion(&app, &ab).await;
    assert_eq!(staff_view["introduction"]["status"], "awaiting_consent", "{staff_view}");
    let member_a = app.user(Role::Member, Some(a));
    let as_a = app.as_(&member_a.token);
    let mine = as_a.get(&format!("/v1/suggestions/{ab}")).await.json();
    assert_eq!(mine["introduction"]["status"], "awaiting_consent");
    assert!(mine["introduction"].get("counterpart_id").is_none(), "{mine}");
    // Asking again (here through the API, as a portal would) returns the request as it stands.
    let again = as_a.post(&format!("/v1/suggestions/{ab}/introduction"), &json!({})).await;
    assert_eq!((again.status, again.json()["status"].as_str()), (200, Some("awaiting_consent")));
    let too_long = as_a.post(&format!("/v1/suggestions/{ab}/introduction"), &json!({"note": "x".repeat(1001)})).await;
    assert_eq!(too_long.status, 422);

    // Nothing reaches staff before B agrees; B is asked in its language, without A's contact details.
    let waiting = app.get("/v1/introductions?status=requested").await.json();
    assert!(waiting["items"].as_array().unwrap().is_empty(), "{waiting}");
    app.jobs.deliver_due().await.unwrap();
    let consent = smtp_sink::parse(&sink.wait_for(3, Duration::from_secs(10)).await[2]);
    assert_eq!((consent.to.as_str(), consent.content_language.as_str()), (b_mail, "de"));
    assert_eq!(consent.subject, "Atelier Aurore möchte Ihnen vorgestellt werden");
    assert!(consent.text.contains("Restaurons ensemble.") && consent.text.contains("eine Zusammenarbeit"));
    assert_eq!((consent.auto_submitted.as_str(), consent.reply_to.as_str()), ("auto-generated", "cluster@example.lu"));
    assert!(consent.list_id.is_empty(), "not the digest's list");
    assert!(!consent.text.contains(a_mail) && !consent.html.contains(a_mail), "{}", consent.text);
    let link = our_link(&consent.text, "/v1/introduction-page?token=");
    let look = app.anonymous().get(&link).await;
    assert_eq!(look.status, 200, "{}", look.text());
    assert!(look.text().contains("<html lang=\"de\">") && look.text().contains("Ja, bitte vorstellen"));
    assert!(!look.text().contains(a_mail), "no contact details before consent");
    assert_eq!(suggestion(&app, &ab).await["introduction"]["status"], "awaiting_consent", "GET changes nothing");

    // A forged link (A's id under B's MAC), or A's reaction link used here, does nothing.
    let token = link.split("token=").nth(1).unwrap().to_owned();
    let parts: Vec<&str> = token.split('.').collect();
    let forged = format!("/v1/introduction-page?token={}.{}.{}.{}", parts[0], a.simple(), parts[2], parts[3]);
    let refused = app.send(app.client.post(app.url(&forged)).form(&[("action", "accept")])).await;
    assert_eq!(refused.status, 404);
    let reaction_token = page.split("token=").nth(1).unwrap();
    let wrong = app
        .send(
            app.client
                .post(app.url(&format!("/v1/introduction-page?token={reaction_token}")))
                .form(&[("action", "accept")]),
        )
        .await;
    assert_eq!(wrong.status, 404);
    let bad = app.send(app.client.post(app.url(&link)).form(&[("action", "perhaps")])).await;
    assert_eq!((bad.status, bad.header("content-type").as_deref()), (422, Some("application/problem+json")));
    assert_eq!(suggestion(&app, &ab).await["introduction"]["status"], "awaiting_consent");

    // B agrees; a later answer changes nothing. The request reaches staff.
    let agreed = app.send(app.client.post(app.url(&link)).form(&[("action", "accept")])).await;
    assert_eq!(agreed.status, 200);
    assert!(agreed.text().contains("Sie haben zugestimmt"), "{}", agreed.text());
    let late = app.send(app.client.post(app.url(&link)).form(&[("action", "decline")])).await;
    assert!(late.text().contains("Sie haben zugestimmt"), "{}", late.text());
    let waiting = app.get("/v1/introductions?status=requested").await.json();
    let items = waiting["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{waiting}");
    let intro = items[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(
        (items[0]["member_name"].as_str(), items[0]["counterpart_name"].as_str()),
        (Some("Atelier Aurore"), Some("Bureau Boréal"))
    );
    assert_eq!(items[0]["messages"][0]["status"], "sent", "{waiting}");

    // Staff introduce: one e-mail to both, in a language both read (neither reads the other's: English), with
    // both contact e-mails. Introducing twice is refused.
    let done =
        app.post(&format!("/v1/introductions/{intro}/introduce"), &json!({"message": "Both restore heritage."})).await;
    assert_eq!((done.status, done.json()["status"].as_str()), (200, Some("introduced")), "{}", done.text());
    let twice = app.post(&format!("/v1/introductions/{intro}/introduce"), &json!({})).await;
    assert_eq!((twice.status, twice.header("content-type").as_deref()), (409, Some("application/problem+json")));
    app.jobs.deliver_due().await.unwrap();
    let intro_mail = smtp_sink::parse(&sink.wait_for(4, Duration::from_secs(10)).await[3]);
    assert_eq!(intro_mail.to_all, [a_mail, b_mail]);
    assert_eq!(intro_mail.content_language, "en");
    assert_eq!(intro_mail.subject, "Introduction: Atelier Aurore and Bureau Boréal");
    assert!(
        intro_mail.text.contains(&format!("E-mail: {a_mail}"))
            && intro_mail.text.contains(&format!("E-mail: {b_mail}"))
    );
    assert!(intro_mail.text.contains("From the cluster team: Both restore heritage."), "{}", intro_mail.text);
    assert!(intro_mail.auto_submitted.is_empty(), "written by the team, not automatic");

    // After the introduction, A may say what came of it; the funnel counts the introduction.
    let met = as_a.post(&format!("/v1/suggestions/{ab}/outcomes"), &json!({"outcome": "met"})).await;
    assert_eq!(met.status, 201, "{}", met.text());
    let f = app.get("/v1/stats/suggestions").await.json();
    assert_eq!((f["overall"]["introduced"].as_u64(), f["overall"]["outcomes"]["met"].as_u64()), (Some(1), Some(1)));

    // B asks for A the other way round, through the API; A declines, and nothing reaches staff.
    let ba = partner_suggestion(&app, b, a).await;
    let member_b = app.user(Role::Member, Some(b));
    let made = app.as_(&member_b.token).post(&format!("/v1/suggestions/{ba}/introduction"), &json!({})).await;
    assert_eq!((made.status, made.json()["status"].as_str()), (201, Some("awaiting_consent")), "{}", made.text());
    assert_eq!(as_a.post(&format!("/v1/suggestions/{ba}/introduction"), &json!({})).await.status, 404, "not A's");
    app.jobs.deliver_due().await.unwrap();
    let to_a_consent = smtp_sink::parse(&sink.wait_for(5, Duration::from_secs(10)).await[4]);
    assert_eq!((to_a_consent.to.as_str(), to_a_consent.content_language.as_str()), (a_mail, "fr"));
    assert!(!to_a_consent.text.contains(b_mail));
    let link = our_link(&to_a_consent.text, "/v1/introduction-page?token=");
    let declined = app.send(app.client.post(app.url(&link)).form(&[("action", "decline")])).await;
    assert!(declined.text().contains("Vous avez refusé"), "{}", declined.text());
    assert_eq!(suggestion(&app, &ba).await["introduction"]["status"], "declined");
    assert!(app.get("/v1/introductions?status=requested").await.json()["items"].as_array().unwrap().is_empty());
    let theirs = app.as_(&member_b.token).get(&format!("/v1/suggestions/{ba}")).await.json();
    assert_eq!(theirs["introduction"]["status"], "declined");
    let id = suggestion(&app, &ba).await["introduction"]["id"].as_str().unwrap().to_owned();
    assert_eq!(app.post(&format!("/v1/introductions/{id}/introduce"), &json!({})).await.status, 409);
    // Only a failed message can be sent again.
    let sent =
        app.get(&format!("/v1/introductions/{id}")).await.json()["messages"][0]["id"].as_str().unwrap().to_owned();
    let again = app.post(&format!("/v1/messages/{sent}/retry"), &json!({})).await;
    assert_eq!((again.status, again.header("content-type").as_deref()), (409, Some("application/problem+json")));
    assert_eq!(app.post("/v1/messages/nothing-here/retry", &json!({})).await.status, 404);

    // A consent link lives four weeks: then its page says so, and asking again asks again.
    let ac = partner_named(&app, a, "Cité Créative").await;
    let asked = as_a.post(&format!("/v1/suggestions/{ac}/introduction"), &json!({})).await;
    assert_eq!(asked.status, 201, "{}", asked.text());
    app.jobs.deliver_due().await.unwrap();
    let to_c = smtp_sink::parse(&sink.wait_for(6, Duration::from_secs(10)).await[5]);
    assert_eq!(to_c.to, "hello@citcrative.example.lu", "asked even with the digest off");
    let link = our_link(&to_c.text, "/v1/introduction-page?token=");
    app.clock.advance(TimeDelta::days(29));
    assert_eq!(app.anonymous().get(&link).await.status, 410);
    let later = app.user(Role::Member, Some(a));
    let as_a = app.as_(&later.token);
    let lapsed = as_a.get(&format!("/v1/suggestions/{ac}")).await.json();
    assert_eq!(lapsed["introduction"]["consent_lapsed"], true, "{lapsed}");
    let again = as_a.post(&format!("/v1/suggestions/{ac}/introduction"), &json!({})).await;
    assert_eq!((again.status, again.json()["consent_lapsed"].as_bool()), (200, Some(false)), "{}", again.text());
    app.jobs.deliver_due().await.unwrap();
    assert_eq!(sink.wait_for(7, Duration::from_secs(10)).await.len(), 7, "the other side is asked again");
}

/// `member`'s partner suggestion about the member named `name`.
async fn partner_named(app: &TestApp, member: Uuid, name: &str) -> String {
    let theirs = app.get(&format!("/v1/members/{member}/suggestions?kind=partner")).await.json();
    let items = theirs["items"].as_array().unwrap();
    let found = items.iter().find(|s| s["partner"]["name"] == name);
    found.unwrap_or_else(|| panic!("a suggestion about {name} in {theirs}"))["id"].as_str().unwrap().to_owned()
}

async fn a_project_nobody_leads_goes_to_staff(backend: Backend) {
    let sink = Sink::start(Behaviour::default()).await;
    let Some(app) = mailing_app(backend, &sink, 300).await else { return };
    let a = create(&app, &member_body("Atelier Aurore", &["graphic design"], &["game development"])).await;
    let project = app
        .post(
            "/v1/projects",
            &json!({"title": "Affiches du patrimoine", "scope": "national", "required_skills": [{"term": "graphic design", "weight": 3}]}),
        )
        .await;
    assert_eq!(project.status, 201, "{}", project.text());
    run_matching(&app).await;
    assert!(approve_all(&app).await >= 1);
    let theirs = app.get(&format!("/v1/members/{a}/suggestions?kind=project")).await.json();
    let id = theirs["items"][0]["id"].as_str().unwrap().to_owned();
    let member_a = app.user(Role::Member, Some(a));
    let made = app
        .as_(&member_a.token)
        .post(&format!("/v1/suggestions/{id}/introduction"), &json!({"note": "Volontiers."}))
        .await;
    assert_eq!((made.status, made.json()["status"].as_str()), (201, Some("requested")), "{}", made.text());
    app.jobs.deliver_due().await.unwrap();
    assert!(sink.messages().is_empty(), "nobody to ask");
    let waiting = app.get("/v1/introductions?status=requested").await.json();
    let intro = waiting["items"][0]["id"].as_str().unwrap().to_owned();
    assert!(waiting["items"][0]["counterpart_id"].is_null());
    let closed = app.post(&format!("/v1/introductions/{intro}/close"), &json!({})).await;
    assert_eq!(closed.status, 422, "a reason is required");
    let closed = app.post(&format!("/v1/introductions/{intro}/close"), &json!({"reason": "The call is full."})).await;
    assert_eq!((closed.status, closed.json()["status"].as_str()), (200, Some("closed")), "{}", closed.text());
    app.jobs.deliver_due().await.unwrap();
    assert!(sink.messages().is_empty(), "closing sends nothing");
    let history = app.get(&format!("/v1/suggestions/{id}?history=true")).await.json();
    let steps: Vec<&str> = history["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["field"] == "introduction")
        .filter_map(|e| e["to"].as_str())
        .collect();
    assert_eq!(steps, ["requested", "closed"], "{history}");
}

async fn members_export_what_is_held_about_them(backend: Backend) {
    let sink = Sink::start(Behaviour::default()).await;
    let Some(app) = mailing_app(backend, &sink, 300).await else { return };
    let [a, b, _] = approved_cluster(&app).await;
    assert!(matches!(digest(&app).await, Outcome::Finished(_)));
    sink.wait_for(2, Duration::from_secs(10)).await;
    let ab = partner_suggestion(&app, a, b).await;
    let member_a = app.user(Role::Member, Some(a));
    let asked = app.as_(&member_a.token).post(&format!("/v1/suggestions/{ab}/introduction"), &json!({})).await;
    assert_eq!(asked.status, 201, "{}", asked.text());
    app.jobs.deliver_due().await.unwrap();
    sink.wait_for(3, Duration::from_secs(10)).await;

    // A stops its digest by its link: an audit entry about A.
    let token = app.jobs.mailer.key.token(a);
    let stopped = app.send(app.client.post(app.url(&format!("/v1/unsubscribe?token={token}")))).await;
    assert_eq!(stopped.status, 200);

    // A, as itself: its profile with each term's mapping, its account, its shown suggestions with the introduction,
    // its digest with both parts, the audit of its creation; nothing of B's contact details.
    let export = app.as_(&member_a.token).get(&format!("/v1/members/{a}/export")).await;
    assert_eq!(export.status, 200, "{}", export.text());
    let disposition = export.header("content-disposition").unwrap_or_default();
    assert_eq!(disposition, format!("attachment; filename=\"member-{a}.json\""));
    let x = export.json();
    assert_eq!(x["format"], "cluster-matchmaker-export/1");
    assert_eq!(x["member"]["id"], a.to_string());
    assert!(x["member"]["offers"][0]["concept"].is_string(), "mappings are part of it: {}", x["member"]);
    assert_eq!(x["accounts"][0]["email"], member_a.email);
    let suggestions = x["suggestions"].as_array().unwrap();
    assert!(suggestions.iter().any(|s| s["id"] == ab && s["introduction"]["status"] == "awaiting_consent"), "{x}");
    assert!(suggestions.iter().all(|s| s.get("history").is_none()), "the member's view");
    let history = x["histories"].as_array().unwrap().iter().find(|h| h["suggestion_id"] == ab).unwrap();
    let steps: Vec<&str> = history["events"].as_array().unwrap().iter().filter_map(|e| e["to"].as_str()).collect();
    assert_eq!(steps, ["pending", "approved", "delivered", "awaiting_consent"], "{history}");
    assert_eq!(x["digests"].as_array().unwrap().len(), 1);
    assert!(x["digests"][0]["text"].as_str().unwrap().contains("Bonjour Atelier Aurore"));
    assert!(x["audit"].as_array().unwrap().iter().any(|e| e["target"] == a.to_string()), "{}", x["audit"]);
    assert!(!export.text().contains("hello@bureauboral.example.lu"), "not B's e-mail");

    // B, asked to agree: the request, and the e-mail that asked it; staff see who asked, and every history.
    let member_b = app.user(Role::Member, Some(b));
    let xb = app.as_(&member_b.token).get(&format!("/v1/members/{b}/export")).await.json();
    assert_eq!(xb["introductions_asked"][0]["status"], "awaiting_consent", "{xb}");
    assert!(xb["introductions_asked"][0].get("asked_by").is_none());
    assert_eq!(xb["messages"][0]["kind"], "consent_request");
    assert!(xb["messages"][0]["text"].as_str().unwrap().contains("Atelier Aurore"));
    let staff = app.get(&format!("/v1/members/{b}/export")).await.json();
    assert_eq!(staff["introductions_asked"][0]["asked_by"], a.to_string());
    assert!(staff["suggestions"].as_array().unwrap().iter().all(|s| s["history"].is_array()));
    assert_eq!(app.as_(&member_b.token).get(&format!("/v1/members/{a}/export")).await.status, 404, "not B's");
}

/// Every row of every table, as text (columns joined), for searching a whole database.
fn every_row(app: &TestApp) -> Vec<(String, String)> {
    use diesel::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Text)]
        row: String,
    }
    let mut conn = app.pool.get().unwrap();
    let mut out = Vec::new();
    for (table, columns) in matchmaker::db::schema::TABLES {
        let joined: Vec<String> = columns.iter().map(|c| format!("COALESCE(CAST({c} AS TEXT), '')")).collect();
        let sql = format!("SELECT {} AS row FROM {table}", joined.join(" || '|' || "));
        let rows: Vec<Row> = diesel::sql_query(sql).load(&mut *conn).unwrap();
        out.extend(rows.into_iter().map(|r| ((*table).to_owned(), r.row)));
    }
    out
}

async fn an_erased_member_leaves_no_trace(backend: Backend) {
    let sink = Sink::start(Behaviour::default()).await;
    let Some(app) = mailing_app(backend, &sink, 300).await else { return };
    let other = app.reopen().await;
    // E is created by a portal's retried request (an idempotency record holds its body), before the cluster.
    let name = "Zephyrine Quillfeather Studio";
    let body = member_body(name, &["game development"], &["graphic design"]);
    let email = body["contact_email"].as_str().unwrap().to_owned();
    let created = app
        .send(app.request(reqwest::Method::POST, "/v1/members").header("idempotency-key", "erase-1").json(&body))
        .await;
    assert_eq!(created.status, 201, "{}", created.text());
    let e: Uuid = created.json()["id"].as_str().unwrap().parse().unwrap();
    let [a, _, _] = approved_cluster(&app).await;
    assert!(matches!(digest(&app).await, Outcome::Finished(_)));
    let got = sink.wait_for(3, Duration::from_secs(10)).await;
    let to_a = got.iter().map(|m| smtp_sink::parse(m)).find(|m| m.to == "hello@atelieraurore.example.lu").unwrap();
    assert!(to_a.text.contains(name), "A's digest shows E's card: {}", to_a.text);
    // A asks to meet E; E agrees; staff introduce them; E stops its digest (an audit entry about it).
    let ae = partner_named(&app, a, name).await;
    let member_a = app.user(Role::Member, Some(a));
    assert_eq!(
        app.as_(&member_a.token).post(&format!("/v1/suggestions/{ae}/introduction"), &json!({})).await.status,
        201
    );
    app.jobs.deliver_due().await.unwrap();
    let consent = smtp_sink::parse(sink.messages().last().unwrap());
    let link = our_link(&consent.text, "/v1/introduction-page?token=");
    assert_eq!(app.send(app.client.post(app.url(&link)).form(&[("action", "accept")])).await.status, 200);
    let intro =
        app.get("/v1/introductions?status=requested").await.json()["items"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(app.post(&format!("/v1/introductions/{intro}/introduce"), &json!({})).await.status, 200);
    app.jobs.deliver_due().await.unwrap();
    let token = app.jobs.mailer.key.token(e);
    assert_eq!(app.send(app.client.post(app.url(&format!("/v1/unsubscribe?token={token}")))).await.status, 200);
    let _account = app.user(Role::Member, Some(e));
    let id = e.to_string();
    assert!(every_row(&app).iter().any(|(_, r)| r.contains(name)), "the search finds what is there");

    let ranked = other.get(&format!("/v1/members/{a}/matches/partners")).await.json();
    assert!(ranked["items"].as_array().unwrap().iter().any(|m| m["member"]["id"] == id), "{ranked}");

    // Erase E.
    assert_eq!(app.delete(&format!("/v1/members/{e}"), "*").await.status, 204);

    // Nothing in the database names E, apart from the change log's ids.
    for (table, row) in every_row(&app) {
        for needle in [name, email.as_str(), id.as_str()] {
            assert!(table == "changes" || !row.contains(needle), "{table} still holds {needle}: {row}");
        }
    }
    // A keeps its history: the suggestion (without E), its digest and the introduction e-mail name a former member.
    let kept = app.get(&format!("/v1/suggestions/{ae}")).await;
    assert_eq!(kept.status, 200, "{}", kept.text());
    let kept = kept.json();
    assert!(kept["partner"].is_null() && kept["partner_id"].is_null(), "{kept}");
    let a_digest =
        app.get(&format!("/v1/members/{a}/digests")).await.json()["items"][0]["id"].as_str().unwrap().to_owned();
    let a_digest = app.get(&format!("/v1/digests/{a_digest}")).await.json();
    assert!(a_digest["text"].as_str().unwrap().contains("un ancien membre"), "{}", a_digest["text"]);
    let introduced = app.get(&format!("/v1/introductions/{intro}")).await.json();
    assert!(introduced["counterpart_id"].is_null());
    assert_eq!(
        introduced["messages"].as_array().unwrap().len(),
        1,
        "the consent request went to E alone: {introduced}"
    );
    let audit = app.get("/v1/audit").await.json();
    assert!(
        audit["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["target"].as_str().is_some_and(|t| t.starts_with("erased:"))),
        "{audit}"
    );
    // A's page about E still opens, naming a former member.
    let page = app
        .anonymous()
        .get(&format!(
            "/v1/suggestion-page?token={}",
            app.jobs.mailer.key.suggestion_token(
                matchmaker::digest::token::LinkPurpose::React,
                ae.parse().unwrap(),
                a,
                app.clock.now() + TimeDelta::weeks(1)
            )
        ))
        .await;
    assert_eq!(page.status, 200, "{}", page.text());
    assert!(page.text().contains("un ancien membre"), "{}", page.text());

    // The other instance's index forgets E within 5 s.
    let path = format!("/v1/members/{a}/matches/partners");
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        let items = other.get(&path).await.json();
        if !items["items"].as_array().unwrap().iter().any(|m| m["member"]["id"] == id) {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the other instance still ranks E: {items}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // On SQLite the erased bytes are gone from the files too (database and WAL, read raw).
    if let Some(file) = app.db.url.sqlite_path() {
        for path in [file.to_path_buf(), file.with_extension("db-wal")] {
            let bytes = std::fs::read(&path).unwrap_or_default();
            for needle in [name, email.as_str()] {
                let found = bytes.windows(needle.len()).any(|w| w == needle.as_bytes());
                assert!(!found, "{} still holds {needle}", path.display());
            }
        }
    }
}

macro_rules! mailing_tests {
    ($($name:ident),+) => {
        $(
            mod $name {
                use crate::helpers::Backend;

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$name(Backend::Sqlite).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    super::$name(Backend::Postgres).await;
                }
            }
        )+
    };
}

mailing_tests!(
    weekly_digest_goes_out_once,
    a_dropped_connection_is_retried_without_a_second_copy,
    digest_links_let_members_answer,
    outcomes_are_asked_recorded_and_counted,
    introductions_ask_consent_first,
    a_project_nobody_leads_goes_to_staff,
    members_export_what_is_held_about_them,
    an_erased_member_leaves_no_trace
);

/// A suggestion about a project the member can no longer apply to (the project's eligible countries or sizes, or the
/// member's country or size, changed after the run) expires, pending or approved, and never reaches the member.
async fn suggestions_a_member_can_no_longer_act_on_expire(app: TestApp) {
    let a = create(&app, &member_body("Atelier Aurore", &["graphic design"], &[])).await;
    let deadline = (app.clock.now() + TimeDelta::days(30)).to_rfc3339();
    let mut calls = Vec::new();
    for (title, rule) in [
        ("Design for Luxembourg", json!({"eligible_countries": ["LU"]})),
        ("A grant for one person", json!({"eligible_sizes": ["one_person"]})),
        ("Design for anyone", json!({})),
    ] {
        let mut body = json!({"title": title, "scope": "european", "deadline": deadline,
                              "required_skills": [{"term": "graphic design", "weight": 5}]});
        body.as_object_mut().unwrap().extend(rule.as_object().unwrap().clone());
        let r = app.post("/v1/projects", &body).await;
        assert_eq!(r.status, 201, "{}", r.text());
        calls.push(r.json()["id"].as_str().unwrap().to_owned());
    }
    // A lead's project for one-person and micro firms, for which the member is a candidate.
    let lead = create(&app, &member_body("Bureau Boréal", &["game development"], &[])).await;
    let r = app
        .post(
            "/v1/projects",
            &json!({"title": "A game about castles", "scope": "national", "lead_member_id": lead,
                    "eligible_sizes": ["one_person", "micro"],
                    "required_skills": [{"term": "graphic design", "weight": 4}]}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let game = r.json()["id"].as_str().unwrap().to_owned();
    run_matching(&app).await;
    let pending = queue(&app).await;
    let about = |items: &[Value], call: &str| items.iter().find(|s| s["project_id"] == call).cloned();
    for call in calls.iter().chain([&game]) {
        assert!(about(&pending, call).is_some(), "the member may apply to all four: {pending:?}");
    }
    // The one-person grant's suggestion is approved before the member grows.
    let grant = about(&pending, &calls[1]).unwrap();
    let decision = json!({"decisions": [{"id": grant["id"], "decision": "approve",
                                         "etag": format!("\"v{}\"", grant["version"])}]});
    assert_eq!(app.post("/v1/suggestions/decisions", &decision).await.status, 200);

    // The first call is now for France and Belgium only; the member is now a small firm.
    assert_eq!(
        app.patch(&format!("/v1/projects/{}", calls[0]), &json!({"eligible_countries": ["FR", "BE"]}), "*")
            .await
            .status,
        200
    );
    assert_eq!(app.patch(&format!("/v1/members/{a}"), &json!({"size": "small"}), "*").await.status, 200);

    let pending = queue(&app).await;
    assert!(about(&pending, &calls[0]).is_none(), "not offered to staff any more: {pending:?}");
    assert!(about(&pending, &game).is_none(), "nor the member as the lead's candidate: {pending:?}");
    let theirs = app.get(&format!("/v1/members/{lead}/suggestions?status=expired")).await.json();
    assert!(about(theirs["items"].as_array().unwrap(), &game).is_some(), "{theirs}");
    assert!(about(&pending, &calls[2]).is_some(), "the open call is untouched: {pending:?}");
    let member = app.user(Role::Member, Some(a));
    let mine = app.as_(&member.token).get(&format!("/v1/members/{a}/suggestions")).await.json();
    assert_eq!(mine["items"], json!([]), "the approved grant is gone from the member's list: {mine}");
    let expired = app.get(&format!("/v1/members/{a}/suggestions?status=expired")).await.json();
    let expired = expired["items"].as_array().unwrap().clone();
    assert_eq!(expired.len(), 3, "the two calls and the game, which it could join: {expired:?}");
    for call in [&calls[0], &calls[1], &game] {
        let s = about(&expired, call).unwrap_or_else(|| panic!("{call} expired: {expired:?}"));
        let one = app.get(&format!("/v1/suggestions/{}", s["id"].as_str().unwrap())).await.json();
        let last = one["history"].as_array().unwrap().last().unwrap().clone();
        assert_eq!(
            (last["to"].as_str(), last["reason"].as_str()),
            (Some("expired"), Some("the member can no longer apply"))
        );
    }

    // Eligible again (the call reopens to Luxembourg): the next run suggests it anew.
    assert_eq!(
        app.patch(&format!("/v1/projects/{}", calls[0]), &json!({"eligible_countries": []}), "*").await.status,
        200
    );
    let run = run_matching(&app).await;
    assert!(run["created"].as_i64().unwrap() >= 1, "{run}");
    assert!(about(&queue(&app).await, &calls[0]).is_some());
}
