//! Signing in (OAuth 2.0 password and client-credentials grants), changing one's password, signing out. The limits
//! on attempts (per client address, per account) and the audit of every attempt live here, so the API and any later
//! interface (a console's sign-in form) share them.

use serde_json::json;
use uuid::Uuid;

use super::audit::record;
use super::{Actor, AppError, Services, change_account};
use crate::auth::service::FIRST_ADMIN;
use crate::auth::{Caller, ClientScope, password, secret};
use crate::db::accounts::{self, Client, User};
use crate::db::audit::AuditEvent;
use crate::db::{self, DbError};

/// A token issued.
#[derive(Debug, Clone)]
pub struct Issued {
    pub access_token: String,
    pub scope: String,
    pub expires_in: i64,
}

/// Why no token was issued (each maps to an RFC 6749 §5.2 error).
#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    #[error("too many sign-in attempts; retry in {0} seconds")]
    TooMany(u64),
    /// Unknown e-mail, wrong password, disabled account: one answer for all.
    #[error("the e-mail or password is wrong")]
    InvalidGrant,
    /// Unknown client, wrong secret, disabled client.
    #[error("the client credentials are wrong")]
    InvalidClient,
    #[error("{0}")]
    InvalidScope(&'static str),
    /// The console is for agency staff; a member's account signs in through its portal or the API.
    #[error("the console is for agency staff")]
    NotStaff,
    #[error(transparent)]
    Failed(#[from] AppError),
}

impl From<DbError> for SignInError {
    fn from(e: DbError) -> Self {
        Self::Failed(e.into())
    }
}

/// Count a token request against its client address (`None`: unknown); refused while the address is over its limit.
pub fn admit_address(svc: &Services, ip: Option<&str>) -> Result<(), SignInError> {
    let now = svc.clock.now();
    let key = format!("address:{}", ip.unwrap_or("unknown"));
    svc.auth.per_address.check(&key, now).map_err(SignInError::TooMany)?;
    svc.auth.per_address.record(&key, now);
    Ok(())
}

fn failed_attempt(ip: Option<String>, target: String, reason: &str) -> AuditEvent {
    AuditEvent::new("anonymous", "auth.sign_in_failed", ip).target(target).failed().details(json!({"reason": reason}))
}

/// Check a person's e-mail and password: the account when both are right and it is enabled. The lookup and the
/// Argon2 verification run together off the executor; an unknown e-mail is verified against a dummy hash so that it
/// takes as long as a wrong password. Failures count against the account and are audited.
pub(crate) async fn checked_user(
    svc: &Services,
    ip: Option<String>,
    username: &str,
    password: String,
) -> Result<User, SignInError> {
    let now = svc.clock.now();
    let email = accounts::normalise_email(username);
    let account_key = format!("account:{email}");
    svc.auth.per_account.check(&account_key, now).map_err(SignInError::TooMany)?;
    let lookup = email.clone();
    let (user, verified): (Option<User>, bool) = db::run(&svc.pool, move |conn| {
        let found = accounts::find_user_by_email(conn, &lookup).map_err(DbError::from)?;
        let verified = password::verify(&password, found.as_ref().map(|(_, h)| h.as_str()));
        Ok::<_, DbError>((found.map(|(u, _)| u), verified))
    })
    .await?;
    let refusal = match &user {
        Some(u) if verified && !u.disabled => None,
        Some(u) if verified => Some(("account disabled", Some(u.id))),
        Some(u) => Some(("wrong password", Some(u.id))),
        None => Some(("unknown account", None)),
    };
    if let Some((reason, id)) = refusal {
        svc.auth.per_account.record(&account_key, now);
        let target = id.map_or_else(|| format!("email:{email}"), |id| format!("user:{id}"));
        record(svc, failed_attempt(ip, target, reason)).await;
        tracing::info!(reason, "sign-in refused");
        return Err(SignInError::InvalidGrant);
    }
    let Some(user) = user else { return Err(SignInError::InvalidGrant) };
    svc.auth.per_account.clear(&account_key);
    Ok(user)
}

/// The password grant: a token for the account [`checked_user`] accepts.
pub async fn password_grant(
    svc: &Services,
    ip: Option<String>,
    username: &str,
    password: String,
) -> Result<Issued, SignInError> {
    let user = checked_user(svc, ip.clone(), username, password).await?;
    let (access_token, scope) = svc.auth.token_for_user(&user, svc.clock.now()).map_err(AppError::from)?;
    let who = format!("user:{}", user.id);
    record(svc, AuditEvent::new(who.clone(), "auth.sign_in", ip).target(who)).await;
    tracing::info!(user_id = %user.id, "signed in");
    Ok(Issued { access_token, scope, expires_in: svc.auth.tokens.ttl_seconds })
}

/// The client-credentials grant: the client's secret compared in constant time (against something even for an
/// unknown client); `requested` scopes must be the client's own.
pub async fn client_grant(
    svc: &Services,
    ip: Option<String>,
    client_id: String,
    client_secret: &str,
    requested: Option<Vec<ClientScope>>,
) -> Result<Issued, SignInError> {
    let now = svc.clock.now();
    let account_key = format!("client:{client_id}");
    svc.auth.per_account.check(&account_key, now).map_err(SignInError::TooMany)?;
    let lookup = client_id.clone();
    let found: Option<(Client, String)> =
        db::run(&svc.pool, move |conn| accounts::find_client(conn, &lookup).map_err(DbError::from)).await?;
    let stored = found.as_ref().map_or_else(|| secret::hash_client_secret("no such client"), |(_, h)| h.clone());
    let matches = secret::client_secret_matches(client_secret, &stored) && found.is_some();
    let client = match found {
        Some((client, _)) if matches && !client.disabled => client,
        other => {
            svc.auth.per_account.record(&account_key, now);
            let reason = match other {
                None => "unknown client",
                Some((c, _)) if matches && c.disabled => "client disabled",
                Some(_) => "wrong secret",
            };
            record(svc, failed_attempt(ip, format!("client:{client_id}"), reason)).await;
            return Err(SignInError::InvalidClient);
        }
    };
    let scopes = match requested {
        Some(r) if r.iter().all(|s| client.scopes.contains(s)) => r,
        Some(_) => return Err(SignInError::InvalidScope("a requested scope is not granted to this client")),
        None => client.scopes.clone(),
    };
    svc.auth.per_account.clear(&account_key);
    let (access_token, scope) = svc.auth.token_for_client(&client, &scopes, now).map_err(AppError::from)?;
    let who = format!("client:{}", client.client_id);
    record(svc, AuditEvent::new(who.clone(), "auth.token_issued", ip).target(who).details(json!({"scope": scope})))
        .await;
    tracing::info!(client_id = %client.client_id, "token issued");
    Ok(Issued { access_token, scope, expires_in: svc.auth.tokens.ttl_seconds })
}

/// Change one's own password: the current one must be right, the new one pass the policy and differ. Earlier
/// tokens stop working; the first-run credentials file goes once its one-time password is changed.
pub async fn change_password(
    svc: &Services,
    actor: &Actor,
    user_id: Uuid,
    current: String,
    new: String,
) -> Result<(), AppError> {
    let now = svc.clock.now();
    let account_key = format!("user:{user_id}");
    svc.auth.per_account.check(&account_key, now).map_err(|retry_after| AppError::TooManyRequests { retry_after })?;
    let user = db::run(&svc.pool, move |conn| accounts::find_user(conn, user_id).map_err(AppError::from))
        .await?
        .ok_or_else(|| AppError::Unauthorized("this account no longer exists".to_owned()))?;
    if let Some(problem) = password::policy_problem(&new, &[&user.email]) {
        return Err(AppError::invalid("/new_password", problem));
    }
    if new == current {
        return Err(AppError::invalid("/new_password", "must differ from the current password"));
    }
    // Verifying and hashing take a while by design: on a blocking thread, and before the write transaction.
    let hashed = db::run(&svc.pool, move |conn| {
        let stored = accounts::password_hash(conn, user_id)?;
        if !password::verify(&current, stored.as_deref()) {
            return Ok(None);
        }
        Ok::<_, AppError>(Some(password::hash(&new)?))
    })
    .await?;
    let changed = hashed.is_some();
    if let Some(hash) = hashed {
        change_account(svc, account_key.clone(), move |conn| {
            accounts::set_password(conn, user_id, &hash, false, now).map_err(AppError::from)
        })
        .await?;
    }
    if !changed {
        svc.auth.per_account.record(&account_key, now);
        record(svc, actor.event("auth.password_change_failed").target(account_key).failed()).await;
        return Err(AppError::invalid("/current_password", "is not your current password"));
    }
    svc.auth.per_account.clear(&account_key);
    record(svc, actor.event("auth.password_changed").target(account_key)).await;
    if user.must_change_password && user.email == FIRST_ADMIN {
        forget_first_run_file(svc);
    }
    Ok(())
}

fn forget_first_run_file(svc: &Services) {
    let Some(file) = svc.auth.first_run_file.as_ref().filter(|f| f.exists()) else { return };
    match std::fs::remove_file(file) {
        Ok(()) => tracing::info!(credentials_file = %file.display(), "first-run credentials file deleted"),
        Err(e) => {
            tracing::error!(credentials_file = %file.display(), error = %e, "could not delete the first-run credentials file")
        }
    }
}

/// Every token of the calling account or client stops working.
pub async fn logout(svc: &Services, actor: &Actor, caller: Caller) -> Result<(), AppError> {
    change_account(svc, caller.subject(), move |conn| {
        match &caller {
            Caller::Person { user_id, .. } => accounts::revoke_user_tokens(conn, *user_id),
            Caller::Portal { client_id, .. } => accounts::revoke_client_tokens(conn, client_id),
        }
        .map_err(AppError::from)
    })
    .await?;
    record(svc, actor.event("auth.logout").target(actor.subject())).await;
    Ok(())
}
