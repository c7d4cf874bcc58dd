//! The one error type at the HTTP edge: every failure becomes an RFC 9457 `application/problem+json` answer with a
//! stable `type`. Causes of unexpected failures are logged (inside the request's span, with its request id) and
//! never sent to the client.

use actix_web::http::{Method, StatusCode, header};
use actix_web::{HttpResponse, ResponseError};
use serde_json::json;

use crate::app::AppError;
use crate::db::DbError;
use crate::domain::FieldError;

pub const PROBLEM_JSON: &str = "application/problem+json";

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("the body is not valid JSON: {0}")]
    MalformedJson(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("the body is larger than the limit of {limit} bytes")]
    PayloadTooLarge { limit: usize },
    #[error("the request body did not arrive in time; send it again at a steadier pace")]
    RequestTimeout,
    #[error("{detail}")]
    Validation { detail: String, errors: Vec<FieldError> },
    #[error("{0}")]
    Unprocessable(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{description}")]
    Unauthorized { description: String, invalid_token: bool },
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    Conflict(String),
    #[error("too many attempts; retry in {retry_after} seconds")]
    TooManyRequests { retry_after: u64 },
    #[error("{method} is not allowed here")]
    MethodNotAllowed { method: Method, allow: Vec<Method> },
    #[error("this request must carry an If-Match header with the resource's current ETag")]
    PreconditionRequired,
    #[error("the resource has changed since the ETag given in If-Match; fetch it again and retry")]
    PreconditionFailed,
    #[error("{0}")]
    Unavailable(String),
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl ApiError {
    pub fn validation(errors: Vec<FieldError>) -> Self {
        let detail = match errors.as_slice() {
            [one] if one.pointer.is_empty() => one.detail.clone(),
            [one] => format!("{} {}", display_pointer(&one.pointer), one.detail),
            many => format!("{} fields are invalid; see `errors`", many.len()),
        };
        Self::Validation { detail, errors }
    }

    fn kind(&self) -> (&'static str, &'static str) {
        match self {
            Self::MalformedJson(_) => ("malformed-json", "Malformed JSON"),
            Self::UnsupportedMediaType(_) => ("unsupported-media-type", "Unsupported media type"),
            Self::PayloadTooLarge { .. } => ("payload-too-large", "Payload too large"),
            Self::RequestTimeout => ("request-timeout", "Request timeout"),
            Self::Validation { .. } => ("validation", "Invalid request"),
            Self::Unprocessable(_) => ("unprocessable", "Request cannot be processed"),
            Self::NotFound(_) => ("not-found", "Not found"),
            Self::Unauthorized { .. } => ("unauthorized", "Unauthorized"),
            Self::Forbidden(_) => ("forbidden", "Forbidden"),
            Self::Conflict(_) => ("conflict", "Conflict"),
            Self::TooManyRequests { .. } => ("too-many-requests", "Too many requests"),
            Self::MethodNotAllowed { .. } => ("method-not-allowed", "Method not allowed"),
            Self::PreconditionRequired => ("precondition-required", "Precondition required"),
            Self::PreconditionFailed => ("precondition-failed", "Precondition failed"),
            Self::Unavailable(_) => ("unavailable", "Service unavailable"),
            Self::Unexpected(_) => ("internal", "Internal error"),
        }
    }
}

/// `/offers/0/level` → `offers[0].level`, for the one-line `detail`.
fn display_pointer(pointer: &str) -> String {
    let mut out = String::new();
    for segment in pointer.trim_start_matches('/').split('/') {
        let segment = segment.replace("~1", "/").replace("~0", "~");
        if segment.chars().all(|c| c.is_ascii_digit()) && !out.is_empty() {
            out.push_str(&format!("[{segment}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(&segment);
        }
    }
    out
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::MalformedJson(_) => StatusCode::BAD_REQUEST,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            Self::Validation { .. } | Self::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Unauthorized { .. } => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            Self::PreconditionRequired => StatusCode::PRECONDITION_REQUIRED,
            Self::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Unexpected(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        let (slug, title) = self.kind();
        let mut body = json!({
            "type": format!("/problems/{slug}"),
            "title": title,
            "status": status.as_u16(),
            "detail": self.detail(),
        });
        if let Self::Validation { errors, .. } = self {
            body["errors"] = json!(errors);
        }
        let mut response = HttpResponse::build(status);
        response.insert_header((header::CONTENT_TYPE, PROBLEM_JSON));
        for h in self.headers() {
            response.insert_header(h);
        }
        response.body(body.to_string())
    }
}

impl ApiError {
    /// What the client is told. The cause of an unexpected failure is logged (with the request's id), never sent.
    fn detail(&self) -> String {
        match self {
            Self::Unexpected(cause) => {
                tracing::error!(error = ?cause, "request failed");
                "something went wrong on our side; the request can be retried".to_owned()
            }
            Self::Unavailable(cause) => {
                tracing::warn!(cause = %cause, "dependency unavailable");
                "the service cannot reach its database right now; retry shortly".to_owned()
            }
            other => other.to_string(),
        }
    }

    /// The headers a problem of this kind carries: `Allow`, `Retry-After`, the `WWW-Authenticate` challenge.
    fn headers(&self) -> Vec<(header::HeaderName, String)> {
        match self {
            Self::MethodNotAllowed { allow, .. } => {
                let allow: Vec<&str> = allow.iter().map(Method::as_str).collect();
                vec![(header::ALLOW, allow.join(", "))]
            }
            Self::Unavailable(_) => vec![(header::RETRY_AFTER, "5".to_owned())],
            Self::TooManyRequests { retry_after } => vec![(header::RETRY_AFTER, retry_after.to_string())],
            Self::Unauthorized { description, invalid_token: true } => vec![(
                header::WWW_AUTHENTICATE,
                format!("Bearer realm=\"matchmaker\", error=\"invalid_token\", error_description=\"{description}\""),
            )],
            Self::Unauthorized { .. } => vec![(header::WWW_AUTHENTICATE, "Bearer realm=\"matchmaker\"".to_owned())],
            _ => Vec::new(),
        }
    }
}

impl ApiError {
    /// 401 for a request without credentials.
    pub fn no_token() -> Self {
        Self::Unauthorized {
            description: "this needs a bearer token from POST /v1/auth/token".to_owned(),
            invalid_token: false,
        }
    }

    /// 401 for a token that was refused.
    pub fn invalid_token(why: impl std::fmt::Display) -> Self {
        Self::Unauthorized { description: why.to_string(), invalid_token: true }
    }
}

impl From<DbError> for ApiError {
    fn from(e: DbError) -> Self {
        match e {
            DbError::Unavailable(cause) => Self::Unavailable(cause.to_string()),
            other => Self::Unexpected(other.into()),
        }
    }
}

/// The one place where what a use-case refused becomes an answer.
impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::NotFound(why) => Self::NotFound(why),
            AppError::Forbidden(why) => Self::Forbidden(why),
            AppError::Invalid(errors) => Self::validation(errors),
            AppError::Conflict(why) => Self::Conflict(why),
            AppError::Unprocessable(why) => Self::Unprocessable(why),
            AppError::Stale => Self::PreconditionFailed,
            AppError::TooManyRequests { retry_after } => Self::TooManyRequests { retry_after },
            AppError::Unauthorized(why) => Self::invalid_token(why),
            AppError::Storage(db) => Self::from(db),
            AppError::Unexpected(cause) => Self::Unexpected(cause),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointers_read_like_paths() {
        assert_eq!(display_pointer("/offers/0/level"), "offers[0].level");
        assert_eq!(display_pointer("/name"), "name");
        assert_eq!(display_pointer("/a~1b"), "a/b");
    }

    #[test]
    fn one_error_is_spelled_out_in_detail() {
        let e = ApiError::validation(vec![FieldError::new("/country", "is required")]);
        assert_eq!(e.to_string(), "country is required");
        assert_eq!(e.status_code(), StatusCode::UNPROCESSABLE_ENTITY);
    }
}
