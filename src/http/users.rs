//! `/v1/users`: people's accounts (admins only).

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};
use uuid::Uuid;

use super::AppState;
use super::error::ApiError;
use super::extract::{JsonBody, actor, enum_param, id_cursor, page_response, paged, parsed};
use crate::app::accounts::{self, NewPassword, UserChange};
use crate::auth::{Caller, Role};
use crate::db::accounts::User;
use crate::domain::member::email;
use crate::domain::parse::{ApiEnum as _, Check, ObjectParser, boolean, fail};

const CURSOR_KIND: &str = "u1";

fn user_id(raw: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw).map_err(|_| ApiError::NotFound("no account has this id".to_owned()))
}

fn uuid_value(value: &Value) -> Check<Uuid> {
    value.as_str().and_then(|s| Uuid::parse_str(s).ok()).map_or_else(|| fail("must be a UUID"), Ok)
}

/// `?role=` and `?cursor=` of the list.
fn list_query(req: &HttpRequest) -> Result<(Option<Role>, Option<Uuid>, i64), ApiError> {
    let mut errors = Vec::new();
    let (params, limit) = paged(req.query_string(), &["role", "limit", "cursor"], &mut errors)?;
    let role = enum_param::<Role>(&params, "role", &mut errors);
    let after = id_cursor(CURSOR_KIND, &params, &mut errors);
    parsed((role, after, limit), errors)
}

/// `GET /v1/users`
pub async fn list(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let (role, after, limit) = list_query(&req)?;
    let page = accounts::users(&state, role, after, limit).await?;
    Ok(page_response(&req, CURSOR_KIND, page, limit, |u| u.id.to_string(), User::to_json))
}

/// The fields of a new account: its e-mail, its role, and the member a member account belongs to.
pub fn new_user(body: &Value) -> Result<(String, Role, Option<Uuid>), ApiError> {
    let mut p = ObjectParser::new(body).map_err(ApiError::validation)?;
    p.only(&["email", "role", "member_id"], &["id", "created_at", "updated_at", "password"]);
    let address = p.required("email", email);
    let role = p.required("role", Role::parse_value);
    let member_id = p.nullable("member_id", uuid_value);
    p.finish(|| Some((address?, role?, member_id?))).map_err(ApiError::validation)
}

/// `POST /v1/users`: the account gets a one-time password, shown only in this answer.
pub async fn create(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    JsonBody(body): JsonBody,
) -> Result<HttpResponse, ApiError> {
    let (address, role, member_id) = new_user(&body)?;
    let actor = actor(&req, &state, &caller);
    let (user, one_time) =
        accounts::create_user(&state, &actor, address, role, member_id, NewPassword::OneTime).await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/v1/users/{}", user.id)))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(json!({"user": user.to_json(), "one_time_password": one_time})))
}

/// `GET /v1/users/{id}`
pub async fn get(state: web::Data<AppState>, path: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let user = accounts::user(&state, user_id(&path)?).await?;
    Ok(HttpResponse::Ok().json(user.to_json()))
}

/// The fields of an account change.
pub fn user_change(body: &Value) -> Result<UserChange, ApiError> {
    let mut p = ObjectParser::new(body).map_err(ApiError::validation)?;
    p.only(&["role", "disabled", "member_id"], &["id", "email", "created_at", "updated_at", "must_change_password"]);
    let role = p.optional("role", Role::parse_value);
    let disabled = p.optional("disabled", boolean);
    let member_given = body.get("member_id").is_some();
    let member_id = p.nullable("member_id", uuid_value);
    let (role, disabled, member_id) =
        p.finish(|| Some((role?, disabled?, member_id?))).map_err(ApiError::validation)?;
    Ok(UserChange { role, disabled, member_id: member_given.then_some(member_id) })
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
    let change = user_change(&body)?;
    let user = accounts::update_user(&state, &actor(&req, &state, &caller), id, change).await?;
    Ok(HttpResponse::Ok().json(user.to_json()))
}

/// `POST /v1/users/{id}/password-reset`: a new one-time password; the account's tokens stop working.
pub async fn reset_password(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let one_time = accounts::reset_password(&state, &actor(&req, &state, &caller), user_id(&path)?).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(json!({"one_time_password": one_time})))
}
