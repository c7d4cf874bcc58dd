//! The sender: claims one due delivery at a time (leased by the database's clock, so two instances never send the
//! same attempt), posts it signed, and records the answer. A failure goes back to the queue with a doubling
//! back-off and the same id, or fails for good after [`MAX_ATTEMPTS`] (a portal can resend it); an endpoint that
//! has failed without a success for the configured span is disabled, with the reason, until its portal enables it.

use std::net::IpAddr;
use std::sync::Arc;

use chrono::{DateTime, NaiveDateTime, TimeDelta, Utc};

use super::sign;
use crate::clock::SharedClock;
use crate::config::WebhookSettings;
use crate::db::webhooks::{self, DeliveryRow, EndpointRow};
use crate::db::{self, DbConnection, DbError, DbPool, accounts, db_now};
use crate::domain::digest::DigestStatus;
use crate::domain::parse::ApiEnum;
use crate::domain::webhook::EventType;
use crate::outbound::{Limits, Outbound, OutboundError, TargetRule};

/// Tries of one delivery before it fails for good (about a day with the default back-off).
pub const MAX_ATTEMPTS: i32 = 12;

/// The most attempts one pass makes; the next pass (the scheduler's next tick) goes on.
pub const PASS_ATTEMPTS: usize = 500;

/// What a sending pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sent {
    pub sent: usize,
    pub retrying: usize,
    pub failed: usize,
    /// Endpoints disabled by this pass.
    pub disabled: usize,
}

/// Posts due deliveries through the guarded client.
#[derive(Debug)]
pub struct Sender {
    outbound: Outbound,
    pub settings: WebhookSettings,
    rule: TargetRule,
}

/// Whether `url` may be posted to under `rule`: `https://`, or `http://` to an allowed address written as such;
/// an address written in the URL is checked as a resolved one would be. Why not, if not.
pub fn check_target(url: &url::Url, rule: &TargetRule) -> Result<(), String> {
    let literal: Option<IpAddr> = match url.host() {
        Some(url::Host::Ipv4(v4)) => Some(IpAddr::V4(v4)),
        Some(url::Host::Ipv6(v6)) => Some(IpAddr::V6(v6)),
        Some(url::Host::Domain(_)) => None,
        None => return Err("the URL names no host".to_owned()),
    };
    if let Some(ip) = literal
        && let Some(why) = rule.refusal(ip)
    {
        return Err(why);
    }
    match url.scheme() {
        "https" => Ok(()),
        "http" if literal.is_some_and(|ip| rule.is_allowed(ip)) => Ok(()),
        "http" => Err("only https:// is used, except for addresses allowed in MATCHMAKER_WEBHOOK_ALLOW_TARGETS".into()),
        other => Err(format!("`{other}` is not https")),
    }
}

/// How an attempt went.
enum Attempt {
    Delivered(u16),
    Failed {
        status: Option<u16>,
        error: String,
    },
    /// Not sent: the portal may no longer hear of it (unlinked, the scope taken away, the portal disabled since the
    /// event was queued).
    Withheld(String),
}

impl Sender {
    pub fn new(settings: WebhookSettings) -> Result<Self, OutboundError> {
        let rule = TargetRule { allowed: settings.allow_targets.clone() };
        let limits =
            Limits { connect: settings.connect_timeout, total: settings.timeout, max_body: settings.max_answer };
        let outbound = Outbound::guarded(limits, rule.clone(), settings.lookup.clone())?;
        Ok(Self { outbound, settings, rule })
    }

    /// The rule targets are held to.
    pub fn rule(&self) -> &TargetRule {
        &self.rule
    }

    /// Send what is due, one delivery at a time, each at most once a pass (a delivery failing again waits for the
    /// next pass, even when its back-off has run out meanwhile), until nothing is left or `keep_going` says stop.
    pub async fn deliver_due(
        self: &Arc<Self>,
        pool: &DbPool,
        clock: &SharedClock,
        owner: &str,
        keep_going: &(dyn Fn() -> bool + Sync),
    ) -> Result<Sent, DbError> {
        let mut summary = Sent::default();
        let mut tried: Vec<String> = Vec::new();
        while keep_going() && tried.len() < PASS_ATTEMPTS {
            let (owner2, lease) = (owner.to_owned(), TimeDelta::seconds(self.settings.lease_seconds));
            let skip = tried.clone();
            let claimed = db::run(pool, move |conn| claim(conn, &owner2, lease, &skip)).await?;
            let Some((delivery, endpoint, withheld)) = claimed else { break };
            tried.push(delivery.id.clone());
            let now = clock.now();
            let attempt = match withheld {
                Some(why) => Attempt::Withheld(why),
                None => self.attempt(&delivery, &endpoint, now).await,
            };
            let me = Arc::clone(self);
            let owner2 = owner.to_owned();
            let (result, disabled) =
                db::run(pool, move |conn| me.record(conn, &delivery, &endpoint, &owner2, attempt, now)).await?;
            match result {
                DigestStatus::Sent => summary.sent += 1,
                DigestStatus::Failed => summary.failed += 1,
                _ => summary.retrying += 1,
            }
            summary.disabled += usize::from(disabled);
        }
        Ok(summary)
    }

