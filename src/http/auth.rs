//! `/v1/auth/*` and the JWKS: signing in (an OAuth 2.0 token endpoint), changing one's password, signing out.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use super::AppState;
use super::client_ip;
use super::extract::JsonBody;
use crate::auth::service::FIRST_ADMIN;
use crate::auth::{Caller, ClientScope, parse_scopes, password, secret};
use crate::db::accounts::{self, Client, User};
use crate::db::audit::{self, AuditEvent};
use crate::db::{self, DbError};
use crate::domain::FieldError;
use crate::domain::parse::{ObjectParser, text};
use crate::http::error::ApiError;

/// Token requests are small.
const TOKEN_BODY_LIMIT: usize = 16 * 1024;

/// An RFC 6749 §5.2 error: the one answer of this API that is not problem+json.
fn oauth_error(status: StatusCode, error: &str, description: &str) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"))
        .json(json!({"error": error, "error_description": description}))
}

fn too_many(wait: u64) -> HttpResponse {
    let mut response = oauth_error(
        StatusCode::TOO_MANY_REQUESTS,
        "temporarily_unavailable",
        &format!("too many sign-in attempts; retry in {wait} seconds"),
    );
    if let Ok(value) = header::HeaderValue::from_str(&wait.to_string()) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

fn token_response(access_token: &str, expires_in: i64, scope: &str) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"))
        .json(json!({"access_token": access_token, "token_type": "Bearer", "expires_in": expires_in, "scope": scope}))
}

/// The fields of a token request, from a form (RFC 6749) or a JSON object.
async fn read_fields(req: &HttpRequest, payload: web::Payload) -> Result<Vec<(String, String)>, HttpResponse> {
    let media = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or_default().trim().to_ascii_lowercase())
        .unwrap_or_default();
    let bad = |d: &str| oauth_error(StatusCode::BAD_REQUEST, "invalid_request", d);
    let bytes = match super::extract::read_body(payload.into_inner(), TOKEN_BODY_LIMIT).await {
        Ok(b) => b,
        Err(ApiError::RequestTimeout) => {
            let mut slow =
                oauth_error(StatusCode::REQUEST_TIMEOUT, "invalid_request", "the body did not arrive in time");
            slow.head_mut().set_connection_type(actix_web::http::ConnectionType::Close);
            return Err(slow);
        }
        Err(ApiError::PayloadTooLarge { .. }) => return Err(bad("the body is too large")),
        Err(_) => return Err(bad("the body could not be read")),
    };
    let fields: Vec<(String, String)> = match media.as_str() {
        "application/x-www-form-urlencoded" => {
            Ok(url::form_urlencoded::parse(&bytes).map(|(k, v)| (k.into_owned(), v.into_owned())).collect())
        }
        "application/json" => match serde_json::from_slice::<Value>(&bytes) {
            Ok(Value::Object(map)) => Ok(map
                .into_iter()
                .filter_map(|(k, v)| match v {
                    Value::String(s) => Some((k, s)),
                    _ => None,
                })
                .collect()),
            _ => Err(bad("the body must be a JSON object of strings")),
        },
        _ => Err(bad("send application/x-www-form-urlencoded (or application/json)")),
    }?;
    // Storage can't hold a NUL: a request carrying one names no account or client.
    if fields.iter().any(|(k, v)| k.contains('\0') || v.contains('\0')) {
        return Err(bad("a parameter contains a NUL character"));
    }
    Ok(fields)
}

fn field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).filter(|v| !v.is_empty())
}

/// Client credentials from HTTP Basic (RFC 6749 §2.3.1: each part form-urlencoded first).
fn basic_credentials(req: &HttpRequest) -> Option<(String, String)> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    let unescape =
        |s: &str| url::form_urlencoded::parse(format!("x={s}").as_bytes()).next().map(|(_, v)| v.into_owned());
    Some((unescape(id)?, unescape(secret)?))
}

/// `POST /v1/auth/token`
pub async fn token(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let now = state.clock.now();
    let ip = client_ip(&req, &state).map(|a| a.to_string());
    let address_key = format!("address:{}", ip.as_deref().unwrap_or("unknown"));
    if let Err(wait) = state.auth.per_address.check(&address_key, now) {
        return Ok(too_many(wait));
    }
    state.auth.per_address.record(&address_key, now);
    let fields = match read_fields(&req, payload).await {
        Ok(f) => f,
        Err(response) => return Ok(response),
    };
    match field(&fields, "grant_type") {
        Some("password") => password_grant(&state, &fields, ip).await,
        Some("client_credentials") => client_grant(&state, &req, &fields, ip).await,
        Some(_) => Ok(oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "grant_type must be password (people) or client_credentials (portals)",
        )),
        None => Ok(oauth_error(StatusCode::BAD_REQUEST, "invalid_request", "grant_type is required")),
    }
}

