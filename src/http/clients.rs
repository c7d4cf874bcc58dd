//! `/v1/clients`: partner-portal clients (admins only).

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};

use super::AppState;
use super::error::ApiError;
use super::extract::{JsonBody, actor, key_cursor, page_response, paged, parsed};
use crate::app::accounts::{self, ClientChange, ClientView};
use crate::auth::{Caller, ClientScope};
use crate::domain::parse::{ApiEnum, Check, ObjectParser, array, boolean, fail, line, unique_by};

const CURSOR_KIND: &str = "c1";

fn scopes(value: &Value) -> Check<Vec<ClientScope>> {
    let mut list = unique_by(array(value, ClientScope::ALL.len(), ClientScope::parse_value)?, |s| *s, "the scope")?;
    if list.is_empty() {
        return fail(format!("must name at least one of {}", ClientScope::choices()));
    }
    list.sort();
    Ok(list)
}

fn name(value: &Value) -> Check<String> {
    line(value, 1, 200)
}

fn client_json(v: &ClientView) -> Value {
    v.client.to_json(&v.members)
}

/// The fields of a new client: its name and its scopes.
pub fn new_client(body: &Value) -> Result<(String, Vec<ClientScope>), ApiError> {
    let mut p = ObjectParser::new(body).map_err(ApiError::validation)?;
    p.only(&["name", "scopes"], &["client_id", "created_at", "updated_at", "client_secret"]);
    let client_name = p.required("name", name);
    let client_scopes = p.required("scopes", scopes);
    p.finish(|| Some((client_name?, client_scopes?))).map_err(ApiError::validation)
}

/// The fields of a client's change: name, scopes, disabled.
pub fn client_change(body: &Value) -> Result<ClientChange, ApiError> {
    let mut p = ObjectParser::new(body).map_err(ApiError::validation)?;
    p.only(&["name", "scopes", "disabled"], &["client_id", "created_at", "updated_at", "members"]);
    let name = p.optional("name", name);
    let scopes = p.optional("scopes", scopes);
    let disabled = p.optional("disabled", boolean);
    p.finish(|| Some(ClientChange { name: name?, scopes: scopes?, disabled: disabled? })).map_err(ApiError::validation)
}

/// `GET /v1/clients`
pub async fn list(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let mut errors = Vec::new();
    let (params, limit) = paged(req.query_string(), &["limit", "cursor"], &mut errors)?;
    let after = key_cursor(CURSOR_KIND, &params, &mut errors);
    let (after, limit) = parsed((after, limit), errors)?;
    let page = accounts::clients(&state, after, limit).await?;
    Ok(page_response(&req, CURSOR_KIND, page, limit, |v| v.client.client_id.clone(), client_json))
}

/// `POST /v1/clients`: the secret is in this answer only.
pub async fn create(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    JsonBody(body): JsonBody,
) -> Result<HttpResponse, ApiError> {
    let (client_name, client_scopes) = new_client(&body)?;
    let (client, secret) =
        accounts::create_client(&state, &actor(&req, &state, &caller), None, client_name, client_scopes).await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/v1/clients/{}", client.client_id)))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(json!({"client": client.to_json(&[]), "client_secret": secret})))
}

/// `GET /v1/clients/{id}`
pub async fn get(state: web::Data<AppState>, path: web::Path<String>) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(client_json(&accounts::client(&state, path.into_inner()).await?)))
}

/// `PATCH /v1/clients/{id}`: name, scopes, disabled.
pub async fn update(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    path: web::Path<String>,
    JsonBody(body): JsonBody,
) -> Result<HttpResponse, ApiError> {
    let change = client_change(&body)?;
    let view = accounts::update_client(&state, &actor(&req, &state, &caller), path.into_inner(), change).await?;
    Ok(HttpResponse::Ok().json(client_json(&view)))
}

/// `POST /v1/clients/{id}/secret`: a new secret; tokens issued with the old one stop working.
pub async fn rotate_secret(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let secret = accounts::rotate_secret(&state, &actor(&req, &state, &caller), id.clone()).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(json!({"client_id": id, "client_secret": secret})))
}
