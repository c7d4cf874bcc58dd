//! Settings from the environment. Secrets never reach the log: `Debug` of a database URL hides its password.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// Where the data lives, chosen from `DATABASE_URL`.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    Postgres(String),
    Sqlite(PathBuf),
}

pub const DEFAULT_SQLITE_PATH: &str = "./data/matchmaker.db";
pub const DEFAULT_ADDR: &str = "127.0.0.1:8080";

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error(
        "DATABASE_URL has the scheme `{0}://`, which is not supported: use postgres://… or postgresql://… for \
         PostgreSQL, or sqlite://PATH or a plain file path for SQLite"
    )]
    UnknownScheme(String),
    #[error(
        "DATABASE_URL is empty: unset it to use {DEFAULT_SQLITE_PATH}, or give a PostgreSQL URL or a SQLite path"
    )]
    Empty,
    #[error(
        "{name} is not a valid listen address (`{value}`): expected host:port, e.g. 127.0.0.1:8080"
    )]
    BadAddr { name: &'static str, value: String },
    #[error("{name} must be a whole number from {min} to {max}, got `{value}`")]
    BadNumber {
        name: &'static str,
        value: String,
        min: u64,
        max: u64,
    },
}

impl DatabaseUrl {
    /// Parse a `DATABASE_URL` value. Unknown schemes are refused so that a typo never silently creates a file.
    pub fn parse(raw: &str) -> Result<Self, ConfigError> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err(ConfigError::Empty);
        }
        match raw.split_once("://") {
            Some((scheme, rest)) => match scheme.to_ascii_lowercase().as_str() {
                "postgres" | "postgresql" => Ok(Self::Postgres(raw.to_owned())),
                "sqlite" if !rest.is_empty() => Ok(Self::Sqlite(PathBuf::from(rest))),
                "sqlite" => Err(ConfigError::Empty),
                other => Err(ConfigError::UnknownScheme(other.to_owned())),
            },
            None if raw.starts_with("sqlite:") => {
                Ok(Self::Sqlite(PathBuf::from(&raw["sqlite:".len()..])))
            }
            None => Ok(Self::Sqlite(PathBuf::from(raw))),
        }
    }

    pub fn default_sqlite() -> Self {
        Self::Sqlite(PathBuf::from(DEFAULT_SQLITE_PATH))
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self, Self::Postgres(_))
    }

    /// The SQLite file, if this is SQLite.
    pub fn sqlite_path(&self) -> Option<&Path> {
        match self {
            Self::Sqlite(p) => Some(p),
            Self::Postgres(_) => None,
        }
    }

    pub fn backend_name(&self) -> &'static str {
        match self {
            Self::Postgres(_) => "postgresql",
            Self::Sqlite(_) => "sqlite",
        }
    }
}

/// The URL with any password replaced, for logs and messages.
impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Sqlite(p) => write!(f, "sqlite://{}", p.display()),
            Self::Postgres(url) => match url::Url::parse(url) {
                Ok(mut u) => {
                    if u.password().is_some() {
                        let _ = u.set_password(Some("***"));
                    }
                    write!(f, "{u}")
                }
                Err(_) => f.write_str("postgres://<unparsable>"),
            },
        }
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// Everything the server needs to start.
#[derive(Debug, Clone)]
pub struct Settings {
    pub database: DatabaseUrl,
    pub addr: SocketAddr,
    /// Largest number of pooled database connections.
    pub pool_size: u32,
    /// HTTP worker threads (0: one per core).
    pub workers: usize,
}

impl Settings {
    /// Read the settings from the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// Read the settings through a lookup function (tests pass a map).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let database = match get("DATABASE_URL") {
            Some(v) => DatabaseUrl::parse(&v)?,
            None => DatabaseUrl::default_sqlite(),
        };
        let addr_raw = get("MATCHMAKER_ADDR").unwrap_or_else(|| DEFAULT_ADDR.to_owned());
        let addr = addr_raw.parse().map_err(|_| ConfigError::BadAddr {
            name: "MATCHMAKER_ADDR",
            value: addr_raw.clone(),
        })?;
        let pool_size = number(&get, "MATCHMAKER_DB_POOL_SIZE", 10, 1, 200)?;
        let workers = number(&get, "MATCHMAKER_WORKERS", 0, 0, 256)?;
        Ok(Self {
            database,
            addr,
            pool_size: pool_size as u32,
            workers: workers as usize,
        })
    }
}

fn number(
    get: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    default: u64,
    min: u64,
    max: u64,
) -> Result<u64, ConfigError> {
    match get(name) {
        None => Ok(default),
        Some(v) => match v.trim().parse::<u64>() {
            Ok(n) if (min..=max).contains(&n) => Ok(n),
            _ => Err(ConfigError::BadNumber {
                name,
                value: v,
                min,
                max,
            }),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_url_schemes() {
        assert!(matches!(
            DatabaseUrl::parse("postgres://u:p@h/db"),
            Ok(DatabaseUrl::Postgres(_))
        ));
        assert!(matches!(
            DatabaseUrl::parse("postgresql://h/db"),
            Ok(DatabaseUrl::Postgres(_))
        ));
        assert_eq!(
            DatabaseUrl::parse("sqlite://data/x.db"),
            Ok(DatabaseUrl::Sqlite("data/x.db".into()))
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite:///tmp/x.db"),
            Ok(DatabaseUrl::Sqlite("/tmp/x.db".into()))
        );
        assert_eq!(
            DatabaseUrl::parse("./x.db"),
            Ok(DatabaseUrl::Sqlite("./x.db".into()))
        );
        assert_eq!(
            DatabaseUrl::parse("mysql://h/db"),
            Err(ConfigError::UnknownScheme("mysql".into()))
        );
        assert_eq!(
            DatabaseUrl::parse("postgress://h/db"),
            Err(ConfigError::UnknownScheme("postgress".into()))
        );
        assert_eq!(DatabaseUrl::parse("  "), Err(ConfigError::Empty));
    }

    #[test]
    fn password_is_hidden() {
        let url = DatabaseUrl::parse("postgres://app:s3cret@db:5432/mm").unwrap();
        let shown = format!("{url:?} {url}");
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(shown.contains("app:***@db"), "{shown}");
    }

    #[test]
    fn defaults_and_bad_values() {
        let s = Settings::from_lookup(|_| None).unwrap();
        assert_eq!(s.database, DatabaseUrl::default_sqlite());
        assert_eq!(s.addr.to_string(), DEFAULT_ADDR);
        let bad = Settings::from_lookup(|k| (k == "MATCHMAKER_ADDR").then(|| "nope".to_owned()));
        assert!(matches!(bad, Err(ConfigError::BadAddr { .. })));
        let bad =
            Settings::from_lookup(|k| (k == "MATCHMAKER_DB_POOL_SIZE").then(|| "0".to_owned()));
        assert!(matches!(bad, Err(ConfigError::BadNumber { .. })));
    }
}
