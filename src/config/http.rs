//! What the HTTP server tolerates from a client.

use std::time::Duration;

use super::{ConfigError, Env};

/// How long a request body may take to arrive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyDeadline {
    /// Allowed from the end of the headers before any byte of the body counts.
    pub initial: Duration,
    /// Each `min_rate` bytes received extend the deadline by one second.
    pub min_rate: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpSettings {
    /// How long a client may take from connecting to the end of its request's headers
    /// (`MATCHMAKER_HEADER_TIMEOUT_SECONDS`); a slower one is answered a bare `408` by the HTTP layer and dropped.
    pub header_timeout: Duration,
    /// How long a request body may take: an initial allowance, extended by a second per `min_rate` bytes received.
    pub body_deadline: BodyDeadline,
    /// Most open connections per instance; `None`: as many as the file-descriptor limit leaves room for.
    pub max_connections: Option<usize>,
    /// On SIGTERM or SIGINT, how long in-flight requests and running jobs get to finish (`MATCHMAKER_SHUTDOWN_SECONDS`).
    pub shutdown: Duration,
    /// Where the Prometheus metrics are served (`MATCHMAKER_METRICS_ADDR`); off unless set.
    pub metrics_addr: Option<std::net::SocketAddr>,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            header_timeout: Duration::from_secs(5),
            body_deadline: BodyDeadline { initial: Duration::from_secs(20), min_rate: 64 * 1024 },
            max_connections: None,
            shutdown: Duration::from_secs(30),
            metrics_addr: None,
        }
    }
}

impl HttpSettings {
    pub(super) fn read(env: &Env<'_>) -> Result<Self, ConfigError> {
        let d = Self::default();
        Ok(Self {
            header_timeout: env.seconds("MATCHMAKER_HEADER_TIMEOUT_SECONDS", d.header_timeout, 1, 600)?,
            body_deadline: BodyDeadline {
                initial: env.seconds("MATCHMAKER_BODY_TIMEOUT_SECONDS", d.body_deadline.initial, 1, 3_600)?,
                min_rate: env.number("MATCHMAKER_BODY_MIN_RATE", d.body_deadline.min_rate, 1, 1 << 30)?,
            },
            max_connections: env.optional_number("MATCHMAKER_MAX_CONNECTIONS", 1, 1_000_000)?,
            shutdown: env.seconds("MATCHMAKER_SHUTDOWN_SECONDS", d.shutdown, 1, 3_600)?,
            metrics_addr: match env.text("MATCHMAKER_METRICS_ADDR").filter(|v| !v.trim().is_empty()) {
                None => None,
                Some(v) => Some(v.trim().parse().map_err(|_| ConfigError::Bad {
                    name: "MATCHMAKER_METRICS_ADDR",
                    message: format!("`{v}` is not an address such as 127.0.0.1:9090"),
                })?),
            },
        })
    }
}
