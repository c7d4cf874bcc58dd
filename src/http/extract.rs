//! Request parts the handlers share: a JSON body with a size limit and a content-type check, `If-Match`, and
//! `Idempotency-Key`.

use std::future::Future;
use std::pin::Pin;

use actix_web::http::{Method, header};
use actix_web::{FromRequest, HttpRequest, dev};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;

use crate::domain::FieldError;
use crate::domain::fold::SearchWords;

use crate::domain::version::Precondition;
use crate::http::error::ApiError;

/// Largest JSON body accepted by the ordinary routes.
pub const BODY_LIMIT: usize = 256 * 1024;

const JSON: &str = "application/json";
const MERGE_PATCH: &str = "application/merge-patch+json";

/// A JSON body: `application/json`, and for PATCH also `application/merge-patch+json` (RFC 7396). At most
/// [`BODY_LIMIT`] bytes; anything else gets 415, 413 or 400 as problem+json.
#[derive(Debug)]
pub struct JsonBody(pub Value);

/// The request's media type, lower-cased, without parameters.
pub fn media_type(req: &HttpRequest) -> Option<String> {
    let raw = req.headers().get(header::CONTENT_TYPE)?.to_str().ok()?;
    Some(raw.split(';').next().unwrap_or_default().trim().to_ascii_lowercase())
}

/// What the headers say of a JSON body, checked before any of it is read: its type, and a declared length within
/// the limit.
fn json_head(req: &HttpRequest) -> Result<(), ApiError> {
    let accepted: &[&str] = if req.method() == Method::PATCH { &[MERGE_PATCH, JSON] } else { &[JSON] };
    match media_type(req) {
        Some(m) if accepted.contains(&m.as_str()) => {}
        Some(m) => {
            return Err(ApiError::UnsupportedMediaType(format!("the body is {m}; send {}", accepted.join(" or "))));
        }
        None => {
            let wanted = accepted.join(" or ");
            return Err(ApiError::UnsupportedMediaType(format!("the Content-Type header is missing; send {wanted}")));
        }
    }
    let declared_length =
        req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<usize>().ok());
    if declared_length.is_some_and(|n| n > BODY_LIMIT) {
        return Err(ApiError::PayloadTooLarge { limit: BODY_LIMIT });
    }
    Ok(())
}

/// A JSON document with no NUL in any string.
fn json_document(bytes: &[u8]) -> Result<Value, ApiError> {
    let value: Value = serde_json::from_slice(bytes).map_err(|e| ApiError::MalformedJson(e.to_string()))?;
    let mut errors = Vec::new();
    find_nul(&value, String::new(), &mut errors);
    parsed(value, errors)
}

impl FromRequest for JsonBody {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut dev::Payload) -> Self::Future {
        let head = json_head(req);
        let payload = payload.take();
        Box::pin(async move {
            head?;
            let bytes = read_body(payload, BODY_LIMIT).await?;
            json_document(&bytes).map(JsonBody)
        })
    }
}

/// Read a whole body of at most `limit` bytes. A body that outgrows the limit is 413; one that did not arrive before
/// its deadline (see [`super::limits`]) is 408.
pub async fn read_body(payload: dev::Payload, limit: usize) -> Result<actix_web::web::Bytes, ApiError> {
    match actix_web::body::to_bytes_limited(actix_web::body::BodyStream::new(payload), limit).await {
        Ok(Ok(bytes)) => Ok(bytes),
        Ok(Err(e)) if super::limits::is_timeout(&e) => Err(ApiError::RequestTimeout),
        Ok(Err(e)) => Err(ApiError::MalformedJson(format!("the body could not be read: {e}"))),
        Err(_) => Err(ApiError::PayloadTooLarge { limit }),
    }
}

/// Storage can't hold a NUL character (PostgreSQL refuses it in text), so no string of a request may carry one.
pub const NUL_REFUSED: &str = "must not contain a NUL character";

