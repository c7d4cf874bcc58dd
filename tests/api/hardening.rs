//! What a black-box probe found, each reproduced: a search that stopped the process, slow bodies that held
//! connections for ever, NUL bytes that reached PostgreSQL, an import that stored what the API refuses and was not
//! atomic, addresses the mailer refuses, a replay that ignored an unlinked portal, a write-only portal reading
//! profiles, cursors that wrapped, a database file others could read, and the report of rows stored before.

use std::time::Duration;

use diesel::RunQueryDsl;
use matchmaker::auth::ClientScope;
use matchmaker::config::DatabaseUrl;
use reqwest::Method;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::cli::{Server, matchmaker};
use crate::helpers::{ADMIN_EMAIL, Backend, FIXTURE_PASSWORD, TestApp, TestDb, studio};
use crate::on_both_backends;

on_both_backends!(
    nul_bytes_are_refused_where_requests_are_parsed,
    the_import_checks_rows_like_the_api_and_stores_all_or_nothing,
    contact_addresses_are_ones_the_mailer_can_send_to,
    a_replay_answers_only_what_the_caller_may_still_see,
    a_write_only_portal_gets_no_profile_back,
    cursors_that_we_could_not_have_given_out_are_refused,
    stored_rows_the_new_rules_refuse_are_reported_and_can_be_fixed,
);

fn assert_problem(reply: &crate::helpers::Reply, status: u16, pointer: Option<&str>) {
    assert_eq!(reply.status, status, "{}", reply.text());
    assert_eq!(reply.header("content-type").as_deref(), Some("application/problem+json"), "{}", reply.text());
    if let Some(p) = pointer {
        assert!(reply.error_pointers().iter().any(|e| e == p), "{p} in {}", reply.text());
    }
}

