//! The `matchmaker` command itself.

use std::process::Command;

pub fn matchmaker() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_matchmaker"));
    cmd.env_remove("DATABASE_URL").env_remove("RUST_LOG");
    cmd
}

#[test]
fn unknown_database_scheme_is_refused_without_creating_anything() {
    let dir = tempfile::tempdir().unwrap();
    let out =
        matchmaker().current_dir(dir.path()).arg("migrate").env("DATABASE_URL", "postgress://db/x").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("postgress://") && stderr.contains("not supported"), "{stderr}");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "no file was created");
}

#[test]
fn migrate_defaults_to_a_sqlite_file_under_data() {
    let dir = tempfile::tempdir().unwrap();
    let out = matchmaker().current_dir(dir.path()).arg("migrate").output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(dir.path().join("data/matchmaker.db").is_file());
}

#[test]
fn unreachable_postgres_fails_with_its_own_message() {
    let out = matchmaker()
        .arg("migrate")
        .env("DATABASE_URL", "postgres://nobody:secret-pw@127.0.0.1:1/none")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("127.0.0.1") || stderr.to_lowercase().contains("connect"), "{stderr}");
    assert!(!stderr.contains("secret-pw"), "the password is not logged: {stderr}");
}

/// A `matchmaker serve` child process and everything it logs.
#[derive(Debug)]
pub struct Server {
    pub child: std::process::Child,
    pub base: String,
    log: std::sync::Arc<std::sync::Mutex<String>>,
}

impl Server {
    pub fn start(envs: &[(&str, &str)], dir: &std::path::Path) -> Result<Self, String> {
        use std::io::BufRead;
        let mut cmd = matchmaker();
        cmd.current_dir(dir)
            .arg("serve")
            .env("MATCHMAKER_ADDR", "127.0.0.1:0")
            .env("MATCHMAKER_LOG_FORMAT", "json")
            .env("RUST_LOG", "info")
            // A served test instance never reaches the internet: the calls sync is off and points at loopback.
            .env("MATCHMAKER_CALLS_SCHEDULE", "off")
            .env("MATCHMAKER_CALLS_SOURCE_URL", "http://127.0.0.1:9/search")
            .env_remove("MATCHMAKER_JWT_KEY")
            .env_remove("MATCHMAKER_UNSUBSCRIBE_KEY")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped());
        for (k, v) in envs {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().unwrap();
        let stderr = child.stderr.take().unwrap();
        let log = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stderr).lines().map_while(Result::ok) {
                if line.contains("\"listening\"") {
                    let v: serde_json::Value = serde_json::from_str(&line).unwrap();
                    let _ = tx.send(Ok(v["fields"]["address"].as_str().unwrap().to_owned()));
                }
                sink.lock().unwrap().push_str(&line);
                sink.lock().unwrap().push('\n');
            }
            let _ = tx.send(Err(()));
        });
        match rx.recv_timeout(std::time::Duration::from_secs(60)) {
            Ok(Ok(base)) => Ok(Self { child, base, log }),
            _ => {
                let _ = child.wait();
                std::thread::sleep(std::time::Duration::from_millis(200));
                let text = log.lock().unwrap().clone();
                Err(text)
            }
        }
    }

    pub fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    pub fn stop(mut self) -> String {
        let _ = self.child.kill();
        let _ = self.child.wait();
        std::thread::sleep(std::time::Duration::from_millis(200));
        self.log()
    }
}