async fn password_grant(
    state: &AppState,
    fields: &[(String, String)],
    ip: Option<String>,
) -> Result<HttpResponse, ApiError> {
    let (Some(username), Some(password)) = (field(fields, "username"), field(fields, "password")) else {
        return Ok(oauth_error(StatusCode::BAD_REQUEST, "invalid_request", "username and password are required"));
    };
    let now = state.clock.now();
    let email = accounts::normalise_email(username);
    let account_key = format!("account:{email}");
    if let Err(wait) = state.auth.per_account.check(&account_key, now) {
        return Ok(too_many(wait));
    }
    let password = password.to_owned();
    let lookup = email.clone();
    // The lookup and the Argon2 verification run together off the executor; an unknown e-mail is verified against
    // a dummy hash so that it takes as long as a wrong password.
    let (user, verified): (Option<User>, bool) = db::run(&state.pool, move |conn| {
        let found = accounts::find_user_by_email(conn, &lookup).map_err(DbError::from)?;
        let verified = password::verify(&password, found.as_ref().map(|(_, h)| h.as_str()));
        Ok::<_, DbError>((found.map(|(u, _)| u), verified))
    })
    .await?;
    let outcome = match &user {
        Some(u) if verified && !u.disabled => Ok(u.clone()),
        Some(u) if verified => Err(("account disabled", Some(u.id))),
        Some(u) => Err(("wrong password", Some(u.id))),
        None => Err(("unknown account", None)),
    };
    match outcome {
        Ok(user) => {
            state.auth.per_account.clear(&account_key);
            let (token, scope) = state.auth.token_for_user(&user, now)?;
            record(
                state,
                AuditEvent::new(format!("user:{}", user.id), "auth.sign_in", ip).target(format!("user:{}", user.id)),
            )
            .await;
            tracing::info!(user_id = %user.id, "signed in");
            Ok(token_response(&token, state.auth.tokens.ttl_seconds, &scope))
        }
        Err((reason, user_id)) => {
            state.auth.per_account.record(&account_key, now);
            let target = user_id.map_or_else(|| format!("email:{email}"), |id| format!("user:{id}"));
            let event = AuditEvent::new("anonymous", "auth.sign_in_failed", ip)
                .target(target)
                .failed()
                .details(json!({"reason": reason}));
            record(state, event).await;
            tracing::info!(reason, "sign-in refused");
            Ok(oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", "the e-mail or password is wrong"))
        }
    }
}

async fn client_grant(
    state: &AppState,
    req: &HttpRequest,
    fields: &[(String, String)],
    ip: Option<String>,
) -> Result<HttpResponse, ApiError> {
    let from_basic = basic_credentials(req);
    let from_body = match (field(fields, "client_id"), field(fields, "client_secret")) {
        (Some(id), Some(secret)) => Some((id.to_owned(), secret.to_owned())),
        _ => None,
    };
    let used_basic = from_basic.is_some();
    let (client_id, client_secret) = match (from_basic, from_body) {
        (Some(c), None) | (None, Some(c)) => c,
        (Some(_), Some(_)) => {
            return Ok(oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "send the client credentials once, not twice",
            ));
        }
        (None, None) => {
            return Ok(oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "client_id and client_secret are required",
            ));
        }
    };
    let now = state.clock.now();
    let account_key = format!("client:{client_id}");
    if let Err(wait) = state.auth.per_account.check(&account_key, now) {
        return Ok(too_many(wait));
    }
    let requested = match field(fields, "scope").map(parse_scopes) {
        Some(None) => return Ok(oauth_error(StatusCode::BAD_REQUEST, "invalid_scope", "unknown scope requested")),
        Some(Some(s)) => Some(s),
        None => None,
    };
    let lookup = client_id.clone();
    let found: Option<(Client, String)> =
        db::run(&state.pool, move |conn| accounts::find_client(conn, &lookup).map_err(DbError::from)).await?;
    // Compare against something even for an unknown client, in constant time.
    let stored = found.as_ref().map_or_else(|| secret::hash_client_secret("no such client"), |(_, h)| h.clone());
    let matches = secret::client_secret_matches(&client_secret, &stored) && found.is_some();
    let client = match found {
        Some((client, _)) if matches && !client.disabled => client,
        other => {
            state.auth.per_account.record(&account_key, now);
            let reason = match other {
                None => "unknown client",
                Some((c, _)) if matches && c.disabled => "client disabled",
                Some(_) => "wrong secret",
            };
            let event = AuditEvent::new("anonymous", "auth.sign_in_failed", ip)
                .target(format!("client:{client_id}"))
                .failed()
                .details(json!({"reason": reason}));
            record(state, event).await;
            let mut response =
                oauth_error(StatusCode::UNAUTHORIZED, "invalid_client", "the client credentials are wrong");
            if used_basic {
                response
                    .headers_mut()
                    .insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static("Basic realm=\"matchmaker\""));
            }
            return Ok(response);
        }
    };
    let scopes: Vec<ClientScope> = match requested {
        Some(r) if r.iter().all(|s| client.scopes.contains(s)) => r,
        Some(_) => {
            return Ok(oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_scope",
                "a requested scope is not granted to this client",
            ));
        }
        None => client.scopes.clone(),
    };
    state.auth.per_account.clear(&account_key);
    let (token, scope) = state.auth.token_for_client(&client, &scopes, now)?;
    let event = AuditEvent::new(format!("client:{}", client.client_id), "auth.token_issued", ip)
        .target(format!("client:{}", client.client_id))
        .details(json!({"scope": scope}));
    record(state, event).await;
    tracing::info!(client_id = %client.client_id, "token issued");
    Ok(token_response(&token, state.auth.tokens.ttl_seconds, &scope))
}

