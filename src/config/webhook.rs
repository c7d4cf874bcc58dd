//! Webhooks: which addresses endpoints may reach beyond the public internet, how patiently a delivery is retried,
//! and when a failing endpoint is disabled.

use std::time::Duration;

use super::{ConfigError, Env, parse_trusted};
use crate::outbound::Lookup;

#[derive(Debug, Clone)]
pub struct WebhookSettings {
    /// Addresses (CIDR ranges) endpoints may reach although they are loopback, private, link-local… and that
    /// `http://` may be used for (`MATCHMAKER_WEBHOOK_ALLOW_TARGETS`; none by default).
    pub allow_targets: Vec<ipnet::IpNet>,
    /// The wait after a first failed attempt, doubled after each further one (`MATCHMAKER_WEBHOOK_RETRY_SECONDS`).
    pub retry_seconds: i64,
    /// The longest wait between two attempts.
    pub max_retry_seconds: i64,
    /// How long an endpoint may fail without a success before it is disabled
    /// (`MATCHMAKER_WEBHOOK_DISABLE_AFTER_SECONDS`).
    pub disable_after: Duration,
    /// How long a delivery being sent is leased to its sender (`MATCHMAKER_WEBHOOK_SEND_LEASE_SECONDS`).
    pub lease_seconds: i64,
    /// To connect, and for a whole attempt (`MATCHMAKER_WEBHOOK_TIMEOUT_SECONDS`).
    pub connect_timeout: Duration,
    pub timeout: Duration,
    /// The most of an endpoint's answer read (kept in the delivery log).
    pub max_answer: usize,
    /// How long the previous secret still signs after a rotation (`MATCHMAKER_WEBHOOK_SECRET_GRACE_HOURS`).
    pub secret_grace: Duration,
    /// How names are resolved: the system's resolver, or a fixed table (tests).
    pub lookup: Lookup,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        Self {
            allow_targets: Vec::new(),
            retry_seconds: 30,
            max_retry_seconds: 6 * 3600,
            disable_after: Duration::from_secs(24 * 3600),
            lease_seconds: 60,
            connect_timeout: Duration::from_secs(5),
            timeout: Duration::from_secs(10),
            max_answer: 1024,
            secret_grace: Duration::from_secs(24 * 3600),
            lookup: Lookup::system(),
        }
    }
}

impl WebhookSettings {
    pub(super) fn read(env: &Env<'_>) -> Result<Self, ConfigError> {
        let d = Self::default();
        let allow_targets = parse_trusted(&env.text("MATCHMAKER_WEBHOOK_ALLOW_TARGETS").unwrap_or_default())
            .map_err(|message| ConfigError::Bad { name: "MATCHMAKER_WEBHOOK_ALLOW_TARGETS", message })?;
        let timeout = env.seconds("MATCHMAKER_WEBHOOK_TIMEOUT_SECONDS", d.timeout, 1, 60)?;
        Ok(Self {
            allow_targets,
            retry_seconds: env.number("MATCHMAKER_WEBHOOK_RETRY_SECONDS", d.retry_seconds, 0, 86_400)?,
            disable_after: env.seconds("MATCHMAKER_WEBHOOK_DISABLE_AFTER_SECONDS", d.disable_after, 60, 30 * 86_400)?,
            lease_seconds: env.number("MATCHMAKER_WEBHOOK_SEND_LEASE_SECONDS", d.lease_seconds, 10, 3600)?,
            connect_timeout: timeout.min(d.connect_timeout),
            timeout,
            secret_grace: Duration::from_secs(
                3600 * env.number("MATCHMAKER_WEBHOOK_SECRET_GRACE_HOURS", 24u64, 0, 24 * 30)?,
            ),
            ..d
        })
    }
}
