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
    #[error("DATABASE_URL is empty: unset it to use {DEFAULT_SQLITE_PATH}, or give a PostgreSQL URL or a SQLite path")]
    Empty,
    #[error("{name} is not a valid listen address (`{value}`): expected host:port, e.g. 127.0.0.1:8080")]
    BadAddr { name: &'static str, value: String },
    #[error("{name} must be a whole number from {min} to {max}, got `{value}`")]
    BadNumber { name: &'static str, value: String, min: u64, max: u64 },
    #[error("{name}: {message}")]
    Bad { name: &'static str, message: String },
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
            None if raw.starts_with("sqlite:") => Ok(Self::Sqlite(PathBuf::from(&raw["sqlite:".len()..]))),
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
    pub auth: AuthSettings,
    pub matching: MatchSettings,
}

/// Matching: score weights, the fuzzy threshold, how often other instances' changes are picked up.
#[derive(Debug, Clone)]
pub struct MatchSettings {
    pub weights: crate::matching::model::Weights,
    pub fuzzy_threshold: f64,
    pub poll_interval: std::time::Duration,
}

impl Default for MatchSettings {
    fn default() -> Self {
        Self {
            weights: crate::matching::model::Weights::default(),
            fuzzy_threshold: crate::matching::vocabulary::DEFAULT_FUZZY_THRESHOLD,
            poll_interval: std::time::Duration::from_millis(1000),
        }
    }
}

/// Tokens, keys and sign-in limits.
#[derive(Clone)]
pub struct AuthSettings {
    pub issuer: String,
    pub audience: String,
    pub token_ttl_seconds: i64,
    /// The PEM private key that signs (`MATCHMAKER_JWT_KEY` or the file `MATCHMAKER_JWT_KEY_FILE`).
    pub signing_key: Option<String>,
    /// PEM keys that still verify (`MATCHMAKER_JWT_PREVIOUS_KEYS` or `…_FILE`).
    pub previous_keys: String,
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Token requests per client address per minute.
    pub attempts_per_address: u32,
    /// Failed sign-ins per account per 15 minutes.
    pub failures_per_account: u32,
}

impl std::fmt::Debug for AuthSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthSettings")
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("token_ttl_seconds", &self.token_ttl_seconds)
            .field("signing_key", &self.signing_key.as_ref().map(|_| "<configured>"))
            .field("trusted_proxies", &self.trusted_proxies)
            .finish_non_exhaustive()
    }
}

