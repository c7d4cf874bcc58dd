//! Settings from the environment, one section a file, each default written once (in the section's `Default`).
//! Values are parsed here, once, into what the service uses (a cron expression into its schedule, proxy addresses
//! into ranges), so a typo stops the start rather than the first Monday. Secrets never reach the log: `Debug` of a
//! URL or key hides its password or contents.

mod auth;
mod console;
mod database;
mod http;
mod mail;
mod matching;
mod portal;
mod review;
mod scheduler;
mod webhook;

use std::fmt::Display;
use std::net::SocketAddr;
use std::str::FromStr;

pub use auth::{AuthSettings, parse_trusted};
pub use console::ConsoleSettings;
pub use database::{DEFAULT_SQLITE_PATH, DatabaseUrl};
pub use http::{BodyDeadline, HttpSettings};
pub use mail::MailSettings;
pub use matching::MatchSettings;
pub use portal::{PORTAL_SEARCH_URL, PortalSettings};
pub use review::ReviewSettings;
pub use scheduler::{Retention, Schedule, SchedulerSettings};
pub use webhook::WebhookSettings;

pub const DEFAULT_ADDR: &str = "127.0.0.1:8080";
const DEFAULT_POOL_SIZE: u32 = 10;

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
    #[error("{name} must be a number from {min} to {max}, got `{value}`")]
    BadNumber { name: &'static str, value: String, min: String, max: String },
    #[error("{name}: {message}")]
    Bad { name: &'static str, message: String },
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
    /// The calls sync's source.
    pub portal: PortalSettings,
    /// Partner portals' webhooks.
    pub webhooks: WebhookSettings,
    /// The staff console's sessions.
    pub console: ConsoleSettings,
}

/// The environment as a lookup, with the readers every section shares.
pub(crate) struct Env<'a> {
    get: &'a dyn Fn(&str) -> Option<String>,
}

impl Env<'_> {
    pub(crate) fn text(&self, name: &str) -> Option<String> {
        (self.get)(name)
    }

    /// A switch: `on`/`true`/`1` or `off`/`false`/`0`, or `default` when unset.
    pub(crate) fn switch(&self, name: &'static str, default: bool) -> Result<bool, ConfigError> {
        match self.text(name).as_deref().map(str::trim) {
            None => Ok(default),
            Some("on" | "true" | "1") => Ok(true),
            Some("off" | "false" | "0") => Ok(false),
            Some(other) => Err(ConfigError::Bad { name, message: format!("`on` or `off`, got `{other}`") }),
        }
    }

    /// A number in `min..=max`, or `default` when unset.
    pub(crate) fn number<T: FromStr + PartialOrd + Display + Copy>(
        &self,
        name: &'static str,
        default: T,
        min: T,
        max: T,
    ) -> Result<T, ConfigError> {
        Ok(self.optional_number(name, min, max)?.unwrap_or(default))
    }

    /// A number in `min..=max`, if set.
    pub(crate) fn optional_number<T: FromStr + PartialOrd + Display + Copy>(
        &self,
        name: &'static str,
        min: T,
        max: T,
    ) -> Result<Option<T>, ConfigError> {
        let Some(v) = self.text(name) else { return Ok(None) };
        match v.trim().parse::<T>() {
            Ok(n) if n >= min && n <= max => Ok(Some(n)),
            _ => Err(ConfigError::BadNumber { name, value: v, min: min.to_string(), max: max.to_string() }),
        }
    }

    /// Whole seconds in `min..=max`, or `default` when unset.
    pub(crate) fn seconds(
        &self,
        name: &'static str,
        default: std::time::Duration,
        min: u64,
        max: u64,
    ) -> Result<std::time::Duration, ConfigError> {
        self.number(name, default.as_secs(), min, max).map(std::time::Duration::from_secs)
    }

    /// `NAME`, or the contents of the file named by `NAME_FILE` (for container secrets).
    pub(crate) fn value_or_file(&self, name: &'static str) -> Result<Option<String>, ConfigError> {
        if let Some(v) = self.text(name).filter(|v| !v.trim().is_empty()) {
            return Ok(Some(v));
        }
        let file_var = format!("{name}_FILE");
        match self.text(&file_var).filter(|v| !v.trim().is_empty()) {
            None => Ok(None),
            Some(path) => std::fs::read_to_string(path.trim()).map(Some).map_err(|e| ConfigError::Bad {
                name,
                message: format!("cannot read the file named by {file_var}: {e}"),
            }),
        }
    }
}

