//! Storage: one connection type over SQLite and PostgreSQL, a pool, and the one way in ([`run`]).
//!
//! Everything that touches diesel goes through [`run`], which moves the work onto actix's blocking pool, so no
//! query ever runs on the async executor. When diesel's async `MultiConnection` ships, only this file changes.

pub mod accounts;
pub mod audit;
pub mod changes;
pub mod digests;
pub mod erasure;
pub mod idempotency;
pub mod imports;
pub mod introductions;
pub mod jobs;
pub mod members;
pub mod messages;
pub mod outbox;
pub mod outcomes;
pub mod projects;
pub mod retention;
pub mod runs;
pub mod schema;
pub mod sessions;
pub mod suggestions;
pub mod vocabulary;
pub mod webhooks;

use std::time::Duration;

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::prelude::*;
use diesel::r2d2::{self, ManageConnection, R2D2Connection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::config::DatabaseUrl;

/// A connection to either backend; the variant is picked from the URL (SQLite last: it accepts any string).
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Pg(PgConnection),
    Sqlite(SqliteConnection),
}

pub type DbPool = r2d2::Pool<Manager>;
pub type PooledConn = r2d2::PooledConnection<Manager>;

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const PG_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// Per-connection SQLite settings. `foreign_keys` cannot be set inside a transaction (so not in a migration), and
/// `synchronous=FULL` is what makes a commit durable across power loss in WAL mode.
/// `secure_delete` overwrites deleted content with zeros, so that an erased member's data does not linger in free
/// pages of the file (see [`checkpoint`] for the WAL).
const SQLITE_PRAGMAS: &str = "PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 5000; \
                              PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL; PRAGMA secure_delete = ON;";