/// A `matchmaker serve` child on `db`, with the database's keys; the caller signs in as the seeded administrator.
async fn child_on(db: &TestDb, dir: &std::path::Path, extra: &[(&str, &str)]) -> (Server, String) {
    let url = match &db.url {
        DatabaseUrl::Sqlite(p) => p.display().to_string(),
        DatabaseUrl::Postgres(u) => u.clone(),
    };
    let mut envs = vec![
        ("DATABASE_URL", url.as_str()),
        ("MATCHMAKER_JWT_KEY", db.key_pem.as_str()),
        ("MATCHMAKER_UNSUBSCRIBE_KEY", db.unsubscribe_key.as_str()),
        ("MATCHMAKER_SCHEDULER", "off"),
    ];
    envs.extend_from_slice(extra);
    let server = Server::start(&envs, dir).unwrap();
    let reply = crate::helpers::http_client()
        .post(format!("{}/v1/auth/token", server.base))
        .form(&[("grant_type", "password"), ("username", ADMIN_EMAIL), ("password", FIXTURE_PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 200);
    let token = reply.json::<Value>().await.unwrap()["access_token"].as_str().unwrap().to_owned();
    (server, token)
}

/// One `GET /v1/projects?q=a+a+…` with 9,000 words used to overflow a worker's stack and abort the process (from
/// about 1,000 words SQLite answered 500): every word added a nested condition. Searches are now bounded.
async fn huge_searches_are_refused_and_the_process_lives(backend: Backend) {
    let Some(db) = TestDb::new(backend) else { return };
    let db = db.seed();
    let dir = tempfile::tempdir().unwrap();
    let (mut server, token) = child_on(&db, dir.path(), &[]).await;
    let client = crate::helpers::http_client();
    let get = async |path: String| {
        let r = client.get(format!("{}{path}", server.base)).bearer_auth(&token).send().await.unwrap();
        let status = r.status().as_u16();
        (status, r.json::<Value>().await.unwrap_or(Value::Null))
    };
    let nine_thousand = vec!["a"; 9000].join("+");
    for path in [
        format!("/v1/projects?q={nine_thousand}"),
        format!("/v1/members?q={nine_thousand}"),
        format!("/v1/projects?q={}", vec!["a"; 1000].join("+")),
        // Within 200 characters but eleven different words once folded.
        "/v1/projects?q=k1-k2-k3-k4-k5-k6-k7-k8-k9-k10-k11".to_owned(),
        "/v1/members?q=k1-k2-k3-k4-k5-k6-k7-k8-k9-k10-k11".to_owned(),
    ] {
        let (status, body) = get(path.clone()).await;
        assert_eq!(status, 422, "{path}: {body}");
        assert_eq!(body["errors"][0]["pointer"], "?q", "{body}");
    }
    let (status, body) = get("/v1/projects?q=k1+k2+k3+k4+k5+k6+k7+k8+k9+k10".to_owned()).await;
    assert_eq!(status, 200, "ten words are fine: {body}");
    assert!(server.child.try_wait().unwrap().is_none(), "the process is still running:\n{}", server.log());
    let (status, _) = get("/health/live".to_owned()).await;
    assert_eq!(status, 200);
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn huge_searches_are_refused_and_the_process_lives_sqlite() {
    huge_searches_are_refused_and_the_process_lives(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn huge_searches_are_refused_and_the_process_lives_postgres() {
    huge_searches_are_refused_and_the_process_lives(Backend::Postgres).await;
}

/// Open a connection, send `head` and the first byte of a body it announced, then trickle a byte every 300 ms.
/// Returns what the server answered and whether it closed the connection, within `patience`.
async fn slow_client(addr: &str, head: String, patience: Duration) -> (String, bool) {
    let drip: &[u8] = if head.contains("chunked") { b"1\r\n \r\n" } else { b" " };
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    let deadline = tokio::time::Instant::now() + patience;
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        // Keep sending, as a slow client does, until the server answers or gives up on us.
        let _ = stream.write_all(drip).await;
        match tokio::time::timeout(Duration::from_millis(300), stream.read(&mut buf)).await {
            Ok(Ok(0)) => return (String::from_utf8_lossy(&answer).into_owned(), true),
            Ok(Ok(n)) => answer.extend_from_slice(&buf[..n]),
            Ok(Err(_)) => return (String::from_utf8_lossy(&answer).into_owned(), true),
            Err(_) => {}
        }
        if tokio::time::Instant::now() > deadline {
            return (String::from_utf8_lossy(&answer).into_owned(), false);
        }
    }
}

/// Clients that announced a large body and sent it a byte at a time kept their connections (and the handlers
/// waiting on them) indefinitely, until descriptors ran out. A body now has a deadline, connections are capped, and
/// the server answers others again as soon as the slow ones are cut off.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_bodies_are_cut_off_and_the_server_serves_again() {
    let app = TestApp::spawn_with(Backend::Sqlite, |s| {
        s.workers = 1;
        s.http.max_connections = Some(4);
        s.http.body_deadline.initial = Duration::from_secs(1);
        s.http.body_deadline.min_rate = 1 << 20;
    })
    .await
    .unwrap();
    let addr = app.base.trim_start_matches("http://").to_owned();
    let token = app.as_admin().request(Method::GET, "/").build().unwrap();
    let bearer = token.headers()["authorization"].to_str().unwrap().to_owned();
    let member = format!(
        "POST /v1/members HTTP/1.1\r\nHost: {addr}\r\nAuthorization: {bearer}\r\n\
         Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n{{"
    );
    let chunked = format!(
        "POST /v1/members HTTP/1.1\r\nHost: {addr}\r\nAuthorization: {bearer}\r\n\
         Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n1\r\n{{\r\n"
    );
    let token_form = format!(
        "POST /v1/auth/token HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Content-Length: 5000\r\n\r\ngrant_type=password"
    );
    let patience = Duration::from_secs(15);
    // Four slow clients fill every connection the instance allows; a fifth request waits for one to be freed.
    let slow: Vec<_> = [member.clone(), member, chunked, token_form]
        .into_iter()
        .map(|head| {
            let addr = addr.clone();
            tokio::spawn(async move { slow_client(&addr, head, patience).await })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let health = crate::helpers::http_client()
        .get(app.url("/health/live"))
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .expect("the server answers again once the slow clients are cut off");
    assert_eq!(health.status(), 200);
    for (i, handle) in slow.into_iter().enumerate() {
        let (answer, closed) = handle.await.unwrap();
        assert!(closed, "slow client {i} was cut off; it got: {answer}");
        assert!(answer.starts_with("HTTP/1.1 408"), "slow client {i}: {answer}");
    }
}

async fn nul_bytes_are_refused_where_requests_are_parsed(app: TestApp) {
    let anonymous = app.anonymous();
    for form in [
        [("grant_type", "password"), ("username", "a\0b@example.org"), ("password", "x")],
        [("grant_type", "client_credentials"), ("client_id", "x\0y"), ("client_secret", "x")],
    ] {
        let reply = anonymous.send(anonymous.request(Method::POST, "/v1/auth/token").form(&form)).await;
        assert_eq!(reply.status, 400, "{}", reply.text());
        assert_eq!(reply.json()["error"], "invalid_request");
    }
    let (member, path, _) = app.create_member(&studio("Atelier Nul")).await;
    for path in [
        "/v1/suggestions/a%00b".to_owned(),
        "/v1/digests/a%00b".to_owned(),
        "/v1/clients/a%00b".to_owned(),
        "/v1/matching/runs/a%00b".to_owned(),
        "/v1/members/a%00b".to_owned(),
    ] {
        assert_problem(&app.get(&path).await, 404, None);
    }
    for method in [Method::PUT, Method::DELETE] {
        let reply = app.send(app.request(method, &format!("{path}/portals/x%00y"))).await;
        assert_problem(&reply, 404, None);
    }
    for (query, pointer) in
        [("/v1/audit?actor=a%00b", "?actor"), ("/v1/audit?target=%00", "?target"), ("/v1/members?q=a%00", "?q")]
    {
        assert_problem(&app.get(query).await, 422, Some(pointer));
    }
    let mut body = studio("Atelier\u{0}Nul");
    body["offers"][0]["term"] = json!("3D\u{0}modelling");
    let reply = app.post("/v1/members", &body).await;
    assert_problem(&reply, 422, Some("/name"));
    assert_problem(&reply, 422, Some("/offers/0/term"));
    assert_eq!(app.all_members().await.len(), 1, "nothing was stored: {member}");
}

/// The calls' export, with the header of the real one.
fn export(rows: &[[&str; 4]]) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(["identifier", "title", "reference", "deadline", "description", "action_type"]).unwrap();
    for [identifier, title, reference, description] in rows {
        w.write_record([*identifier, *title, *reference, "2027-03-04T17:00:00", *description, ""]).unwrap();
    }
    w.into_inner().unwrap()
}

async fn import(app: &TestApp, data: Vec<u8>) -> crate::helpers::Reply {
    app.send(app.request(Method::POST, "/v1/projects/import").header("content-type", "text/csv").body(data)).await
}

async fn the_import_checks_rows_like_the_api_and_stores_all_or_nothing(app: TestApp) {
    let long = "X".repeat(1_000_000);
    let data = export(&[
        ["CREA-CULT-2027-COOP", "Line\r\nbreak", "ref-crlf", "<p>text</p>"],
        ["CREA-CULT-2027-COOP", "Bell\u{7} in the title", "ref-control", ""],
        [&long, "A very long identifier", "ref-long-id", ""],
        ["CREA-CULT-2027-COOP", "A very long reference", &long, ""],
        ["CREA/CULT 2027#LAB?x", "Odd identifier", "ref-odd", "<div><p>Design &amp; architecture</p></div>"],
        ["CREA-CULT-2027-COOP", "Cooperation projects", "ref-ok", "<p>Heritage</p><script>alert(1)</script>"],
    ]);
    let reply = import(&app, data).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let summary = reply.json();
    assert_eq!(summary["created"], 2, "{summary}");
    let skipped = summary["skipped"].as_array().unwrap();
    let reason = |reference: &str| {
        skipped
            .iter()
            .find(|s| s["reference"].as_str().is_some_and(|r| r.starts_with(reference)))
            .map(|s| s["reason"].as_str().unwrap().to_owned())
            .unwrap_or_else(|| panic!("{reference} was not skipped: {summary}"))
    };
    assert!(reason("ref-crlf").contains("title: must be a single line"), "{summary}");
    assert!(reason("ref-control").contains("title: must not contain control characters"), "{summary}");
    assert!(reason("ref-long-id").contains("call_id: must have at most 200 characters"), "{summary}");
    assert!(reason("XXXX").starts_with("reference: must have at most 200 characters"), "{summary}");
    assert!(summary.to_string().len() < 10_000, "the report does not echo a megabyte back");

    // The odd identifier names no creative strand and nothing of the cluster's is read from it: stored, but left out.
    let mut items = app.get("/v1/projects?limit=100").await.json()["items"].as_array().unwrap().clone();
    let left_out = app.get("/v1/projects?limit=100&left_out=true").await.json();
    assert_eq!(left_out["items"].as_array().unwrap().len(), 1, "{left_out}");
    items.extend(left_out["items"].as_array().unwrap().iter().cloned());
    assert_eq!(items.len(), 2);
    let odd = items.iter().find(|p| p["title"] == "Odd identifier").unwrap();
    assert_eq!(
        odd["source_url"],
        "https://ec.europa.eu/info/funding-tenders/opportunities/portal/screen/opportunities/topic-details/\
         crea%2Fcult%202027%23lab%3Fx"
    );
    assert_eq!(odd["description"], "Design & architecture");
    let ok = items.iter().find(|p| p["title"] == "Cooperation projects").unwrap();
    assert_eq!(ok["description"], "Heritage", "scripts are not text");
    // What the import stored can be edited like any project.
    let path = format!("/v1/projects/{}", odd["id"].as_str().unwrap());
    let reply = app.patch(&path, &json!({"description": "edited"}), "*").await;
    assert_eq!(reply.status, 200, "{}", reply.text());

    // A file whose storing fails midway stores none of its rows.
    let mut conn = app.pool.get().unwrap();
    let trigger = match app.backend {
        Backend::Sqlite => vec![
            "CREATE TRIGGER refuse_boom BEFORE INSERT ON projects WHEN NEW.title = 'Boom' \
             BEGIN SELECT RAISE(ABORT, 'boom'); END"
                .to_owned(),
        ],
        Backend::Postgres => vec![
            "CREATE FUNCTION refuse_boom() RETURNS trigger AS $$ BEGIN IF NEW.title = 'Boom' THEN \
             RAISE EXCEPTION 'boom'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql"
                .to_owned(),
            "CREATE TRIGGER refuse_boom BEFORE INSERT ON projects FOR EACH ROW EXECUTE FUNCTION refuse_boom()"
                .to_owned(),
        ],
    };
    for sql in trigger {
        diesel::sql_query(sql).execute(&mut conn).unwrap();
    }
    drop(conn);
    let data = export(&[
        ["CREA-CULT-2027-COOP", "First of three", "ref-a", ""],
        ["CREA-CULT-2027-COOP", "Boom", "ref-b", ""],
        ["CREA-CULT-2027-COOP", "Third of three", "ref-c", ""],
    ]);
    let reply = import(&app, data).await;
    assert_eq!(reply.status, 500, "{}", reply.text());
    let count = async |query: &str| {
        app.get(&format!("/v1/projects?limit=100{query}")).await.json()["items"].as_array().unwrap().len()
    };
    let stored = count("").await + count("&left_out=true").await;
    assert_eq!(stored, 2, "nothing of the failed file was stored");
}

async fn contact_addresses_are_ones_the_mailer_can_send_to(app: TestApp) {
    for address in ["\"x,y\"@b.lu", "a@[127.0.0.1]", "\"<script>\"@b.lu"] {
        let mut body = studio("Atelier Adresse");
        body["contact_email"] = json!(address);
        assert_problem(&app.post("/v1/members", &body).await, 422, Some("/contact_email"));
    }
    let (_, path, etag) = app.create_member(&studio("Atelier Adresse")).await;
    let reply = app.patch(&path, &json!({"contact_email": "a@[127.0.0.1]"}), &etag).await;
    assert_problem(&reply, 422, Some("/contact_email"));
    assert!(app.all_members().await.iter().all(|m| m["contact_email"] == "hello@lumen.example.lu"));
}

async fn a_replay_answers_only_what_the_caller_may_still_see(app: TestApp) {
    let portal = app.portal(&[ClientScope::MembersRead, ClientScope::MembersWrite], &[]);
    let as_portal = app.as_(&portal.token);
    let create = || {
        as_portal.request(Method::POST, "/v1/members").header("idempotency-key", "replay-1").json(&studio("Replayed"))
    };
    let first = as_portal.send(create()).await;
    assert_eq!(first.status, 201, "{}", first.text());
    let id = first.json()["id"].as_str().unwrap().to_owned();
    let again = as_portal.send(create()).await;
    assert_eq!(again.status, 201);
    assert_eq!(again.json()["contact_email"], "hello@lumen.example.lu", "a linked portal's replay is the first answer");
    let unlink = app.send(app.request(Method::DELETE, &format!("/v1/members/{id}/portals/{}", portal.client_id))).await;
    assert_eq!(unlink.status, 204, "{}", unlink.text());
    let replay = as_portal.send(create()).await;
    assert_problem(&replay, 404, None);
    assert!(!replay.text().contains("lumen.example.lu"), "{}", replay.text());
}

async fn a_write_only_portal_gets_no_profile_back(app: TestApp) {
    let portal = app.portal(&[ClientScope::MembersWrite], &[]);
    let as_portal = app.as_(&portal.token);
    let created = as_portal.post("/v1/members", &studio("Write only")).await;
    assert_eq!(created.status, 201, "{}", created.text());
    let body = created.json();
    assert_eq!(body.as_object().unwrap().keys().collect::<Vec<_>>(), ["id"], "{body}");
    let path = created.header("location").unwrap();
    let etag = created.header("etag").unwrap();
    assert_problem(&as_portal.get(&path).await, 403, None);
    let empty = as_portal.patch(&path, &json!({}), "*").await;
    assert_eq!(empty.status, 204, "{}", empty.text());
    assert!(empty.body.is_empty());
    assert_eq!(empty.header("etag").as_deref(), Some(etag.as_str()), "an empty patch changes no version");
    let changed = as_portal.patch(&path, &json!({"city": "Differdange"}), &etag).await;
    assert_eq!(changed.status, 204, "{}", changed.text());
    assert_ne!(changed.header("etag").as_deref(), Some(etag.as_str()));
    assert_eq!(app.get(&path).await.json()["city"], "Differdange");
    // The same rule for projects the portal's member leads.
    let member = path.rsplit('/').next().unwrap();
    let project = json!({"title": "Lead by a write-only portal", "scope": "national", "lead_member_id": member});
    let created = as_portal.post("/v1/projects", &project).await;
    assert_eq!(created.status, 201, "{}", created.text());
    assert_eq!(created.json().as_object().unwrap().len(), 1);
    let project_path = created.header("location").unwrap();
    let changed = as_portal.patch(&project_path, &json!({"description": "more"}), "*").await;
    assert_eq!(changed.status, 204, "{}", changed.text());
}

async fn cursors_that_we_could_not_have_given_out_are_refused(app: TestApp) {
    use base64::Engine;
    let (member, path, _) = app.create_member(&studio("Cursors")).await;
    let cursor = |kind: &str, position: &str| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{kind}:{position}"))
    };
    let id = member["id"].as_str().unwrap();
    let first = app.get(&format!("{path}/matches/projects")).await;
    assert_eq!(first.status, 200, "{}", first.text());
    for (route, kind) in [
        (format!("/v1/members/{id}/matches/projects"), "r1"),
        (format!("/v1/members/{id}/matches/partners"), "r1"),
        ("/v1/review/queue".to_owned(), "s1"),
        ("/v1/digests".to_owned(), "d1"),
    ] {
        for position in ["18446744073709551615", "9223372036854775807", "10000001", "-1", "x\u{0}"] {
            let reply = app.get(&format!("{route}?cursor={}", cursor(kind, position))).await;
            assert_problem(&reply, 422, Some("?cursor"));
        }
    }
}

/// Rows stored before the rules got stricter are reported, and an ordinary PATCH of the fields named fixes them.
async fn stored_rows_the_new_rules_refuse_are_reported_and_can_be_fixed(app: TestApp) {
    let (member, member_path, _) = app.create_member(&studio("Atelier Avant")).await;
    let project = app.post("/v1/projects", &json!({"title": "Before the rules", "scope": "national"})).await;
    assert_eq!(project.status, 201, "{}", project.text());
    let project_id = project.json()["id"].as_str().unwrap().to_owned();
    let mut conn = app.pool.get().unwrap();
    for sql in [
        format!("UPDATE members SET contact_email = '\"x,y\"@b.lu' WHERE id = '{}'", member["id"].as_str().unwrap()),
        format!("UPDATE projects SET title = 'Line' || CHR(10) || 'break' WHERE id = '{project_id}'")
            .replace("CHR(10)", if app.backend == Backend::Sqlite { "char(10)" } else { "chr(10)" }),
    ] {
        diesel::sql_query(sql).execute(&mut conn).unwrap();
    }
    drop(conn);
    let run_check = || {
        let url = match &app.db.url {
            DatabaseUrl::Sqlite(p) => p.display().to_string(),
            DatabaseUrl::Postgres(u) => u.clone(),
        };
        let out = matchmaker().arg("check").env("DATABASE_URL", url).output().unwrap();
        (out.status.code(), String::from_utf8_lossy(&out.stdout).into_owned())
    };
    let (code, report) = run_check();
    assert_eq!(code, Some(1), "{report}");
    assert!(report.contains(&format!("member {} (Atelier Avant): contact_email:", member["id"].as_str().unwrap())));
    assert!(report.contains(&format!("project {project_id} (Line break): title: must be a single line")), "{report}");
    assert!(report.contains("2 stored rows fail"), "{report}");

    let fixed = app.patch(&member_path, &json!({"contact_email": "hello@avant.example.lu"}), "*").await;
    assert_eq!(fixed.status, 200, "{}", fixed.text());
    let fixed = app.patch(&format!("/v1/projects/{project_id}"), &json!({"title": "After the rules"}), "*").await;
    assert_eq!(fixed.status, 200, "{}", fixed.text());
    let (code, report) = run_check();
    assert_eq!(code, Some(0), "{report}");
}

/// The database holds password and secret hashes and members' addresses: like the key files, it and its `-wal` and
/// `-shm` companions are readable by their owner only, and a file made before with wider rights is narrowed.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sqlite_database_is_readable_by_its_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    app.create_member(&studio("Private")).await;
    let DatabaseUrl::Sqlite(path) = &app.db.url else { unreachable!() };
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    for suffix in ["", "-wal", "-shm"] {
        let file = std::path::PathBuf::from(format!("{}{suffix}", path.display()));
        assert_eq!(mode(&file), 0o600, "{}", file.display());
    }
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let again = app.reopen().await;
    assert_eq!(mode(path), 0o600, "narrowed at start");
    drop(again);
}
