//! Build the application from settings. `main` and the integration tests both start the server through here.

use std::net::{SocketAddr, TcpListener};

use actix_web::dev::Server;
use actix_web::middleware::from_fn;
use actix_web::{App, HttpServer, web};
use anyhow::Context;
use tracing_actix_web::TracingLogger;

use crate::app::Services;
use crate::auth::service::{AuthState, FIRST_ADMIN, load_keys};
use crate::auth::{Role, password};
use crate::clock::SharedClock;
use crate::config::Settings;
use crate::db::{self, DbPool};
use crate::http;

/// A bound, migrated, not yet running server.
pub struct Application {
    addr: SocketAddr,
    server: Server,
    pub state: Services,
    /// How long requests and jobs get to finish once asked to stop.
    shutdown: std::time::Duration,
    /// The metrics listener's address and its server, when `MATCHMAKER_METRICS_ADDR` is set.
    metrics: Option<(SocketAddr, Server)>,
}

/// Open the pool and apply pending migrations.
pub async fn prepare_database(settings: &Settings) -> anyhow::Result<DbPool> {
    let pool = db::pool(&settings.database, settings.pool_size)?;
    let applied = db::run(&pool, |conn| db::migrate(conn).map_err(MigrateError::Failed))
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))
        .with_context(|| format!("cannot prepare the database at {}", settings.database))?;
    for name in &applied {
        tracing::info!(migration = %name, "migration applied");
    }
    Ok(pool)
}

#[derive(Debug, thiserror::Error)]
enum MigrateError {
    #[error("{0}")]
    Db(#[from] db::DbError),
    #[error("{0:#}")]
    Failed(anyhow::Error),
}

impl std::fmt::Debug for Application {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Application").field("addr", &self.addr).finish_non_exhaustive()
    }
}