/// Every string (and key) of a JSON document that holds a NUL, as errors at their JSON Pointers.
fn find_nul(value: &Value, pointer: String, errors: &mut Vec<FieldError>) {
    match value {
        Value::String(s) if s.contains('\0') => errors.push(FieldError::new(pointer, NUL_REFUSED)),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                find_nul(item, format!("{pointer}/{i}"), errors);
            }
        }
        Value::Object(map) => {
            for (key, item) in map {
                let at = format!("{pointer}/{}", crate::domain::parse::pointer_segment(key));
                if key.contains('\0') {
                    errors.push(FieldError::new(at.clone(), NUL_REFUSED));
                }
                find_nul(item, at, errors);
            }
        }
        _ => {}
    }
}

/// The `If-Match` precondition of a write; 428 when absent.
pub fn if_match(req: &HttpRequest) -> Result<Precondition, ApiError> {
    let values: Vec<&str> = req.headers().get_all(header::IF_MATCH).filter_map(|v| v.to_str().ok()).collect();
    if values.is_empty() {
        return Err(ApiError::PreconditionRequired);
    }
    let tags: Vec<String> =
        values.iter().flat_map(|v| v.split(',')).map(|t| t.trim().to_owned()).filter(|t| !t.is_empty()).collect();
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
            "the Idempotency-Key header must be 1 to 255 visible ASCII characters, e.g. a UUID".to_owned(),
        )),
    }
}

/// The query parameters of a list route: each known at most once, unknown ones refused (a typo such as `sectr=`
/// should not silently list everything).
pub fn query_params(query: &str, allowed: &[&str]) -> Result<std::collections::HashMap<String, String>, ApiError> {
    let mut out = std::collections::HashMap::new();
    let mut errors = Vec::new();
    for (name, value) in url::form_urlencoded::parse(query.as_bytes()) {
        let pointer = format!("?{}", name.replace('\0', "\\0"));
        if name.contains('\0') || value.contains('\0') {
            errors.push(FieldError::new(pointer, NUL_REFUSED));
        } else if !allowed.contains(&name.as_ref()) {
            errors.push(FieldError::new(pointer, format!("is not a parameter; use {}", allowed.join(", "))));
        } else if out.insert(name.to_string(), value.trim().to_owned()).is_some() {
            errors.push(FieldError::new(pointer, "is given more than once"));
        }
    }
    if errors.is_empty() { Ok(out) } else { Err(ApiError::validation(errors)) }
}

pub const DEFAULT_LIMIT: i64 = 20;
pub const MAX_LIMIT: i64 = 100;

/// `limit` (1..=100, default 20).
pub fn limit(params: &std::collections::HashMap<String, String>) -> Result<i64, FieldError> {
    match params.get("limit") {
        None => Ok(DEFAULT_LIMIT),
        Some(v) => match v.parse::<i64>() {
            Ok(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
            _ => Err(FieldError::new("?limit", format!("must be a whole number from 1 to {MAX_LIMIT}"))),
        },
    }
}

/// An opaque cursor: the position after which the next page starts, tagged with what it pages through.
pub fn encode_cursor(kind: &str, position: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("{kind}:{position}"))
}

/// The position a cursor of `kind` holds; `None` for anything this service could not have given out (another kind,
/// not base64, control characters).
pub fn decode_cursor(kind: &str, raw: &str) -> Option<String> {
    let text = String::from_utf8(URL_SAFE_NO_PAD.decode(raw).ok()?).ok()?;
    let position = text.strip_prefix(kind)?.strip_prefix(':')?;
    (!position.chars().any(char::is_control)).then(|| position.to_owned())
}

/// The `Link` header for the next page: the same query with the cursor replaced.
pub fn next_link(path: &str, query: &str, cursor: &str) -> String {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    for (name, value) in url::form_urlencoded::parse(query.as_bytes()) {
        if name != "cursor" {
            s.append_pair(&name, &value);
        }
    }
    s.append_pair("cursor", cursor);
    format!("<{path}?{}>; rel=\"next\"", s.finish())
}

/// A page of `items` (fetched with one extra to learn whether more follow) as `{items, next}` with a `Link` header.
pub fn page_response<T>(
    req: &HttpRequest,
    kind: &str,
    mut items: Vec<T>,
    limit: i64,
    position: impl Fn(&T) -> String,
    to_json: impl Fn(&T) -> serde_json::Value,
) -> actix_web::HttpResponse {
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let more = items.len() > limit;
    items.truncate(limit);
    let next = if more { items.last().map(|last| encode_cursor(kind, &position(last))) } else { None };
    let mut response = actix_web::HttpResponse::Ok();
    if let Some(cursor) = &next {
        response.insert_header((header::LINK, next_link(req.path(), req.query_string(), cursor)));
    }
    let body: Vec<serde_json::Value> = items.iter().map(to_json).collect();
    response.json(serde_json::json!({"items": body, "next": next}))
}

