//! Spawn the real application on port 0 against a fresh database: a temp SQLite file, or a fresh PostgreSQL
//! database created from `TEST_POSTGRES_URL` and dropped afterwards. Every response goes through the contract check.

use std::sync::{Arc, LazyLock};

use chrono::{DateTime, Utc};
use diesel::{Connection, PgConnection, RunQueryDsl};
use matchmaker::auth::keys::{self, KeyRing};
use matchmaker::auth::secret::hash_client_secret;
use matchmaker::auth::token::{self, Claims};
use matchmaker::auth::{ClientScope, Role, password, scope_string};
use matchmaker::clock::{Clock, FrozenClock};
use matchmaker::config::{DatabaseUrl, Settings};
use matchmaker::db::{self, DbPool, accounts};
use matchmaker::domain::parse::ApiEnum;
use matchmaker::startup::Application;
use reqwest::header::HeaderMap;
use reqwest::{Method, RequestBuilder};
use serde_json::Value;
use uuid::Uuid;

use crate::contract;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Logs go through the test harness's capture, so only failing tests show them.
fn init_logging() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .with_test_writer()
        .try_init();
}

/// An HTTP client for tests (rustls needs the service's crypto provider installed first).
pub fn http_client() -> reqwest::Client {
    matchmaker::outbound::install_crypto_provider();
    reqwest::Client::new()
}

/// The instant tests start at.
pub fn test_epoch() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-27T08:00:00Z").unwrap().to_utc()
}

/// The PostgreSQL server for tests. Unset: the PostgreSQL half is reported as not run (and fails under CI).
pub fn postgres_admin_url() -> Option<String> {
    match std::env::var("TEST_POSTGRES_URL") {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ => {
            assert!(
                std::env::var("CI").is_err(),
                "TEST_POSTGRES_URL is not set: under CI the PostgreSQL half of the suite must run"
            );
            eprintln!(
                "\n!!!!!!!! TEST_POSTGRES_URL is not set: this PostgreSQL test DID NOT RUN. \
                 Set TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres to run it. !!!!!!!!\n"
            );
            None
        }
    }
}

/// The administrator every test database starts with (so that first-run set-up, tested on its own, stays out of
/// the way, and both backends start alike).
pub const ADMIN_EMAIL: &str = "test-admin@example.org";

/// A database that exists for one test, migrated, with one administrator, and the signing key its instances share.
pub struct TestDb {
    pub url: DatabaseUrl,
    pub key_pem: String,
    /// The key unsubscribe links are made with, shared by the database's instances.
    pub unsubscribe_key: String,
    cleanup: Cleanup,
}

enum Cleanup {
    Sqlite(#[allow(dead_code, reason = "kept alive until the test ends")] tempfile::TempDir),
    Postgres { admin_url: String, name: String },
}

impl TestDb {
    pub fn sqlite() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let url = DatabaseUrl::Sqlite(dir.path().join("matchmaker.db"));
        Self {
            url,
            key_pem: keys::generate_pem().unwrap(),
            unsubscribe_key: matchmaker::digest::token::generate().unwrap(),
            cleanup: Cleanup::Sqlite(dir),
        }
    }

    pub fn postgres(admin_url: &str) -> Self {
        let name = format!("mm_test_{}", uuid::Uuid::new_v4().simple());
        let mut admin = PgConnection::establish(admin_url).expect("TEST_POSTGRES_URL must reach PostgreSQL");
        diesel::sql_query(format!("CREATE DATABASE \"{name}\"")).execute(&mut admin).unwrap();
        let mut url = url::Url::parse(admin_url).unwrap();
        url.set_path(&name);
        Self {
            url: DatabaseUrl::Postgres(url.to_string()),
            key_pem: keys::generate_pem().unwrap(),
            unsubscribe_key: matchmaker::digest::token::generate().unwrap(),
            cleanup: Cleanup::Postgres { admin_url: admin_url.to_owned(), name },
        }
    }

