//! The console's failures, shown as HTML pages in the reader's language (the API's are problem+json).

use actix_web::body::BoxBody;
use actix_web::dev::ServiceResponse;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use serde_json::json;

use super::render::{Ctx, html_response, lang_of, render, text};
use crate::app::AppError;

#[derive(Debug, thiserror::Error)]
pub enum ConsoleError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Conflict(String),
    #[error("too many attempts; retry in {0} seconds")]
    TooMany(u64),
    /// No session (it ended while the page was open).
    #[error("your session has ended; sign in again")]
    SignedOut,
    #[error("this method is not allowed here")]
    MethodNotAllowed,
    #[error(transparent)]
    Internal(anyhow::Error),
}

impl From<AppError> for ConsoleError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::NotFound(m) => Self::NotFound(m),
            AppError::Forbidden(m) => Self::Forbidden(m),
            AppError::Invalid(errors) => Self::BadRequest(
                errors
                    .iter()
                    .map(|e| format!("{}: {}", e.pointer.trim_start_matches('/'), e.detail))
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
            AppError::Conflict(m) | AppError::Unprocessable(m) => Self::Conflict(m),
            AppError::Stale => Self::Conflict("it has changed since you opened the page; reload it".to_owned()),
            AppError::TooManyRequests { retry_after } => Self::TooMany(retry_after),
            AppError::Unauthorized(_) => Self::SignedOut,
            AppError::Storage(e) => Self::Internal(e.into()),
            AppError::Unexpected(e) => Self::Internal(e),
        }
    }
}

impl ResponseError for ConsoleError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::TooMany(_) => StatusCode::TOO_MANY_REQUESTS,
            Self::SignedOut => StatusCode::UNAUTHORIZED,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// Without the request's context (the guard re-renders it with it, see [`rendered`]): English.
    fn error_response(&self) -> HttpResponse<BoxBody> {
        page(None, "en", self.status_code(), &self.to_string())
    }
}

/// The error page: what went wrong, in words, and where to go on.
fn page(ctx: Option<&Ctx>, lang: &str, status: StatusCode, detail: &str) -> HttpResponse {
    let title = text(lang, &format!("error.{}", status.as_u16()));
    let values = json!({"status": status.as_u16(), "title": title, "detail": detail});
    let rendered = match ctx {
        Some(ctx) => ctx.page_with_status(status, "error.html", values),
        None => {
            let mut whole = json!({"lang": lang});
            if let (Some(obj), serde_json::Value::Object(v)) = (whole.as_object_mut(), values) {
                obj.extend(v);
            }
            render("error.html", &whole).map(|html| html_response(status, html))
        }
    };
    rendered.unwrap_or_else(|_| {
        HttpResponse::build(status).content_type("text/plain; charset=utf-8").body(detail.to_owned())
    })
}

/// A failed page's answer, rendered again with the request's language and session (the layout, the navigation).
/// Causes of unexpected failures are logged, never shown.
pub fn rendered(ctx: &Ctx, res: ServiceResponse<BoxBody>) -> ServiceResponse<BoxBody> {
    let Some(err) = res.response().error() else { return res };
    let status = res.status();
    let detail = match err.as_error::<ConsoleError>() {
        Some(ConsoleError::Internal(cause)) => {
            tracing::error!(error = ?cause, "console page failed");
            text(ctx.lang, "error.internal")
        }
        Some(e) => e.to_string(),
        None if status.is_server_error() => {
            tracing::error!(error = %err, "console page failed");
            text(ctx.lang, "error.internal")
        }
        None => err.to_string(),
    };
    let mut answer = page(Some(ctx), ctx.lang, status, &detail);
    if let Some(ConsoleError::TooMany(wait)) = err.as_error::<ConsoleError>()
        && let Ok(v) = actix_web::http::header::HeaderValue::from_str(&wait.to_string())
    {
        answer.headers_mut().insert(actix_web::http::header::RETRY_AFTER, v);
    }
    res.into_response(answer)
}

/// A method a console path does not take.
pub async fn method_not_allowed(req: HttpRequest) -> HttpResponse {
    page(None, lang_of(&req), StatusCode::METHOD_NOT_ALLOWED, &ConsoleError::MethodNotAllowed.to_string())
}