/// The largest offset a cursor of this service can hold: far beyond any list it serves, far below any overflow.
pub const MAX_OFFSET: i64 = 10_000_000;

/// A page of a list paged by offset: `items` fetched with one extra, the cursor of the next page holding its offset
/// (none past [`MAX_OFFSET`]).
pub fn offset_page<T>(
    req: &HttpRequest,
    kind: &str,
    mut items: Vec<T>,
    offset: i64,
    limit: i64,
    to_json: impl Fn(&T) -> serde_json::Value,
) -> actix_web::HttpResponse {
    let next = next_offset(offset, limit);
    if next.is_none() {
        items.truncate(usize::try_from(limit).unwrap_or(0));
    }
    let next = next.unwrap_or(offset).to_string();
    page_response(req, kind, items, limit, |_| next.clone(), to_json)
}

/// The position of a list paged by offset: 0 without a cursor; a cursor this service did not give out (another
/// kind, not a number, negative, or beyond [`MAX_OFFSET`]) is an error.
pub fn offset_cursor(
    kind: &str,
    params: &std::collections::HashMap<String, String>,
    errors: &mut Vec<crate::domain::FieldError>,
) -> i64 {
    params.get("cursor").map_or(0, |c| {
        decode_cursor(kind, c)
            .and_then(|v| v.parse::<i64>().ok())
            .filter(|n| (0..=MAX_OFFSET).contains(n))
            .unwrap_or_else(|| {
                errors.push(crate::domain::FieldError::new("?cursor", "is not a cursor this service gave out"));
                0
            })
    })
}

/// The offset of the page after one at `offset` of `limit` items, if it is one a cursor may hold.
pub fn next_offset(offset: i64, limit: i64) -> Option<i64> {
    offset.checked_add(limit).filter(|n| *n <= MAX_OFFSET)
}

/// A text parameter of at most `max_chars` characters; `None` when absent or blank.
pub fn bounded_text(
    params: &std::collections::HashMap<String, String>,
    name: &str,
    max_chars: usize,
    errors: &mut Vec<FieldError>,
) -> Option<String> {
    let value = params.get(name)?;
    if value.chars().count() > max_chars {
        errors.push(FieldError::new(format!("?{name}"), format!("must have at most {max_chars} characters")));
        return None;
    }
    Some(value.clone()).filter(|v| !v.is_empty())
}

/// A free-text search parameter, as its bounded words (see [`SearchWords`]); `None` when absent or blank.
pub fn search_param(
    params: &std::collections::HashMap<String, String>,
    name: &str,
    errors: &mut Vec<FieldError>,
) -> Option<SearchWords> {
    SearchWords::parse(params.get(name)?).unwrap_or_else(|why| {
        errors.push(FieldError::new(format!("?{name}"), why));
        None
    })
}

/// A decision of the rule book as an answer: allowed, or 404 / 403.
pub fn verdict(decision: crate::auth::policy::Decision) -> Result<(), ApiError> {
    crate::app::allowed(decision).map_err(ApiError::from)
}

/// Who acts in a request, and from which address, for the audit log.
pub fn actor(req: &HttpRequest, state: &super::AppState, caller: &crate::auth::Caller) -> crate::app::Actor {
    crate::app::Actor::new(caller, super::client_ip(req, state).map(|a| a.to_string()))
}

/// The query parameters of a request, parsed one by one into `errors`.
pub type Params = std::collections::HashMap<String, String>;

/// An API-enum parameter (`sector`, `scope`, …): `None` when absent; a value outside the enum is an error.
pub fn enum_param<T: crate::domain::parse::ApiEnum>(
    params: &Params,
    name: &str,
    errors: &mut Vec<FieldError>,
) -> Option<T> {
    let value = params.get(name)?;
    T::from_name(value).or_else(|| {
        errors.push(FieldError::new(format!("?{name}"), format!("must be one of {}", T::choices())));
        None
    })
}