    /// Migrate and add the administrator.
    pub fn seed(self) -> Self {
        let pool = db::pool(&self.url, 1).unwrap();
        let mut conn = pool.get().unwrap();
        db::migrate(&mut conn).unwrap();
        accounts::insert_user(&mut conn, ADMIN_EMAIL, &FIXTURE_HASH, Role::Admin, None, false, test_epoch()).unwrap();
        self
    }

    pub fn new(backend: Backend) -> Option<Self> {
        match backend {
            Backend::Sqlite => Some(Self::sqlite()),
            Backend::Postgres => postgres_admin_url().map(|u| Self::postgres(&u)),
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Cleanup::Postgres { admin_url, name } = &self.cleanup
            && let Ok(mut admin) = PgConnection::establish(admin_url)
        {
            let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")).execute(&mut admin);
        }
    }
}

/// A response, read whole.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.headers.get(name).map(|v| v.to_str().unwrap().to_owned())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The JSON Pointers a problem+json body names.
    pub fn error_pointers(&self) -> Vec<String> {
        self.json()["errors"]
            .as_array()
            .map(|a| a.iter().map(|e| e["pointer"].as_str().unwrap().to_owned()).collect())
            .unwrap_or_default()
    }
}

/// The password of every account the fixtures make.
pub const FIXTURE_PASSWORD: &str = "velvet-otter-grazes-quietly";

static FIXTURE_HASH: LazyLock<String> = LazyLock::new(|| password::hash(FIXTURE_PASSWORD).unwrap());

/// An account made by the fixtures, with a token.
#[derive(Debug, Clone)]
pub struct Account {
    pub id: Uuid,
    pub email: String,
    pub token: String,
}

/// A portal client made by the fixtures, with its secret and a token.
#[derive(Debug, Clone)]
pub struct Portal {
    pub client_id: String,
    pub secret: String,
    pub token: String,
}

/// The running application and a client for it.
pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub clock: Arc<FrozenClock>,
    pub backend: Backend,
    handle: actix_web::dev::ServerHandle,
    pub db: Arc<TestDb>,
    pub pool: DbPool,
    pub keys: KeyRing,
    pub admin: Account,
    /// The instance's jobs (matching runs, digests), to run them by hand as the scheduler would.
    pub jobs: Arc<matchmaker::scheduler::Jobs>,
    /// The instance's matching index and change-log reader, to read the change log by hand as its poller would.
    pub index: Arc<matchmaker::indexer::IndexSync>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // Sends the stop command now; the workers wind down on their own threads.
        drop(self.handle.stop(false));
    }
}

/// Requests made as one caller (or none).
pub struct Session<'a> {
    app: &'a TestApp,
    token: Option<String>,
}

impl Session<'_> {
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        let request = self.app.client.request(method, self.app.url(path));
        match &self.token {
            Some(t) => request.bearer_auth(t),
            None => request,
        }
    }

    pub async fn send(&self, request: RequestBuilder) -> Reply {
        self.app.send(request).await
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.send(self.request(Method::GET, path)).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Reply {
        self.send(self.request(Method::POST, path).json(body)).await
    }

    pub async fn patch(&self, path: &str, body: &Value, if_match: &str) -> Reply {
        let request = self
            .request(Method::PATCH, path)
            .header("content-type", "application/merge-patch+json")
            .header("if-match", if_match)
            .body(body.to_string());
        self.send(request).await
    }

    pub async fn delete(&self, path: &str, if_match: &str) -> Reply {
        self.send(self.request(Method::DELETE, path).header("if-match", if_match)).await
    }
}

/// Settings for a test instance: the database's shared key, generous sign-in limits.
pub fn test_settings(db: &TestDb) -> Settings {
    let mut settings = Settings::for_database(db.url.clone());
    settings.auth.signing_key = Some(db.key_pem.clone());
    settings.mail.unsubscribe_key = Some(db.unsubscribe_key.clone());
    settings.auth.attempts_per_address = 100_000;
    settings.auth.failures_per_account = 100_000;
    // Webhook receivers run on loopback; a failed delivery is due again at once (the back-off has its own test).
    settings.webhooks.allow_targets = vec!["127.0.0.0/8".parse().unwrap(), "::1/128".parse().unwrap()];
    settings.webhooks.retry_seconds = 0;
    // Many servers share two cores while the suite runs: a request's headers may wait for a busy worker longer than
    // the 5 seconds a client gets in service; no test here is about slow headers.
    settings.http.header_timeout = std::time::Duration::from_secs(60);
    settings
}

