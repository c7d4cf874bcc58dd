//! Partner portals' webhook endpoints: register one (its secret shown once), list, change, disable or enable, rotate
//! the secret with a grace period in which both sign, read the delivery log, resend one delivery. A portal works on
//! its own endpoints only; administrators see and disable any.

use chrono::TimeDelta;
use serde_json::{Value, json};

use super::audit::record;
use super::{Actor, AppError, Services};
use crate::auth::Caller;
use crate::db::webhooks::{self, DeliveryRow, EndpointRow};
use crate::db::{self, DbConnection, db_now};
use crate::domain::FieldError;
use crate::domain::member::timestamp;
use crate::domain::parse::ApiEnum;
use crate::domain::webhook::{EventType, events_from_text, events_text};
use crate::webhook::check_target;
use crate::webhook::sign::new_secret;

fn not_found() -> AppError {
    AppError::NotFound("no webhook endpoint has this id".to_owned())
}

/// An endpoint as its portal and administrators see it: never its secrets.
pub fn endpoint_json(e: &EndpointRow) -> Value {
    json!({
        "id": e.id,
        "client_id": e.client_id,
        "url": e.url,
        "events": events_from_text(&e.events),
        "enabled": e.enabled,
        "disabled_reason": e.disabled_reason,
        "disabled_at": e.disabled_at.map(|t| timestamp(t.and_utc())),
        "previous_secret_until": e.previous_secret.as_ref().and(e.previous_until).map(|t| timestamp(t.and_utc())),
        "created_at": timestamp(e.created_at.and_utc()),
        "updated_at": timestamp(e.updated_at.and_utc()),
    })
}

/// A delivery as the log shows it: what was sent (the same body and id on every attempt) and how it went.
pub fn delivery_json(d: &DeliveryRow) -> Value {
    json!({
        "id": d.id,
        "event": d.event,
        "status": d.status,
        "attempts": d.attempts,
        "next_attempt_at": (d.status == "queued").then(|| timestamp(d.next_attempt_at.and_utc())),
        "last_status": d.last_status,
        "last_error": d.last_error,
        "sent_at": d.sent_at.map(|t| timestamp(t.and_utc())),
        "created_at": timestamp(d.created_at.and_utc()),
        "body": serde_json::from_str::<Value>(&d.body).unwrap_or(Value::Null),
    })
}

/// A new endpoint's URL and events.
#[derive(Debug, Clone)]
pub struct Registration {
    pub url: url::Url,
    pub events: Vec<EventType>,
}

/// A change to an endpoint: each field left out stays as it is.
#[derive(Debug, Clone, Default)]
pub struct EndpointChange {
    pub url: Option<url::Url>,
    pub events: Option<Vec<EventType>>,
    pub enabled: Option<bool>,
}

/// The calling portal's client id; an endpoint belongs to a portal.
fn portal_of(caller: &Caller) -> Result<&str, AppError> {
    match caller {
        Caller::Portal { client_id, .. } => Ok(client_id),
        Caller::Person { .. } => Err(AppError::Forbidden(
            "an endpoint belongs to a partner portal: register it with the portal's own token".to_owned(),
        )),
    }
}

/// The endpoint `id`, if the caller may see it: its portal, or an administrator.
fn visible(conn: &mut DbConnection, caller: &Caller, id: &str) -> Result<EndpointRow, AppError> {
    let row = webhooks::find_endpoint(conn, id)?.ok_or_else(not_found)?;
    match caller {
        Caller::Portal { client_id, .. } if *client_id != row.client_id => Err(not_found()),
        _ => Ok(row),
    }
}

/// The URL may be posted to, and the portal holds the read scope of every event it asks for.
fn check(
    svc: &Services,
    caller: &Caller,
    url: Option<&url::Url>,
    events: Option<&[EventType]>,
) -> Result<(), AppError> {
    if let (Some(url), Some(sender)) = (url, &svc.jobs.webhooks)
        && let Err(why) = check_target(url, sender.rule())
    {
        return Err(AppError::invalid("/url", why));
    }
    let mut errors = Vec::new();
    for (i, e) in events.unwrap_or_default().iter().enumerate() {
        if !caller.has_scope(e.needs()) {
            errors.push(FieldError::new(
                format!("/events/{i}"),
                format!("{e} needs the {} scope, which this portal lacks", e.needs().as_str()),
            ));
        }
    }
    if errors.is_empty() { Ok(()) } else { Err(AppError::Invalid(errors)) }
}

/// Register an endpoint for the calling portal: the endpoint and its secret (shown this once).
pub async fn create(
    svc: &Services,
    actor: &Actor,
    caller: &Caller,
    r: Registration,
) -> Result<(Value, String), AppError> {
    let client = portal_of(caller)?.to_owned();
    check(svc, caller, Some(&r.url), Some(&r.events))?;
    let secret = new_secret()?;
    let now = svc.clock.now().naive_utc();
    let row = EndpointRow::new(&client, r.url.as_str(), events_text(&r.events), secret.clone(), now);
    let stored = row.clone();
    db::run(&svc.pool, move |conn| webhooks::insert_endpoint(conn, &stored).map_err(AppError::from)).await?;
    record(svc, actor.event("webhook.created").target(format!("webhook:{}", row.id)).details(json!({"url": row.url})))
        .await;
    Ok((endpoint_json(&row), secret))
}

/// A page of endpoints (one more than `limit`): a portal's own, or all for an administrator.
pub async fn list(svc: &Services, caller: &Caller, after: Option<String>, limit: i64) -> Result<Vec<Value>, AppError> {
    let client = match caller {
        Caller::Portal { client_id, .. } => Some(client_id.clone()),
        Caller::Person { .. } => None,
    };
    let rows = db::run(&svc.pool, move |conn| {
        webhooks::endpoints(conn, client.as_deref(), after.as_deref(), limit + 1).map_err(AppError::from)
    })
    .await?;
    Ok(rows.iter().map(endpoint_json).collect())
}

