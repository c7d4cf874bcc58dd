//! The runtime side of identity: keys and limits held by the app, verifying a request's token against the current
//! state of its account, and issuing tokens.

use std::path::PathBuf;

use anyhow::Context;
use chrono::{DateTime, TimeDelta, Utc};
use uuid::Uuid;

use super::cache::{Account, AccountCache, VerifiedTokens};
use super::keys::{self, KeyRing};
use super::ratelimit::RateLimiter;
use super::token::{self, Claims, TokenError, TokenSettings};
use super::{Caller, ClientScope, Role, parse_scopes, scope_string};
use crate::config::Settings;
use crate::db::accounts::{self, Client, User};
use crate::db::{self, DbError, DbPool};
use crate::domain::parse::ApiEnum;

/// Identity state shared by every request.
#[derive(Debug)]
pub struct AuthState {
    pub keys: KeyRing,
    pub tokens: TokenSettings,
    pub per_address: RateLimiter,
    pub per_account: RateLimiter,
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// The first-run password file, deleted once that password is changed.
    pub first_run_file: Option<PathBuf>,
    /// Tokens already verified (signature, issuer, audience).
    pub verified: VerifiedTokens,
}

/// The login of the administrator made on first run (SQLite).
pub const FIRST_ADMIN: &str = "admin@localhost";

/// Load the signing keys: configured ones; on SQLite a development key kept beside the database; on PostgreSQL
/// none is an error, because instances that share a database must share keys.
pub fn load_keys(settings: &Settings) -> anyhow::Result<KeyRing> {
    let ring = match (&settings.auth.signing_key, settings.database.sqlite_path()) {
        (Some(pem), _) => KeyRing::from_pems(pem, &settings.auth.previous_keys).context("MATCHMAKER_JWT_KEY")?,
        (None, Some(db_file)) => {
            let path = keys::dev_key_path(db_file);
            let pem = keys::load_or_create_dev_key(&path)?;
            tracing::warn!(
                key_file = %path.display(),
                "!!! NO SIGNING KEY CONFIGURED: access tokens are signed with a development key kept beside the \
                 SQLite database. Set MATCHMAKER_JWT_KEY (see `matchmaker keys new`) for anything but local use. !!!"
            );
            KeyRing::from_pems(&pem, &settings.auth.previous_keys)?
        }
        (None, None) => anyhow::bail!(
            "MATCHMAKER_JWT_KEY is not set. On PostgreSQL every instance must sign with the same key: generate one \
             with `matchmaker keys new` and give it to every instance as MATCHMAKER_JWT_KEY (or a file path in \
             MATCHMAKER_JWT_KEY_FILE)"
        ),
    };
    Ok(ring)
}

impl AuthState {
    pub fn new(settings: &Settings, keys: KeyRing) -> anyhow::Result<Self> {
        let tokens = TokenSettings {
            issuer: settings.auth.issuer.clone(),
            audience: settings.auth.audience.clone(),
            ttl_seconds: settings.auth.token_ttl_seconds,
        };
        let state = Self {
            keys,
            tokens,
            per_address: RateLimiter::new(settings.auth.attempts_per_address, TimeDelta::minutes(1)),
            per_account: RateLimiter::new(settings.auth.failures_per_account, TimeDelta::minutes(15)),
            trusted_proxies: settings.auth.trusted_proxies.clone(),
            first_run_file: settings.database.sqlite_path().map(|p| p.with_file_name("initial-admin.txt")),
            verified: VerifiedTokens::default(),
        };
        state.self_test()?;
        super::password::warm_up();
        Ok(state)
    }

    /// Sign and verify one token now, so a broken key or crypto set-up stops the start instead of the first sign-in.
    fn self_test(&self) -> anyhow::Result<()> {
        let now = Utc::now();
        let claims = self.claims(format!("selftest:{}", Uuid::new_v4()), "selftest", None, String::new(), 0, now);
        let token = token::issue(&self.keys, &claims)?;
        token::verify(&self.keys, &self.tokens, &token, now).map_err(|e| anyhow::anyhow!("token self-test: {e}"))?;
        Ok(())
    }

    fn claims(
        &self,
        sub: String,
        role: &str,
        member_id: Option<Uuid>,
        scope: String,
        token_version: i64,
        now: DateTime<Utc>,
    ) -> Claims {
        Claims {
            iss: self.tokens.issuer.clone(),
            aud: self.tokens.audience.clone(),
            sub,
            role: role.to_owned(),
            member_id: member_id.map(|m| m.to_string()),
            scope,
            iat: now.timestamp(),
            nbf: now.timestamp(),
            exp: now.timestamp() + self.tokens.ttl_seconds,
            jti: Uuid::new_v4().to_string(),
            token_version,
        }
    }