/// Write an audit event; a failure to record is logged, and does not change the answer.
pub async fn record(state: &AppState, event: AuditEvent) {
    let now = state.clock.now();
    let action = event.action;
    let result = db::run(&state.pool, move |conn| audit::record(conn, &event, now).map_err(DbError::from)).await;
    if let Err(e) = result {
        tracing::error!(error = %e, action, "could not write the audit log");
    }
}

/// `GET /.well-known/jwks.json`
pub async fn jwks(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok().insert_header((header::CACHE_CONTROL, "public, max-age=300")).json(state.auth.keys.jwks())
}

/// `POST /v1/auth/password`
pub async fn change_password(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    JsonBody(body): JsonBody,
) -> Result<HttpResponse, ApiError> {
    let Caller::Person { user_id, .. } = caller else {
        return Err(ApiError::Forbidden("portal clients have no password; an admin rotates their secret".to_owned()));
    };
    let mut p = ObjectParser::new(&body).map_err(ApiError::validation)?;
    p.only(&["current_password", "new_password"], &[]);
    let current = p.required("current_password", |v| text(v, 1, password::MAX_LENGTH));
    let new = p.required("new_password", |v| {
        v.as_str().map(str::to_owned).map_or_else(|| crate::domain::parse::fail("must be a string"), Ok)
    });
    let (current, new) = p.finish(|| Some((current?, new?))).map_err(ApiError::validation)?;
    let now = state.clock.now();
    let account_key = format!("user:{user_id}");
    if let Err(wait) = state.auth.per_account.check(&account_key, now) {
        return Err(ApiError::TooManyRequests { retry_after: wait });
    }
    let user = db::run(&state.pool, move |conn| accounts::find_user(conn, user_id).map_err(DbError::from))
        .await?
        .ok_or_else(ApiError::no_token)?;
    if let Some(problem) = password::policy_problem(&new, &[&user.email]) {
        return Err(ApiError::validation(vec![FieldError::new("/new_password", problem)]));
    }
    if new == current {
        return Err(ApiError::validation(vec![FieldError::new(
            "/new_password",
            "must differ from the current password",
        )]));
    }
    let changed = db::run(&state.pool, move |conn| {
        let stored = accounts::password_hash(conn, user_id).map_err(DbError::from)?;
        if !password::verify(&current, stored.as_deref()) {
            return Ok(false);
        }
        let hash = password::hash(&new)?;
        accounts::set_password(conn, user_id, &hash, false, now).map_err(DbError::from)?;
        Ok::<_, ApiError>(true)
    })
    .await?;
    let ip = client_ip(&req, &state).map(|a| a.to_string());
    if !changed {
        state.auth.per_account.record(&account_key, now);
        record(
            &state,
            AuditEvent::new(format!("user:{user_id}"), "auth.password_change_failed", ip)
                .target(format!("user:{user_id}"))
                .failed(),
        )
        .await;
        return Err(ApiError::validation(vec![FieldError::new("/current_password", "is not your current password")]));
    }
    state.auth.per_account.clear(&account_key);
    record(
        &state,
        AuditEvent::new(format!("user:{user_id}"), "auth.password_changed", ip).target(format!("user:{user_id}")),
    )
    .await;
    if user.must_change_password
        && user.email == FIRST_ADMIN
        && let Some(file) = &state.auth.first_run_file
        && file.exists()
    {
        match std::fs::remove_file(file) {
            Ok(()) => tracing::info!(credentials_file = %file.display(), "first-run credentials file deleted"),
            Err(e) => {
                tracing::error!(credentials_file = %file.display(), error = %e, "could not delete the first-run credentials file")
            }
        }
    }
    Ok(HttpResponse::NoContent().finish())
}

/// `POST /v1/auth/logout`: every token of the calling account or client stops working.
pub async fn logout(state: web::Data<AppState>, req: HttpRequest, caller: Caller) -> Result<HttpResponse, ApiError> {
    let who = caller.subject();
    let c = caller.clone();
    db::run(&state.pool, move |conn| {
        match &c {
            Caller::Person { user_id, .. } => accounts::revoke_user_tokens(conn, *user_id),
            Caller::Portal { client_id, .. } => accounts::revoke_client_tokens(conn, client_id),
        }
        .map_err(DbError::from)
    })
    .await?;
    let ip = client_ip(&req, &state).map(|a| a.to_string());
    record(&state, AuditEvent::new(who.clone(), "auth.logout", ip).target(who)).await;
    Ok(HttpResponse::NoContent().finish())
}