impl TestApp {
    /// Make a written project an imported call (with `reference`) whose `edited` fields staff changed, as imports
    /// and staff edits leave one.
    pub fn mark_imported(&self, id: Uuid, reference: &str, edited: &[&str]) {
        use diesel::RunQueryDsl as _;
        let sql = format!(
            "UPDATE projects SET reference = '{reference}', edited_fields = '{}' WHERE id = '{id}'",
            edited.join(" ")
        );
        assert_eq!(diesel::sql_query(sql).execute(&mut self.pool.get().unwrap()).unwrap(), 1, "project {id}");
    }

    /// A fresh app on `backend`, or `None` (said loudly) when PostgreSQL is not configured outside CI.
    pub async fn spawn(backend: Backend) -> Option<Self> {
        Self::spawn_with(backend, |_| {}).await
    }

    /// Like [`Self::spawn`], with settings adjusted first.
    pub async fn spawn_with(backend: Backend, adjust: impl FnOnce(&mut Settings)) -> Option<Self> {
        let db = Arc::new(TestDb::new(backend)?.seed());
        let mut settings = test_settings(&db);
        adjust(&mut settings);
        Some(Self::start(backend, db, &settings).await)
    }

    /// Another instance on the same database (a restart, or a second node).
    pub async fn reopen(&self) -> Self {
        self.reopen_with(|_| {}).await
    }

    /// Another instance on the same database, with settings adjusted first.
    pub async fn reopen_with(&self, adjust: impl FnOnce(&mut Settings)) -> Self {
        let mut settings = test_settings(&self.db);
        adjust(&mut settings);
        Self::start(self.backend, Arc::clone(&self.db), &settings).await
    }

    /// Sign in at the token endpoint with a form; returns the reply.
    pub async fn token_request(&self, form: &[(&str, &str)]) -> Reply {
        self.send(self.client.post(self.url("/v1/auth/token")).form(form)).await
    }

    /// Sign in with a password and return the access token.
    pub async fn sign_in(&self, email: &str, password: &str) -> String {
        let reply =
            self.token_request(&[("grant_type", "password"), ("username", email), ("password", password)]).await;
        assert_eq!(reply.status, 200, "{}", reply.text());
        reply.json()["access_token"].as_str().unwrap().to_owned()
    }

    async fn start(backend: Backend, db: Arc<TestDb>, settings: &Settings) -> Self {
        init_logging();
        let clock = Arc::new(FrozenClock::new(test_epoch()));
        let app = Application::build(settings, clock.clone()).await.expect("the app starts");
        let base = format!("http://{}", app.addr());
        let handle = app.handle();
        let jobs = app.state.jobs.clone();
        let index = app.state.index.clone();
        tokio::spawn(app.into_server());
        let pool = db::pool(&db.url, 4).unwrap();
        let keys = KeyRing::from_pems(&db.key_pem, "").unwrap();
        let mut app = Self {
            base,
            // Idle connections are dropped before the server's 5 s keep-alive closes them, so a request never goes
            // out on a connection the server is closing at that moment (a spurious "connection closed" error).
            client: {
                matchmaker::outbound::install_crypto_provider();
                reqwest::Client::builder()
            }
            .pool_idle_timeout(std::time::Duration::from_secs(2))
            .build()
            .unwrap(),
            clock,
            backend,
            handle,
            db,
            pool,
            keys,
            admin: Account { id: Uuid::nil(), email: String::new(), token: String::new() },
            jobs,
            index,
        };
        app.admin = app.account_by_email(ADMIN_EMAIL);
        app
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// As the seeded administrator, with a token minted now on the app's clock (tests move the clock).
    pub fn as_admin(&self) -> Session<'_> {
        let token = self.mint(&format!("user:{}", self.admin.id), "admin", None, ALL_SCOPES, |_| {});
        Session { app: self, token: Some(token) }
    }