impl Application {
    pub async fn build(settings: &Settings, clock: SharedClock) -> anyhow::Result<Self> {
        let pool = prepare_database(settings).await?;
        let keys = load_keys(settings)?;
        let auth = std::sync::Arc::new(AuthState::new(settings, keys)?);
        first_run(settings, &pool, &auth, clock.now()).await?;
        let accounts = std::sync::Arc::new(crate::auth::cache::AccountCache::new());
        let sync = {
            let (pool, m, cache) = (pool.clone(), settings.matching.clone(), accounts.clone());
            actix_web::web::block(move || crate::indexer::IndexSync::start(&pool, m.fuzzy_threshold, m.weights, cache))
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))??
        };
        let sync = std::sync::Arc::new(sync);
        crate::indexer::spawn_poller(sync.clone(), pool.clone(), settings.matching.poll_interval);
        let jobs = std::sync::Arc::new(
            crate::scheduler::Jobs::new(
                pool.clone(),
                clock.clone(),
                Some(sync.clone()),
                settings.review.clone(),
                mailer(settings)?,
                &settings.scheduler,
            )
            .with_calls(crate::scheduler::CallsSource {
                portal: std::sync::Arc::new(crate::portal::Portal::new(&settings.portal)?),
                filter: settings.matching.calls.clone(),
            })
            .with_webhooks(std::sync::Arc::new(crate::webhook::Sender::new(settings.webhooks.clone())?)),
        );
        if settings.scheduler.enabled {
            crate::scheduler::spawn(jobs.clone(), &settings.scheduler);
            tracing::info!(
                matching = %settings.scheduler.matching,
                digest = %settings.scheduler.digest,
                time_zone = %settings.scheduler.time_zone,
                calls = %settings.scheduler.calls.as_ref().map_or_else(|| "off".to_owned(), ToString::to_string),
                calls_source = %crate::config::masked_url(settings.portal.source_url.as_str()),
                owner = %jobs.owner,
                "scheduler on"
            );
        }
        if settings.mail.smtp_url.is_none() {
            tracing::warn!("no SMTP server configured (MATCHMAKER_SMTP_URL): digests are composed but not sent");
        } else if !settings.mail.public_url_set {
            tracing::warn!(
                public_url = %settings.mail.public_url,
                "MATCHMAKER_PUBLIC_URL is not set: the links in digests point at this listening address, which \
                 members cannot reach"
            );
        }
        let calls = settings.matching.calls.clone();
        let state = Services { store: crate::app::Store { pool, clock, accounts, calls }, auth, index: sync, jobs };
        let listener =
            TcpListener::bind(settings.addr).with_context(|| format!("cannot listen on {}", settings.addr))?;
        let addr = listener.local_addr()?;
        let data = web::Data::new(state.clone());
        let console = web::Data::new(crate::console::ConsoleConfig {
            sessions: settings.console.clone(),
            public_url: settings.mail.public_url.clone(),
        });
        let body_deadline = settings.http.body_deadline;
        let workers = if settings.workers > 0 { settings.workers } else { std::thread::available_parallelism()?.get() };
        let per_worker = connection_cap(settings).div_ceil(workers);
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .app_data(console.clone())
                .wrap(from_fn(move |req, next| http::limits::body_deadline(body_deadline, req, next)))
                .wrap(from_fn(http::limits::refuse_nul_in_path))
                .wrap(TracingLogger::default())
                .configure(http::configure)
                .configure(crate::console::configure)
                .default_service(web::to(http::not_found))
        })
        .workers(workers)
        .keep_alive(KEEP_ALIVE)
        .client_request_timeout(settings.http.header_timeout)
        .max_connections(per_worker)
        .shutdown_timeout(settings.http.shutdown.as_secs())
        .disable_signals()
        .listen(listener)?;
        let metrics = match settings.http.metrics_addr {
            Some(at) => Some(metrics_server(at, state.clone())?),
            None => None,
        };
        tracing::info!(address = %format!("http://{addr}"), database = %settings.database, "listening");
        Ok(Self { addr, server: server.run(), state, shutdown: settings.http.shutdown, metrics })
    }

    /// The address actually bound (useful with port 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Where the metrics are served, if they are.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics.as_ref().map(|(at, _)| *at)
    }

    /// Serve until the process is asked to stop. On SIGTERM or SIGINT, running jobs are told to stop at their next
    /// safe point and release their leases (another instance takes over at once) while in-flight requests finish,
    /// both within `MATCHMAKER_SHUTDOWN_SECONDS`.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let (handle, jobs, within) = (self.server.handle(), self.state.jobs.clone(), self.shutdown);
        let metrics = self.metrics.map(|(_, server)| {
            let stop = server.handle();
            tokio::spawn(server);
            stop
        });
        let signalled = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = signalled.clone();
        let stopping = tokio::spawn(async move {
            stop_signal().await;
            flag.store(true, std::sync::atomic::Ordering::SeqCst);
            tracing::info!(seconds = within.as_secs(), "stopping: finishing requests and jobs");
            let (jobs_done, ()) = tokio::join!(jobs.stop(within), handle.stop(true));
            if let Some(metrics) = metrics {
                metrics.stop(false).await;
            }
            tracing::info!(jobs_done, "stopped");
        });
        let served = self.server.await;
        if signalled.load(std::sync::atomic::Ordering::SeqCst) {
            let _ = stopping.await;
        } else {
            // Stopped through its handle (tests): the jobs are left as they are.
            stopping.abort();
        }
        served
    }

    /// A handle that can stop the server (without the jobs' shutdown: see [`Self::run_until_stopped`]).
    pub fn handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }

    /// Give up the server future (tests spawn it).
    pub fn into_server(self) -> Server {
        self.server
    }
}

/// How long an idle client connection is kept open. Longer than the idle timeout of the load balancers and proxies
/// that keep connections to us (60 s for nginx's `keepalive_timeout`, AWS and GCP load balancers): the side that
/// closes an idle connection must be the client, or a request it sends just as we close is lost (the proxy answers
/// 502). actix-web's default of 5 s loses such requests under load.
const KEEP_ALIVE: std::time::Duration = std::time::Duration::from_secs(75);

/// File descriptors kept free for the database, logs and files when connections are capped.
const RESERVED_DESCRIPTORS: u64 = 128;

/// Most client connections this instance keeps open: as configured, and always below the file-descriptor limit
/// (raised to its hard maximum first), so the process never runs out of descriptors and a flood of idle or slow
/// clients waits in the listen backlog instead.
fn connection_cap(settings: &Settings) -> usize {
    let limit = rlimit::increase_nofile_limit(u64::MAX)
        .or_else(|_| rlimit::getrlimit(rlimit::Resource::NOFILE).map(|(soft, _)| soft))
        .unwrap_or(1024);
    let reserved = RESERVED_DESCRIPTORS + 4 * u64::from(settings.pool_size);
    let room = usize::try_from(limit.saturating_sub(reserved).max(16)).unwrap_or(usize::MAX);
    match settings.http.max_connections {
        Some(wanted) if wanted > room => {
            tracing::warn!(wanted, room, "MATCHMAKER_MAX_CONNECTIONS is above what the file-descriptor limit allows");
            room
        }
        Some(wanted) => wanted,
        None => room.min(25_000),
    }
}