pub async fn get(svc: &Services, caller: &Caller, id: String) -> Result<Value, AppError> {
    let caller = caller.clone();
    db::run(&svc.pool, move |conn| Ok(endpoint_json(&visible(conn, &caller, &id)?))).await
}

/// Change an endpoint: its portal anything; an administrator only disables it. Enabling one that was disabled
/// clears the reason and its run of failures, and its queued deliveries go out again.
pub async fn update(
    svc: &Services,
    actor: &Actor,
    caller: &Caller,
    id: String,
    change: EndpointChange,
) -> Result<Value, AppError> {
    if !matches!(caller, Caller::Portal { .. })
        && (change.url.is_some() || change.events.is_some() || change.enabled == Some(true))
    {
        return Err(AppError::Forbidden("administrators may only disable an endpoint; its portal changes it".into()));
    }
    check(svc, caller, change.url.as_ref(), change.events.as_deref())?;
    let (caller2, now) = (caller.clone(), svc.clock.now());
    let row = db::run(&svc.pool, move |conn| {
        db::write(conn, |conn| {
            let mut row = visible(conn, &caller2, &id)?;
            let before = row.clone();
            if let Some(url) = &change.url {
                row.url = url.to_string();
            }
            if let Some(events) = &change.events {
                row.events = events_text(events);
            }
            match change.enabled {
                Some(true) if !row.enabled => {
                    row.enabled = true;
                    row.disabled_reason = None;
                    row.disabled_at = None;
                    row.failing_since = None;
                }
                Some(false) if row.enabled => {
                    row.enabled = false;
                    row.disabled_at = Some(now.naive_utc());
                    row.disabled_reason = Some(match &caller2 {
                        Caller::Portal { .. } => "disabled by its portal".to_owned(),
                        Caller::Person { .. } => "disabled by an administrator".to_owned(),
                    });
                }
                _ => {}
            }
            if row == before {
                return Ok(row);
            }
            row.version += 1;
            row.updated_at = now.naive_utc();
            if !webhooks::save_endpoint(conn, &row)? {
                return Err(AppError::Conflict("the endpoint changed meanwhile; read it and try again".to_owned()));
            }
            Ok(row)
        })
    })
    .await?;
    record(svc, actor.event("webhook.updated").target(format!("webhook:{}", row.id)).details(endpoint_json(&row)))
        .await;
    Ok(endpoint_json(&row))
}

/// A new secret for the calling portal's endpoint; the previous one still signs for the grace period. The endpoint
/// and the new secret (shown this once).
pub async fn rotate(svc: &Services, actor: &Actor, caller: &Caller, id: String) -> Result<(Value, String), AppError> {
    portal_of(caller)?;
    let secret = new_secret()?;
    let grace = svc
        .jobs
        .webhooks
        .as_ref()
        .map_or(TimeDelta::days(1), |s| TimeDelta::from_std(s.settings.secret_grace).unwrap_or(TimeDelta::days(1)));
    let (caller2, now, new) = (caller.clone(), svc.clock.now(), secret.clone());
    let row = db::run(&svc.pool, move |conn| {
        db::write(conn, |conn| {
            let mut row = visible(conn, &caller2, &id)?;
            row.previous_secret = Some(std::mem::replace(&mut row.secret, new));
            row.previous_until = Some((now + grace).naive_utc());
            row.version += 1;
            row.updated_at = now.naive_utc();
            if !webhooks::save_endpoint(conn, &row)? {
                return Err(AppError::Conflict("the endpoint changed meanwhile; try again".to_owned()));
            }
            Ok(row)
        })
    })
    .await?;
    record(svc, actor.event("webhook.secret_rotated").target(format!("webhook:{}", row.id))).await;
    Ok((endpoint_json(&row), secret))
}

/// A page of an endpoint's deliveries, newest first (one more than `limit`).
pub async fn deliveries(
    svc: &Services,
    caller: &Caller,
    id: String,
    before: Option<String>,
    limit: i64,
) -> Result<Vec<Value>, AppError> {
    let caller = caller.clone();
    db::run(&svc.pool, move |conn| {
        let endpoint = visible(conn, &caller, &id)?;
        let rows = webhooks::deliveries(conn, &endpoint.id, before.as_deref(), limit + 1)?;
        Ok(rows.iter().map(delivery_json).collect())
    })
    .await
}

/// Send one delivery again, with the same id and body, on the sender's next pass: one that went out or failed.
pub async fn resend(
    svc: &Services,
    actor: &Actor,
    caller: &Caller,
    id: String,
    delivery: String,
) -> Result<Value, AppError> {
    let (caller2, now) = (caller.clone(), svc.clock.now());
    let row = db::run(&svc.pool, move |conn| {
        db::write(conn, |conn| {
            let endpoint = visible(conn, &caller2, &id)?;
            let found = webhooks::find_delivery(conn, &delivery)?
                .filter(|d| d.endpoint_id == endpoint.id)
                .ok_or_else(|| AppError::NotFound("this endpoint has no delivery with this id".to_owned()))?;
            let due = db_now(conn)?;
            if !webhooks::resend(conn, &found.id, due, now.naive_utc())? {
                return Err(AppError::Conflict(format!(
                    "this delivery is `{}`: it will be sent anyway; only a sent or failed one is sent again",
                    found.status
                )));
            }
            webhooks::find_delivery(conn, &found.id)?.ok_or_else(not_found)
        })
    })
    .await?;
    record(svc, actor.event("webhook.resent").target(format!("webhook_delivery:{}", row.id))).await;
    Ok(delivery_json(&row))
}
