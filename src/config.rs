//! Settings from the environment. Secrets never reach the log: `Debug` of a database URL hides its password.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::str::FromStr;

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
    pub http: HttpSettings,
    pub auth: AuthSettings,
    pub matching: MatchSettings,
    pub review: ReviewSettings,
    pub mail: MailSettings,
    pub scheduler: SchedulerSettings,
}

/// What the HTTP server tolerates from a client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpSettings {
    /// How long a request body may take: an initial allowance, extended by a second per `min_rate` bytes received.
    pub body_deadline: crate::http::limits::BodyDeadline,
    /// Most open connections per instance; `None`: as many as the file-descriptor limit leaves room for.
    pub max_connections: Option<usize>,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            body_deadline: crate::http::limits::BodyDeadline {
                initial: std::time::Duration::from_secs(20),
                min_rate: 64 * 1024,
            },
            max_connections: None,
        }
    }
}

/// What a matching run keeps as suggestions for staff to review.
#[derive(Debug, Clone)]
pub struct ReviewSettings {
    /// Lowest score kept (0–100).
    pub min_score: f64,
    /// At most this many suggestions of each kind per member and run.
    pub top_n: usize,
    /// A rejected or not-relevant pair may come back after this many weeks…
    pub resuggest_after_weeks: i64,
    /// …or sooner if its score rose by at least this many points.
    pub resuggest_score_rise: f64,
    /// Points taken off a candidate for each concept it shares with a suggestion the member marked not relevant.
    pub feedback_penalty: f64,
}

impl Default for ReviewSettings {
    fn default() -> Self {
        Self {
            min_score: 40.0,
            top_n: 5,
            resuggest_after_weeks: 26,
            resuggest_score_rise: 15.0,
            feedback_penalty: 10.0,
        }
    }
}

/// Sending digests: the SMTP server, the sender, the public address links point at, the unsubscribe key, retries.
#[derive(Clone)]
pub struct MailSettings {
    /// `smtp://host:port` (plain, for a local catcher), `smtp://…?tls=required` (STARTTLS) or `smtps://user:pass@host`.
    pub smtp_url: Option<String>,
    pub from: String,
    /// The address members reach the service at; unsubscribe links start with it.
    pub public_url: String,
    /// The HMAC key for unsubscribe links (`MATCHMAKER_UNSUBSCRIBE_KEY` or `…_FILE`); on SQLite, generated beside the
    /// database when unset.
    pub unsubscribe_key: Option<String>,
    /// Tries before a digest is `failed`.
    pub max_attempts: i32,
    /// Wait before the first retry; doubled after each failure.
    pub retry_after_seconds: i64,
    /// How long a `sending` digest is leased to the instance sending it.
    pub send_lease_seconds: i64,
}

impl std::fmt::Debug for MailSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let smtp = self.smtp_url.as_deref().map(|u| match url::Url::parse(u) {
            Ok(mut u) => {
                if u.password().is_some() {
                    let _ = u.set_password(Some("***"));
                }
                u.to_string()
            }
            Err(_) => "<unparsable>".to_owned(),
        });
        f.debug_struct("MailSettings")
            .field("smtp_url", &smtp)
            .field("from", &self.from)
            .field("public_url", &self.public_url)
            .field("unsubscribe_key", &self.unsubscribe_key.as_ref().map(|_| "<configured>"))
            .finish_non_exhaustive()
    }
}

impl Default for MailSettings {
    fn default() -> Self {
        Self {
            smtp_url: None,
            from: "Cluster Matchmaker <matchmaker@localhost>".to_owned(),
            public_url: format!("http://{DEFAULT_ADDR}"),
            unsubscribe_key: None,
            max_attempts: 5,
            retry_after_seconds: 300,
            send_lease_seconds: 120,
        }
    }
}

/// The in-process scheduler: when the weekly jobs fire, and the leases that keep them to one instance.
#[derive(Debug, Clone)]
pub struct SchedulerSettings {
    pub enabled: bool,
    /// Cron expressions (5 fields, or 6 with seconds first), read in `time_zone`.
    pub matching_cron: String,
    pub digest_cron: String,
    pub time_zone: chrono_tz::Tz,
    pub lease: std::time::Duration,
    pub heartbeat: std::time::Duration,
    /// How often an instance looks for due or abandoned work.
    pub tick: std::time::Duration,
}

