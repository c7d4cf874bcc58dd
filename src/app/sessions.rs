//! Staff console sessions: signing in with a password (the token endpoint's limits and audit), finding the session
//! a request's cookie names, signing out. A session lasts while its account's token version holds, so whatever
//! revokes the account's tokens (a logout, a password or role change, disabling) ends its sessions too.

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::json;
use sha2::{Digest, Sha256};

use super::audit::record;
use super::signin::{SignInError, admit_address, checked_user};
use super::{AppError, Services};
use crate::auth::{Caller, secret};
use crate::config::ConsoleSettings;
use crate::db::accounts::{self, User};
use crate::db::audit::AuditEvent;
use crate::db::sessions::{self, SessionRow};
use crate::db::{self, DbError};

/// A session is marked used at most this often (a write per page would be wasted).
const TOUCH_EVERY: TimeDelta = TimeDelta::seconds(60);

/// The stored form of a session's cookie value.
fn hash(cookie: &str) -> String {
    format!("{:x}", Sha256::digest(cookie.as_bytes()))
}

/// A session just opened: the cookie value (only ever sent to its browser) and the account.
#[derive(Debug)]
pub struct Opened {
    pub cookie: String,
    pub user: User,
}

/// The session a request's cookie names, as it holds now.
#[derive(Debug, Clone)]
pub struct Current {
    pub caller: Caller,
    pub user: User,
    pub id_hash: String,
    /// What every form of the session carries.
    pub csrf: String,
}

/// Why a cookie names no usable session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// No such session (never was, signed out, or purged).
    Unknown,
    /// Idle too long, or begun too long ago.
    Expired,
    /// The account's tokens were revoked, or it is disabled or no longer staff.
    Revoked,
}

async fn open(svc: &Services, user: User, settings: &ConsoleSettings) -> Result<Opened, AppError> {
    let now = svc.clock.now();
    let cookie = secret::random_token(32)?;
    let row = SessionRow {
        id_hash: hash(&cookie),
        user_id: user.id.to_string(),
        token_version: user.token_version,
        csrf: secret::random_token(32)?,
        created_at: now.naive_utc(),
        last_seen_at: now.naive_utc(),
    };
    let (idle_before, begun_before) = limits(settings, now);
    db::run(&svc.pool, move |conn| {
        db::write(conn, |conn| {
            sessions::purge(conn, idle_before, begun_before)?;
            sessions::insert(conn, &row)
        })
        .map_err(DbError::from)
    })
    .await?;
    Ok(Opened { cookie, user })
}

/// Sessions last seen before the first instant, or begun before the second, have ended.
fn limits(settings: &ConsoleSettings, now: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
    (now - TimeDelta::minutes(settings.idle_minutes), now - TimeDelta::hours(settings.absolute_hours))
}

/// Sign in to the console: staff and administrators only. Counted and audited like the token endpoint's password
/// grant (the same limits per address and per account).
pub async fn sign_in(
    svc: &Services,
    settings: &ConsoleSettings,
    ip: Option<String>,
    email: &str,
    password: String,
) -> Result<Opened, SignInError> {
    admit_address(svc, ip.as_deref())?;
    let user = checked_user(svc, ip.clone(), email, password).await?;
    let who = format!("user:{}", user.id);
    if !user.role.is_staff() {
        let event = AuditEvent::new(who.clone(), "auth.sign_in_failed", ip).target(who).failed();
        record(svc, event.details(json!({"reason": "not staff", "via": "console"}))).await;
        return Err(SignInError::NotStaff);
    }
    let opened = open(svc, user, settings).await?;
    record(svc, AuditEvent::new(who.clone(), "auth.sign_in", ip).target(who).details(json!({"via": "console"}))).await;
    tracing::info!(user_id = %opened.user.id, "signed in to the console");
    Ok(opened)
}

/// A new session for the same account, the old one ended: after a password change (which revokes the account's
/// sessions, this one included) the person stays signed in here.
pub async fn renew(svc: &Services, settings: &ConsoleSettings, old: &Current) -> Result<Opened, AppError> {
    let (id, old_hash) = (old.user.id, old.id_hash.clone());
    let user = db::run(&svc.pool, move |conn| -> Result<_, AppError> {
        sessions::delete(conn, &old_hash)?;
        Ok(accounts::find_user(conn, id)?)
    })
    .await?
    .ok_or_else(|| AppError::Unauthorized("this account no longer exists".to_owned()))?;
    open(svc, user, settings).await
}

/// The session `cookie` names, if it still holds; marked used.
pub async fn current(
    svc: &Services,
    settings: &ConsoleSettings,
    cookie: &str,
) -> Result<Result<Current, Ended>, AppError> {
    let now = svc.clock.now();
    let id_hash = hash(cookie);
    let (idle_before, begun_before) = limits(settings, now);
    let found = db::run(&svc.pool, move |conn| {
        let Some(row) = sessions::find(conn, &id_hash)? else { return Ok(Err(Ended::Unknown)) };
        if row.last_seen_at < idle_before.naive_utc() || row.created_at < begun_before.naive_utc() {
            sessions::delete(conn, &row.id_hash)?;
            return Ok(Err(Ended::Expired));
        }
        let user = match uuid::Uuid::parse_str(&row.user_id) {
            Ok(id) => accounts::find_user(conn, id)?,
            Err(_) => None,
        };
        let Some(user) = user.filter(|u| !u.disabled && u.role.is_staff() && u.token_version == row.token_version)
        else {
            sessions::delete(conn, &row.id_hash)?;
            return Ok(Err(Ended::Revoked));
        };
        if now.naive_utc() - row.last_seen_at >= TOUCH_EVERY {
            sessions::touch(conn, &row.id_hash, now)?;
        }
        Ok::<_, AppError>(Ok((row, user)))
    })
    .await?;
    Ok(found.map(|(row, user)| Current {
        caller: Caller::Person {
            user_id: user.id,
            role: user.role,
            member_id: None,
            must_change_password: user.must_change_password,
        },
        user,
        id_hash: row.id_hash,
        csrf: row.csrf,
    }))
}

/// Sign out of this session (the account's API tokens and other sessions stay).
pub async fn sign_out(svc: &Services, session: &Current, ip: Option<String>) -> Result<(), AppError> {
    let id_hash = session.id_hash.clone();
    db::run(&svc.pool, move |conn| sessions::delete(conn, &id_hash).map_err(DbError::from)).await?;
    let who = format!("user:{}", session.user.id);
    record(svc, AuditEvent::new(who.clone(), "auth.logout", ip).target(who).details(json!({"via": "console"}))).await;
    Ok(())
}