    /// Post one delivery, signed with the endpoint's secrets as they are now.
    async fn attempt(&self, d: &DeliveryRow, e: &EndpointRow, now: DateTime<Utc>) -> Attempt {
        let url = match crate::domain::webhook::parse_url(&e.url) {
            Ok(u) => u,
            Err(why) => return Attempt::Failed { status: None, error: format!("the endpoint's URL {why}") },
        };
        if let Err(why) = check_target(&url, &self.rule) {
            return Attempt::Failed { status: None, error: format!("target refused: {why}") };
        }
        let stamp = now.timestamp();
        let mut secrets = vec![e.secret.as_str()];
        if let (Some(previous), Some(until)) = (&e.previous_secret, e.previous_until)
            && until > now.naive_utc()
        {
            secrets.push(previous.as_str());
        }
        let request = self
            .outbound
            .client()
            .post(url)
            .header("content-type", "application/json")
            .header("webhook-id", &d.id)
            .header("webhook-timestamp", stamp.to_string())
            .header("webhook-signature", sign::header(&secrets, &d.id, stamp, &d.body))
            .body(d.body.clone())
            .build();
        let request = match request {
            Ok(r) => r,
            Err(e) => return Attempt::Failed { status: None, error: format!("the request cannot be made: {e}") },
        };
        match self.outbound.exchange(request).await {
            Ok((status, _)) if (200..300).contains(&status) => Attempt::Delivered(status),
            Ok((status, answer)) => {
                let said: String = String::from_utf8_lossy(&answer).chars().take(200).collect();
                let error = if (300..400).contains(&status) {
                    format!("answered {status}: redirects are not followed")
                } else if said.trim().is_empty() {
                    format!("answered {status}")
                } else {
                    format!("answered {status}: {}", said.trim())
                };
                Attempt::Failed { status: Some(status), error }
            }
            Err(e) => Attempt::Failed { status: None, error: e.to_string() },
        }
    }

    /// Record an attempt: the delivery sent, or back in the queue (or failed for good); the endpoint's run of
    /// failures started, ended, or long enough to disable it. The delivery's new status, and whether the endpoint was
    /// disabled.
    fn record(
        &self,
        conn: &mut DbConnection,
        d: &DeliveryRow,
        e: &EndpointRow,
        owner: &str,
        attempt: Attempt,
        now: DateTime<Utc>,
    ) -> Result<(DigestStatus, bool), DbError> {
        db::write(conn, |conn| {
            let at = db_now(conn)?;
            let endpoint = webhooks::find_endpoint(conn, &e.id)?;
            match attempt {
                Attempt::Delivered(status) => {
                    webhooks::set_sent(conn, &d.id, at)?;
                    webhooks::set_last_status(conn, &d.id, Some(i32::from(status)))?;
                    if let Some(mut row) = endpoint.filter(|r| r.failing_since.is_some()) {
                        row.failing_since = None;
                        bump(&mut row, now);
                        webhooks::save_endpoint(conn, &row)?;
                    }
                    tracing::info!(delivery = %d.id, endpoint = %e.id, status, "webhook delivered");
                    Ok((DigestStatus::Sent, false))
                }
                Attempt::Withheld(why) => {
                    let error = format!("not sent: {why}");
                    webhooks::set_unsent(conn, &d.id, owner, DigestStatus::Failed, at, &error, at)?;
                    tracing::info!(delivery = %d.id, endpoint = %e.id, %why, "webhook withheld");
                    Ok((DigestStatus::Failed, false))
                }
                Attempt::Failed { status, error } => {
                    let error: String = error.chars().take(1000).collect();
                    let failed = d.attempts >= MAX_ATTEMPTS;
                    let to = if failed { DigestStatus::Failed } else { DigestStatus::Queued };
                    webhooks::set_unsent(conn, &d.id, owner, to, at + self.backoff(d.attempts), &error, at)?;
                    webhooks::set_last_status(conn, &d.id, status.map(i32::from))?;
                    let disabled = match endpoint {
                        Some(row) => self.note_failure(conn, row, &error, now)?,
                        None => false,
                    };
                    tracing::warn!(delivery = %d.id, endpoint = %e.id, attempt = d.attempts, %error, failed, disabled, "webhook not delivered");
                    Ok((to, disabled))
                }
            }
        })
    }

