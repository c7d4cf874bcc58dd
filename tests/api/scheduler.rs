//! The scheduler across processes: real `matchmaker serve` children sharing one database, one of them killed with
//! SIGKILL in the middle of sending the week's digests.

use std::collections::BTreeMap;
use std::time::Duration;

use diesel::prelude::*;
use matchmaker::config::DatabaseUrl;
use serde_json::json;

use crate::cli::Server;
use crate::helpers::{Backend, TestApp};
use crate::review::{approve_all, create, member_body, run_matching};
use crate::smtp_sink::{self, Behaviour, Received, Sink};

const MEMBERS: usize = 6;

/// Six members with approved suggestions, all on the weekly digest.
async fn cluster(app: &TestApp) {
    let names = ["Atelier Aurore", "Bureau Boréal", "Cité Créative", "Dune Digitale", "Éclat Studio", "Forge Films"];
    for (i, name) in names.iter().enumerate() {
        let body = if i % 2 == 0 {
            member_body(name, &["graphic design", "3D modelling"], &["game development"])
        } else {
            member_body(name, &["game development"], &["graphic design"])
        };
        create(app, &body).await;
    }
    run_matching(app).await;
    assert!(approve_all(app).await >= MEMBERS);
}

fn env(app: &TestApp, sink: &Sink, digest_cron: &str) -> Vec<(&'static str, String)> {
    let url = match &app.db.url {
        DatabaseUrl::Postgres(u) => u.clone(),
        DatabaseUrl::Sqlite(p) => p.display().to_string(),
    };
    vec![
        ("DATABASE_URL", url),
        ("MATCHMAKER_JWT_KEY", app.db.key_pem.clone()),
        ("MATCHMAKER_UNSUBSCRIBE_KEY", app.db.unsubscribe_key.clone()),
        ("MATCHMAKER_SMTP_URL", sink.url()),
        ("MATCHMAKER_PUBLIC_URL", "https://matchmaker.example.lu".to_owned()),
        ("MATCHMAKER_SCHEDULER", "on".to_owned()),
        ("MATCHMAKER_DIGEST_SCHEDULE", digest_cron.to_owned()),
        ("MATCHMAKER_MATCHING_SCHEDULE", "0 0 1 1 *".to_owned()),
        ("MATCHMAKER_JOB_LEASE_SECONDS", "3".to_owned()),
        ("MATCHMAKER_JOB_HEARTBEAT_SECONDS", "1".to_owned()),
        ("MATCHMAKER_SCHEDULER_TICK_SECONDS", "1".to_owned()),
        ("MATCHMAKER_MAIL_SEND_LEASE_SECONDS", "3".to_owned()),
        ("MATCHMAKER_MAIL_RETRY_SECONDS", "0".to_owned()),
    ]
}

