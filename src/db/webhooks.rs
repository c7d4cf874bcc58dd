//! Partner portals' webhook endpoints, and the webhooks' outbox: one delivery per event and endpoint, written in the
//! transaction of the change and sent like the digests (see `db::outbox`), its id the `webhook-id` of every attempt.

use chrono::{NaiveDateTime, TimeDelta};
use diesel::prelude::*;

use super::DbConnection;
use super::schema::{client_members, clients, webhook_deliveries, webhook_endpoints};
use crate::domain::digest::DigestStatus;
use crate::domain::parse::ApiEnum;

/// An endpoint as stored.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = webhook_endpoints)]
pub struct EndpointRow {
    pub id: String,
    pub client_id: String,
    pub url: String,
    pub events: String,
    pub secret: String,
    pub previous_secret: Option<String>,
    pub previous_until: Option<NaiveDateTime>,
    pub enabled: bool,
    pub disabled_reason: Option<String>,
    pub disabled_at: Option<NaiveDateTime>,
    pub failing_since: Option<NaiveDateTime>,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// A delivery as stored.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = webhook_deliveries)]
pub struct DeliveryRow {
    pub id: String,
    pub endpoint_id: String,
    pub member_id: String,
    pub other_member_id: Option<String>,
    pub event: String,
    pub body: String,
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    pub lease_owner: Option<String>,
    pub lease_until: Option<NaiveDateTime>,
    pub last_error: Option<String>,
    pub last_status: Option<i32>,
    pub sent_at: Option<NaiveDateTime>,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl EndpointRow {
    /// A new, enabled endpoint of portal `client_id` (`events` as stored: space-separated), created at `now`.
    pub fn new(client_id: &str, url: &str, events: String, secret: String, now: NaiveDateTime) -> Self {
        Self {
            id: uuid::Uuid::now_v7().to_string(),
            client_id: client_id.to_owned(),
            url: url.to_owned(),
            events,
            secret,
            previous_secret: None,
            previous_until: None,
            enabled: true,
            disabled_reason: None,
            disabled_at: None,
            failing_since: None,
            version: 1,
            created_at: now,
            updated_at: now,
        }
    }
}

impl DeliveryRow {
    /// A new delivery, due at `due` (the database's clock, which judges the leases).
    pub fn queued(
        endpoint: &str,
        member: &str,
        other_member: Option<&str>,
        event: &str,
        body: String,
        now: NaiveDateTime,
        due: NaiveDateTime,
    ) -> Self {
        Self {
            id: uuid::Uuid::now_v7().to_string(),
            endpoint_id: endpoint.to_owned(),
            member_id: member.to_owned(),
            other_member_id: other_member.map(str::to_owned),
            event: event.to_owned(),
            body,
            status: DigestStatus::Queued.as_str().to_owned(),
            attempts: 0,
            next_attempt_at: due,
            lease_owner: None,
            lease_until: None,
            last_error: None,
            last_status: None,
            sent_at: None,
            version: 1,
            created_at: now,
            updated_at: now,
        }
    }
}

pub fn insert_endpoint(conn: &mut DbConnection, row: &EndpointRow) -> QueryResult<()> {
    diesel::insert_into(webhook_endpoints::table).values(row).execute(conn)?;
    Ok(())
}

pub fn find_endpoint(conn: &mut DbConnection, id: &str) -> QueryResult<Option<EndpointRow>> {
    webhook_endpoints::table.find(id).select(EndpointRow::as_select()).first(conn).optional()
}

/// A page of endpoints in id order after `after`: of one client, or of all (`None`).
pub fn endpoints(
    conn: &mut DbConnection,
    client: Option<&str>,
    after: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<EndpointRow>> {
    let mut q =
        webhook_endpoints::table.select(EndpointRow::as_select()).order(webhook_endpoints::id.asc()).into_boxed();
    if let Some(c) = client {
        q = q.filter(webhook_endpoints::client_id.eq(c.to_owned()));
    }
    if let Some(a) = after {
        q = q.filter(webhook_endpoints::id.gt(a.to_owned()));
    }
    q.limit(limit).load(conn)
}

/// Store an endpoint's new state, if it is still at the version read (`row.version` is the new one).
pub fn save_endpoint(conn: &mut DbConnection, row: &EndpointRow) -> QueryResult<bool> {
    let n = diesel::update(
        webhook_endpoints::table
            .filter(webhook_endpoints::id.eq(&row.id))
            .filter(webhook_endpoints::version.eq(row.version - 1)),
    )
    .set((
        webhook_endpoints::url.eq(&row.url),
        webhook_endpoints::events.eq(&row.events),
        webhook_endpoints::secret.eq(&row.secret),
        webhook_endpoints::previous_secret.eq(&row.previous_secret),
        webhook_endpoints::previous_until.eq(row.previous_until),
        webhook_endpoints::enabled.eq(row.enabled),
        webhook_endpoints::disabled_reason.eq(&row.disabled_reason),
        webhook_endpoints::disabled_at.eq(row.disabled_at),
        webhook_endpoints::failing_since.eq(row.failing_since),
        webhook_endpoints::version.eq(row.version),
        webhook_endpoints::updated_at.eq(row.updated_at),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// The enabled endpoints of the enabled portals linked to `member`, with each portal's scopes (as stored).
pub fn endpoints_for_member(conn: &mut DbConnection, member: &str) -> QueryResult<Vec<(EndpointRow, String)>> {
    webhook_endpoints::table
        .inner_join(clients::table.on(clients::client_id.eq(webhook_endpoints::client_id)))
        .inner_join(client_members::table.on(client_members::client_id.eq(webhook_endpoints::client_id)))
        .filter(client_members::member_id.eq(member))
        .filter(clients::disabled.eq(false))
        .filter(webhook_endpoints::enabled.eq(true))
        .select((EndpointRow::as_select(), clients::scopes))
        .order(webhook_endpoints::id.asc())
        .load(conn)
}

pub fn insert_delivery(conn: &mut DbConnection, row: &DeliveryRow) -> QueryResult<()> {
    diesel::insert_into(webhook_deliveries::table).values(row).execute(conn)?;
    Ok(())
}

pub fn find_delivery(conn: &mut DbConnection, id: &str) -> QueryResult<Option<DeliveryRow>> {
    webhook_deliveries::table.find(id).select(DeliveryRow::as_select()).first(conn).optional()
}

/// A page of an endpoint's deliveries, newest first, before `before`.
pub fn deliveries(
    conn: &mut DbConnection,
    endpoint: &str,
    before: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<DeliveryRow>> {
    let mut q = webhook_deliveries::table
        .filter(webhook_deliveries::endpoint_id.eq(endpoint.to_owned()))
        .select(DeliveryRow::as_select())
        .order(webhook_deliveries::id.desc())
        .into_boxed();
    if let Some(b) = before {
        q = q.filter(webhook_deliveries::id.lt(b.to_owned()));
    }
    q.limit(limit).load(conn)
}

/// Every delivery about `member`, oldest first (its export).
pub fn deliveries_about(conn: &mut DbConnection, member: &str) -> QueryResult<Vec<DeliveryRow>> {
    webhook_deliveries::table
        .filter(webhook_deliveries::member_id.eq(member))
        .select(DeliveryRow::as_select())
        .order(webhook_deliveries::id.asc())
        .load(conn)
}

/// Erase what the outbox holds about `member`: deliveries about it, and those showing it as another member's card.
pub fn erase_member(conn: &mut DbConnection, member: &str) -> QueryResult<usize> {
    diesel::delete(
        webhook_deliveries::table
            .filter(webhook_deliveries::member_id.eq(member).or(webhook_deliveries::other_member_id.eq(member))),
    )
    .execute(conn)
}

super::outbox::outbox_updates!(webhook_deliveries);

/// The id of the oldest delivery due at `now` to an enabled endpoint, other than those in `skip`.
pub fn oldest_due(conn: &mut DbConnection, now: NaiveDateTime, skip: &[String]) -> QueryResult<Option<String>> {
    webhook_deliveries::table
        .inner_join(webhook_endpoints::table)
        .filter(webhook_endpoints::enabled.eq(true))
        .filter(due_at!(now))
        .filter(webhook_deliveries::id.ne_all(skip))
        .select(webhook_deliveries::id)
        .order(webhook_deliveries::id.asc())
        .first(conn)
        .optional()
}

/// Claim the oldest delivery due at `now` (by the database's clock), other than those in `skip` (tried already by
/// this pass). Run it in a write transaction.
pub fn claim_due(
    conn: &mut DbConnection,
    owner: &str,
    now: NaiveDateTime,
    lease: TimeDelta,
    skip: &[String],
) -> QueryResult<Option<DeliveryRow>> {
    match claim_first(conn, owner, now, lease, |conn| oldest_due(conn, now, skip))? {
        Some(id) => find_delivery(conn, &id),
        None => Ok(None),
    }
}

/// The HTTP status the last attempt was answered with (none: no answer).
pub fn set_last_status(conn: &mut DbConnection, id: &str, status: Option<i32>) -> QueryResult<usize> {
    diesel::update(webhook_deliveries::table.filter(webhook_deliveries::id.eq(id)))
        .set(webhook_deliveries::last_status.eq(status))
        .execute(conn)
}

/// Send a delivery that went out or failed again, with the same id, due at `due`; whether it was requeued.
pub fn resend(conn: &mut DbConnection, id: &str, due: NaiveDateTime, now: NaiveDateTime) -> QueryResult<bool> {
    let n = diesel::update(
        webhook_deliveries::table
            .filter(webhook_deliveries::id.eq(id))
            .filter(webhook_deliveries::status.eq_any([DigestStatus::Sent.as_str(), DigestStatus::Failed.as_str()])),
    )
    .set((
        webhook_deliveries::status.eq(DigestStatus::Queued.as_str()),
        webhook_deliveries::attempts.eq(0),
        webhook_deliveries::next_attempt_at.eq(due),
        webhook_deliveries::version.eq(webhook_deliveries::version + 1),
        webhook_deliveries::updated_at.eq(now),
    ))
    .execute(conn)?;
    Ok(n == 1)
}
