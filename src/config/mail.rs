//! Sending digests: the SMTP server, the sender, the public address links point at, the unsubscribe key, retries.

use std::fmt;
use std::net::SocketAddr;
use std::str::FromStr;

use super::{ConfigError, DEFAULT_ADDR, Env, masked_url};

#[derive(Clone)]
pub struct MailSettings {
    /// `smtp://host:port` (plain, for a local catcher), `smtp://…?tls=required` (STARTTLS) or `smtps://user:pass@host`.
    pub smtp_url: Option<String>,
    pub from: String,
    /// The address members reach the service at; unsubscribe links start with it.
    pub public_url: String,
    /// Whether `MATCHMAKER_PUBLIC_URL` was set (otherwise links point at the listening address, which members cannot
    /// reach).
    pub public_url_set: bool,
    /// Where replies to a digest go (`MATCHMAKER_MAIL_REPLY_TO`: the cluster team); none without it.
    pub reply_to: Option<String>,
    /// How long a digest's reaction links work, in days after the digest (`MATCHMAKER_REACTION_LINK_DAYS`).
    pub reaction_link_days: i64,
    /// How long the link asking the other side of an introduction for its consent works, in days
    /// (`MATCHMAKER_CONSENT_LINK_DAYS`).
    pub consent_link_days: i64,
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

impl fmt::Debug for MailSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MailSettings")
            .field("smtp_url", &self.smtp_url.as_deref().map(masked_url))
            .field("from", &self.from)
            .field("public_url", &self.public_url)
            .field("reply_to", &self.reply_to)
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
            public_url_set: false,
            reply_to: None,
            reaction_link_days: 56,
            consent_link_days: crate::domain::introduction::CONSENT_LINK_DAYS,
            unsubscribe_key: None,
            max_attempts: 5,
            retry_after_seconds: 300,
            send_lease_seconds: 120,
        }
    }
}

impl MailSettings {
    /// `addr` is where this instance listens: the public URL defaults to it.
    pub(super) fn read(env: &Env<'_>, addr: SocketAddr) -> Result<Self, ConfigError> {
        let d = Self::default();
        let public_url_set = env.text("MATCHMAKER_PUBLIC_URL").is_some_and(|v| !v.trim().is_empty());
        let public_url = env.text("MATCHMAKER_PUBLIC_URL").unwrap_or_else(|| format!("http://{addr}"));
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
        let smtp_url = env.text("MATCHMAKER_SMTP_URL").filter(|v| !v.trim().is_empty());
        if let Some(u) = &smtp_url
            && !url::Url::parse(u).is_ok_and(|u| matches!(u.scheme(), "smtp" | "smtps"))
        {
            return Err(ConfigError::Bad {
                name: "MATCHMAKER_SMTP_URL",
                message: "expected smtp://host:port, smtp://host:587?tls=required or smtps://user:pass@host".to_owned(),
            });
        }
        let from = env.text("MATCHMAKER_MAIL_FROM").unwrap_or(d.from);
        if let Err(e) = lettre::message::Mailbox::from_str(&from) {
            return Err(ConfigError::Bad { name: "MATCHMAKER_MAIL_FROM", message: format!("not a mailbox: {e}") });
        }
        let reply_to = env.text("MATCHMAKER_MAIL_REPLY_TO").filter(|v| !v.trim().is_empty());
        if let Some(r) = &reply_to
            && let Err(e) = lettre::message::Mailbox::from_str(r)
        {
            return Err(ConfigError::Bad { name: "MATCHMAKER_MAIL_REPLY_TO", message: format!("not a mailbox: {e}") });
        }
        Ok(Self {
            smtp_url,
            from,
            public_url: public_url.trim_end_matches('/').to_owned(),
            public_url_set,
            reply_to,
            reaction_link_days: env.number("MATCHMAKER_REACTION_LINK_DAYS", d.reaction_link_days, 1, 3650)?,
            consent_link_days: env.number("MATCHMAKER_CONSENT_LINK_DAYS", d.consent_link_days, 1, 3650)?,
            unsubscribe_key: env.value_or_file("MATCHMAKER_UNSUBSCRIBE_KEY")?,
            max_attempts: env.number("MATCHMAKER_MAIL_MAX_ATTEMPTS", d.max_attempts, 1, 100)?,
            retry_after_seconds: env.number("MATCHMAKER_MAIL_RETRY_SECONDS", d.retry_after_seconds, 0, 86_400)?,
            send_lease_seconds: env.number("MATCHMAKER_MAIL_SEND_LEASE_SECONDS", d.send_lease_seconds, 1, 86_400)?,
        })
    }
}