    /// A token for a person; scope lists what their role may do for the organisation(s) it reaches.
    pub fn token_for_user(&self, user: &User, now: DateTime<Utc>) -> anyhow::Result<(String, String)> {
        let scope = scope_string(ClientScope::ALL);
        let claims = self.claims(
            format!("user:{}", user.id),
            user.role.as_str(),
            user.member_id,
            scope.clone(),
            user.token_version,
            now,
        );
        Ok((token::issue(&self.keys, &claims)?, scope))
    }

    /// A token for a portal with `scopes` (a subset of the client's).
    pub fn token_for_client(
        &self,
        client: &Client,
        scopes: &[ClientScope],
        now: DateTime<Utc>,
    ) -> anyhow::Result<(String, String)> {
        let scope = scope_string(scopes);
        let claims = self.claims(
            format!("client:{}", client.client_id),
            "portal",
            None,
            scope.clone(),
            client.token_version,
            now,
        );
        Ok((token::issue(&self.keys, &claims)?, scope))
    }
}

/// Why a request's token was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// The token is malformed, forged, expired or revoked, or its account is gone or disabled.
    #[error("{0}")]
    Refused(TokenError),
    #[error(transparent)]
    Storage(#[from] DbError),
}

/// Who makes this request: the token's signature and claims, then the account or client as it is now (it exists,
/// is not disabled, and has not revoked the token by a password change, logout or secret rotation). The account is
/// read from `cached` when it holds it (see [`AccountCache`] for how a change reaches it), else from the database.
pub async fn authenticate(
    auth: &AuthState,
    pool: &DbPool,
    cached: &AccountCache,
    token: &str,
    now: DateTime<Utc>,
) -> Result<Caller, AuthError> {
    let claims = match auth.verified.get(token) {
        Some(claims) => claims,
        None => {
            let claims = token::verify_signed(&auth.keys, &auth.tokens, token).map_err(AuthError::Refused)?;
            auth.verified.put(token, claims.clone());
            claims
        }
    };
    token::check_period(&claims, now).map_err(AuthError::Refused)?;
    let account = match cached.get(&claims.sub) {
        Some(account) => Some(account),
        None => {
            let epoch = cached.epoch();
            let subject = claims.sub.clone();
            let found = db::run(pool, move |conn| -> Result<Option<Account>, DbError> {
                if let Some(id) = subject.strip_prefix("user:") {
                    let Ok(id) = Uuid::parse_str(id) else { return Ok(None) };
                    return Ok(accounts::find_user(conn, id)?.map(Account::User));
                }
                if let Some(client_id) = subject.strip_prefix("client:") {
                    return Ok(accounts::find_client(conn, client_id)?.map(|(c, _)| Account::Client(c)));
                }
                Ok(None)
            })
            .await?;
            if let Some(account) = &found {
                cached.put(&claims.sub, account.clone(), epoch);
            }
            found
        }
    };
    caller(&claims, account).map_err(AuthError::Refused)
}

/// The caller a token's claims stand for, given its account as it is now.
fn caller(claims: &Claims, account: Option<Account>) -> Result<Caller, TokenError> {
    let malformed = match (claims.sub.strip_prefix("user:"), claims.sub.strip_prefix("client:")) {
        (Some(id), _) => Uuid::parse_str(id).is_err(),
        (None, Some(_)) => false,
        (None, None) => true,
    };
    match account {
        None if malformed => Err(TokenError::Malformed),
        None => Err(TokenError::Revoked),
        Some(Account::User(user)) => {
            if user.disabled || user.token_version != claims.token_version || user.role.as_str() != claims.role {
                return Err(TokenError::Revoked);
            }
            Ok(Caller::Person {
                user_id: user.id,
                role: user.role,
                member_id: if user.role == Role::Member { user.member_id } else { None },
                must_change_password: user.must_change_password,
            })
        }
        Some(Account::Client(client)) => {
            if client.disabled || client.token_version != claims.token_version || claims.role != "portal" {
                return Err(TokenError::Revoked);
            }
            let granted = parse_scopes(&claims.scope).unwrap_or_default();
            let scopes = granted.into_iter().filter(|s| client.scopes.contains(s)).collect();
            Ok(Caller::Portal { client_id: client.client_id, scopes })
        }
    }
}
