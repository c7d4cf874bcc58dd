//! Tokens, keys and sign-in limits.

use std::fmt;
use std::net::IpAddr;

use ipnet::IpNet;

use super::{ConfigError, Env};

#[derive(Clone)]
pub struct AuthSettings {
    pub issuer: String,
    pub audience: String,
    pub token_ttl_seconds: i64,
    /// The PEM private key that signs (`MATCHMAKER_JWT_KEY` or the file `MATCHMAKER_JWT_KEY_FILE`).
    pub signing_key: Option<String>,
    /// PEM keys that still verify (`MATCHMAKER_JWT_PREVIOUS_KEYS` or `…_FILE`).
    pub previous_keys: String,
    pub trusted_proxies: Vec<IpNet>,
    /// Token requests per client address per minute.
    pub attempts_per_address: u32,
    /// Failed sign-ins per account per 15 minutes.
    pub failures_per_account: u32,
}

impl fmt::Debug for AuthSettings {
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

/// Parse `MATCHMAKER_TRUSTED_PROXIES`: addresses or CIDR ranges, comma- or space-separated.
pub fn parse_trusted(text: &str) -> Result<Vec<IpNet>, String> {
    text.split([',', ' '])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<IpNet>()
                .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| format!("`{s}` is not an IP address or CIDR range"))
        })
        .collect()
}

impl AuthSettings {
    pub(super) fn read(env: &Env<'_>) -> Result<Self, ConfigError> {
        let d = Self::default();
        Ok(Self {
            issuer: env.text("MATCHMAKER_JWT_ISSUER").unwrap_or(d.issuer),
            audience: env.text("MATCHMAKER_JWT_AUDIENCE").unwrap_or(d.audience),
            token_ttl_seconds: env.number("MATCHMAKER_TOKEN_TTL_SECONDS", d.token_ttl_seconds, 60, 86_400)?,
            signing_key: env.value_or_file("MATCHMAKER_JWT_KEY")?,
            previous_keys: env.value_or_file("MATCHMAKER_JWT_PREVIOUS_KEYS")?.unwrap_or(d.previous_keys),
            trusted_proxies: parse_trusted(&env.text("MATCHMAKER_TRUSTED_PROXIES").unwrap_or_default())
                .map_err(|message| ConfigError::Bad { name: "MATCHMAKER_TRUSTED_PROXIES", message })?,
            attempts_per_address: env.number(
                "MATCHMAKER_SIGNIN_ATTEMPTS_PER_ADDRESS",
                d.attempts_per_address,
                1,
                100_000,
            )?,
            failures_per_account: env.number(
                "MATCHMAKER_SIGNIN_FAILURES_PER_ACCOUNT",
                d.failures_per_account,
                1,
                100_000,
            )?,
        })
    }
}
