//! What a caller can do: each use-case written once and called by every interface (the API's handlers, the
//! command line). A use-case takes parsed values and the caller, runs its transaction, records the change for the
//! other instances, refreshes this instance's index and writes the audit log; it knows nothing of HTTP. Interfaces
//! parse, authorise through the rule book (`auth::policy`) and render.

pub mod accounts;
pub mod audit;
pub mod check;
pub mod digests;
pub mod introductions;
pub mod links;
pub mod matches;
pub mod members;
pub mod names;
pub mod privacy;
pub mod projects;
pub mod review;
pub mod sessions;
pub mod signin;
pub mod vocabulary;
pub mod webhooks;

use std::sync::Arc;

use crate::auth::Caller;
use crate::auth::cache::AccountCache;
use crate::auth::policy::Decision;
use crate::auth::service::AuthState;
use crate::clock::SharedClock;
use crate::db::changes::{self, Entity};
use crate::db::{self, DbConnection, DbError, DbPool, QueryError, WriteError};
use crate::domain::FieldError;
use crate::indexer::IndexSync;
use crate::scheduler::Jobs;

/// What every use-case works with: storage and the clock. The command line has just this (no index, no jobs).
#[derive(Debug, Clone)]
pub struct Store {
    pub pool: DbPool,
    pub clock: SharedClock,
    /// The accounts behind recent tokens; a use-case that changes an account drops it here after the commit.
    pub accounts: Arc<AccountCache>,
    /// Which imported calls are the cluster's.
    pub calls: crate::domain::project::CallFilter,
}

/// What a serving instance's use-cases work with: storage and the clock, identity, this instance's index, its jobs.
#[derive(Debug, Clone)]
pub struct Services {
    pub store: Store,
    pub auth: Arc<AuthState>,
    pub index: Arc<IndexSync>,
    pub jobs: Arc<Jobs>,
}

/// A serving instance's services include storage: a use-case that needs only storage takes a [`Store`], and the
/// API and the command line both call it.
impl std::ops::Deref for Services {
    type Target = Store;

    fn deref(&self) -> &Store {
        &self.store
    }
}

/// Who acts, and from where: what the audit log records of a change.
#[derive(Debug, Clone)]
pub struct Actor {
    /// `user:<id>`, `client:<client_id>`, or `cli` for the command line.
    pub subject: String,
    /// The client's address, as the interface saw it.
    pub ip: Option<String>,
}

impl Actor {
    pub fn new(caller: &Caller, ip: Option<String>) -> Self {
        Self { subject: caller.subject(), ip }
    }

    /// The command line.
    pub fn cli() -> Self {
        Self { subject: "cli".to_owned(), ip: None }
    }

    pub fn subject(&self) -> String {
        self.subject.clone()
    }
}

/// Why a use-case did not do what was asked. Each interface renders these its own way (the API as problem+json).
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("the request is not valid")]
    Invalid(Vec<FieldError>),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Unprocessable(String),
    /// The thing changed since the version the caller named.
    #[error("it has changed since the version given")]
    Stale,
    #[error("too many attempts; retry in {retry_after} seconds")]
    TooManyRequests { retry_after: u64 },
    /// The caller's credentials no longer hold (the account is gone).
    #[error("{0}")]
    Unauthorized(String),
    #[error(transparent)]
    Storage(#[from] DbError),
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl AppError {
    /// One invalid field.
    pub fn invalid(pointer: &str, detail: impl Into<String>) -> Self {
        Self::Invalid(vec![FieldError::new(pointer, detail)])
    }
}

/// Whether the database answers (and, on SQLite, its file is still where it was opened).
pub async fn database_ready(store: &Store) -> Result<(), DbError> {
    db::run(&store.pool, db::check).await
}

/// A decision of the rule book as an outcome: allowed, or refused as not there (404) or forbidden (403).
pub fn allowed(decision: Decision) -> Result<(), AppError> {
    match decision {
        Decision::Allow => Ok(()),
        Decision::NotFound => Err(AppError::NotFound("there is nothing here for you".to_owned())),
        Decision::Forbidden(why) => Err(AppError::Forbidden(why.to_owned())),
    }
}

impl From<QueryError> for AppError {
    fn from(e: QueryError) -> Self {
        Self::Storage(DbError::Query(e))
    }
}

impl From<WriteError> for AppError {
    fn from(e: WriteError) -> Self {
        match e {
            WriteError::Stale => Self::Stale,
            WriteError::Db(db) => Self::Storage(db),
        }
    }
}

/// A change to one member or project: `write` runs in one write transaction and says which row it changed (none:
/// nothing changed, as for an empty patch or a replayed create); the change is recorded there for the other
/// instances, and once committed this instance's index re-reads the row. Every member and project write goes
/// through here, so none can forget a step.
pub(crate) async fn change<T: Send + 'static>(
    svc: &Services,
    entity: Entity,
    write: impl FnOnce(&mut DbConnection) -> Result<(T, Option<uuid::Uuid>), AppError> + Send + 'static,
) -> Result<T, AppError> {
    let now = svc.clock.now();
    let (index, accounts) = (svc.index.clone(), svc.accounts.clone());
    db::run(&svc.pool, move |conn| {
        let (value, changed) = db::write(conn, |conn| {
            let (value, changed) = write(conn)?;
            if let Some(id) = changed {
                changes::record(conn, entity, &id.to_string(), now)?;
            }
            Ok::<_, AppError>((value, changed))
        })?;
        if let Some(id) = changed {
            if entity == Entity::Member {
                // A deleted member's accounts are gone with it.
                accounts.forget_member(id);
            }
            index.refresh(conn, entity, id)?;
        }
        Ok(value)
    })
    .await
}

/// Change an account or a client in one transaction with its entry in the change log (other instances drop what
/// they cached of it when they read the entry), then drop it from this instance's cache.
pub(crate) async fn change_account<T: Send + 'static>(
    store: &Store,
    subject: String,
    write: impl FnOnce(&mut DbConnection) -> Result<T, AppError> + Send + 'static,
) -> Result<T, AppError> {
    let now = store.clock.now();
    let logged = subject.clone();
    let value = db::run(&store.pool, move |conn| {
        db::write(conn, |conn| {
            let value = write(conn)?;
            changes::record(conn, Entity::Account, &logged, now)?;
            Ok::<_, AppError>(value)
        })
    })
    .await?;
    store.accounts.forget(&subject);
    Ok(value)
}