impl Default for SchedulerSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            matching_cron: "0 8 * * THU".to_owned(),
            digest_cron: "0 8 * * MON".to_owned(),
            time_zone: chrono_tz::Europe::Luxembourg,
            lease: std::time::Duration::from_secs(120),
            heartbeat: std::time::Duration::from_secs(30),
            tick: std::time::Duration::from_secs(30),
        }
    }
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
        let http_defaults = HttpSettings::default();
        let http = HttpSettings {
            body_deadline: crate::http::limits::BodyDeadline {
                initial: std::time::Duration::from_secs(number(
                    &get,
                    "MATCHMAKER_BODY_TIMEOUT_SECONDS",
                    http_defaults.body_deadline.initial.as_secs(),
                    1,
                    3_600,
                )?),
                min_rate: number(&get, "MATCHMAKER_BODY_MIN_RATE", http_defaults.body_deadline.min_rate, 1, 1 << 30)?,
            },
            max_connections: match get("MATCHMAKER_MAX_CONNECTIONS") {
                None => None,
                Some(_) => Some(number(&get, "MATCHMAKER_MAX_CONNECTIONS", 0, 1, 1_000_000)? as usize),
            },
        };
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
        let review = ReviewSettings {
            min_score: number(&get, "MATCHMAKER_SUGGEST_MIN_SCORE", 40, 0, 100)? as f64,
            top_n: number(&get, "MATCHMAKER_SUGGEST_TOP_N", 5, 1, 100)? as usize,
            resuggest_after_weeks: number(&get, "MATCHMAKER_RESUGGEST_AFTER_WEEKS", 26, 0, 520)? as i64,
            resuggest_score_rise: number(&get, "MATCHMAKER_RESUGGEST_SCORE_RISE", 15, 0, 100)? as f64,
            feedback_penalty: number(&get, "MATCHMAKER_FEEDBACK_PENALTY", 10, 0, 100)? as f64,
        };
        let mail_defaults = MailSettings::default();
        let public_url = get("MATCHMAKER_PUBLIC_URL").unwrap_or_else(|| format!("http://{addr}"));
        let parsed = url::Url::parse(&public_url).map_err(|e| ConfigError::Bad {
            name: "MATCHMAKER_PUBLIC_URL",
            message: format!("an absolute http(s) URL such as https://matchmaker.example.lu: {e}"),
        })?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(ConfigError::Bad {
                name: "MATCHMAKER_PUBLIC_URL",
                message: "must be http or https".to_owned(),
            });
        }
        let smtp_url = get("MATCHMAKER_SMTP_URL").filter(|v| !v.trim().is_empty());
        if let Some(u) = &smtp_url {
            let ok = url::Url::parse(u).is_ok_and(|u| matches!(u.scheme(), "smtp" | "smtps"));
            if !ok {
                return Err(ConfigError::Bad {
                    name: "MATCHMAKER_SMTP_URL",
                    message: "expected smtp://host:port, smtp://host:587?tls=required or smtps://user:pass@host"
                        .to_owned(),
                });
            }
        }
        let mail = MailSettings {
            smtp_url,
            from: get("MATCHMAKER_MAIL_FROM").unwrap_or(mail_defaults.from),
            public_url: public_url.trim_end_matches('/').to_owned(),
            unsubscribe_key: value_or_file(&get, "MATCHMAKER_UNSUBSCRIBE_KEY")?,
            max_attempts: number(&get, "MATCHMAKER_MAIL_MAX_ATTEMPTS", 5, 1, 100)? as i32,
            retry_after_seconds: number(&get, "MATCHMAKER_MAIL_RETRY_SECONDS", 300, 0, 86_400)? as i64,
            send_lease_seconds: number(&get, "MATCHMAKER_MAIL_SEND_LEASE_SECONDS", 120, 1, 86_400)? as i64,
        };
        if let Err(e) = lettre::message::Mailbox::from_str(&mail.from) {
            return Err(ConfigError::Bad { name: "MATCHMAKER_MAIL_FROM", message: format!("not a mailbox: {e}") });
        }
        let sched = SchedulerSettings::default();
        let time_zone = match get("MATCHMAKER_SCHEDULE_TZ") {
            None => sched.time_zone,
            Some(v) => v.trim().parse().map_err(|_| ConfigError::Bad {
                name: "MATCHMAKER_SCHEDULE_TZ",
                message: format!("`{v}` is not an IANA time zone such as Europe/Luxembourg"),
            })?,
        };
        let scheduler = SchedulerSettings {
            enabled: match get("MATCHMAKER_SCHEDULER").as_deref().map(str::trim) {
                None | Some("on" | "true" | "1") => true,
                Some("off" | "false" | "0") => false,
                Some(other) => {
                    return Err(ConfigError::Bad {
                        name: "MATCHMAKER_SCHEDULER",
                        message: format!("`on` or `off`, got `{other}`"),
                    });
                }
            },
            matching_cron: cron(&get, "MATCHMAKER_MATCHING_SCHEDULE", sched.matching_cron)?,
            digest_cron: cron(&get, "MATCHMAKER_DIGEST_SCHEDULE", sched.digest_cron)?,
            time_zone,
            lease: std::time::Duration::from_secs(number(&get, "MATCHMAKER_JOB_LEASE_SECONDS", 120, 2, 86_400)?),
            heartbeat: std::time::Duration::from_secs(number(&get, "MATCHMAKER_JOB_HEARTBEAT_SECONDS", 30, 1, 3_600)?),
            tick: std::time::Duration::from_secs(number(&get, "MATCHMAKER_SCHEDULER_TICK_SECONDS", 30, 1, 3_600)?),
        };
        if scheduler.heartbeat >= scheduler.lease {
            return Err(ConfigError::Bad {
                name: "MATCHMAKER_JOB_HEARTBEAT_SECONDS",
                message: "must be shorter than MATCHMAKER_JOB_LEASE_SECONDS, or leases lapse between heartbeats"
                    .to_owned(),
            });
        }
        Ok(Self {
            database,
            addr,
            pool_size: pool_size as u32,
            workers: workers as usize,
            http,
            auth,
            matching,
            review,
            mail,
            scheduler,
        })
    }

    /// Settings for tests and tools: the given database, port 0, defaults elsewhere.
    pub fn for_database(database: DatabaseUrl) -> Self {
        Self {
            database,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            pool_size: 10,
            workers: 2,
            http: HttpSettings::default(),
            auth: AuthSettings::default(),
            matching: MatchSettings {
                poll_interval: std::time::Duration::from_millis(200),
                ..MatchSettings::default()
            },
            review: ReviewSettings::default(),
            mail: MailSettings::default(),
            scheduler: SchedulerSettings { enabled: false, ..SchedulerSettings::default() },
        }
    }
}

/// A cron expression, checked now so a typo stops the start rather than the first Monday.
fn cron(get: &impl Fn(&str) -> Option<String>, name: &'static str, default: String) -> Result<String, ConfigError> {
    let value = get(name).unwrap_or(default);
    crate::scheduler::parse_cron(&value).map_err(|message| ConfigError::Bad { name, message })?;
    Ok(value)
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