    /// An endpoint failed: start its run of failures, or disable it once the run is long enough. Whether it was
    /// disabled now.
    fn note_failure(
        &self,
        conn: &mut DbConnection,
        mut row: EndpointRow,
        error: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, DbError> {
        let Some(since) = row.failing_since else {
            row.failing_since = Some(now.naive_utc());
            bump(&mut row, now);
            webhooks::save_endpoint(conn, &row)?;
            return Ok(false);
        };
        let span = TimeDelta::from_std(self.settings.disable_after).unwrap_or(TimeDelta::days(1));
        if !row.enabled || now.naive_utc() - since < span {
            return Ok(false);
        }
        row.enabled = false;
        row.disabled_at = Some(now.naive_utc());
        row.disabled_reason = Some(format!(
            "failing without a success since {}: {error}",
            crate::domain::member::timestamp(since.and_utc())
        ));
        bump(&mut row, now);
        webhooks::save_endpoint(conn, &row)?;
        tracing::warn!(endpoint = %row.id, client = %row.client_id, "webhook endpoint disabled after failing");
        Ok(true)
    }

    /// The wait after try number `attempts`: the first wait, doubled after each try, at most the longest.
    pub fn backoff(&self, attempts: i32) -> TimeDelta {
        backoff(self.settings.retry_seconds, self.settings.max_retry_seconds, attempts)
    }
}

/// The wait after try number `attempts` (1 for the first): `first` seconds, doubled after each try, at most `most`.
pub fn backoff(first: i64, most: i64, attempts: i32) -> TimeDelta {
    TimeDelta::seconds(first.saturating_mul(1 << (attempts - 1).clamp(0, 30)).min(most))
}

/// The endpoint's next version, changed at `now`.
fn bump(row: &mut EndpointRow, now: DateTime<Utc>) {
    row.version += 1;
    row.updated_at = now.naive_utc();
}

/// Claim the next due delivery to an enabled endpoint, with its endpoint, and why it may no longer be sent, if so.
fn claim(
    conn: &mut DbConnection,
    owner: &str,
    lease: TimeDelta,
    skip: &[String],
) -> Result<Option<(DeliveryRow, EndpointRow, Option<String>)>, DbError> {
    db::write(conn, |conn| {
        let at: NaiveDateTime = db_now(conn)?;
        let Some(d) = webhooks::claim_due(conn, owner, at, lease, skip)? else { return Ok(None) };
        let Some(e) = webhooks::find_endpoint(conn, &d.endpoint_id)? else { return Ok(None) };
        let withheld = withheld(conn, &d, &e)?;
        Ok(Some((d, e, withheld)))
    })
}

/// Why the endpoint's portal may no longer hear of this delivery (it was queued when it could), if so: checked
/// again before each attempt, so that an unlinked member, a scope taken away or a disabled portal stops what was
/// queued too.
fn withheld(conn: &mut DbConnection, d: &DeliveryRow, e: &EndpointRow) -> Result<Option<String>, DbError> {
    let Some((client, _)) = accounts::find_client(conn, &e.client_id)? else {
        return Ok(Some("the portal is gone".to_owned()));
    };
    if client.disabled {
        return Ok(Some("the portal is disabled".to_owned()));
    }
    let linked = match uuid::Uuid::parse_str(&d.member_id) {
        Ok(member) => accounts::is_linked(conn, &e.client_id, member)?,
        Err(_) => false,
    };
    if !linked {
        return Ok(Some("the member is no longer linked to the portal".to_owned()));
    }
    let needs = EventType::from_name(&d.event).map(EventType::needs);
    Ok(match needs {
        Some(scope) if client.scopes.contains(&scope) => None,
        Some(scope) => Some(format!("the portal no longer has the {} scope", scope.as_str())),
        None => Some(format!("`{}` is not an event this release knows", d.event)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_longest() {
        assert_eq!(backoff(30, 3600, 1), TimeDelta::seconds(30));
        assert_eq!(backoff(30, 3600, 2), TimeDelta::seconds(60));
        assert_eq!(backoff(30, 3600, 3), TimeDelta::seconds(120));
        assert_eq!(backoff(30, 3600, 12), TimeDelta::seconds(3600));
        assert_eq!(backoff(0, 3600, 5), TimeDelta::zero());
    }

    #[test]
    fn targets_are_https_or_allowed_addresses() {
        let rule = TargetRule { allowed: vec!["127.0.0.0/8".parse().unwrap()] };
        let ok = |u: &str| check_target(&url::Url::parse(u).unwrap(), &rule);
        assert!(ok("https://portal.example.lu/hook").is_ok());
        assert!(ok("http://127.0.0.1:8080/hook").is_ok());
        assert!(ok("http://portal.example.lu/hook").is_err());
        assert!(ok("https://10.0.0.1/hook").is_err());
        assert!(ok("https://[::1]/hook").is_err());
        assert!(ok("http://[fd00::1]/hook").is_err());
    }
}