async fn token(client: &reqwest::Client, base: &str, form: &[(&str, &str)]) -> (u16, serde_json::Value) {
    let r = client.post(format!("{base}/v1/auth/token")).form(form).send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

#[tokio::test]
async fn first_run_on_sqlite_makes_a_one_time_admin_and_logs_no_secret() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&[], dir.path()).unwrap();
    let file = dir.path().join("data/initial-admin.txt");
    let text = std::fs::read_to_string(&file).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
    }
    let password = text.lines().find_map(|l| l.strip_prefix("password: ")).unwrap().trim().to_owned();
    assert!(text.contains("login:    admin@localhost"));
    assert!(server.log().contains("initial-admin.txt"), "the log names the file");
    assert!(dir.path().join("data/jwt-signing-key.pem").is_file(), "a development key is kept beside the database");
    assert!(server.log().contains("NO SIGNING KEY CONFIGURED"));

    let client = crate::helpers::http_client();
    let base = server.base.clone();
    let (status, _) = token(
        &client,
        &base,
        &[("grant_type", "password"), ("username", "admin@localhost"), ("password", "wrong-guess-here")],
    )
    .await;
    assert_eq!(status, 400);
    let (status, body) =
        token(&client, &base, &[("grant_type", "password"), ("username", "admin@localhost"), ("password", &password)])
            .await;
    assert_eq!(status, 200);
    let first = body["access_token"].as_str().unwrap().to_owned();
    let blocked = client.get(format!("{base}/v1/users")).bearer_auth(&first).send().await.unwrap();
    assert_eq!(blocked.status().as_u16(), 403, "a one-time password only changes the password");
    let changed = client
        .post(format!("{base}/v1/auth/password"))
        .bearer_auth(&first)
        .json(&serde_json::json!({"current_password": password, "new_password": "copper-meadow-whistles-at-dawn"}))
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status().as_u16(), 204);
    assert!(!file.exists(), "the credentials file is deleted once the password is changed");
    let (status, body) = token(
        &client,
        &base,
        &[("grant_type", "password"), ("username", "admin@localhost"), ("password", "copper-meadow-whistles-at-dawn")],
    )
    .await;
    assert_eq!(status, 200);
    let admin = body["access_token"].as_str().unwrap().to_owned();

    // A client made over the API, and its token.
    let made: serde_json::Value = client
        .post(format!("{base}/v1/clients"))
        .bearer_auth(&admin)
        .json(&serde_json::json!({"name": "Log Check Portal", "scopes": ["members:read"]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let client_id = made["client"]["client_id"].as_str().unwrap().to_owned();
    let client_secret = made["client_secret"].as_str().unwrap().to_owned();
    let (status, body) = token(
        &client,
        &base,
        &[("grant_type", "client_credentials"), ("client_id", &client_id), ("client_secret", &client_secret)],
    )
    .await;
    assert_eq!(status, 200);
    let portal_token = body["access_token"].as_str().unwrap().to_owned();
    let (status, _) = token(
        &client,
        &base,
        &[("grant_type", "client_credentials"), ("client_id", &client_id), ("client_secret", "nope")],
    )
    .await;
    assert_eq!(status, 401);

    // A restart does not make a second administrator, and keeps the key.
    let log = server.stop();
    let again = Server::start(&[], dir.path()).unwrap();
    let (status, _) = token(
        &client,
        &again.base,
        &[("grant_type", "password"), ("username", "admin@localhost"), ("password", "copper-meadow-whistles-at-dawn")],
    )
    .await;
    assert_eq!(status, 200);
    let still = client.get(format!("{}/v1/users", again.base)).bearer_auth(&admin).send().await.unwrap();
    assert_eq!(still.status().as_u16(), 200, "tokens survive a restart: the key is kept");
    let log = log + &again.stop();

    assert!(log.contains("signed in") && log.contains("token issued") && log.contains("client created"), "{log}");
    for secret in
        [&password, "copper-meadow-whistles-at-dawn", "wrong-guess-here", &client_secret, &first, &admin, &portal_token]
    {
        assert!(!log.contains(secret), "a secret reached the log");
    }
}

#[tokio::test]
async fn postgres_without_a_key_refuses_to_start_and_says_what_to_set() {
    let Some(admin_url) = crate::helpers::postgres_admin_url() else { return };
    let db = crate::helpers::TestDb::postgres(&admin_url);
    let url = match &db.url {
        matchmaker::config::DatabaseUrl::Postgres(u) => u.clone(),
        matchmaker::config::DatabaseUrl::Sqlite(_) => unreachable!(),
    };
    let dir = tempfile::tempdir().unwrap();
    let refused = Server::start(&[("DATABASE_URL", &url)], dir.path()).unwrap_err();
    assert!(refused.contains("MATCHMAKER_JWT_KEY") && refused.contains("matchmaker keys new"), "{refused}");

    let key = String::from_utf8(matchmaker().args(["keys", "new"]).output().unwrap().stdout).unwrap();
    let refused = Server::start(&[("DATABASE_URL", &url), ("MATCHMAKER_JWT_KEY", &key)], dir.path()).unwrap_err();
    assert!(refused.contains("MATCHMAKER_UNSUBSCRIBE_KEY"), "{refused}");
    let unsubscribe = matchmaker::digest::token::generate().unwrap();
    let server = Server::start(
        &[("DATABASE_URL", &url), ("MATCHMAKER_JWT_KEY", &key), ("MATCHMAKER_UNSUBSCRIBE_KEY", &unsubscribe)],
        dir.path(),
    )
    .unwrap();
    assert!(server.log().contains("matchmaker user add"), "the log says how to create the first admin");
    assert!(!dir.path().join("data").exists(), "nothing is written beside a PostgreSQL install");
    let log = server.stop();
    assert!(!log.contains("PRIVATE KEY"));
}

#[test]
fn keys_new_prints_a_usable_ed25519_key() {
    let out = matchmaker().args(["keys", "new"]).output().unwrap();
    assert!(out.status.success());
    let pem = String::from_utf8(out.stdout).unwrap();
    assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"));
    let ring = matchmaker::auth::keys::KeyRing::from_pems(&pem, "").unwrap();
    assert_eq!(ring.jwks().keys.len(), 1);
}

crate::on_both_backends!(cli_adds_users_and_clients_that_can_sign_in);

async fn cli_adds_users_and_clients_that_can_sign_in(app: crate::helpers::TestApp) {
    let url = match &app.db.url {
        matchmaker::config::DatabaseUrl::Postgres(u) => u.clone(),
        matchmaker::config::DatabaseUrl::Sqlite(p) => p.display().to_string(),
    };
    let out = matchmaker()
        .args(["client", "add", "--name", "Atelier Portal", "--scopes", "members:read,members:write"])
        .env("DATABASE_URL", &url)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let id = stdout.lines().find_map(|l| l.strip_prefix("client_id: ")).unwrap();
    let secret = stdout.lines().find_map(|l| l.strip_prefix("client_secret: ")).unwrap();
    assert!(!String::from_utf8_lossy(&out.stderr).contains(secret), "the secret is printed once, not logged");
    let reply =
        app.token_request(&[("grant_type", "client_credentials"), ("client_id", id), ("client_secret", secret)]).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json()["scope"], "members:read members:write");

    // Password from the environment.
    let out = matchmaker()
        .args(["user", "add", "--email", "staff.one@lux.lu", "--role", "staff"])
        .env("DATABASE_URL", &url)
        .env("MATCHMAKER_PASSWORD", "granite-harbour-lanterns-glow")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    app.sign_in("staff.one@lux.lu", "granite-harbour-lanterns-glow").await;

    // Password from standard input; a member account needs its organisation.
    let (member, _, _) = app.create_member(&crate::helpers::studio("CLI Member")).await;
    let mut child = matchmaker()
        .args([
            "user",
            "add",
            "--email",
            "owner@cli.lu",
            "--role",
            "member",
            "--member",
            member["id"].as_str().unwrap(),
        ])
        .env("DATABASE_URL", &url)
        .env_remove("MATCHMAKER_PASSWORD")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        child.stdin.take().unwrap().write_all(b"violet-compass-drifts-north\n").unwrap();
    }
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    app.sign_in("owner@cli.lu", "violet-compass-drifts-north").await;

    for (args, password) in [
        (vec!["--email", "weak@cli.lu", "--role", "staff"], "password1234"),
        (vec!["--email", "m@cli.lu", "--role", "member"], "granite-harbour-lanterns-glow"),
        (vec!["--email", "staff.one@lux.lu", "--role", "staff"], "granite-harbour-lanterns-glow"),
    ] {
        let out = matchmaker()
            .args(["user", "add"])
            .args(&args)
            .env("DATABASE_URL", &url)
            .env("MATCHMAKER_PASSWORD", password)
            .output()
            .unwrap();
        assert!(!out.status.success(), "{args:?} should be refused");
    }
    // A member erased from the command line is gone, its account with it; an unknown id is refused.
    let out = matchmaker()
        .args(["member", "erase", member["id"].as_str().unwrap()])
        .env("DATABASE_URL", &url)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(app.get(&format!("/v1/members/{}", member["id"].as_str().unwrap())).await.status, 404);
    let out = matchmaker()
        .args(["member", "erase", member["id"].as_str().unwrap()])
        .env("DATABASE_URL", &url)
        .output()
        .unwrap();
    assert!(!out.status.success(), "a second erase finds nothing");
    let audit = app.get("/v1/audit?actor=cli").await.json();
    assert_eq!(audit["items"].as_array().unwrap().len(), 4, "CLI changes are audited");
    let users = app.get("/v1/users?role=member").await.json();
    assert!(!users["items"].as_array().unwrap().iter().any(|u| u["email"] == "owner@cli.lu"), "{users}");
}

