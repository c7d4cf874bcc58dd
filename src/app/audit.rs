//! The audit trail: what was done, by whom, from where, and whether it succeeded.

use super::{Actor, AppError, Store};
use crate::db::audit::{self, AuditEvent, AuditFilter, AuditRow};
use crate::db::{self, DbError};

impl Actor {
    /// An audit event of this actor.
    pub fn event(&self, action: &'static str) -> AuditEvent {
        AuditEvent::new(self.subject(), action, self.ip.clone())
    }
}

/// Write an audit event; a failure to record is logged, and does not change the outcome of what it records.
pub async fn record(svc: &Store, event: AuditEvent) {
    let now = svc.clock.now();
    let action = event.action;
    let result = db::run(&svc.pool, move |conn| audit::record(conn, &event, now).map_err(DbError::from)).await;
    if let Err(e) = result {
        tracing::error!(error = %e, action, "could not write the audit log");
    }
}

/// Entries newest first, before the cursor's entry (one more than `limit`, to tell whether more follow).
pub async fn list(
    svc: &Store,
    filter: AuditFilter,
    before: Option<String>,
    limit: i64,
) -> Result<Vec<AuditRow>, AppError> {
    Ok(db::run(&svc.pool, move |conn| audit::list(conn, &filter, before.as_deref(), limit + 1).map_err(DbError::from))
        .await?)
}
