//! Events into the outbox, in the transaction of the change they tell of: one delivery for each enabled endpoint of
//! each enabled portal linked to the member, subscribed to the event and holding the read scope its data needs.
//! The body is made here, once: every attempt sends the same bytes under the same id.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};
use uuid::Uuid;

use crate::db::{DbConnection, QueryError, db_now, suggestions, webhooks};
use crate::domain::account::parse_scopes;
use crate::domain::member::{Member, timestamp};
use crate::domain::parse::ApiEnum;
use crate::domain::webhook::{EventType, events_from_text};
use crate::review::view;

/// Queue `event` about `member` (with `data`, which names the member) for the endpoints that are to hear of it;
/// `other` is another member the data shows as a public card. How many deliveries were queued.
pub fn enqueue(
    conn: &mut DbConnection,
    member: Uuid,
    other: Option<Uuid>,
    event: EventType,
    data: &Value,
    now: DateTime<Utc>,
) -> Result<usize, QueryError> {
    let endpoints = webhooks::endpoints_for_member(conn, &member.to_string())?;
    let hearing: Vec<_> = endpoints
        .into_iter()
        .filter(|(e, scopes)| {
            events_from_text(&e.events).contains(&event)
                && parse_scopes(scopes).is_some_and(|s| s.contains(&event.needs()))
        })
        .collect();
    if hearing.is_empty() {
        return Ok(0);
    }
    let body = json!({"type": event.as_str(), "timestamp": timestamp(now), "data": data}).to_string();
    let due = db_now(conn)?;
    let (member, other) = (member.to_string(), other.map(|o| o.to_string()));
    for (endpoint, _) in &hearing {
        let row = webhooks::DeliveryRow::queued(
            &endpoint.id,
            &member,
            other.as_deref(),
            event.as_str(),
            body.clone(),
            now.naive_utc(),
            due,
        );
        webhooks::insert_delivery(conn, &row)?;
    }
    Ok(hearing.len())
}

/// `member.updated`: the member's id and the fields that changed, with their new values.
pub fn member_updated(
    conn: &mut DbConnection,
    before: &Member,
    after: &Member,
    now: DateTime<Utc>,
) -> Result<usize, QueryError> {
    let (old, new) = (before.to_json(), after.to_json());
    let mut changed = Map::new();
    if let Value::Object(fields) = &new {
        for (name, value) in fields {
            if !matches!(name.as_str(), "id" | "version" | "created_at" | "updated_at") && old.get(name) != Some(value)
            {
                changed.insert(name.clone(), value.clone());
            }
        }
    }
    if changed.is_empty() {
        return Ok(0);
    }
    let data = json!({"member_id": after.id, "changed": changed});
    enqueue(conn, after.id, None, EventType::MemberUpdated, &data, now)
}

/// An event about suggestion `id` (delivered, reacted to, an introduction asked or done, an outcome): the member's
/// id and the suggestion as the member sees it, where any other member is the public card members see.
pub fn suggestion_event(
    conn: &mut DbConnection,
    event: EventType,
    id: &str,
    now: DateTime<Utc>,
) -> Result<usize, QueryError> {
    let Some(s) = suggestions::find(conn, id)? else { return Ok(0) };
    let shown = view::for_member(conn, &s, now)?;
    let data = json!({"member_id": s.member, "suggestion": shown});
    enqueue(conn, s.member, s.partner, event, &data, now)
}
