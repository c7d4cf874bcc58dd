//! Liveness and readiness probes.

use actix_web::{HttpResponse, web};
use serde_json::json;

use super::AppState;
use crate::http::error::ApiError;

/// The process is up.
pub async fn live() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

/// The process can serve: its database answers. What works less than fully besides is named, without secrets.
pub async fn ready(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    // Whatever the database says, the answer is "not ready": a load balancer only needs to stop sending traffic.
    crate::app::database_ready(&state).await.map_err(|e| ApiError::Unavailable(e.to_string()))?;
    let jobs = &state.jobs;
    let mut degraded = Vec::new();
    if jobs.mailer.settings.smtp_url.is_none() {
        degraded
            .push(json!({"part": "smtp", "detail": "no SMTP server is configured: digests are composed, not sent"}));
    }
    if !jobs.scheduled {
        degraded.push(json!({"part": "scheduler", "detail": "the scheduler is off on this instance"}));
    }
    if jobs.is_stopping() {
        degraded.push(json!({"part": "stopping", "detail": "this instance is shutting down"}));
    }
    Ok(HttpResponse::Ok().json(json!({"status": "ok", "degraded": degraded})))
}