impl Default for AuthSettings {
    fn default() -> Self {
        Self {
            issuer: "cluster-matchmaker".to_owned(),
            audience: "cluster-matchmaker-api".to_owned(),
            token_ttl_seconds: 900,
            signing_key: None,
            previous_keys: String::new(),
            trusted_proxies: Vec::new(),
            attempts_per_address: 30,
            failures_per_account: 10,
        }
    }
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
        let addr =
            addr_raw.parse().map_err(|_| ConfigError::BadAddr { name: "MATCHMAKER_ADDR", value: addr_raw.clone() })?;
        let pool_size = number(&get, "MATCHMAKER_DB_POOL_SIZE", 10, 1, 200)?;
        let workers = number(&get, "MATCHMAKER_WORKERS", 0, 0, 256)?;
        let defaults = AuthSettings::default();
        let auth = AuthSettings {
            issuer: get("MATCHMAKER_JWT_ISSUER").unwrap_or(defaults.issuer),
            audience: get("MATCHMAKER_JWT_AUDIENCE").unwrap_or(defaults.audience),
            token_ttl_seconds: number(&get, "MATCHMAKER_TOKEN_TTL_SECONDS", 900, 60, 86_400)? as i64,
            signing_key: value_or_file(&get, "MATCHMAKER_JWT_KEY")?,
            previous_keys: value_or_file(&get, "MATCHMAKER_JWT_PREVIOUS_KEYS")?.unwrap_or_default(),
            trusted_proxies: crate::auth::address::parse_trusted(
                &get("MATCHMAKER_TRUSTED_PROXIES").unwrap_or_default(),
            )
            .map_err(|message| ConfigError::Bad { name: "MATCHMAKER_TRUSTED_PROXIES", message })?,
            attempts_per_address: number(&get, "MATCHMAKER_SIGNIN_ATTEMPTS_PER_ADDRESS", 30, 1, 100_000)? as u32,
            failures_per_account: number(&get, "MATCHMAKER_SIGNIN_FAILURES_PER_ACCOUNT", 10, 1, 100_000)? as u32,
        };
        let weights = match get("MATCHMAKER_MATCH_WEIGHTS") {
            None => crate::matching::model::Weights::default(),
            Some(v) => serde_json::from_str(&v).map_err(|e| ConfigError::Bad {
                name: "MATCHMAKER_MATCH_WEIGHTS",
                message: format!("a JSON object such as {{\"skills\": 0.6, \"themes\": 0.2}}: {e}"),
            })?,
        };
        let fuzzy_threshold = match get("MATCHMAKER_FUZZY_THRESHOLD") {
            None => crate::matching::vocabulary::DEFAULT_FUZZY_THRESHOLD,
            Some(v) => v.trim().parse::<f64>().ok().filter(|t| (0.5..=1.0).contains(t)).ok_or(ConfigError::Bad {
                name: "MATCHMAKER_FUZZY_THRESHOLD",
                message: format!("must be a number from 0.5 to 1, got `{v}`"),
            })?,
        };
        let poll_ms = number(&get, "MATCHMAKER_INDEX_POLL_MS", 1000, 50, 600_000)?;
        let matching =
            MatchSettings { weights, fuzzy_threshold, poll_interval: std::time::Duration::from_millis(poll_ms) };
        Ok(Self { database, addr, pool_size: pool_size as u32, workers: workers as usize, auth, matching })
    }

    /// Settings for tests and tools: the given database, port 0, defaults elsewhere.
    pub fn for_database(database: DatabaseUrl) -> Self {
        Self {
            database,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            pool_size: 10,
            workers: 2,
            auth: AuthSettings::default(),
            matching: MatchSettings {
                poll_interval: std::time::Duration::from_millis(200),
                ..MatchSettings::default()
            },
        }
    }
}

/// `NAME`, or the contents of the file named by `NAME_FILE` (for container secrets).
fn value_or_file(get: &impl Fn(&str) -> Option<String>, name: &'static str) -> Result<Option<String>, ConfigError> {
    if let Some(v) = get(name).filter(|v| !v.trim().is_empty()) {
        return Ok(Some(v));
    }
    let file_var = format!("{name}_FILE");
    match get(&file_var).filter(|v| !v.trim().is_empty()) {
        None => Ok(None),
        Some(path) => std::fs::read_to_string(path.trim())
            .map(Some)
            .map_err(|e| ConfigError::Bad { name, message: format!("cannot read the file named by {file_var}: {e}") }),
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
            _ => Err(ConfigError::BadNumber { name, value: v, min, max }),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_url_schemes() {
        assert!(matches!(DatabaseUrl::parse("postgres://u:p@h/db"), Ok(DatabaseUrl::Postgres(_))));
        assert!(matches!(DatabaseUrl::parse("postgresql://h/db"), Ok(DatabaseUrl::Postgres(_))));
        assert_eq!(DatabaseUrl::parse("sqlite://data/x.db"), Ok(DatabaseUrl::Sqlite("data/x.db".into())));
        assert_eq!(DatabaseUrl::parse("sqlite:///tmp/x.db"), Ok(DatabaseUrl::Sqlite("/tmp/x.db".into())));
        assert_eq!(DatabaseUrl::parse("./x.db"), Ok(DatabaseUrl::Sqlite("./x.db".into())));
        assert_eq!(DatabaseUrl::parse("mysql://h/db"), Err(ConfigError::UnknownScheme("mysql".into())));
        assert_eq!(DatabaseUrl::parse("postgress://h/db"), Err(ConfigError::UnknownScheme("postgress".into())));
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
        let bad = Settings::from_lookup(|k| (k == "MATCHMAKER_DB_POOL_SIZE").then(|| "0".to_owned()));
        assert!(matches!(bad, Err(ConfigError::BadNumber { .. })));
    }
}
