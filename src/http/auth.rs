//! `/v1/auth/*` and the JWKS: signing in (an OAuth 2.0 token endpoint), changing one's password, signing out.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use super::AppState;
use super::client_ip;
use super::extract::{JsonBody, actor, media_type};
use crate::app::signin::{self, Issued, SignInError};
use crate::auth::{Caller, parse_scopes, password};
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

fn token_response(issued: &Issued) -> HttpResponse {
    HttpResponse::Ok().insert_header((header::CACHE_CONTROL, "no-store")).insert_header((header::PRAGMA, "no-cache")).json(
        json!({"access_token": issued.access_token, "token_type": "Bearer", "expires_in": issued.expires_in, "scope": issued.scope}),
    )
}

/// A refused token request as RFC 6749 §5.2 wants it (`WWW-Authenticate: Basic` when the client used Basic).
fn refusal(e: SignInError, used_basic: bool) -> Result<HttpResponse, ApiError> {
    Ok(match e {
        SignInError::TooMany(wait) => too_many(wait),
        // The token endpoint does not refuse members; the console's sign-in does.
        SignInError::InvalidGrant | SignInError::NotStaff => {
            oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", &e.to_string())
        }
        SignInError::InvalidScope(why) => oauth_error(StatusCode::BAD_REQUEST, "invalid_scope", why),
        SignInError::InvalidClient => {
            let mut response = oauth_error(StatusCode::UNAUTHORIZED, "invalid_client", &e.to_string());
            if used_basic {
                response
                    .headers_mut()
                    .insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static("Basic realm=\"matchmaker\""));
            }
            response
        }
        SignInError::Failed(e) => return Err(e.into()),
    })
}

/// The fields of a token request's body: a form (RFC 6749) or a JSON object of strings; `None` for anything else.
fn fields_of(media: &str, bytes: &[u8]) -> Option<Vec<(String, String)>> {
    match media {
        "application/x-www-form-urlencoded" => {
            Some(url::form_urlencoded::parse(bytes).map(|(k, v)| (k.into_owned(), v.into_owned())).collect())
        }
        "application/json" => match serde_json::from_slice::<Value>(bytes) {
            Ok(Value::Object(map)) => Some(
                map.into_iter()
                    .filter_map(|(k, v)| match v {
                        Value::String(s) => Some((k, s)),
                        _ => None,
                    })
                    .collect(),
            ),
            _ => None,
        },
        _ => None,
    }
}

/// The fields of a token request, from a form (RFC 6749) or a JSON object.
async fn read_fields(req: &HttpRequest, payload: web::Payload) -> Result<Vec<(String, String)>, HttpResponse> {
    let media = media_type(req).unwrap_or_default();
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
    let Some(fields) = fields_of(&media, &bytes) else {
        return Err(bad("send application/x-www-form-urlencoded, or application/json with an object of strings"));
    };
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
    let ip = client_ip(&req, &state).map(|a| a.to_string());
    if let Err(e) = signin::admit_address(&state, ip.as_deref()) {
        return refusal(e, false);
    }
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
    match signin::password_grant(state, ip, username, password.to_owned()).await {
        Ok(issued) => Ok(token_response(&issued)),
        Err(e) => refusal(e, false),
    }
}

/// The client's credentials: from HTTP Basic or the body, not both.
fn client_credentials(
    req: &HttpRequest,
    fields: &[(String, String)],
) -> Result<((String, String), bool), &'static str> {
    let from_basic = basic_credentials(req);
    let from_body = match (field(fields, "client_id"), field(fields, "client_secret")) {
        (Some(id), Some(secret)) => Some((id.to_owned(), secret.to_owned())),
        _ => None,
    };
    match (from_basic, from_body) {
        (Some(c), None) => Ok((c, true)),
        (None, Some(c)) => Ok((c, false)),
        (Some(_), Some(_)) => Err("send the client credentials once, not twice"),
        (None, None) => Err("client_id and client_secret are required"),
    }
}

async fn client_grant(
    state: &AppState,
    req: &HttpRequest,
    fields: &[(String, String)],
    ip: Option<String>,
) -> Result<HttpResponse, ApiError> {
    let ((client_id, client_secret), used_basic) = match client_credentials(req, fields) {
        Ok(c) => c,
        Err(why) => return Ok(oauth_error(StatusCode::BAD_REQUEST, "invalid_request", why)),
    };
    let requested = match field(fields, "scope").map(parse_scopes) {
        Some(None) => return Ok(oauth_error(StatusCode::BAD_REQUEST, "invalid_scope", "unknown scope requested")),
        Some(Some(s)) => Some(s),
        None => None,
    };
    match signin::client_grant(state, ip, client_id, &client_secret, requested).await {
        Ok(issued) => Ok(token_response(&issued)),
        Err(e) => refusal(e, used_basic),
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
    signin::change_password(&state, &actor(&req, &state, &caller), user_id, current, new).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `POST /v1/auth/logout`: every token of the calling account or client stops working.
pub async fn logout(state: web::Data<AppState>, req: HttpRequest, caller: Caller) -> Result<HttpResponse, ApiError> {
    signin::logout(&state, &actor(&req, &state, &caller), caller).await?;
    Ok(HttpResponse::NoContent().finish())
}
