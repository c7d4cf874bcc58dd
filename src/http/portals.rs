//! `/v1/members/{id}/portals`: which partner portals may act for a member.

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::json;
use uuid::Uuid;

use super::AppState;
use super::auth::record;
use super::client_ip;
use crate::auth::Caller;
use crate::db::audit::AuditEvent;
use crate::db::{self, DbError, accounts, members};
use crate::domain::member::timestamp;
use crate::http::error::ApiError;

fn member_not_found() -> ApiError {
    ApiError::NotFound("no member has this id".to_owned())
}

fn member_id(raw: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw).map_err(|_| member_not_found())
}

/// `GET /v1/members/{id}/portals`
pub async fn list(state: web::Data<AppState>, path: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let id = member_id(&path)?;
    let portals = db::run(&state.pool, move |conn| {
        if members::find(conn, id)?.is_none() {
            return Err(member_not_found());
        }
        accounts::member_portals(conn, id).map_err(ApiError::from)
    })
    .await?;
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
    let (raw_id, client_id) = path.into_inner();
    let id = member_id(&raw_id)?;
    let now = state.clock.now();
    let target = client_id.clone();
    let created = db::run(&state.pool, move |conn| {
        db::write(conn, |conn| {
            if members::find(conn, id)?.is_none() {
                return Err(member_not_found());
            }
            if accounts::find_client(conn, &target)?.is_none() {
                return Err(ApiError::NotFound("no client has this id".to_owned()));
            }
            Ok(accounts::link(conn, &target, id, now)?)
        })
    })
    .await?;
    if created {
        let ip = client_ip(&req, &state).map(|a| a.to_string());
        let event = AuditEvent::new(caller.subject(), "portal.linked", ip)
            .target(format!("member:{id}"))
            .details(json!({"client_id": client_id}));
        record(&state, event).await;
    }
    Ok(HttpResponse::NoContent().finish())
}

/// `DELETE /v1/members/{id}/portals/{client_id}`
pub async fn unlink(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (raw_id, client_id) = path.into_inner();
    let id = member_id(&raw_id)?;
    let target = client_id.clone();
    let removed = db::run(&state.pool, move |conn| accounts::unlink(conn, &target, id).map_err(DbError::from)).await?;
    if !removed {
        return Err(ApiError::NotFound("this portal is not linked to this member".to_owned()));
    }
    let ip = client_ip(&req, &state).map(|a| a.to_string());
    let event = AuditEvent::new(caller.subject(), "portal.unlinked", ip)
        .target(format!("member:{id}"))
        .details(json!({"client_id": client_id}));
    record(&state, event).await;
    Ok(HttpResponse::NoContent().finish())
}
