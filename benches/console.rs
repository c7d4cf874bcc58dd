//! The staff console's review queue with 1,000 pending suggestions: the first page (50 items, each with both sides'
//! cards and its explanation) rendered by the server, measured through HTTP on loopback, as a signed-in person's
//! browser asks for it. Target: under 100 ms.
//!
//! `cargo bench --bench console` (SQLite in a temp folder); `BENCH_POSTGRES_URL=postgres://…/postgres cargo bench
//! --bench console` also measures PostgreSQL (a database is created and dropped). `-- --test` is a quick smoke run.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a benchmark binary: failing loudly is what it should do")]
#![allow(clippy::print_stdout, reason = "a benchmark reports on stdout")]

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::Criterion;
use diesel::{Connection, PgConnection, RunQueryDsl};
use matchmaker::auth::{Role, keys, password};
use matchmaker::clock::SystemClock;
use matchmaker::config::{DatabaseUrl, Settings};
use matchmaker::db::{self, accounts, suggestions};
use matchmaker::review::SuggestionKind;
use matchmaker::startup::Application;
use serde_json::{Value, json};
use uuid::Uuid;

const PENDING: usize = 1_000;
const TARGET_MS: f64 = 100.0;
const EMAIL: &str = "bench-staff@example.org";
const PASSWORD: &str = "lantern-orchard-drifts-slowly";

/// A running instance on a database holding `PENDING` suggestions, and a browser signed in to its console.
struct Bench {
    base: String,
    client: reqwest::Client,
    cookie: String,
    _handle: actix_web::dev::ServerHandle,
}

fn member(i: usize) -> Value {
    let offers =
        [["3D modelling", "animation"], ["graphic design", "branding"], ["video production", "colour grading"]];
    json!({
        "name": format!("Studio {i:03}"),
        "contact_email": format!("studio{i:03}@example.lu"),
        "country": "LU",
        "city": "Luxembourg",
        "sectors": ["design", "new_media"],
        "offers": offers[i % 3].iter().map(|t| json!({"term": t, "level": 4})).collect::<Vec<_>>(),
        "needs": [{"term": offers[(i + 1) % 3][0], "priority": 4}],
        "interests": [{"term": "cultural heritage"}],
        "languages": ["fr", "en"],
        "preferred_language": "fr",
        "scopes": ["national", "european"]
    })
}

fn explanation() -> String {
    json!({
        "components": [{"name": "skills", "score": 82.0, "weight": 0.6}, {"name": "themes", "score": 60.0, "weight": 0.2},
                       {"name": "sectors", "score": 100.0, "weight": 0.1}, {"name": "scope", "score": 100.0, "weight": 0.1}],
        "matched": [
            {"concept": "mm:3d-modelling", "label": "3D modelling", "member_term": "modélisation 3D", "member_match": "synonym",
             "other_term": "3D modelling", "credit": 1.0, "relation": "skill"},
            {"concept": "mm:animation", "label": "animation", "member_term": "Animation", "member_match": "exact",
             "other_term": "animated film", "credit": 0.8, "relation": "skill"},
            {"concept": null, "label": "cultural heritage", "member_term": "cultural heritage", "member_match": "shared",
             "other_term": "cultural heritage", "credit": 0.6, "relation": "theme"}
        ],
        "missing": [{"term": "photogrammetry", "concept": "mm:photogrammetry", "label": "photogrammetry"}],
        "feedback": null
    })
    .to_string()
}

async fn post(client: &reqwest::Client, url: String, token: &str, body: &Value) -> Value {
    let r = client.post(url).bearer_auth(token).json(body).send().await.unwrap();
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
    r.json().await.unwrap()
}

fn csrf_of(html: &str) -> String {
    let at = html.find("name=\"csrf\" value=\"").unwrap() + "name=\"csrf\" value=\"".len();
    html[at..at + html[at..].find('"').unwrap()].to_owned()
}

