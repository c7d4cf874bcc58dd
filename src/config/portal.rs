//! The calls sync: where the EU Funding & Tenders portal's search API is, and how patiently its pages are fetched.

use std::time::Duration;

use super::{ConfigError, Env};

/// The portal's public search API, as its public users call it (`text=***`: every text).
pub const PORTAL_SEARCH_URL: &str = "https://api.tech.ec.europa.eu/search-api/prod/rest/search?apiKey=SEDIA&text=***";

#[derive(Debug, Clone)]
pub struct PortalSettings {
    /// The search endpoint (`MATCHMAKER_CALLS_SOURCE_URL`); `pageSize` and `pageNumber` are set on it per page.
    pub source_url: url::Url,
    /// Tries of one page before the sync fails (`MATCHMAKER_CALLS_PAGE_TRIES`).
    pub page_tries: u32,
    /// The wait before the second try of a page, doubled before each further one (`MATCHMAKER_CALLS_RETRY_MS`).
    pub retry_delay: Duration,
    /// Records asked for a page.
    pub page_size: u32,
    /// The most pages read: a bound on a sync whose source never says it is done.
    pub max_pages: u32,
    /// To connect, and for one page's whole exchange.
    pub connect_timeout: Duration,
    pub page_timeout: Duration,
}

impl Default for PortalSettings {
    fn default() -> Self {
        Self {
            source_url: url::Url::parse(PORTAL_SEARCH_URL).unwrap_or_else(|_| unreachable!("the shipped URL parses")),
            page_tries: 4,
            retry_delay: Duration::from_secs(2),
            page_size: 100,
            max_pages: 200,
            connect_timeout: Duration::from_secs(10),
            page_timeout: Duration::from_secs(60),
        }
    }
}

impl PortalSettings {
    pub(super) fn read(env: &Env<'_>) -> Result<Self, ConfigError> {
        let d = Self::default();
        let source_url = match env.text("MATCHMAKER_CALLS_SOURCE_URL") {
            None => d.source_url,
            Some(v) => match url::Url::parse(v.trim()) {
                Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => u,
                _ => {
                    return Err(ConfigError::Bad {
                        name: "MATCHMAKER_CALLS_SOURCE_URL",
                        message: format!("an http:// or https:// URL, such as {PORTAL_SEARCH_URL}, not `{v}`"),
                    });
                }
            },
        };
        let retry_ms = u64::try_from(d.retry_delay.as_millis()).unwrap_or(u64::MAX);
        Ok(Self {
            source_url,
            page_tries: env.number("MATCHMAKER_CALLS_PAGE_TRIES", d.page_tries, 1, 10)?,
            retry_delay: Duration::from_millis(env.number("MATCHMAKER_CALLS_RETRY_MS", retry_ms, 1, 600_000)?),
            ..d
        })
    }
}
