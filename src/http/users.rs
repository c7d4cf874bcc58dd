//! `/v1/users`: people's accounts (admins only).

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};
use uuid::Uuid;

use super::AppState;
use super::auth::record;
use super::client_ip;
use super::extract::{JsonBody, decode_cursor, limit, page_response, query_params};
use crate::auth::{Caller, Role, password};
use crate::db::accounts::{self, User};
use crate::db::audit::AuditEvent;
use crate::db::{self, DbError, members};
use crate::domain::FieldError;
use crate::domain::member::email;
use crate::domain::parse::{ApiEnum, Check, ObjectParser, boolean, fail};
use crate::http::error::ApiError;

const CURSOR_KIND: &str = "u1";

fn not_found() -> ApiError {
    ApiError::NotFound("no account has this id".to_owned())
}

fn user_id(raw: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw).map_err(|_| not_found())
}

fn uuid_value(value: &Value) -> Check<Uuid> {
    value.as_str().and_then(|s| Uuid::parse_str(s).ok()).map_or_else(|| fail("must be a UUID"), Ok)
}

/// A member id must name an existing member, and goes with the member role only.
fn check_member(conn: &mut db::DbConnection, role: Role, member_id: Option<Uuid>) -> Result<(), ApiError> {
    match (role, member_id) {
        (Role::Member, None) => {
            Err(ApiError::validation(vec![FieldError::new("/member_id", "is required for the member role")]))
        }
        (Role::Member, Some(id)) => match members::find(conn, id)? {
            Some(_) => Ok(()),
            None => Err(ApiError::validation(vec![FieldError::new("/member_id", "no member has this id")])),
        },
        (_, Some(_)) => {
            Err(ApiError::validation(vec![FieldError::new("/member_id", "goes with the member role only")]))
        }
        (_, None) => Ok(()),
    }
}

/// `GET /v1/users`
pub async fn list(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let params = query_params(req.query_string(), &["role", "limit", "cursor"])?;
    let mut errors = Vec::new();
    let limit = limit(&params).map_err(|e| errors.push(e)).unwrap_or_default();
    let role = params.get("role").and_then(|r| {
        Role::from_name(r).or_else(|| {
            errors.push(FieldError::new("?role", format!("must be one of {}", Role::choices())));
            None
        })
    });
    let after = params.get("cursor").and_then(|c| {
        decode_cursor(CURSOR_KIND, c).and_then(|v| Uuid::parse_str(&v).ok()).or_else(|| {
            errors.push(FieldError::new("?cursor", "is not a cursor this service gave out"));
            None
        })
    });
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let page =
        db::run(&state.pool, move |conn| accounts::list_users(conn, role, after, limit + 1).map_err(DbError::from))
            .await?;
    Ok(page_response(&req, CURSOR_KIND, page, limit, |u| u.id.to_string(), User::to_json))
}

/// `POST /v1/users`: the account gets a one-time password, shown only in this answer.
pub async fn create(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    JsonBody(body): JsonBody,
) -> Result<HttpResponse, ApiError> {
    let mut p = ObjectParser::new(&body).map_err(ApiError::validation)?;
    p.only(&["email", "role", "member_id"], &["id", "created_at", "updated_at", "password"]);
    let address = p.required("email", email);
    let role = p.required("role", Role::parse_value);
    let member_id = p.nullable("member_id", uuid_value);
    let (address, role, member_id) = p.finish(|| Some((address?, role?, member_id?))).map_err(ApiError::validation)?;
    let one_time = password::one_time()?;
    let now = state.clock.now();
    let secret = one_time.clone();
    let user = db::run(&state.pool, move |conn| {
        let hash = password::hash(&secret)?;
        db::write(conn, |conn| {
            check_member(conn, role, member_id)?;
            if accounts::find_user_by_email(conn, &address)?.is_some() {
                return Err(ApiError::Conflict("an account with this e-mail already exists".to_owned()));
            }
            db::savepoint(conn, |conn| accounts::insert_user(conn, &address, &hash, role, member_id, true, now))
                .map_err(|e| {
                    if db::is_unique_violation(&e) {
                        ApiError::Conflict("an account with this e-mail already exists".to_owned())
                    } else {
                        e.into()
                    }
                })
        })
    })
    .await?;
    let ip = client_ip(&req, &state).map(|a| a.to_string());
    let event = AuditEvent::new(caller.subject(), "user.created", ip)
        .target(format!("user:{}", user.id))
        .details(json!({"role": user.role, "member_id": user.member_id}));
    record(&state, event).await;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/v1/users/{}", user.id)))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(json!({"user": user.to_json(), "one_time_password": one_time})))
}