crate::on_both_backends!(a_backup_restores_with_its_keys);

async fn a_backup_restores_with_its_keys(app: crate::helpers::TestApp) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("restored/matchmaker.db");
    let Some(db) = app.db.url.sqlite_path().map(std::path::Path::to_path_buf) else {
        // PostgreSQL is backed up with its own tools; the command says so and writes nothing.
        let matchmaker::config::DatabaseUrl::Postgres(url) = &app.db.url else { unreachable!() };
        let out = matchmaker().args(["backup"]).arg(&file).env("DATABASE_URL", url).output().unwrap();
        assert!(!out.status.success());
        assert!(String::from_utf8_lossy(&out.stderr).contains("pg_dump"), "{}", String::from_utf8_lossy(&out.stderr));
        assert!(!file.exists());
        return;
    };
    // A SQLite deployment without configured keys keeps them beside the database.
    std::fs::write(db.with_file_name("jwt-signing-key.pem"), &app.db.key_pem).unwrap();
    std::fs::write(db.with_file_name("unsubscribe.key"), &app.db.unsubscribe_key).unwrap();
    let (member, _, _) = app.create_member(&crate::helpers::studio("Backup Studio")).await;
    let id: uuid::Uuid = member["id"].as_str().unwrap().parse().unwrap();
    let link = format!("/v1/unsubscribe?token={}", app.jobs.mailer.key.token(id));

    // While the instance serves: a consistent copy, private, with both keys beside it.
    let backup = || {
        matchmaker()
            .args(["backup"])
            .arg(&file)
            .env("DATABASE_URL", &db)
            .env_remove("MATCHMAKER_JWT_KEY")
            .env_remove("MATCHMAKER_UNSUBSCRIBE_KEY")
            .output()
            .unwrap()
    };
    let out = backup();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("unsubscribe.key") && stdout.contains("jwt-signing-key.pem"), "{stdout}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for name in ["matchmaker.db", "unsubscribe.key", "jwt-signing-key.pem"] {
            let mode = std::fs::metadata(dir.path().join("restored").join(name)).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "{name}");
        }
    }
    assert!(!backup().status.success(), "an existing backup is never overwritten");

    // Restored: served from the copy, the member is there and the link from an old digest still works.
    let server = Server::start(&[("DATABASE_URL", file.to_str().unwrap())], dir.path()).unwrap();
    let page = reqwest::get(format!("{}{link}", server.base)).await.unwrap();
    assert_eq!(page.status().as_u16(), 200);
    assert!(page.text().await.unwrap().contains("Backup Studio"));
    server.stop();
}

