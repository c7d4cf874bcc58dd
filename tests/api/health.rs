//! Liveness and readiness.

use diesel::{Connection, PgConnection, RunQueryDsl};
use matchmaker::config::DatabaseUrl;

use crate::helpers::TestApp;
use crate::on_both_backends;

on_both_backends!(ready_tells_whether_the_database_answers);

async fn ready_tells_whether_the_database_answers(app: TestApp) {
    assert_eq!(app.get("/health/live").await.json(), serde_json::json!({"status": "ok"}));
    let ready = app.get("/health/ready").await;
    assert_eq!(ready.status, 200);
    // The test instance has no SMTP server: it says so, without secrets; nothing else is degraded.
    let parts: Vec<String> =
        ready.json()["degraded"].as_array().unwrap().iter().map(|d| d["part"].as_str().unwrap().to_owned()).collect();
    assert!(parts.iter().all(|p| p == "smtp" || p == "scheduler"), "{parts:?}");
    assert_eq!(parts.contains(&"smtp".to_owned()), app.jobs.mailer.settings.smtp_url.is_none());

    // Make the database unreachable: drop it (PostgreSQL) or move its file away (SQLite).
    match &app.db.url {
        DatabaseUrl::Postgres(url) => {
            let name = url::Url::parse(url).unwrap().path().trim_start_matches('/').to_owned();
            let mut admin = PgConnection::establish(&crate::helpers::postgres_admin_url().unwrap()).unwrap();
            diesel::sql_query(format!("DROP DATABASE \"{name}\" WITH (FORCE)")).execute(&mut admin).unwrap();
        }
        DatabaseUrl::Sqlite(path) => {
            // Someone moves the database file away under the running server.
            std::fs::rename(path, path.with_extension("moved")).unwrap();
        }
    }
    let reply = app.get("/health/ready").await;
    assert_eq!(reply.status, 503, "{}", reply.text());
    assert_eq!(reply.json()["type"], "/problems/unavailable");
    assert!(!reply.text().contains("postgres://"), "no connection details leak");
    assert_eq!(app.get("/health/live").await.status, 200, "the process itself is alive");
}