/// `GET /v1/users/{id}`
pub async fn get(state: web::Data<AppState>, path: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let id = user_id(&path)?;
    let user = db::run(&state.pool, move |conn| accounts::find_user(conn, id).map_err(DbError::from))
        .await?
        .ok_or_else(not_found)?;
    Ok(HttpResponse::Ok().json(user.to_json()))
}

/// `PATCH /v1/users/{id}`: role, member, disabled. An admin cannot lock themselves out.
pub async fn update(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    path: web::Path<String>,
    JsonBody(body): JsonBody,
) -> Result<HttpResponse, ApiError> {
    let id = user_id(&path)?;
    let mut p = ObjectParser::new(&body).map_err(ApiError::validation)?;
    p.only(&["role", "disabled", "member_id"], &["id", "email", "created_at", "updated_at", "must_change_password"]);
    let role = p.nullable("role", Role::parse_value);
    let disabled = p.nullable("disabled", boolean);
    let member_given = body.get("member_id").is_some();
    let member_id = p.nullable("member_id", uuid_value);
    let (role, disabled, member_id) =
        p.finish(|| Some((role?, disabled?, member_id?))).map_err(ApiError::validation)?;
    let now = state.clock.now();
    let self_edit = matches!(&caller, Caller::Person { user_id, .. } if *user_id == id);
    let (before, after) = db::run(&state.pool, move |conn| {
        db::write(conn, |conn| {
            let user = accounts::find_user(conn, id)?.ok_or_else(not_found)?;
            let new_role = role.unwrap_or(user.role);
            let new_disabled = disabled.unwrap_or(user.disabled);
            let new_member = if member_given {
                member_id
            } else if new_role == Role::Member {
                user.member_id
            } else {
                None
            };
            if self_edit && (new_disabled || new_role != Role::Admin) {
                return Err(ApiError::Conflict("you cannot disable or demote your own account".to_owned()));
            }
            check_member(conn, new_role, new_member)?;
            let updated = accounts::update_user(conn, &user, new_role, new_member, new_disabled, now)?;
            Ok::<_, ApiError>((user, updated))
        })
    })
    .await?;
    let ip = client_ip(&req, &state).map(|a| a.to_string());
    let event = AuditEvent::new(caller.subject(), "user.updated", ip).target(format!("user:{id}")).details(json!({
        "role": {"from": before.role, "to": after.role},
        "disabled": {"from": before.disabled, "to": after.disabled},
        "member_id": {"from": before.member_id, "to": after.member_id},
    }));
    record(&state, event).await;
    Ok(HttpResponse::Ok().json(after.to_json()))
}

/// `POST /v1/users/{id}/password-reset`: a new one-time password; the account's tokens stop working.
pub async fn reset_password(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = user_id(&path)?;
    let one_time = password::one_time()?;
    let secret = one_time.clone();
    let now = state.clock.now();
    db::run(&state.pool, move |conn| {
        let hash = password::hash(&secret)?;
        match accounts::set_password(conn, id, &hash, true, now).map_err(DbError::from)? {
            0 => Err(not_found()),
            _ => Ok(()),
        }
    })
    .await?;
    let ip = client_ip(&req, &state).map(|a| a.to_string());
    record(&state, AuditEvent::new(caller.subject(), "user.password_reset", ip).target(format!("user:{id}"))).await;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(json!({"one_time_password": one_time})))
}
