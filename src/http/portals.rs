//! `/v1/members/{id}/portals`: which partner portals may act for a member.

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::json;
use uuid::Uuid;

use super::AppState;
use super::error::ApiError;
use super::extract::actor;
use crate::app::accounts;
use crate::auth::Caller;
use crate::domain::member::timestamp;

fn member_id(raw: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw).map_err(|_| ApiError::NotFound("no member has this id".to_owned()))
}

/// `GET /v1/members/{id}/portals`
pub async fn list(state: web::Data<AppState>, path: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let portals = accounts::portals(&state, member_id(&path)?).await?;
    let items: Vec<_> = portals
        .iter()
        .map(|(c, at)| json!({"client_id": c.client_id, "name": c.name, "scopes": c.scopes, "linked_at": timestamp(*at)}))
        .collect();
    Ok(HttpResponse::Ok().json(json!({"items": items})))
}

/// `PUT /v1/members/{id}/portals/{client_id}`: idempotent.
pub async fn link(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (member, client_id) = path.into_inner();
    accounts::link(&state, &actor(&req, &state, &caller), member_id(&member)?, client_id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `DELETE /v1/members/{id}/portals/{client_id}`
pub async fn unlink(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (member, client_id) = path.into_inner();
    accounts::unlink(&state, &actor(&req, &state, &caller), member_id(&member)?, client_id).await?;
    Ok(HttpResponse::NoContent().finish())
}