#[test]
fn commands_other_than_serve_and_migrate_never_make_a_database() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("elsewhere/matchmaker.db");
    for args in [
        vec!["user", "add", "--email", "a@b.lu", "--role", "staff"],
        vec!["check"],
        vec!["member", "erase", "0193c6e4-6b2a-73d0-9f1e-2b4a8c5d7e10"],
    ] {
        let out = matchmaker()
            .args(&args)
            .current_dir(dir.path())
            .env("DATABASE_URL", &missing)
            .env("MATCHMAKER_PASSWORD", "granite-harbour-lanterns-glow")
            .output()
            .unwrap();
        assert!(!out.status.success(), "{args:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("no database at"),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!missing.exists() && !dir.path().join("data").exists(), "{args:?} made a database");
    }
}

#[tokio::test]
async fn metrics_are_served_on_their_own_listener() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start(&[("MATCHMAKER_METRICS_ADDR", "127.0.0.1:0")], dir.path()).unwrap();
    let line = server.log().lines().find(|l| l.contains("metrics listening")).map(str::to_owned).unwrap();
    let metrics =
        serde_json::from_str::<serde_json::Value>(&line).unwrap()["fields"]["address"].as_str().unwrap().to_owned();
    let client = crate::helpers::http_client();
    assert_eq!(client.get(format!("{}/health/live", server.base)).send().await.unwrap().status(), 200);
    let refused = client.get(format!("{}/v1/members/{}", server.base, uuid::Uuid::now_v7())).send().await.unwrap();
    assert_eq!(refused.status(), 401);
    assert_eq!(client.get(format!("{}/metrics", server.base)).send().await.unwrap().status(), 404, "not on the API");

    let scraped = client.get(&metrics).send().await.unwrap();
    assert_eq!(scraped.status(), 200);
    assert!(scraped.headers()["content-type"].to_str().unwrap().starts_with("text/plain; version=0.0.4"));
    let text = scraped.text().await.unwrap();
    for wanted in [
        r#"matchmaker_http_requests_total{method="GET",route="/health/live",status="200"} 1"#,
        r#"matchmaker_http_requests_total{method="GET",route="/v1/members/{id}",status="401"} 1"#,
        r#"matchmaker_http_request_duration_seconds_bucket{method="GET",route="/health/live",le="0.001"}"#,
        r#"matchmaker_state{what="index_members"} 0"#,
        r#"matchmaker_state{what="change_log_behind"} 0"#,
    ] {
        assert!(text.contains(wanted), "{wanted} in\n{text}");
    }
    let concepts = text.lines().find_map(|l| l.strip_prefix(r#"matchmaker_state{what="index_concepts"} "#)).unwrap();
    assert!(concepts.parse::<i64>().unwrap() > 1000, "{concepts}");

    // SIGTERM: a clean exit.
    let pid = server.child.id().to_string();
    assert!(std::process::Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let status = loop {
        if let Some(status) = server.child.try_wait().unwrap() {
            break status;
        }
        assert!(std::time::Instant::now() < deadline, "it did not stop:\n{}", server.log());
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    assert!(status.success(), "{status}\n{}", server.stop());
}