/// A `true`/`false` parameter (`dry_run`, `left_out`): false when absent; anything else is an error.
pub fn bool_param(params: &Params, name: &str, errors: &mut Vec<FieldError>) -> bool {
    match params.get(name).map(String::as_str) {
        None | Some("false") => false,
        Some("true") => true,
        Some(_) => {
            errors.push(FieldError::new(format!("?{name}"), "must be true or false"));
            false
        }
    }
}

/// An id parameter (`lead`, `member`, …): `None` when absent; anything but a UUID is an error.
pub fn uuid_param(params: &Params, name: &str, errors: &mut Vec<FieldError>) -> Option<uuid::Uuid> {
    let value = params.get(name)?;
    uuid::Uuid::parse_str(value)
        .map_err(|_| errors.push(FieldError::new(format!("?{name}"), "must be an id (UUID)")))
        .ok()
}

/// An RFC 3339 date-time parameter.
pub fn time_param(params: &Params, name: &str, errors: &mut Vec<FieldError>) -> Option<chrono::DateTime<chrono::Utc>> {
    let value = params.get(name)?;
    match chrono::DateTime::parse_from_rfc3339(value) {
        Ok(t) => Some(t.to_utc()),
        Err(_) => {
            errors.push(FieldError::new(format!("?{name}"), "must be an RFC 3339 date-time"));
            None
        }
    }
}

/// The cursor of a list paged by id: the last id of the previous page.
pub fn id_cursor(kind: &str, params: &Params, errors: &mut Vec<FieldError>) -> Option<uuid::Uuid> {
    let raw = params.get("cursor")?;
    decode_cursor(kind, raw).and_then(|v| uuid::Uuid::parse_str(&v).ok()).or_else(|| {
        errors.push(FieldError::new("?cursor", "is not a cursor this service gave out"));
        None
    })
}

/// The cursor of a list paged by an opaque key (the audit log's entry ids, clients' ids).
pub fn key_cursor(kind: &str, params: &Params, errors: &mut Vec<FieldError>) -> Option<String> {
    let raw = params.get("cursor")?;
    decode_cursor(kind, raw).or_else(|| {
        errors.push(FieldError::new("?cursor", "is not a cursor this service gave out"));
        None
    })
}

/// What was parsed, or every error at once (422).
pub fn parsed<T>(value: T, errors: Vec<FieldError>) -> Result<T, ApiError> {
    if errors.is_empty() { Ok(value) } else { Err(ApiError::validation(errors)) }
}

/// A `lang` parameter: `en`, `fr`, `de` or `lb`.
pub fn lang_param(params: &Params, errors: &mut Vec<FieldError>) -> Option<crate::matching::vocabulary::Lang> {
    let value = params.get("lang")?;
    crate::matching::vocabulary::Lang::parse(value).or_else(|| {
        errors.push(FieldError::new("?lang", "must be en, fr, de or lb"));
        None
    })
}

/// A number parameter in `min..=max`.
pub fn number_param(params: &Params, name: &str, min: f64, max: f64, errors: &mut Vec<FieldError>) -> Option<f64> {
    let value = params.get(name)?;
    match value.parse::<f64>() {
        Ok(n) if (min..=max).contains(&n) => Some(n),
        _ => {
            errors.push(FieldError::new(format!("?{name}"), format!("must be a number from {min} to {max}")));
            None
        }
    }
}

/// A list's query: its parameters (only those `allowed`: anything else is refused at once) and its `limit` (a bad
/// one joins `errors`).
pub fn paged(query: &str, allowed: &[&str], errors: &mut Vec<FieldError>) -> Result<(Params, i64), ApiError> {
    let params = query_params(query, allowed)?;
    let limit = limit(&params).map_err(|e| errors.push(e)).unwrap_or_default();
    Ok((params, limit))
}

/// A list paged by offset: the query's parameters (only those `allowed`: anything else is refused at once), its
/// `limit`, and the offset its cursor (of `kind`) holds. A bad limit or cursor joins `errors`.
pub fn offset_query(
    query: &str,
    allowed: &[&str],
    kind: &str,
    errors: &mut Vec<FieldError>,
) -> Result<(Params, i64, i64), ApiError> {
    let (params, limit) = paged(query, allowed, errors)?;
    let offset = offset_cursor(kind, &params, errors);
    Ok((params, limit, offset))
}