fn serve(vars: &[(&'static str, String)], dir: &std::path::Path) -> Server {
    let pairs: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    Server::start(&pairs, dir).unwrap_or_else(|log| panic!("the instance did not start:\n{log}"))
}

/// The pid in the lease owner of this week's digest (`host:pid:random`), once someone holds it.
async fn lease_holder(app: &TestApp) -> u32 {
    for _ in 0..200 {
        let mut conn = app.pool.get().unwrap();
        let owner: Option<String> = matchmaker::db::schema::job_runs::table
            .filter(matchmaker::db::schema::job_runs::job.eq("digest"))
            .select(matchmaker::db::schema::job_runs::owner)
            .first(&mut conn)
            .optional()
            .unwrap();
        if let Some(owner) = owner {
            return owner.split(':').nth(1).unwrap().parse().unwrap();
        }
        drop(conn);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("nobody claimed the week's digest");
}

/// Wait until every member got its digest; then check nobody got two different ones. A repeat is allowed only for
/// the message in flight when its sender died, and it carries the same Message-ID.
async fn each_member_served_once(sink: &Sink) -> Vec<Received> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
    loop {
        let got: Vec<Received> = sink.messages().iter().map(|m| smtp_sink::parse(m)).collect();
        let mut by_member: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for m in &got {
            by_member.entry(m.to.clone()).or_default().push(m.message_id.clone());
        }
        if by_member.len() == MEMBERS {
            for (member, ids) in &by_member {
                assert!(ids.iter().all(|id| *id == ids[0]), "{member} got two different digests: {ids:?}");
            }
            assert!(got.len() <= MEMBERS + 1, "more than the one unavoidable repeat: {} messages", got.len());
            return got;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "only {} of {MEMBERS} members got their digest",
            by_member.len()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Every digest is `sent` (soon: the last commit follows the server's acceptance).
async fn all_sent(app: &TestApp) -> bool {
    for _ in 0..100 {
        let page = app.get("/v1/digests?limit=100").await.json();
        let statuses: Vec<&str> =
            page["items"].as_array().unwrap().iter().map(|d| d["status"].as_str().unwrap()).collect();
        if statuses.len() == MEMBERS && statuses.iter().all(|s| *s == "sent") {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

/// How long the sink takes to accept a message in the two-instance tests: the stop must come mid-run, and with both
/// instances sending at once the six digests take three of these; long enough that a loaded machine still stops
/// an instance between the second digest and the last.
const SLOW_SMTP: Duration = Duration::from_secs(1);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_send_each_digest_once_and_survive_a_kill() {
    let sink = Sink::start(Behaviour { delay: SLOW_SMTP, ..Behaviour::default() }).await;
    let Some(app) = TestApp::spawn(Backend::Postgres).await else { return };
    cluster(&app).await;
    let vars = env(&app, &sink, "* * * * * *");
    let (d1, d2) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let mut instances = vec![serve(&vars, d1.path()), serve(&vars, d2.path())];
    sink.wait_for(2, Duration::from_secs(60)).await;
    let holder = lease_holder(&app).await;
    let at = instances.iter().position(|s| s.child.id() == holder).expect("the lease holder is one of ours");
    let killed = instances.remove(at);
    let before = sink.messages().len();
    let _ = killed.stop();
    assert!(before < MEMBERS, "the kill came mid-run ({before} sent)");

    let got = each_member_served_once(&sink).await;
    let survivor = instances.pop().unwrap();
    let log = survivor.log();
    assert!(log.contains("took over an abandoned period"), "the other instance finished the week:\n{log}");
    assert!(all_sent(&app).await, "every digest is recorded as sent");
    // Once the week is done nothing more is sent, but the one in flight at the kill may arrive again, unchanged.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let after = each_member_served_once(&sink).await;
    assert!(after.len() >= got.len());
    survivor.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_hands_the_week_over_at_once() {
    let sink = Sink::start(Behaviour { delay: SLOW_SMTP, ..Behaviour::default() }).await;
    let Some(app) = TestApp::spawn(Backend::Postgres).await else { return };
    cluster(&app).await;
    // Leases of a minute: a takeover sooner than that can only come from a lease given back.
    let mut vars = env(&app, &sink, "* * * * * *");
    for (name, value) in &mut vars {
        if matches!(*name, "MATCHMAKER_JOB_LEASE_SECONDS" | "MATCHMAKER_MAIL_SEND_LEASE_SECONDS") {
            *value = "60".to_owned();
        }
    }
    let (d1, d2) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let mut instances = vec![serve(&vars, d1.path()), serve(&vars, d2.path())];
    sink.wait_for(2, Duration::from_secs(60)).await;
    let holder = lease_holder(&app).await;
    let at = instances.iter().position(|s| s.child.id() == holder).expect("the lease holder is one of ours");
    let mut stopped = instances.remove(at);
    assert!(sink.messages().len() < MEMBERS, "the stop comes mid-run");
    let asked = tokio::time::Instant::now();
    let term = std::process::Command::new("kill").args(["-TERM", &holder.to_string()]).status().unwrap();
    assert!(term.success());
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = stopped.child.try_wait().unwrap() {
            break status;
        }
        assert!(std::time::Instant::now() < deadline, "the instance did not stop:\n{}", stopped.log());
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let log = stopped.stop();
    assert!(status.success(), "a clean exit: {status}\n{log}");
    assert!(log.contains("period left with work to do") && log.contains("jobs_done\":true"), "{log}");

    // The other instance takes the week over at once (well within the minute's lease) and nobody gets two.
    let got = each_member_served_once(&sink).await;
    assert!(asked.elapsed() < Duration::from_secs(40), "taken over only after {:?}", asked.elapsed());
    assert_eq!(got.len(), MEMBERS, "no digest was left half-recorded, so none went twice");
    let survivor = instances.pop().unwrap();
    assert!(survivor.log().contains("took over an abandoned period"), "{}", survivor.log());
    assert!(all_sent(&app).await, "every digest is recorded as sent");
    survivor.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_run_killed_mid_send_finishes_after_restart() {
    let sink = Sink::start(Behaviour { delay: Duration::from_millis(400), ..Behaviour::default() }).await;
    let app = TestApp::spawn(Backend::Sqlite).await.expect("SQLite always runs");
    cluster(&app).await;
    let dir = tempfile::tempdir().unwrap();
    let first = serve(&env(&app, &sink, "* * * * * *"), dir.path());
    sink.wait_for(2, Duration::from_secs(60)).await;
    let _ = first.stop();
    let before = sink.messages().len();
    assert!(before < MEMBERS, "the kill came mid-run ({before} sent)");

    // The restarted instance's schedule does not fire this week: finishing the week is resuming, not firing.
    let second = serve(&env(&app, &sink, "0 0 1 1 *"), dir.path());
    each_member_served_once(&sink).await;
    assert!(all_sent(&app).await, "every digest is recorded as sent");
    assert!(second.log().contains("took over an abandoned period"));
    let _ = json!(second.stop());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn digest_run_by_hand_previews_then_sends_once() {
    let sink = Sink::start(Behaviour::default()).await;
    let app = TestApp::spawn(Backend::Sqlite).await.expect("SQLite always runs");
    cluster(&app).await;
    let mut vars = env(&app, &sink, "0 0 1 1 *");
    // Nothing here is about taking over a lapsed run: a lease that a loaded machine's late heartbeat can't lose
    // (with 3 s, a by-hand run under the full suite's load stopped part-way, its period left to the next run).
    for (name, value) in &mut vars {
        if *name == "MATCHMAKER_JOB_LEASE_SECONDS" {
            *value = "60".to_owned();
        }
    }
    let week = matchmaker::digest::IsoWeek::of(chrono::Utc::now(), chrono_tz::Europe::Luxembourg).to_string();
    // With SMTP set but no public URL, every link in the mail would point at the listening address: refused.
    let unreachable = {
        let mut cmd = crate::cli::matchmaker();
        cmd.args(["digest", "run", "--week", &week]);
        for (k, v) in vars.iter().filter(|(k, _)| *k != "MATCHMAKER_PUBLIC_URL") {
            cmd.env(k, v);
        }
        tokio::task::spawn_blocking(move || cmd.output().unwrap()).await.unwrap()
    };
    assert!(!unreachable.status.success());
    assert!(String::from_utf8_lossy(&unreachable.stderr).contains("MATCHMAKER_PUBLIC_URL is not set"));
    assert!(sink.messages().is_empty(), "nothing sent");
    let period = week.clone();
    let run = move |extra: &[&str]| {
        let mut cmd = crate::cli::matchmaker();
        cmd.args(["digest", "run", "--week", &period]).args(extra);
        for (k, v) in &vars {
            cmd.env(k, v);
        }
        let out = cmd.output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
        stdout
    };
    let dry = tokio::task::spawn_blocking({
        let run = run.clone();
        move || run(&["--dry-run"])
    })
    .await
    .unwrap();
    assert!(dry.contains(&format!("{MEMBERS} member(s) would receive a digest")), "{dry}");
    assert!(dry.contains("Atelier Aurore") && dry.contains("hello@forgefilms.example.lu"), "{dry}");
    assert!(sink.messages().is_empty(), "a dry run sends nothing");

    let sent = tokio::task::spawn_blocking({
        let run = run.clone();
        move || run(&[])
    })
    .await
    .unwrap();
    assert!(sent.contains(&format!("{week}: {MEMBERS} composed, {MEMBERS} sent")), "{sent}");
    each_member_served_once(&sink).await;
    let again = tokio::task::spawn_blocking(move || run(&[])).await.unwrap();
    assert!(again.contains(&format!("{week}: 0 composed, 0 sent")), "{again}");
    assert_eq!(sink.messages().len(), MEMBERS, "no second copy");
}

crate::on_both_backends!(the_daily_purge_keeps_records_their_stated_time);

/// How many rows of `table` (by name) there are.
fn count(app: &TestApp, table: &str) -> i64 {
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let mut conn = app.pool.get().unwrap();
    diesel::sql_query(format!("SELECT COUNT(*) AS n FROM {table}")).get_result::<Count>(&mut *conn).unwrap().n
}

async fn the_daily_purge_keeps_records_their_stated_time(app: TestApp) {
    use chrono::TimeDelta;
    use matchmaker::clock::Clock as _;
    use matchmaker::scheduler::{Job, Outcome};
    let tz = chrono_tz::Europe::Luxembourg;
    let purge = async |app: &TestApp| {
        let period = Job::Retention.period_of(app.clock.now(), tz);
        app.jobs.run_period(Job::Retention, period, false).await.unwrap()
    };
    // Today: a stored reply to a retried create, an audit entry, changes for the index, a sent digest.
    let body = crate::helpers::studio("Purge Studio");
    let created =
        app.send(app.request(reqwest::Method::POST, "/v1/members").header("idempotency-key", "p-1").json(&body)).await;
    assert_eq!(created.status, 201, "{}", created.text());
    let member: uuid::Uuid = created.json()["id"].as_str().unwrap().parse().unwrap();
    let token = app.jobs.mailer.key.token(member);
    assert_eq!(app.send(app.client.post(app.url(&format!("/v1/unsubscribe?token={token}")))).await.status, 200);
    let digest = {
        use matchmaker::db::digests::DigestRow;
        let now = app.clock.now().naive_utc();
        let row = DigestRow {
            id: uuid::Uuid::now_v7().to_string(),
            member_id: member.to_string(),
            week: "2026-W48".to_owned(),
            message_id: "<digest.purge@example.lu>".to_owned(),
            recipient: "purge@example.lu".to_owned(),
            language: "en".to_owned(),
            subject: "Your suggestions".to_owned(),
            html: "<p>Hello Purge Studio</p>".to_owned(),
            text: "Hello Purge Studio".to_owned(),
            status: "sent".to_owned(),
            attempts: 1,
            next_attempt_at: now,
            lease_owner: None,
            lease_until: None,
            last_error: None,
            sent_at: Some(now),
            version: 1,
            created_at: now,
            updated_at: now,
        };
        matchmaker::db::digests::insert(&mut app.pool.get().unwrap(), &row).unwrap();
        row.id
    };
    let digest_text = |app: &TestApp| {
        let mut conn = app.pool.get().unwrap();
        matchmaker::db::digests::find(&mut conn, &digest).unwrap().unwrap().text
    };
    assert_eq!(count(&app, "idempotency_keys"), 1);
    let (audit, changes) = (count(&app, "audit_log"), count(&app, "changes"));
    assert!(audit >= 1 && changes >= 1);

    // Two days on: the stored reply (kept 24 hours) is gone; the rest stays. Once a day: a second pass that day
    // does nothing.
    app.clock.advance(TimeDelta::days(2));
    let Outcome::Finished(summary) = purge(&app).await else { panic!("the purge runs") };
    assert!(summary.contains("purged 1 stored replies"), "{summary}");
    assert_eq!(count(&app, "idempotency_keys"), 0);
    assert_eq!((count(&app, "audit_log"), count(&app, "changes")), (audit, changes));
    assert!(matches!(purge(&app).await, Outcome::Skipped(_)), "once a day");

    // A hundred days on: the digest's body is gone (the record that it was sent stays), and the change log.
    app.clock.advance(TimeDelta::days(98));
    assert!(matches!(purge(&app).await, Outcome::Finished(_)));
    assert_eq!(digest_text(&app), "");
    assert_eq!(count(&app, "digests"), 1);
    assert_eq!(count(&app, "changes"), 0);
    assert_eq!(count(&app, "audit_log"), audit, "audit entries are kept a year");

    // After a year: the audit entries go too.
    app.clock.advance(TimeDelta::days(300));
    assert!(matches!(purge(&app).await, Outcome::Finished(_)));
    assert_eq!(count(&app, "audit_log"), 0);
    let member_still = app.get(&format!("/v1/members/{member}")).await;
    assert_eq!(member_still.status, 200, "members themselves are not purged");
}

crate::on_both_backends!(a_claim_lost_to_another_instance_moves_on_to_the_next_row);

/// Between a sender's read of the oldest due message and its claim, another instance can claim that message: the
/// sender then claims the next due one, rather than ending its pass with messages left due. The read is made to
/// return the taken message first, as it would in the race.
async fn a_claim_lost_to_another_instance_moves_on_to_the_next_row(app: TestApp) {
    use chrono::TimeDelta;
    use matchmaker::clock::Clock as _;
    use matchmaker::db::messages::{self, MessageRow};
    let now = app.clock.now().naive_utc();
    let mut conn = app.pool.get().unwrap();
    let ids = [uuid::Uuid::now_v7().to_string(), uuid::Uuid::now_v7().to_string()];
    for (i, id) in ids.iter().enumerate() {
        let text = format!("Message {i}");
        let rendered = (text.clone(), format!("<p>{text}</p>"), text);
        let created = now - TimeDelta::minutes(10 - i64::try_from(i).unwrap());
        let row = MessageRow::queued(
            id,
            "consent_request",
            None,
            "claims.example",
            &["a@claims.example"],
            "en",
            rendered,
            created,
            created,
        );
        messages::insert(&mut conn, &row).unwrap();
    }
    let lease = TimeDelta::seconds(60);
    assert!(messages::claim(&mut conn, &ids[0], "instance-a", now, lease).unwrap(), "instance A takes the oldest");

    let mut reads = 0;
    let stale_then_fresh = |conn: &mut matchmaker::db::DbConnection| {
        reads += 1;
        if reads == 1 {
            return Ok(Some(ids[0].clone())); // read before instance A's claim was committed
        }
        messages::oldest_due(conn, now)
    };
    let claimed = messages::claim_first(&mut conn, "instance-b", now, lease, stale_then_fresh).unwrap();
    assert_eq!(claimed.as_deref(), Some(ids[1].as_str()), "instance B moves on to the next due message");
    let mut held = |id: &str| messages::find(&mut conn, id).unwrap().unwrap().lease_owner;
    assert_eq!(held(&ids[0]).as_deref(), Some("instance-a"));
    assert_eq!(held(&ids[1]).as_deref(), Some("instance-b"));

    // Nothing left due: a further claim finds nothing, however many reads it is allowed.
    assert_eq!(messages::claim_due(&mut conn, "instance-c", now, lease).unwrap().map(|m| m.id), None);
}
