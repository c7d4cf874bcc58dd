//! The audit trail: sign-ins, failed sign-ins, account, client and link changes.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde_json::{Value, json};
use uuid::Uuid;

use super::DbConnection;
use super::schema::audit_log;
use crate::domain::member::timestamp;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = audit_log)]
pub struct AuditRow {
    pub id: String,
    pub at: NaiveDateTime,
    pub actor: String,
    pub action: String,
    pub target: Option<String>,
    pub ip: Option<String>,
    pub success: bool,
    pub details: String,
}

/// One thing to record.
#[derive(Debug, Clone)]
pub struct AuditEvent {
    pub actor: String,
    pub action: &'static str,
    pub target: Option<String>,
    pub ip: Option<String>,
    pub success: bool,
    pub details: Value,
}

impl AuditEvent {
    pub fn new(actor: impl Into<String>, action: &'static str, ip: Option<String>) -> Self {
        Self { actor: actor.into(), action, target: None, ip, success: true, details: json!({}) }
    }

    pub fn target(mut self, target: impl Into<String>) -> Self {
        self.target = Some(target.into());
        self
    }

    pub fn failed(mut self) -> Self {
        self.success = false;
        self
    }

    pub fn details(mut self, details: Value) -> Self {
        self.details = details;
        self
    }
}

pub fn record(conn: &mut DbConnection, event: &AuditEvent, now: DateTime<Utc>) -> QueryResult<()> {
    let row = AuditRow {
        id: Uuid::now_v7().to_string(),
        at: now.naive_utc(),
        actor: event.actor.clone(),
        action: event.action.to_owned(),
        target: event.target.clone(),
        ip: event.ip.clone(),
        success: event.success,
        details: event.details.to_string(),
    };
    diesel::insert_into(audit_log::table).values(&row).execute(conn)?;
    Ok(())
}

/// Filters of `GET /v1/audit`.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub actor: Option<String>,
    pub action: Option<String>,
    pub target: Option<String>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
}

/// Newest first; `before` is the id of the last entry of the previous page.
pub fn list(conn: &mut DbConnection, f: &AuditFilter, before: Option<&str>, limit: i64) -> QueryResult<Vec<AuditRow>> {
    let mut q = audit_log::table.select(AuditRow::as_select()).into_boxed();
    if let Some(v) = &f.actor {
        q = q.filter(audit_log::actor.eq(v.clone()));
    }
    if let Some(v) = &f.action {
        q = q.filter(audit_log::action.eq(v.clone()));
    }
    if let Some(v) = &f.target {
        q = q.filter(audit_log::target.eq(v.clone()));
    }
    if let Some(v) = f.since {
        q = q.filter(audit_log::at.ge(v.naive_utc()));
    }
    if let Some(v) = f.until {
        q = q.filter(audit_log::at.lt(v.naive_utc()));
    }
    if let Some(before) = before {
        q = q.filter(audit_log::id.lt(before.to_owned()));
    }
    q.order(audit_log::id.desc()).limit(limit).load(conn)
}

impl AuditRow {
    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "at": timestamp(self.at.and_utc()),
            "actor": self.actor,
            "action": self.action,
            "target": self.target,
            "ip": self.ip,
            "success": self.success,
            "details": serde_json::from_str::<Value>(&self.details).unwrap_or_else(|_| json!({})),
        })
    }
}

/// Every entry about one of `targets` or made by one of `actors`, oldest first.
pub fn about(conn: &mut DbConnection, targets: &[String], actors: &[String]) -> QueryResult<Vec<AuditRow>> {
    audit_log::table
        .filter(audit_log::target.eq_any(targets).or(audit_log::actor.eq_any(actors)))
        .order(audit_log::id.asc())
        .select(AuditRow::as_select())
        .load(conn)
}
