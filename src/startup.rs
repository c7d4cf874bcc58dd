//! Build the application from settings. `main` and the integration tests both start the server through here.

use std::net::{SocketAddr, TcpListener};

use actix_web::dev::Server;
use actix_web::{App, HttpServer, web};
use anyhow::Context;
use tracing_actix_web::TracingLogger;

use crate::clock::SharedClock;
use crate::config::Settings;
use crate::db::{self, DbPool};
use crate::http;

/// What every handler can reach.
#[derive(Debug, Clone)]
pub struct AppState {
    pub pool: DbPool,
    pub clock: SharedClock,
}

/// A bound, migrated, not yet running server.
pub struct Application {
    addr: SocketAddr,
    server: Server,
    pub state: AppState,
}

/// Open the pool and apply pending migrations.
pub async fn prepare_database(settings: &Settings) -> anyhow::Result<DbPool> {
    let pool = db::pool(&settings.database, settings.pool_size)?;
    let applied = db::run(&pool, |conn| {
        db::migrate(conn).map_err(MigrateError::Failed)
    })
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
        f.debug_struct("Application")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl Application {
    pub async fn build(settings: &Settings, clock: SharedClock) -> anyhow::Result<Self> {
        let pool = prepare_database(settings).await?;
        let state = AppState { pool, clock };
        let listener = TcpListener::bind(settings.addr)
            .with_context(|| format!("cannot listen on {}", settings.addr))?;
        let addr = listener.local_addr()?;
        let data = web::Data::new(state.clone());
        let mut server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .wrap(TracingLogger::default())
                .configure(http::configure)
                .default_service(web::to(http::not_found))
        })
        .listen(listener)?;
        if settings.workers > 0 {
            server = server.workers(settings.workers);
        }
        tracing::info!(address = %format!("http://{addr}"), database = %settings.database, "listening");
        Ok(Self {
            addr,
            server: server.run(),
            state,
        })
    }

    /// The address actually bound (useful with port 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Serve until the process is asked to stop (SIGINT/SIGTERM: in-flight requests finish first).
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }

    /// A handle that can stop the server.
    pub fn handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }

    /// Give up the server future (tests spawn it).
    pub fn into_server(self) -> Server {
        self.server
    }
}