impl Bench {
    async fn start(url: DatabaseUrl) -> Self {
        matchmaker::outbound::install_crypto_provider();
        let mut settings = Settings::for_database(url.clone());
        settings.auth.signing_key = Some(keys::generate_pem().unwrap());
        settings.mail.unsubscribe_key = Some(matchmaker::digest::token::generate().unwrap());
        settings.workers = 2;
        let pool = db::pool(&url, 2).unwrap();
        {
            let mut conn = pool.get().unwrap();
            db::migrate(&mut conn).unwrap();
            let hash = password::hash(PASSWORD).unwrap();
            accounts::insert_user(&mut conn, EMAIL, &hash, Role::Admin, None, false, chrono::Utc::now()).unwrap();
        }
        let app = Application::build(&settings, Arc::new(SystemClock)).await.unwrap();
        let base = format!("http://{}", app.addr());
        let handle = app.handle();
        tokio::spawn(app.into_server());
        let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let token = client
            .post(format!("{base}/v1/auth/token"))
            .form(&[("grant_type", "password"), ("username", EMAIL), ("password", PASSWORD)])
            .send()
            .await
            .unwrap()
            .json::<Value>()
            .await
            .unwrap()["access_token"]
            .as_str()
            .unwrap()
            .to_owned();
        // 100 members, 5 projects: each member gets 5 project and 5 partner suggestions.
        let mut members = Vec::new();
        for i in 0..100 {
            let m = post(&client, format!("{base}/v1/members"), &token, &member(i)).await;
            members.push(Uuid::parse_str(m["id"].as_str().unwrap()).unwrap());
        }
        let mut projects = Vec::new();
        for i in 0..5 {
            let body = json!({"title": format!("Heritage in 3D, call {i}"), "scope": "european", "sectors": ["design"],
                              "required_skills": [{"term": "3D modelling", "weight": 3}, {"term": "photogrammetry", "weight": 2}],
                              "deadline": "2027-03-01T16:00:00Z"});
            let p = post(&client, format!("{base}/v1/projects"), &token, &body).await;
            projects.push(Uuid::parse_str(p["id"].as_str().unwrap()).unwrap());
        }
        let mut conn = pool.get().unwrap();
        let now = chrono::Utc::now();
        let mut made = 0;
        for (i, m) in members.iter().enumerate() {
            for (j, p) in projects.iter().enumerate() {
                let row = suggestions::SuggestionRow::new_pending(
                    SuggestionKind::Project,
                    *m,
                    p.to_string(),
                    Some(*p),
                    None,
                    "bench",
                    40.0 + ((i * 7 + j) % 55) as f64,
                    explanation(),
                    "Your 3D work fits this call.".to_owned(),
                    now,
                );
                made += usize::from(suggestions::insert(&mut conn, &row, "bench").unwrap());
                let partner = members[(i + j + 1) % members.len()];
                let row = suggestions::SuggestionRow::new_pending(
                    SuggestionKind::Partner,
                    *m,
                    partner.to_string(),
                    None,
                    Some(partner),
                    "bench",
                    40.0 + ((i * 3 + j) % 55) as f64,
                    explanation(),
                    "You could work together.".to_owned(),
                    now,
                );
                made += usize::from(suggestions::insert(&mut conn, &row, "bench").unwrap());
            }
        }
        assert_eq!(made, PENDING);
        // Sign in to the console as a browser does.
        let form = client.get(format!("{base}/console/sign-in")).send().await.unwrap();
        let pre = form.headers().get("set-cookie").unwrap().to_str().unwrap().split(';').next().unwrap().to_owned();
        let csrf = csrf_of(&form.text().await.unwrap());
        let signed = client
            .post(format!("{base}/console/sign-in"))
            .header("cookie", &pre)
            .header("origin", &base)
            .form(&[("csrf", csrf.as_str()), ("email", EMAIL), ("password", PASSWORD)])
            .send()
            .await
            .unwrap();
        assert_eq!(signed.status().as_u16(), 303);
        let cookie =
            signed.headers().get("set-cookie").unwrap().to_str().unwrap().split(';').next().unwrap().to_owned();
        Self { base, client, cookie, _handle: handle }
    }

    async fn first_page(&self) -> usize {
        let r = self
            .client
            .get(format!("{}/console/queue", self.base))
            .header("cookie", &self.cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
        let html = r.text().await.unwrap();
        let items = html.matches("<li class=\"item\"").count();
        assert_eq!(items, 50, "the first page shows 50 suggestions");
        html.len()
    }
}

fn measure(c: &mut Criterion, name: &str, url: DatabaseUrl, summary: &mut Vec<String>) {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let bench = rt.block_on(Bench::start(url));
    let bytes = rt.block_on(bench.first_page());
    c.bench_function(&format!("console_queue_first_page/{name}"), |b| b.iter(|| rt.block_on(bench.first_page())));
    let mut ms: Vec<f64> = (0..200)
        .map(|_| {
            let t = Instant::now();
            rt.block_on(bench.first_page());
            t.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    ms.sort_by(f64::total_cmp);
    let (p50, p95, max) = (ms[ms.len() / 2], ms[ms.len() * 95 / 100], ms[ms.len() - 1]);
    let verdict = if p95 < TARGET_MS { "met" } else { "MISSED" };
    summary.push(format!(
        "{name}: first page of the queue ({PENDING} pending, 50 shown, {bytes} bytes): p50 {p50:.1} ms, p95 {p95:.1} ms, \
         max {max:.1} ms over 200 requests; target < {TARGET_MS} ms: {verdict}"
    ));
}

fn main() {
    let mut c = Criterion::default().configure_from_args().measurement_time(Duration::from_secs(10)).sample_size(50);
    let mut summary = Vec::new();
    let dir = tempfile::tempdir().unwrap();
    measure(&mut c, "sqlite", DatabaseUrl::Sqlite(dir.path().join("bench.db")), &mut summary);
    if let Ok(admin) = std::env::var("BENCH_POSTGRES_URL") {
        let name = format!("mm_bench_{}", Uuid::new_v4().simple());
        let mut conn = PgConnection::establish(&admin).unwrap();
        diesel::sql_query(format!("CREATE DATABASE \"{name}\"")).execute(&mut conn).unwrap();
        let mut url = url::Url::parse(&admin).unwrap();
        url.set_path(&name);
        measure(&mut c, "postgres", DatabaseUrl::Postgres(url.to_string()), &mut summary);
        let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")).execute(&mut conn);
    }
    c.final_summary();
    println!("\n== summary");
    for line in &summary {
        println!("{line}");
    }
}