    pub fn as_(&self, token: &str) -> Session<'_> {
        Session { app: self, token: Some(token.to_owned()) }
    }

    pub fn anonymous(&self) -> Session<'_> {
        Session { app: self, token: None }
    }

    /// A request as the administrator.
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.as_admin().request(method, path)
    }

    /// Send, read the whole answer, and check it against the published contract.
    pub async fn send(&self, request: RequestBuilder) -> Reply {
        let request = request.build().unwrap();
        let method = request.method().clone();
        let path = request.url().path().to_owned();
        let response = self.client.execute(request).await.unwrap();
        let reply = Reply {
            status: response.status().as_u16(),
            headers: response.headers().clone(),
            body: response.bytes().await.unwrap().to_vec(),
        };
        contract::check_response(&method, &path, &reply);
        reply
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.as_admin().get(path).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Reply {
        self.as_admin().post(path, body).await
    }

    pub async fn patch(&self, path: &str, body: &Value, if_match: &str) -> Reply {
        self.as_admin().patch(path, body, if_match).await
    }

    pub async fn delete(&self, path: &str, if_match: &str) -> Reply {
        self.as_admin().delete(path, if_match).await
    }

    /// Sign a token as the service would, with the given claims changed.
    pub fn mint(
        &self,
        sub: &str,
        role: &str,
        member_id: Option<Uuid>,
        scope: &str,
        edit: impl FnOnce(&mut Claims),
    ) -> String {
        let now = self.clock.now().timestamp();
        let mut claims = Claims {
            iss: "cluster-matchmaker".to_owned(),
            aud: "cluster-matchmaker-api".to_owned(),
            sub: sub.to_owned(),
            role: role.to_owned(),
            member_id: member_id.map(|m| m.to_string()),
            scope: scope.to_owned(),
            iat: now,
            nbf: now,
            exp: now + 900,
            jti: Uuid::new_v4().to_string(),
            token_version: 1,
        };
        edit(&mut claims);
        token::issue(&self.keys, &claims).unwrap()
    }

    fn account_by_email(&self, email: &str) -> Account {
        let mut conn = self.pool.get().unwrap();
        let (user, _) = accounts::find_user_by_email(&mut conn, email).unwrap().unwrap();
        let token = self.mint(&format!("user:{}", user.id), user.role.as_str(), user.member_id, ALL_SCOPES, |c| {
            c.token_version = user.token_version;
        });
        Account { id: user.id, email: user.email, token }
    }

    /// A person's account (password [`FIXTURE_PASSWORD`]) and a token for it.
    pub fn user(&self, role: Role, member: Option<Uuid>) -> Account {
        let email = format!("{}-{}@example.org", role.as_str(), Uuid::new_v4().simple());
        let mut conn = self.pool.get().unwrap();
        accounts::insert_user(&mut conn, &email, &FIXTURE_HASH, role, member, false, self.clock.now()).unwrap();
        drop(conn);
        self.account_by_email(&email)
    }

    /// A partner portal with `scopes`, linked to `members`, and a token for it.
    pub fn portal(&self, scopes: &[ClientScope], members: &[Uuid]) -> Portal {
        let secret = format!("secret-{}", Uuid::new_v4().simple());
        let mut conn = self.pool.get().unwrap();
        let (id, hash) = (accounts::new_client_id(), hash_client_secret(&secret));
        let client = accounts::insert_client(&mut conn, &id, "Test portal", scopes, &hash, self.clock.now()).unwrap();
        for m in members {
            accounts::link(&mut conn, &client.client_id, *m, self.clock.now()).unwrap();
        }
        let scope = scope_string(scopes);
        let token = self.mint(&format!("client:{}", client.client_id), "portal", None, &scope, |_| {});
        Portal { client_id: client.client_id, secret, token }
    }

    /// Create a member and return (its JSON, its path, its ETag).
    pub async fn create_member(&self, body: &Value) -> (Value, String, String) {
        let reply = self.post("/v1/members", body).await;
        assert_eq!(reply.status, 201, "{}", reply.text());
        (reply.json(), reply.header("location").unwrap(), reply.header("etag").unwrap())
    }

    /// Every member, walking all pages.
    pub async fn all_members(&self) -> Vec<Value> {
        self.all_pages("/v1/members").await
    }

    /// Every item of a paged list (`path`, with or without a query of filters), walking all pages of 100.
    pub async fn all_pages(&self, path: &str) -> Vec<Value> {
        let first = format!("{path}{}limit=100", if path.contains('?') { '&' } else { '?' });
        let mut out = Vec::new();
        let mut next = first.clone();
        loop {
            let page = self.get(&next).await;
            assert_eq!(page.status, 200, "{next}: {}", page.text());
            let body = page.json();
            out.extend(body["items"].as_array().unwrap().iter().cloned());
            match body["next"].as_str() {
                Some(cursor) => next = format!("{first}&cursor={cursor}"),
                None => return out,
            }
        }
    }
}