/// Failures below the domain: the pool could not hand out a connection, a query failed, or the blocking task died.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("no database connection available: {0}")]
    Unavailable(#[from] r2d2::PoolError),
    #[error(transparent)]
    Query(#[from] diesel::result::Error),
    #[error("the database task was cancelled")]
    Cancelled,
    #[error("the SQLite file {0} is no longer there")]
    Gone(String),
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

/// The error of a query (diesel's); named here so that no layer above storage needs to name diesel.
pub type QueryError = diesel::result::Error;

/// A guarded write that did not happen: the row changed since it was read (its version moved on), or storage failed.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("the row changed since it was read")]
    Stale,
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<QueryError> for WriteError {
    fn from(e: QueryError) -> Self {
        Self::Db(DbError::Query(e))
    }
}

/// Builds connections for the pool. Chooses the backend from the URL scheme instead of letting the derived enum
/// try each backend in turn, so a wrong password or a stopped server reports libpq's own message.
#[derive(Debug, Clone)]
pub struct Manager {
    url: DatabaseUrl,
}

impl Manager {
    pub fn new(url: DatabaseUrl) -> Self {
        Self { url }
    }

    fn establish(&self) -> Result<DbConnection, r2d2::Error> {
        match &self.url {
            DatabaseUrl::Postgres(url) => {
                PgConnection::establish(url).map(DbConnection::Pg).map_err(r2d2::Error::ConnectionError)
            }
            DatabaseUrl::Sqlite(path) => {
                let path = path.to_str().ok_or_else(|| {
                    r2d2::Error::ConnectionError(ConnectionError::InvalidConnectionUrl(
                        "the SQLite path is not valid UTF-8".to_owned(),
                    ))
                })?;
                let mut conn = SqliteConnection::establish(path).map_err(r2d2::Error::ConnectionError)?;
                conn.batch_execute(SQLITE_PRAGMAS).map_err(r2d2::Error::QueryError)?;
                Ok(DbConnection::Sqlite(conn))
            }
        }
    }
}

impl ManageConnection for Manager {
    type Connection = DbConnection;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<DbConnection, r2d2::Error> {
        self.establish()
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), r2d2::Error> {
        conn.ping().map_err(r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut DbConnection) -> bool {
        std::thread::panicking() || conn.is_broken()
    }
}

/// Build the pool. Creates the SQLite file's folder when needed, and the file itself readable by its owner only. Does not wait for the database: a server that is
/// down makes [`check`] and requests fail with a clear error instead of blocking start-up for long.
pub fn pool(url: &DatabaseUrl, max_size: u32) -> anyhow::Result<DbPool> {
    if let Some(path) = url.sqlite_path() {
        if let Some(dir) = path.parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir)
                .map_err(|e| anyhow::anyhow!("cannot create the database folder {}: {e}", dir.display()))?;
        }
        // Password and secret hashes and members' addresses live here: owner only, like the key files.
        crate::fsutil::private_database(path)?;
    }
    // A PostgreSQL connection can die between uses (a server restart, a proxy's idle timeout): each is pinged as it
    // is taken. A SQLite connection is a file handle that cannot go stale, and the ping would be one more query on
    // every request.
    let pool = r2d2::Pool::builder()
        .max_size(max_size)
        .min_idle(Some(0))
        .connection_timeout(Duration::from_secs(5))
        .test_on_check_out(url.sqlite_path().is_none())
        .build_unchecked(Manager::new(url.clone()));
    Ok(pool)
}

/// Run `f` with a pooled connection on the blocking thread pool. The single entry point for database work.
pub async fn run<T, E, F>(pool: &DbPool, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
    T: Send + 'static,
    E: From<DbError> + Send + 'static,
{
    let pool = pool.clone();
    actix_web::web::block(move || {
        let mut conn = pool.get().map_err(DbError::from)?;
        f(&mut conn)
    })
    .await
    .map_err(|_| E::from(DbError::Cancelled))?
}

/// Run `f` in a transaction that writes. On SQLite it is `BEGIN IMMEDIATE`, which takes the write lock up front:
/// a deferred read-then-write transaction would fail with "database is locked" under concurrent writers instead of
/// waiting for the busy timeout. On PostgreSQL it is an ordinary (read committed) transaction. Inside a transaction
/// already (a use-case that adds to a write it wraps, such as a webhook's delivery written with the change it tells
/// of), it is a savepoint of that transaction on either backend.
pub fn write<T, E, F>(conn: &mut DbConnection, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConnection) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    let DbConnection::Sqlite(sqlite) = conn else {
        return conn.transaction(f);
    };
    let nested = AnsiTransactionManager::transaction_manager_status_mut(sqlite).transaction_depth()?.is_some();
    if nested {
        return conn.transaction(f);
    }
    let DbConnection::Sqlite(sqlite) = conn else {
        return Err(diesel::result::Error::BrokenTransactionManager.into());
    };
    AnsiTransactionManager::begin_transaction_sql(sqlite, "BEGIN IMMEDIATE")?;
    let outcome = f(conn);
    let DbConnection::Sqlite(sqlite) = conn else {
        return Err(diesel::result::Error::BrokenTransactionManager.into());
    };
    match outcome {
        Ok(value) => match AnsiTransactionManager::commit_transaction(sqlite) {
            Ok(()) => Ok(value),
            Err(e) => {
                // A failed COMMIT leaves the transaction open; roll it back so the connection is reusable.
                let _ = AnsiTransactionManager::rollback_transaction(sqlite);
                Err(e.into())
            }
        },
        Err(e) => {
            AnsiTransactionManager::rollback_transaction(sqlite)?;
            Err(e)
        }
    }
}

/// Run `f` in a savepoint (a nested transaction). On PostgreSQL a failed statement aborts the whole surrounding
/// transaction; a savepoint keeps an expected failure, such as a unique violation, local.
pub fn savepoint<T, E, F>(conn: &mut DbConnection, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConnection) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    conn.transaction(f)
}

