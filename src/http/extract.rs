//! Request parts the handlers share: a JSON body with a size limit and a content-type check, `If-Match`, and
//! `Idempotency-Key`.

use std::future::Future;
use std::pin::Pin;

use actix_web::http::{Method, header};
use actix_web::{FromRequest, HttpRequest, dev};
use serde_json::Value;

use crate::db::members::Precondition;
use crate::error::ApiError;

/// Largest JSON body accepted by the ordinary routes.
pub const BODY_LIMIT: usize = 256 * 1024;

const JSON: &str = "application/json";
const MERGE_PATCH: &str = "application/merge-patch+json";

/// A JSON body: `application/json`, and for PATCH also `application/merge-patch+json` (RFC 7396). At most
/// [`BODY_LIMIT`] bytes; anything else gets 415, 413 or 400 as problem+json.
#[derive(Debug)]
pub struct JsonBody(pub Value);

fn media_type(req: &HttpRequest) -> Option<String> {
    let raw = req.headers().get(header::CONTENT_TYPE)?.to_str().ok()?;
    Some(
        raw.split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase(),
    )
}

impl FromRequest for JsonBody {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut dev::Payload) -> Self::Future {
        let accepted: &[&str] = if req.method() == Method::PATCH {
            &[MERGE_PATCH, JSON]
        } else {
            &[JSON]
        };
        let media = media_type(req);
        let declared_length = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        let payload = actix_web::body::BodyStream::new(payload.take());
        Box::pin(async move {
            match media.as_deref() {
                Some(m) if accepted.contains(&m) => {}
                Some(m) => {
                    return Err(ApiError::UnsupportedMediaType(format!(
                        "the body is {m}; send {}",
                        accepted.join(" or ")
                    )));
                }
                None => {
                    return Err(ApiError::UnsupportedMediaType(format!(
                        "the Content-Type header is missing; send {}",
                        accepted.join(" or ")
                    )));
                }
            }
            if declared_length.is_some_and(|n| n > BODY_LIMIT) {
                return Err(ApiError::PayloadTooLarge { limit: BODY_LIMIT });
            }
            let bytes = match actix_web::body::to_bytes_limited(payload, BODY_LIMIT).await {
                Ok(Ok(bytes)) => bytes,
                Ok(Err(e)) => {
                    return Err(ApiError::MalformedJson(format!(
                        "the body could not be read: {e}"
                    )));
                }
                Err(_) => return Err(ApiError::PayloadTooLarge { limit: BODY_LIMIT }),
            };
            serde_json::from_slice(&bytes)
                .map(JsonBody)
                .map_err(|e| ApiError::MalformedJson(e.to_string()))
        })
    }
}

/// The `If-Match` precondition of a write; 428 when absent.
pub fn if_match(req: &HttpRequest) -> Result<Precondition, ApiError> {
    let values: Vec<&str> = req
        .headers()
        .get_all(header::IF_MATCH)
        .filter_map(|v| v.to_str().ok())
        .collect();
    if values.is_empty() {
        return Err(ApiError::PreconditionRequired);
    }
    let tags: Vec<String> = values
        .iter()
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty())
        .collect();
    if tags.iter().any(|t| t == "*") {
        return Ok(Precondition::Any);
    }
    // Weak tags (W/"…") never match: If-Match uses the strong comparison (RFC 9110 §13.1.1).
    Ok(Precondition::Tags(tags))
}

/// The `Idempotency-Key` header, if any: 1 to 255 visible ASCII characters.
pub fn idempotency_key(req: &HttpRequest) -> Result<Option<String>, ApiError> {
    let Some(value) = req.headers().get("idempotency-key") else {
        return Ok(None);
    };
    match value.to_str() {
        Ok(key) if (1..=255).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_graphic()) => {
            Ok(Some(key.to_owned()))
        }
        _ => Err(ApiError::Unprocessable(
            "the Idempotency-Key header must be 1 to 255 visible ASCII characters, e.g. a UUID"
                .to_owned(),
        )),
    }
}
