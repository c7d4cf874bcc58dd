//! `/v1/clients`: partner-portal clients (admins only).

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};

use super::AppState;
use super::auth::record;
use super::client_ip;
use super::extract::{JsonBody, decode_cursor, limit, page_response, query_params};
use crate::auth::{Caller, ClientScope, secret};
use crate::db::accounts::{self, Client};
use crate::db::audit::AuditEvent;
use crate::db::{self, DbError};
use crate::domain::FieldError;
use crate::domain::parse::{ApiEnum, Check, ObjectParser, array, boolean, fail, line, unique_by};
use crate::http::error::ApiError;

const CURSOR_KIND: &str = "c1";

fn not_found() -> ApiError {
    ApiError::NotFound("no client has this id".to_owned())
}

fn scopes(value: &Value) -> Check<Vec<ClientScope>> {
    let list = unique_by(array(value, ClientScope::ALL.len(), ClientScope::parse_value)?, |s| *s, "the scope")?;
    if list.is_empty() {
        return fail(format!("must name at least one of {}", ClientScope::choices()));
    }
    let mut list = list;
    list.sort();
    Ok(list)
}

fn name(value: &Value) -> Check<String> {
    line(value, 1, 200)
}

/// The client as JSON, with its linked members.
fn client_json(conn: &mut db::DbConnection, client: &Client) -> Result<Value, DbError> {
    let members = accounts::client_member_ids(conn, &client.client_id)?;
    Ok(client.to_json(&members))
}

/// `GET /v1/clients`
pub async fn list(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let params = query_params(req.query_string(), &["limit", "cursor"])?;
    let limit = limit(&params).map_err(|e| ApiError::validation(vec![e]))?;
    let after = match params.get("cursor") {
        None => None,
        Some(c) => Some(decode_cursor(CURSOR_KIND, c).ok_or_else(|| {
            ApiError::validation(vec![FieldError::new("?cursor", "is not a cursor this service gave out")])
        })?),
    };
    let page = db::run(&state.pool, move |conn| {
        let clients = accounts::list_clients(conn, after.as_deref(), limit + 1)?;
        clients.iter().map(|c| client_json(conn, c).map(|j| (c.client_id.clone(), j))).collect::<Result<Vec<_>, _>>()
    })
    .await?;
    Ok(page_response(&req, CURSOR_KIND, page, limit, |(id, _)| id.clone(), |(_, j)| j.clone()))
}

/// `POST /v1/clients`: the secret is in this answer only.
pub async fn create(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    JsonBody(body): JsonBody,
) -> Result<HttpResponse, ApiError> {
    let mut p = ObjectParser::new(&body).map_err(ApiError::validation)?;
    p.only(&["name", "scopes"], &["client_id", "created_at", "updated_at", "client_secret"]);
    let client_name = p.required("name", name);
    let client_scopes = p.required("scopes", scopes);
    let (client_name, client_scopes) =
        p.finish(|| Some((client_name?, client_scopes?))).map_err(ApiError::validation)?;
    let client_secret = secret::random_token(32)?;
    let hash = secret::hash_client_secret(&client_secret);
    let now = state.clock.now();
    let client = db::run(&state.pool, move |conn| {
        db::write(conn, |conn| accounts::insert_client(conn, &client_name, &client_scopes, &hash, now))
            .map_err(DbError::from)
    })
    .await?;
    let ip = client_ip(&req, &state).map(|a| a.to_string());
    let event = AuditEvent::new(caller.subject(), "client.created", ip)
        .target(format!("client:{}", client.client_id))
        .details(json!({"name": client.name, "scopes": client.scopes}));
    record(&state, event).await;
    tracing::info!(client_id = %client.client_id, "client created");
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/v1/clients/{}", client.client_id)))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(json!({"client": client.to_json(&[]), "client_secret": client_secret})))
}

/// `GET /v1/clients/{id}`
pub async fn get(state: web::Data<AppState>, path: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let found = db::run(&state.pool, move |conn| match accounts::find_client(conn, &id)? {
        Some((client, _)) => client_json(conn, &client).map(Some),
        None => Ok(None),
    })
    .await?;
    Ok(HttpResponse::Ok().json(found.ok_or_else(not_found)?))
}

/// `PATCH /v1/clients/{id}`: name, scopes, disabled.
pub async fn update(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    path: web::Path<String>,
    JsonBody(body): JsonBody,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let mut p = ObjectParser::new(&body).map_err(ApiError::validation)?;
    p.only(&["name", "scopes", "disabled"], &["client_id", "created_at", "updated_at", "members"]);
    let new_name = p.nullable("name", name);
    let new_scopes = p.nullable("scopes", scopes);
    let disabled = p.nullable("disabled", boolean);
    let (new_name, new_scopes, disabled) =
        p.finish(|| Some((new_name?, new_scopes?, disabled?))).map_err(ApiError::validation)?;
    let now = state.clock.now();
    let target = id.clone();
    let (before, after, json) = db::run(&state.pool, move |conn| {
        db::write(conn, |conn| {
            let (client, _) = accounts::find_client(conn, &target)?.ok_or_else(not_found)?;
            let updated = accounts::update_client(
                conn,
                &client,
                new_name.as_deref().unwrap_or(&client.name),
                new_scopes.as_deref().unwrap_or(&client.scopes),
                disabled.unwrap_or(client.disabled),
                now,
            )?;
            let json = client_json(conn, &updated)?;
            Ok::<_, ApiError>((client, updated, json))
        })
    })
    .await?;
    let ip = client_ip(&req, &state).map(|a| a.to_string());
    let event = AuditEvent::new(caller.subject(), "client.updated", ip).target(format!("client:{id}")).details(json!({
        "name": {"from": before.name, "to": after.name},
        "scopes": {"from": before.scopes, "to": after.scopes},
        "disabled": {"from": before.disabled, "to": after.disabled},
    }));
    record(&state, event).await;
    Ok(HttpResponse::Ok().json(json))
}

/// `POST /v1/clients/{id}/secret`: a new secret; tokens issued with the old one stop working.
pub async fn rotate_secret(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let client_secret = secret::random_token(32)?;
    let hash = secret::hash_client_secret(&client_secret);
    let now = state.clock.now();
    let target = id.clone();
    let changed =
        db::run(&state.pool, move |conn| accounts::set_client_secret(conn, &target, &hash, now).map_err(DbError::from))
            .await?;
    if changed == 0 {
        return Err(not_found());
    }
    let ip = client_ip(&req, &state).map(|a| a.to_string());
    record(&state, AuditEvent::new(caller.subject(), "client.secret_rotated", ip).target(format!("client:{id}"))).await;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(json!({"client_id": id, "client_secret": client_secret})))
}