/// Apply pending migrations of the connection's backend; returns the names of those applied.
pub fn migrate(conn: &mut DbConnection) -> anyhow::Result<Vec<String>> {
    let applied = match conn {
        DbConnection::Pg(pg) => {
            // Several instances may start at once against one database: let one migrate at a time. A session
            // lock on this connection only, released right after.
            pg.batch_execute("SELECT pg_advisory_lock(4242424201)")?;
            let result = pg.run_pending_migrations(PG_MIGRATIONS).map(|v| v.iter().map(ToString::to_string).collect());
            pg.batch_execute("SELECT pg_advisory_unlock(4242424201)")?;
            result
        }
        DbConnection::Sqlite(sqlite) => {
            sqlite.run_pending_migrations(SQLITE_MIGRATIONS).map(|v| v.iter().map(ToString::to_string).collect())
        }
    };
    applied.map_err(|e| anyhow::anyhow!("migration failed: {e}"))
}

#[derive(QueryableByName)]
struct DatabaseFile {
    #[diesel(sql_type = diesel::sql_types::Text)]
    file: String,
}

/// Check that the database answers (readiness): a table can be read, and on SQLite the file is still where it was
/// opened. A SQLite file deleted or moved under a running server would take every later write with it.
pub fn check(conn: &mut DbConnection) -> Result<(), DbError> {
    conn.batch_execute("SELECT COUNT(*) FROM __diesel_schema_migrations")?;
    if let DbConnection::Sqlite(sqlite) = conn {
        let main: Vec<DatabaseFile> =
            diesel::sql_query("SELECT file FROM pragma_database_list WHERE name = 'main'").load(sqlite)?;
        if let Some(db) = main.first()
            && !db.file.is_empty()
            && !std::path::Path::new(&db.file).is_file()
        {
            return Err(DbError::Gone(db.file.clone()));
        }
    }
    Ok(())
}

#[derive(QueryableByName)]
struct DatabaseNow {
    #[diesel(sql_type = diesel::sql_types::Timestamp)]
    now: chrono::NaiveDateTime,
}

/// The database server's clock (UTC). Leases are judged by it, so instances whose clocks disagree still agree on
/// whether a lease has run out.
/// On SQLite, copy the WAL into the database file and empty it, so that the log no longer holds page images from
/// before an erasure (PostgreSQL: nothing to do here; its dead rows go at the next vacuum).
pub fn checkpoint(conn: &mut DbConnection) -> Result<(), DbError> {
    if let DbConnection::Sqlite(sqlite) = conn {
        sqlite.batch_execute("PRAGMA wal_checkpoint(TRUNCATE);")?;
    }
    Ok(())
}

/// Write a consistent copy of a SQLite database to `file` (`VACUUM INTO`: one read transaction, so the server may
/// keep writing meanwhile; the copy is compacted and holds no WAL).
pub fn backup_into(conn: &mut DbConnection, file: &std::path::Path) -> Result<(), DbError> {
    let DbConnection::Sqlite(sqlite) = conn else {
        return Err(DbError::Other(anyhow::anyhow!("only a SQLite database is copied this way")));
    };
    let target = file.to_str().ok_or_else(|| DbError::Other(anyhow::anyhow!("the backup path is not UTF-8")))?;
    diesel::sql_query("VACUUM INTO ?").bind::<diesel::sql_types::Text, _>(target).execute(sqlite)?;
    Ok(())
}

pub fn db_now(conn: &mut DbConnection) -> QueryResult<chrono::NaiveDateTime> {
    let row: DatabaseNow = match conn {
        DbConnection::Pg(pg) => diesel::sql_query("SELECT (now() AT TIME ZONE 'UTC') AS now").get_result(pg)?,
        DbConnection::Sqlite(sqlite) => {
            diesel::sql_query("SELECT strftime('%Y-%m-%d %H:%M:%f', 'now') AS now").get_result(sqlite)?
        }
    };
    Ok(row.now)
}

/// True when the error is a unique-constraint violation (same kind on both backends).
pub fn is_unique_violation(e: &diesel::result::Error) -> bool {
    matches!(e, diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _))
}
