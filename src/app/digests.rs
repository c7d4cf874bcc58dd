//! Digests: staff lists, previews and retries, each member's digests, and the public unsubscribe link.

use serde_json::Value;
use uuid::Uuid;

use super::{Actor, AppError, Services};
use crate::auth::Caller;
use crate::db::audit::AuditEvent;
use crate::db::digests::{self, DigestFilter};
use crate::db::{self, suggestions};
use crate::digest::compose::Preview;
use crate::digest::outbox::{self, RetryError};
use crate::digest::{Digest, IsoWeek};
use crate::domain::member::{DigestFrequency, Member};
use crate::review::view;

fn not_found() -> AppError {
    AppError::NotFound("no digest has this id".to_owned())
}

fn no_member() -> AppError {
    AppError::NotFound("no member has this id".to_owned())
}

/// The member a digest was for (for the route guard).
pub async fn owner(svc: &Services, id: String) -> Result<Option<Uuid>, AppError> {
    db::run(&svc.pool, move |conn| digests::owner(conn, &id).map_err(AppError::from)).await
}

/// Digests, newest first (one more than `limit`).
pub async fn list(svc: &Services, filter: DigestFilter, offset: i64, limit: i64) -> Result<Vec<Digest>, AppError> {
    db::run(&svc.pool, move |conn| digests::list(conn, &filter, offset, limit).map_err(AppError::from)).await
}

/// A member's digests, newest first (one more than `limit`).
pub async fn for_member(svc: &Services, member: Uuid, offset: i64, limit: i64) -> Result<Vec<Digest>, AppError> {
    let filter = DigestFilter { member: Some(member), ..DigestFilter::default() };
    db::run(&svc.pool, move |conn| {
        if db::members::find(conn, member)?.is_none() {
            return Err(no_member());
        }
        Ok(digests::list(conn, &filter, offset, limit)?)
    })
    .await
}

/// A digest with its suggestions, as its caller sees them.
#[derive(Debug)]
pub struct Shown {
    pub digest: Digest,
    pub suggestions: Vec<Value>,
}

pub async fn get(svc: &Services, caller: &Caller, id: String) -> Result<Shown, AppError> {
    let (now, staff) = (svc.clock.now(), caller.is_staff());
    db::run(&svc.pool, move |conn| {
        let digest = digests::find(conn, &id)?.ok_or_else(not_found)?;
        let mut shown = Vec::new();
        for s in suggestions::in_digest(conn, &digest.id)? {
            shown.push(view::for_caller(conn, &s, now, staff, false)?);
        }
        Ok(Shown { digest, suggestions: shown })
    })
    .await
}

/// Put a failed digest back in the queue (staff); the scheduler, or `matchmaker digest run`, sends it.
pub async fn retry(svc: &Services, actor: &Actor, id: String) -> Result<Digest, AppError> {
    let now = svc.clock.now();
    let retried = db::run(&svc.pool, move |conn| {
        outbox::retry(conn, &id, now).map_err(|e| match e {
            RetryError::NotFailed(_) => AppError::Conflict(e.to_string()),
            RetryError::Db(e) => e.into(),
        })
    })
    .await?;
    let digest = retried.ok_or_else(not_found)?;
    super::audit::record(svc, actor.event("digest.retry").target(digest.id.clone())).await;
    Ok(digest)
}

/// What a member would receive for a week, rendered now and stored nowhere.
#[derive(Debug)]
pub struct PreviewOf {
    pub member: Uuid,
    pub week: IsoWeek,
    /// `None`: the member would get no digest.
    pub preview: Option<Preview>,
}

/// Preview `member`'s digest of `week` (this week if none is given).
pub async fn preview(svc: &Services, member: Uuid, week: Option<IsoWeek>) -> Result<PreviewOf, AppError> {
    let week = week.unwrap_or_else(|| svc.jobs.current_week());
    let (jobs, now) = (svc.jobs.clone(), svc.clock.now());
    let preview = db::run(&svc.pool, move |conn| {
        if db::members::find(conn, member)?.is_none() {
            return Err(no_member());
        }
        suggestions::expire_due(conn, now)?;
        Ok::<_, AppError>(jobs.mailer.preview(conn, member, week, now, crate::digest::compose::Links::Unsigned)?)
    })
    .await?;
    Ok(PreviewOf { member, week, preview })
}

/// The member an unsubscribe token names, if it is genuine and the member still exists. Changes nothing: mail
/// scanners follow links.
pub async fn confirm_unsubscribe(svc: &Services, token: Option<String>) -> Result<Option<Member>, AppError> {
    let Some(member) = token.and_then(|t| svc.jobs.mailer.key.verify(&t)) else { return Ok(None) };
    db::run(&svc.pool, move |conn| db::members::find(conn, member).map_err(AppError::from)).await
}

/// Turn the weekly digest off for the member an unsubscribe token names (the member as it was); `None` if the token
/// is not genuine or the member is gone.
pub async fn unsubscribe(svc: &Services, token: Option<String>) -> Result<Option<Member>, AppError> {
    let Some(member) = token.and_then(|t| svc.jobs.mailer.key.verify(&t)) else { return Ok(None) };
    let now = svc.clock.now();
    db::run(&svc.pool, move |conn| {
        let Some(m) = db::members::find(conn, member)? else { return Ok(None) };
        if m.profile.digest != DigestFrequency::Off {
            db::write(conn, |conn| {
                db::members::set_digest(conn, member, DigestFrequency::Off, now)?;
                let event = AuditEvent::new(format!("member:{member}"), "digest.unsubscribe", None);
                db::audit::record(conn, &event.target(member.to_string()), now)
            })?;
        }
        Ok::<_, AppError>(Some(m))
    })
    .await
}