/// What composing and sending digests needs: mail settings, the unsubscribe key, the schedule's time zone.
pub fn mailer(settings: &Settings) -> anyhow::Result<crate::digest::Mailer> {
    Ok(crate::digest::Mailer {
        settings: settings.mail.clone(),
        key: crate::digest::token::UnsubscribeKey::load(settings)?,
        time_zone: settings.scheduler.time_zone,
    })
}

/// On an empty SQLite database, create `admin@localhost` with a one-time password written to a file only its owner
/// can read (the log names the file, never the password). On PostgreSQL, say how to create the first administrator.
async fn first_run(
    settings: &Settings,
    pool: &DbPool,
    auth: &AuthState,
    now: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<()> {
    let users = db::run(pool, |conn| crate::db::accounts::count_users(conn).map_err(db::DbError::from)).await?;
    if users > 0 {
        return Ok(());
    }
    let Some(file) = auth.first_run_file.clone() else {
        tracing::warn!(
            "no accounts exist yet: create the first administrator with \
             `MATCHMAKER_PASSWORD=… matchmaker user add --email you@example.org --role admin` \
             (same DATABASE_URL), then sign in at POST /v1/auth/token"
        );
        return Ok(());
    };
    let one_time = password::one_time()?;
    let hash = password::hash(&one_time)?;
    db::run(pool, move |conn| {
        db::write(conn, |conn| {
            crate::db::accounts::insert_user(conn, FIRST_ADMIN, &hash, Role::Admin, None, true, now)
                .map_err(db::DbError::from)
        })
    })
    .await?;
    if file.exists() {
        std::fs::remove_file(&file).with_context(|| format!("cannot replace {}", file.display()))?;
    }
    let text = format!(
        "Cluster Matchmaker: first administrator\n\nlogin:    {FIRST_ADMIN}\npassword: {one_time}\n\n\
         This password works once: sign in (POST /v1/auth/token, grant_type=password), then change it with\n\
         POST /v1/auth/password. This file is deleted when you do.\n"
    );
    crate::fsutil::write_private(&file, text.as_bytes())?;
    tracing::warn!(
        credentials_file = %file.display(),
        database = %settings.database,
        "first run: created the administrator {FIRST_ADMIN}; its one-time password is in the credentials file"
    );
    Ok(())
}

/// SIGTERM (what container runtimes and systemd send) or SIGINT (Ctrl-C).
async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match (signal(SignalKind::terminate()), signal(SignalKind::interrupt())) {
            (Ok(mut term), Ok(mut int)) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = int.recv() => {}
                }
            }
            _ => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// The metrics listener: `GET /metrics` in the Prometheus text format, one worker, nothing else.
fn metrics_server(at: SocketAddr, state: Services) -> anyhow::Result<(SocketAddr, Server)> {
    let listener = TcpListener::bind(at).with_context(|| format!("cannot listen for metrics on {at}"))?;
    let bound = listener.local_addr()?;
    let data = web::Data::new(state);
    let server = HttpServer::new(move || App::new().app_data(data.clone()).route("/metrics", web::get().to(scrape)))
        .workers(1)
        .disable_signals()
        .listen(listener)?
        .run();
    tracing::info!(address = %format!("http://{bound}/metrics"), "metrics listening");
    Ok((bound, server))
}

/// One scrape: the counters, and the index's size, the pool's use and the change-log lag read now.
async fn scrape(state: web::Data<Services>) -> actix_web::HttpResponse {
    let (members, projects) = {
        let index = state.index.matcher.read_index();
        (index.member_count(), index.project_count())
    };
    let concepts = state.index.matcher.vocabulary().len();
    let pool = state.pool.state();
    let seen = state.index.seen();
    let head = db::run(&state.pool, |conn| crate::db::changes::current(conn).map_err(db::DbError::from)).await;
    let count = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
    let mut values = vec![
        ("index_members", count(members)),
        ("index_projects", count(projects)),
        ("index_concepts", count(concepts)),
        ("pool_connections", i64::from(pool.connections)),
        ("pool_idle", i64::from(pool.idle_connections)),
    ];
    if let Ok(head) = head {
        values.push(("change_log_behind", (head - seen).max(0)));
    }
    actix_web::HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(crate::metrics::render(&values))
}