/// A URL with its password replaced by `***`, for logs.
pub(crate) fn masked_url(raw: &str) -> String {
    match url::Url::parse(raw) {
        Ok(mut u) => {
            if u.password().is_some() {
                let _ = u.set_password(Some("***"));
            }
            u.to_string()
        }
        Err(_) => "<unparsable URL>".to_owned(),
    }
}

impl Settings {
    /// Read the settings from the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// Read the settings through a lookup function (tests pass a map).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let env = Env { get: &get };
        let database = match env.text("DATABASE_URL") {
            Some(v) => DatabaseUrl::parse(&v)?,
            None => DatabaseUrl::default_sqlite(),
        };
        let addr_raw = env.text("MATCHMAKER_ADDR").unwrap_or_else(|| DEFAULT_ADDR.to_owned());
        let addr =
            addr_raw.parse().map_err(|_| ConfigError::BadAddr { name: "MATCHMAKER_ADDR", value: addr_raw.clone() })?;
        Ok(Self {
            database,
            addr,
            pool_size: env.number("MATCHMAKER_DB_POOL_SIZE", DEFAULT_POOL_SIZE, 1, 200)?,
            workers: env.number("MATCHMAKER_WORKERS", 0, 0, 256)?,
            http: HttpSettings::read(&env)?,
            auth: AuthSettings::read(&env)?,
            matching: MatchSettings::read(&env)?,
            review: ReviewSettings::read(&env)?,
            mail: MailSettings::read(&env, addr)?,
            scheduler: SchedulerSettings::read(&env)?,
            portal: PortalSettings::read(&env)?,
            webhooks: WebhookSettings::read(&env)?,
            console: ConsoleSettings::read(&env)?,
        })
    }

    /// Settings for tests and tools: the given database, port 0, two workers, the scheduler off, a quick poll, and
    /// the calls sync pointed at a loopback port nothing listens on (port 9, discard), never at the internet.
    pub fn for_database(database: DatabaseUrl) -> Self {
        Self {
            database,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            pool_size: DEFAULT_POOL_SIZE,
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
            portal: PortalSettings {
                source_url: url::Url::parse("http://127.0.0.1:9/search")
                    .unwrap_or_else(|_| unreachable!("a written URL parses")),
                retry_delay: std::time::Duration::from_millis(10),
                ..PortalSettings::default()
            },
            webhooks: WebhookSettings::default(),
            console: ConsoleSettings::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_bad_values() {
        let s = Settings::from_lookup(|_| None).unwrap();
        assert_eq!(s.database, DatabaseUrl::default_sqlite());
        assert_eq!(s.addr.to_string(), DEFAULT_ADDR);
        assert_eq!(s.pool_size, 10);
        assert_eq!(s.scheduler.matching.to_string(), "0 8 * * THU");
        let bad = Settings::from_lookup(|k| (k == "MATCHMAKER_ADDR").then(|| "nope".to_owned()));
        assert!(matches!(bad, Err(ConfigError::BadAddr { .. })));
        let bad = Settings::from_lookup(|k| (k == "MATCHMAKER_DB_POOL_SIZE").then(|| "0".to_owned()));
        assert!(matches!(bad, Err(ConfigError::BadNumber { .. })));
        let bad = Settings::from_lookup(|k| (k == "MATCHMAKER_DIGEST_SCHEDULE").then(|| "every monday".to_owned()));
        assert!(matches!(bad, Err(ConfigError::Bad { name: "MATCHMAKER_DIGEST_SCHEDULE", .. })));
    }

    #[test]
    fn the_calls_sync_settings() {
        let read =
            |k: &'static str, v: &'static str| Settings::from_lookup(move |name| (name == k).then(|| v.to_owned()));
        let default = Settings::from_lookup(|_| None).unwrap();
        assert_eq!(default.scheduler.calls.as_ref().map(ToString::to_string).as_deref(), Some("0 5 * * *"));
        assert_eq!(default.portal.source_url.as_str(), PORTAL_SEARCH_URL);
        assert!(read("MATCHMAKER_CALLS_SCHEDULE", "off").unwrap().scheduler.calls.is_none());
        let at_six = read("MATCHMAKER_CALLS_SCHEDULE", "0 6 * * *").unwrap();
        assert_eq!(at_six.scheduler.calls.unwrap().to_string(), "0 6 * * *");
        assert!(matches!(
            read("MATCHMAKER_CALLS_SCHEDULE", "daily"),
            Err(ConfigError::Bad { name: "MATCHMAKER_CALLS_SCHEDULE", .. })
        ));
        assert!(matches!(
            read("MATCHMAKER_CALLS_SOURCE_URL", "ftp://example.org/search"),
            Err(ConfigError::Bad { name: "MATCHMAKER_CALLS_SOURCE_URL", .. })
        ));
        let local = read("MATCHMAKER_CALLS_SOURCE_URL", "http://127.0.0.1:8999/search?apiKey=SEDIA").unwrap();
        assert_eq!(local.portal.source_url.port(), Some(8999));
    }

    #[test]
    fn programmes_whose_calls_are_left_out() {
        let read = |v: &str| {
            let v = v.to_owned();
            Settings::from_lookup(move |k| (k == "MATCHMAKER_CALLS_LEFT_OUT_PROGRAMMES").then(|| v.clone()))
        };
        let default = Settings::from_lookup(|_| None).unwrap().matching.calls.programmes;
        assert_eq!(default, ["EDF", "ISF", "BMVI", "EURATOM", "RFCS"]);
        assert_eq!(read("edf, cef  LIFE").unwrap().matching.calls.programmes, ["EDF", "CEF", "LIFE"]);
        assert!(read("").unwrap().matching.calls.programmes.is_empty(), "empty: no call is left out");
        let bad = read("EDF;CEF");
        assert!(matches!(bad, Err(ConfigError::Bad { name: "MATCHMAKER_CALLS_LEFT_OUT_PROGRAMMES", .. })));
        let types = |v: &'static str| {
            Settings::from_lookup(move |k| (k == "MATCHMAKER_CALLS_LEFT_OUT_ACTION_TYPES").then(|| v.to_owned()))
        };
        let default = Settings::from_lookup(|_| None).unwrap().matching.calls.action_types;
        assert!(default.contains(&"HORIZON-COFUND".to_owned()) && default.contains(&"HORIZON-ERC".to_owned()));
        assert_eq!(
            types("horizon-cofund ESC-CERT").unwrap().matching.calls.action_types,
            ["HORIZON-COFUND", "ESC-CERT"]
        );
        assert!(types("").unwrap().matching.calls.action_types.is_empty());
        let bad = types("HORIZON_COFUND/x");
        assert!(matches!(bad, Err(ConfigError::Bad { name: "MATCHMAKER_CALLS_LEFT_OUT_ACTION_TYPES", .. })));
        let unread = |v: &'static str| {
            Settings::from_lookup(move |k| (k == "MATCHMAKER_CALLS_LEAVE_OUT_UNREAD").then(|| v.to_owned()))
        };
        assert!(Settings::from_lookup(|_| None).unwrap().matching.calls.unread, "on by default");
        assert!(!unread("off").unwrap().matching.calls.unread);
        assert!(matches!(unread("maybe"), Err(ConfigError::Bad { name: "MATCHMAKER_CALLS_LEAVE_OUT_UNREAD", .. })));
    }
}