const ALL_SCOPES: &str = "members:read members:write suggestions:read suggestions:react";

/// Run each listed `async fn(TestApp)` once on SQLite and once on PostgreSQL.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),+ $(,)?) => {
        $(
            mod $name {
                use $crate::helpers::{Backend, TestApp};

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    let app = TestApp::spawn(Backend::Sqlite).await.expect("SQLite always runs");
                    super::$name(app).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    if let Some(app) = TestApp::spawn(Backend::Postgres).await {
                        super::$name(app).await;
                    }
                }
            }
        )+
    };
}

/// A complete, valid profile.
pub fn studio(name: &str) -> Value {
    serde_json::json!({
        "name": name,
        "description": "Studio de design graphique et de modélisation 3D à Esch-sur-Alzette.",
        "website": "https://lumen.example.lu",
        "contact_email": "hello@lumen.example.lu",
        "country": "LU",
        "city": "Esch-sur-Alzette",
        "sectors": ["design", "new_media"],
        "nace_codes": ["74.10"],
        "size": "one_person",
        "languages": ["lb", "fr", "en"],
        "preferred_language": "fr",
        "offers": [{"term": "3D modelling", "level": 4}, {"term": "conception graphique", "level": 3}],
        "needs": [{"term": "game development", "priority": 5}],
        "interests": [{"term": "cultural heritage"}],
        "scopes": ["national", "european"],
        "digest": "weekly",
        "discoverable": true
    })
}

/// One HTTP/1.1 request as a test server read it off a socket: its head (request line and headers) and its body.
pub struct RawRequest {
    pub head: String,
    pub body: String,
}

impl RawRequest {
    /// The request target (path and query).
    pub fn target(&self) -> String {
        self.head.split_whitespace().nth(1).unwrap_or("/").to_owned()
    }

    /// A header's value (names case-insensitive), or empty.
    pub fn header(&self, name: &str) -> String {
        self.head
            .lines()
            .find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.trim().eq_ignore_ascii_case(name).then(|| v.trim().to_owned())
            })
            .unwrap_or_default()
    }
}

/// Read one request (head, then as much body as `content-length` says) for the test servers that stand in for
/// outside services; `None` if the client closed the connection first.
pub async fn read_request(socket: &mut tokio::net::TcpStream) -> std::io::Result<Option<RawRequest>> {
    use tokio::io::AsyncReadExt as _;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        let n = socket.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut request = RawRequest { head, body: String::new() };
    let length: usize = request.header("content-length").parse().unwrap_or(0);
    while buf.len() < head_end + length {
        let n = socket.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    request.body = String::from_utf8_lossy(&buf[head_end..buf.len().min(head_end + length)]).into_owned();
    Ok(Some(request))
}
